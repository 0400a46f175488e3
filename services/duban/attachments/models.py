"""An attachment (附件) as one tenant holds it: its object in the tenant's own bucket and what it was
checked against. Uploaded here (``uploaded_by`` a user) or copied in from a sender (``received_from``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, new_id, utcnow


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    bucket: Mapped[str] = mapped_column(String(63))
    key: Mapped[str] = mapped_column(String(300), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))  # the file name as the uploader gave it
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[str] = mapped_column(String(100))  # "<tenant>/<user>", or the sending tenant
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The feedback (反馈) it belongs to once used; None while an upload waits to be sent.
    feedback_id: Mapped[str | None] = mapped_column(String(36), index=True)
    position: Mapped[int | None] = mapped_column(Integer)  # its place among the feedback's attachments (1, 2, …)
    received_from: Mapped[str | None] = mapped_column(String(32))  # a copy: the tenant it came from …
    source_id: Mapped[str | None] = mapped_column(String(36))  # … and its id there
