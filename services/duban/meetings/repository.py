"""SQL for the meetings of one tenant and the links to their items."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.errors import NotFound
from duban.items.models import Item
from duban.meetings.models import Meeting, MeetingItem


class MeetingRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, meeting: Meeting) -> None:
        self.session.add(meeting)

    def link(self, meeting_id: str, position: int, item_id: str) -> None:
        """Record that an item came from a meeting's agreed list, at that position."""
        self.session.add(MeetingItem(meeting_id=meeting_id, position=position, item_id=item_id))

    async def get(self, meeting_id: str) -> Meeting:
        """The meeting, or NotFound."""
        meeting = await self.session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound("会议不存在 (no such meeting)")
        return meeting

    async def find(self, kind: str, held_on: date, session_number: int) -> Meeting | None:
        """The meeting of that kind, date and number, if it is recorded already."""
        return (await self.session.scalars(select(Meeting).where(
            Meeting.kind == kind, Meeting.held_on == held_on, Meeting.session_number == session_number))).first()

    async def list(self, kind: str | None, limit: int, offset: int) -> list[tuple[Meeting, int]]:
        """Meetings, the latest first, each with how many items its agreed list made."""
        counts = (select(MeetingItem.meeting_id, func.count().label("n")).group_by(MeetingItem.meeting_id)
                  .subquery())
        query = (select(Meeting, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.meeting_id == Meeting.id)
                 .order_by(Meeting.held_on.desc(), Meeting.recorded_at.desc(), Meeting.id).limit(limit).offset(offset))
        if kind is not None:
            query = query.where(Meeting.kind == kind)
        return [(meeting, n) for meeting, n in (await self.session.execute(query)).all()]

    async def items_of(self, meeting_id: str) -> list[tuple[int, Item]]:
        """(position, item) of a meeting's agreed list, in order."""
        rows = await self.session.execute(
            select(MeetingItem.position, Item).join(Item, Item.id == MeetingItem.item_id)
            .where(MeetingItem.meeting_id == meeting_id).order_by(MeetingItem.position))
        return [(position, item) for position, item in rows.all()]
