"""SQL for bulletins: the work this tenant assigned in a span of days (as ``figures.Task``), and the
bulletins it issued."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.bulletins.figures import ClockFact, Task
from duban.bulletins.models import Bulletin
from duban.confidentiality.levels import is_protected
from duban.deadlines.models import MET, Clock
from duban.errors import NotFound
from duban.items.models import Assignment, Feedback, HistoryEntry
from duban.lists.cursor import Keyset, Page, PageRequest

CHINA = ZoneInfo("Asia/Shanghai")
CHUNK = 500  # ids per IN (…) list
# Newest first (index ix_bulletins_created_at_id).
ORDER = Keyset("bulletins", (Bulletin.created_at, Bulletin.id), descending=True, types=(datetime, str))


def china_day(at: datetime | None) -> date | None:
    return None if at is None else at.astimezone(CHINA).date()


def day_start(day: date) -> datetime:
    """The first moment of a day in China."""
    return datetime.combine(day, time.min, CHINA)


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


class BulletinRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    # -- the work ----------------------------------------------------------------------------------------
    async def tasks(self, first: date, last: date) -> list[Task]:
        """The assignments this tenant issued (交办) from ``first`` to ``last`` (days in China, both
        included), but closed ones, with their clocks, first feedback and 办结申请."""
        assignments = list(await self.session.scalars(
            select(Assignment).where(Assignment.assigner == self.tenant, Assignment.item_id.is_not(None),
                                     Assignment.state != "closed",
                                     Assignment.assigned_at >= day_start(first),
                                     Assignment.assigned_at < day_start(last + timedelta(days=1)))
            .order_by(Assignment.assigned_at, Assignment.id)))
        ids = [a.id for a in assignments]
        clocks: dict[str, list[Clock]] = {}
        feedback: dict[str, list[tuple[date, str]]] = {}
        requested_by: dict[str, str] = {}
        for chunk in _chunks(ids):
            for c in await self.session.scalars(select(Clock).where(Clock.assignment_id.in_(chunk))
                                                .order_by(Clock.assignment_id, Clock.kind, Clock.seq)):
                clocks.setdefault(c.assignment_id, []).append(c)
            for f in await self.session.scalars(select(Feedback).where(Feedback.assignment_id.in_(chunk))
                                                .order_by(Feedback.submitted_at, Feedback.id)):
                feedback.setdefault(f.assignment_id, []).append((china_day(f.submitted_at), f.author))
            for assignment_id, actor in (await self.session.execute(
                    select(HistoryEntry.assignment_id, HistoryEntry.actor)
                    .where(HistoryEntry.assignment_id.in_(chunk), HistoryEntry.action == "request_completion")
                    .order_by(HistoryEntry.id))).all():
                requested_by[assignment_id] = actor  # the last one is the one that stands
        found = []
        for a in assignments:
            mine = clocks.get(a.id, [])
            met = [c for c in mine if c.kind == "completion" and c.state == MET]
            standing = met[-1] if met and a.state in ("completion_requested", "done") else None
            found.append(Task(
                id=a.id, item_id=a.item_id or "", serial=a.serial or "", title=a.title, source_kind=a.source_kind,
                unit=a.unit, state=a.state, assigned_on=china_day(a.assigned_at), deadline=a.deadline,
                completion_on=china_day(standing.met_at) if standing else None,
                completion_due=standing.due if standing else None,
                clocks=tuple(ClockFact(c.kind, c.due, c.state, china_day(c.met_at)) for c in mine),
                accepted_by=a.accepted_by, accepted_on=china_day(a.accepted_at),
                feedback=tuple(feedback.get(a.id, ())),
                completion_by=requested_by.get(a.id) if standing else None,
                protected=is_protected(a.confidentiality),
            ))
        return found

    # -- the bulletins -----------------------------------------------------------------------------------
    def add(self, bulletin: Bulletin) -> None:
        self.session.add(bulletin)

    async def get(self, bulletin_id: str) -> Bulletin:
        """The bulletin, or NotFound (also for another tenant's: it isn't in this storage)."""
        found = await self.session.get(Bulletin, bulletin_id)
        if found is None:
            raise NotFound("督查通报不存在 (no such bulletin)")
        return found

    async def list(self, page: PageRequest = PageRequest(200)) -> Page[Bulletin]:
        """The tenant's bulletins, newest first, one page."""
        query = ORDER.select(select(Bulletin), page)
        return ORDER.page(await self.session.scalars(query), page)
