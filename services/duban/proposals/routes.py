"""HTTP routes for 建议提案: the registrar registers and rates at the city; the unit records 面商 and
replies; both read them."""

from __future__ import annotations

from litestar import Controller, get, post

from duban.proposals import service
from duban.proposals.repository import ProposalRepository
from duban.proposals.schemas import (
    ConsultationCreate,
    ConsultationRead,
    ProposalCreate,
    ProposalDetail,
    ProposalRead,
    ReplyCreate,
    ReplyRead,
    SatisfactionCreate,
)
from duban.web import Ctx, FromPath, JSONBody, Limit, Offset, StateFilter


class ProposalController(Controller):
    path = "/api/proposals"
    tags = ["proposals"]

    @post("")
    async def register(self, ctx: Ctx, data: JSONBody[ProposalCreate]) -> ProposalDetail:
        """Register a suggestion or proposal; its item is drafted for 审定 and 交办 the normal way."""
        ctx.policy.authorize(ctx.actor, "proposal", "register")
        return await service.detail(ctx, (await service.register(ctx, data)).id)

    @get("")
    async def list_proposals(self, ctx: Ctx, state_: StateFilter = None, limit: Limit = 100,
                             offset: Offset = 0) -> list[ProposalRead]:
        """This tenant's proposals: those it registered, or the copies it received to handle."""
        ctx.policy.authorize(ctx.actor, "proposal", "read")
        return [ProposalRead.of(p) for p in await ProposalRepository(ctx.session, ctx.tenant).list(state_, limit,
                                                                                                  offset)]

    @get("/{proposal_id:str}")
    async def read(self, ctx: Ctx, proposal_id: FromPath[str]) -> ProposalDetail:
        """One proposal with its replies, 面商 records and history."""
        ctx.policy.authorize(ctx.actor, "proposal", "read")
        return await service.detail(ctx, proposal_id)

    @post("/{proposal_id:str}/consultations")
    async def consult(self, ctx: Ctx, proposal_id: FromPath[str], data: JSONBody[ConsultationCreate]
                      ) -> ConsultationRead:
        """面商: record a talk with the deputy or member (at the unit)."""
        ctx.policy.authorize(ctx.actor, "proposal", "consult")
        return ConsultationRead.of(await service.consult(ctx, proposal_id, data))

    @post("/{proposal_id:str}/replies")
    async def reply(self, ctx: Ctx, proposal_id: FromPath[str], data: JSONBody[ReplyCreate]) -> ReplyRead:
        """答复 with its class A/B/C (at the unit); also the assignment's result feedback."""
        ctx.policy.authorize(ctx.actor, "proposal", "reply")
        return ReplyRead.of(await service.reply(ctx, proposal_id, data))

    @post("/{proposal_id:str}/satisfaction", status_code=200)
    async def rate(self, ctx: Ctx, proposal_id: FromPath[str], data: JSONBody[SatisfactionCreate]) -> ReplyRead:
        """The proposer's rating of a reply (at the city); 不满意 reopens the unit's assignment."""
        ctx.policy.authorize(ctx.actor, "proposal", "rate")
        return ReplyRead.of(await service.rate(ctx, proposal_id, data))
