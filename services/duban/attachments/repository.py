"""SQL for one tenant's attachments."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from duban.attachments.models import Attachment


class AttachmentRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, attachment: Attachment) -> None:
        self.session.add(attachment)

    async def get(self, attachment_id: str) -> Attachment | None:
        return await self.session.get(Attachment, attachment_id)

    async def many(self, ids: list[str]) -> list[Attachment]:
        """The attachments with these ids that exist here."""
        return list(await self.session.scalars(select(Attachment).where(Attachment.id.in_(ids))))

    async def claim(self, ids: list[str], feedback_id: str) -> int:
        """Give unused attachments to a feedback; returns how many were still unused (a concurrent
        feedback that took one first leaves it out)."""
        result = await self.session.execute(
            update(Attachment).where(Attachment.id.in_(ids), Attachment.feedback_id.is_(None))
            .values(feedback_id=feedback_id).execution_options(synchronize_session="fetch"))
        return result.rowcount

    async def stored_at(self, bucket: str, key: str) -> Attachment | None:
        """A recorded (so checked) attachment whose bytes are this object."""
        return (await self.session.scalars(
            select(Attachment).where(Attachment.bucket == bucket, Attachment.key == key).limit(1))).first()

    async def of_feedback(self, feedback_ids: list[str]) -> list[Attachment]:
        """The attachments of these feedback, each feedback's in the order it lists them."""
        if not feedback_ids:
            return []
        return list(await self.session.scalars(
            select(Attachment).where(Attachment.feedback_id.in_(feedback_ids))
            .order_by(Attachment.feedback_id, Attachment.position, Attachment.id)))
