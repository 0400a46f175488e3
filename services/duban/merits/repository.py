"""SQL for the 奖惩建议 of one tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.errors import NotFound
from duban.items.models import Assignment, Item
from duban.lists.cursor import Keyset, Page, PageRequest
from duban.merits.models import MeritProposal

# Newest first (index ix_merit_proposals_filed_at_id).
ORDER = Keyset("merit_proposals", (MeritProposal.filed_at, MeritProposal.id), descending=True,
               types=(datetime, str))


class MeritRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, proposal: MeritProposal) -> None:
        self.session.add(proposal)

    async def get(self, proposal_id: str) -> MeritProposal:
        """The proposal, or NotFound (also for another tenant's: it isn't in this storage)."""
        found = await self.session.get(MeritProposal, proposal_id)
        if found is None:
            raise NotFound("奖惩建议不存在 (no such merit proposal)")
        return found

    async def list(self, page: PageRequest = PageRequest(200)) -> Page[MeritProposal]:
        """The tenant's proposals, newest first, one page."""
        query = ORDER.select(select(MeritProposal), page)
        return ORDER.page(await self.session.scalars(query), page)

    async def missing_items(self, ids: list[str]) -> list[str]:
        """Those of ``ids`` that are not items of this tenant."""
        if not ids:
            return []
        found = set(await self.session.scalars(select(Item.id).where(Item.id.in_(ids))))
        return [i for i in ids if i not in found]

    async def missing_assignments(self, ids: list[str]) -> list[str]:
        """Those of ``ids`` that are not assignments this tenant holds (issued or received)."""
        if not ids:
            return []
        found = set(await self.session.scalars(select(Assignment.id).where(Assignment.id.in_(ids))))
        return [i for i in ids if i not in found]
