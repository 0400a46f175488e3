"""HTTP routes for 《督查通报》: issue one for a period, list them, read one, download it as DOCX or PDF."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide

from duban.bulletins import service
from duban.bulletins.document import title_of
from duban.bulletins.models import Bulletin
from duban.bulletins.repository import BulletinRepository
from duban.bulletins.schemas import BulletinCreate, BulletinDetail, BulletinRead
from duban.documents.render import DOCX_TYPE, PDF_TYPE
from duban.lists.query import ListQuery, plain_query
from duban.web import Ctx, FromPath, JSONBody


def _file(b: Bulletin, body: bytes, fmt: str) -> Response[bytes]:
    name = f"督查通报{b.year}年第{b.number}期.{fmt}"
    return Response(body, media_type=service.FORMATS[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"bulletin-{b.year}-{b.number}.{fmt}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


class BulletinController(Controller):
    path = "/api/bulletins"
    tags = ["bulletins"]

    @post("", status_code=201)
    async def issue(self, ctx: Ctx, data: JSONBody[BulletinCreate]) -> BulletinDetail:
        """Issue the next 《督查通报》 of the year (第N期) for a period: its figures are computed from this
        tenant's items and assignments as of the period's last day (bulletins/figures.py says how); only the
        工作要求 paragraph is written by hand."""
        ctx.policy.authorize(ctx.actor, "bulletin", "create")
        bulletin = await service.issue(ctx, data)
        return BulletinDetail.of(bulletin, title_of(bulletin))

    @get("", dependencies={"list_query": Provide(plain_query)})
    async def list_bulletins(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Response[list[BulletinRead]]:
        """This tenant's bulletins, newest first, one page (the next page's cursor in ``X-Next-Cursor``)."""
        ctx.policy.authorize(ctx.actor, "bulletin", "read")
        listing = list_query.check(ctx)
        page = await BulletinRepository(ctx.session, ctx.tenant).list(listing.page)
        return listing.respond([BulletinRead.of(b, title_of(b)) for b in page.rows], page.next_cursor)

    @get("/{bulletin_id:str}")
    async def read(self, ctx: Ctx, bulletin_id: FromPath[str]) -> BulletinDetail:
        """One bulletin with its figures as issued."""
        ctx.policy.authorize(ctx.actor, "bulletin", "read")
        bulletin = await BulletinRepository(ctx.session, ctx.tenant).get(bulletin_id)
        return BulletinDetail.of(bulletin, title_of(bulletin))

    @get("/{bulletin_id:str}/docx", media_type=DOCX_TYPE)
    async def docx(self, ctx: Ctx, bulletin_id: FromPath[str]) -> Response[bytes]:
        """The bulletin as DOCX (公文 format)."""
        ctx.policy.authorize(ctx.actor, "bulletin", "read")
        bulletin, body = await service.rendition(ctx, bulletin_id, "docx")
        return _file(bulletin, body, "docx")

    @get("/{bulletin_id:str}/pdf", media_type=PDF_TYPE)
    async def pdf(self, ctx: Ctx, bulletin_id: FromPath[str]) -> Response[bytes]:
        """The bulletin as PDF (公文 format, fonts embedded)."""
        ctx.policy.authorize(ctx.actor, "bulletin", "read")
        bulletin, body = await service.rendition(ctx, bulletin_id, "pdf")
        return _file(bulletin, body, "pdf")
