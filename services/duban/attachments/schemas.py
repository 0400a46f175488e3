"""What the API gives for an attachment."""

from __future__ import annotations

from datetime import datetime

import msgspec

from duban.attachments.models import Attachment


class AttachmentRead(msgspec.Struct):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    feedback_id: str | None
    received_from: str | None = None

    @classmethod
    def of(cls, a: Attachment) -> AttachmentRead:
        return cls(a.id, a.name, a.content_type, a.size, a.sha256, a.uploaded_by, a.uploaded_at, a.feedback_id,
                   a.received_from)
