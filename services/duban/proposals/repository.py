"""SQL for the 建议提案 of one tenant: proposals, replies and 面商 records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.errors import NotFound
from duban.proposals.models import Consultation, Proposal, ProposalReply


class ProposalRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, row: Proposal | ProposalReply | Consultation) -> None:
        self.session.add(row)

    async def get(self, proposal_id: str) -> Proposal:
        """The proposal (the city's record, or this unit's copy), or NotFound."""
        found = await self.session.get(Proposal, proposal_id)
        if found is None:
            raise NotFound("建议提案不存在 (no such suggestion or proposal)")
        return found

    async def find(self, proposal_id: str) -> Proposal | None:
        return await self.session.get(Proposal, proposal_id)

    async def by_number(self, kind: str, session: str, number: str) -> Proposal | None:
        return (await self.session.scalars(select(Proposal).where(
            Proposal.kind == kind, Proposal.session == session, Proposal.number == number))).first()

    async def of_item(self, item_id: str) -> Proposal | None:
        """The proposal an item of this tenant was registered from, if any."""
        return (await self.session.scalars(select(Proposal).where(Proposal.item_id == item_id))).first()

    async def list(self, state: str | None, limit: int, offset: int) -> list[Proposal]:
        """Proposals, the latest registered first."""
        query = select(Proposal).order_by(Proposal.registered_at.desc(), Proposal.id).limit(limit).offset(offset)
        if state is not None:
            query = query.where(Proposal.state == state)
        return list(await self.session.scalars(query))

    async def replies(self, proposal_id: str) -> list[ProposalReply]:
        """Every reply, by unit and round."""
        return list(await self.session.scalars(select(ProposalReply).where(ProposalReply.proposal_id == proposal_id)
                                               .order_by(ProposalReply.unit, ProposalReply.round)))

    async def reply(self, reply_id: str) -> ProposalReply | None:
        return await self.session.get(ProposalReply, reply_id)

    async def consultations(self, proposal_id: str) -> list[Consultation]:
        """The 面商 records, oldest first."""
        return list(await self.session.scalars(select(Consultation).where(Consultation.proposal_id == proposal_id)
                                               .order_by(Consultation.on, Consultation.recorded_at)))

    async def consultation_exists(self, consultation_id: str) -> bool:
        return await self.session.get(Consultation, consultation_id) is not None
