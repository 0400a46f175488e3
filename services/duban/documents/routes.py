"""HTTP routes for an item's generated documents: list them, download one as DOCX or PDF, issue a 督查专报
or a 催办通知书. The need-to-know guard (confidentiality/access.py) covers every route: ``item_id`` is in
each path."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Response, get, post

from duban.documents import service
from duban.documents.models import GeneratedDocument
from duban.documents.render import DOCX_TYPE, PDF_TYPE
from duban.documents.repository import DocumentRepository
from duban.documents.schemas import DocumentRead, ReminderNoticeCreate, SpecialReportCreate
from duban.items.repository import ItemRepository
from duban.web import Ctx, FromPath, JSONBody, Node


def _file(doc: GeneratedDocument, body: bytes, fmt: str, headers: dict[str, str]) -> Response[bytes]:
    name = service.file_name(doc, fmt)
    return Response(body, media_type=service.CONTENT_TYPES[fmt], headers={
        **headers, "Content-Disposition": f"attachment; filename=\"{doc.kind}-{doc.year}-{doc.seq}.{fmt}\"; "
                                          f"filename*=UTF-8''{quote(name, safe='')}"})


async def _read(ctx: Ctx, doc: GeneratedDocument) -> DocumentRead:
    kept = await DocumentRepository(ctx.session, ctx.tenant).renditions([doc.id])
    return DocumentRead.of(doc, list(kept.values()))


class DocumentController(Controller):
    path = "/api/items/{item_id:str}/documents"
    tags = ["documents"]

    @get("")
    async def list_documents(self, ctx: Ctx, item_id: FromPath[str]) -> list[DocumentRead]:
        """The item's documents (通知单, 催办通知书, 督查专报, 办理情况报告), oldest first."""
        ctx.policy.authorize(ctx.actor, "document", "read")
        item = await ItemRepository(ctx.session, ctx.tenant).get(item_id)
        repo = DocumentRepository(ctx.session, ctx.tenant)
        docs = await repo.of_item(item.id)
        kept = await repo.renditions([d.id for d in docs])
        return [DocumentRead.of(d, [r for (i, _), r in kept.items() if i == d.id]) for d in docs]

    @get("/{document_id:str}/docx", media_type=DOCX_TYPE)
    async def docx(self, ctx: Ctx, platform: Node, item_id: FromPath[str],
                   document_id: FromPath[str]) -> Response[bytes]:
        """The document as DOCX (公文 format, East Asian fonts named). Not for a protected item (409)."""
        ctx.policy.authorize(ctx.actor, "document", "read")
        doc, body, headers = await service.download(ctx, platform, item_id, document_id, "docx")
        return _file(doc, body, "docx", headers)

    @get("/{document_id:str}/pdf", media_type=PDF_TYPE)
    async def pdf(self, ctx: Ctx, platform: Node, item_id: FromPath[str],
                  document_id: FromPath[str]) -> Response[bytes]:
        """The document as PDF (公文 format, fonts embedded); a protected item's is watermarked for its reader."""
        ctx.policy.authorize(ctx.actor, "document", "read")
        doc, body, headers = await service.download(ctx, platform, item_id, document_id, "pdf")
        return _file(doc, body, "pdf", headers)

    @post("/special-reports", status_code=201)
    async def special_report(self, ctx: Ctx, item_id: FromPath[str],
                             data: JSONBody[SpecialReportCreate]) -> DocumentRead:
        """Issue a 《督查专报》 on the item from the 督查室's text (progress or problems at least)."""
        ctx.policy.authorize(ctx.actor, "document", "create")
        return await _read(ctx, await service.create_special_report(ctx, item_id, data))

    @post("/reminder-notices", status_code=201)
    async def reminder_notice(self, ctx: Ctx, item_id: FromPath[str],
                              data: JSONBody[ReminderNoticeCreate]) -> DocumentRead:
        """Issue a 催办通知书 to a unit whose assignment is past its 办结时限 and unfinished (409 otherwise)."""
        ctx.policy.authorize(ctx.actor, "document", "create")
        return await _read(ctx, await service.create_reminder_notice(ctx, item_id, data))
