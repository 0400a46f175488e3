"""HTTP routes for 奖惩建议: file one, list them, read one."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide

from duban.context import TenantContext
from duban.lists.query import ListQuery, plain_query
from duban.merits import service
from duban.merits.models import MeritProposal
from duban.merits.repository import MeritRepository
from duban.merits.schemas import MeritProposalCreate, MeritProposalRead
from duban.web import Ctx, FromPath, JSONBody


def _read(ctx: TenantContext, p: MeritProposal) -> MeritProposalRead:
    tenant = ctx.registry.get(p.unit)
    return MeritProposalRead.of(p, tenant.name if tenant else p.unit)


class MeritProposalController(Controller):
    path = "/api/merit-proposals"
    tags = ["merit proposals"]

    @post("")
    async def file_proposal(self, ctx: Ctx, data: JSONBody[MeritProposalCreate]) -> MeritProposalRead:
        """File a 奖惩建议 (第十一条): commend or sanction a unit of this tenant, on the items it rests on."""
        ctx.policy.authorize(ctx.actor, "merit_proposal", "create")
        return _read(ctx, await service.file_proposal(ctx, data))

    @get("", dependencies={"list_query": Provide(plain_query)})
    async def list_proposals(self, ctx: Ctx,
                             list_query: NamedDependency[ListQuery]) -> Response[list[MeritProposalRead]]:
        """This tenant's 奖惩建议, newest first, one page (the next page's cursor in ``X-Next-Cursor`` and
        ``Link``)."""
        ctx.policy.authorize(ctx.actor, "merit_proposal", "read")
        listing = list_query.check(ctx)
        page = await MeritRepository(ctx.session, ctx.tenant).list(listing.page)
        return listing.respond([_read(ctx, p) for p in page.rows], page.next_cursor)

    @get("/{proposal_id:str}")
    async def read(self, ctx: Ctx, proposal_id: FromPath[str]) -> MeritProposalRead:
        """One 奖惩建议."""
        ctx.policy.authorize(ctx.actor, "merit_proposal", "read")
        return _read(ctx, await MeritRepository(ctx.session, ctx.tenant).get(proposal_id))
