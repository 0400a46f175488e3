"""Generated documents of an item (公文): issued with a number in the caller's transaction, kept with the data
they were built from, rendered on first download and kept in the tenant's bucket with their SHA-256, sealed
into the item's dossier at 归档.

- 《领导批办事项通知单》: one per unit at 交办 (``issue_notices``, called by items/service.py ``assign``);
  the number is taken in the 交办 transaction, the rendering waits for the first download (交办 never waits
  for a render).
- 催办通知书: on request, for an assignment past its 办结时限 and not finished (else 409).
- 《督查专报》: on request; the 督查室's text, framed by what the platform knows about the item.
- 办理情况报告: when a unit's result feedback reaches the assigner (``on_result_feedback``, called by
  items/events.py), from that feedback.

Every creation is in the tenant's audit log (``document_issued``) in the same transaction."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from duban.archive.dossier import StoredFile
from duban.attachments.store import Missing, StreamReader
from duban.audit import service as audit
from duban.confidentiality import watermark
from duban.confidentiality.levels import is_protected
from duban.context import CHINA
from duban.db.base import new_id
from duban.documents import builders, render
from duban.documents.models import KINDS, GeneratedDocument, Rendition
from duban.documents.repository import DocumentRepository
from duban.documents.schemas import ReminderNoticeCreate, SpecialReportCreate
from duban.errors import Conflict, InvalidInput, ServiceUnavailable
from duban.events.envelope import FeedbackSubmitted
from duban.items.models import Assignment, Item
from duban.items.repository import ItemRepository

if TYPE_CHECKING:
    from duban.archive import ArchiveStore
    from duban.platform import Platform

AUDIT_ACTION = "document_issued"
CONTENT_TYPES = {"docx": render.DOCX_TYPE, "pdf": render.PDF_TYPE}
FINISHED = ("completion_requested", "done", "closed")
# The printed number of each series: 督办〔2026〕12号 …
NUMBER_FORMATS = {"notice": "督办〔{year}〕{seq}号", "reminder_notice": "督催〔{year}〕{seq}号",
                  "special_report": "第{seq}期", "result_report": "督收〔{year}〕{seq}号"}


def printed_number(kind: str, year: int, seq: int) -> str:
    return NUMBER_FORMATS[kind].format(year=year, seq=seq)


def china_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()


# -- what the snapshots hold -----------------------------------------------------------------------
def _office(registry: Any, tenant: str) -> tuple[str, str]:
    """(the tenant's name, its 督查室)."""
    entry = registry.get(tenant)
    name = entry.name if entry else tenant
    return name, f"{name}督查室"


def _unit_name(registry: Any, code: str) -> str:
    entry = registry.get(code)
    return entry.name if entry else code


def _leader(registry: Any, item: Item) -> str:
    if item.issuing_leader:
        found = registry.leader(item.issuing_leader)
        if found is not None:
            return f"{found.title}{found.name}"
        return item.issuing_leader
    return str((item.source or {}).get("leader") or "")


def item_snapshot(registry: Any, item: Item, assigned_on: date | None) -> dict:
    """The item as every document about it prints it."""
    return {
        "id": item.id, "serial": item.serial, "title": item.title, "content": item.content,
        "requirements": item.requirements, "source_kind": item.source_kind,
        "source_text": builders.source_text(item.source_kind, item.source or {}),
        "content_label": "批示内容" if item.source_kind == "instruction" else "交办内容",
        "division": item.division, "leader": _leader(registry, item), "deadline": item.deadline.isoformat(),
        "assigned_on": assigned_on.isoformat() if assigned_on else None,
        "confidentiality": item.confidentiality,
        "units": [{"unit": u["unit"], "name": _unit_name(registry, u["unit"]), "role": u["role"]}
                  for u in (item.units or [])],
    }


def _content(item: Item) -> str:
    """批示/交办内容: the instruction's own words first, then what the plan asks."""
    source = item.source or {}
    words = source.get("instruction_text") or source.get("agreed_text") or ""
    return "\n".join(t for t in (words, item.content) if t)


@dataclass(frozen=True)
class Issuer:
    """Who issues a document, where: a user's request (TenantContext) or an event's handler."""

    tenant: str
    session: Any
    registry: Any
    actor_ref: str
    actor_name: str
    now: datetime


def issuer_of(ctx: Any) -> Issuer:
    return Issuer(ctx.tenant, ctx.session, ctx.registry, ctx.actor.ref,
                  ctx.actor.display_name or ctx.actor.username, ctx.time.now())


async def _issue(who: Issuer, kind: str, item: Item, snapshot: dict, *, assignment: Assignment | None = None,
                 title: str) -> GeneratedDocument:
    """Number the document in its series, keep it with its snapshot, audit it — all in the caller's
    transaction (a rollback gives the number back: the series has no holes)."""
    repo = DocumentRepository(who.session, who.tenant)
    year = china_date(who.now).year
    seq = await repo.next_seq(kind, year)
    number = printed_number(kind, year, seq)
    snapshot = {**snapshot, "number": number}
    doc = GeneratedDocument(
        id=new_id(), kind=kind, year=year, seq=seq, number=number, title=title[:300], item_id=item.id,
        assignment_id=assignment.id if assignment else None, unit=assignment.unit if assignment else None,
        snapshot=snapshot, created_by=who.actor_ref, created_at=who.now.astimezone(UTC))
    repo.add(doc)
    await audit.record(who.session, who.tenant, who.actor_ref, AUDIT_ACTION, f"document/{doc.id}", who.now,
                       f"{KINDS[kind]} {number} item {who.tenant}/{item.id} "
                       + (f"unit {assignment.unit}" if assignment else ""))
    return doc


def _base(who: Issuer, item: Item, assigned_on: date | None) -> dict:
    issuer, office = _office(who.registry, who.tenant)
    snap = item_snapshot(who.registry, item, assigned_on)
    snap["content"] = _content(item)
    return {"issuer": issuer, "office": office, "date": china_date(who.now).isoformat(), "item": snap}


# -- 交办: one 通知单 per unit --------------------------------------------------------------------------
async def issue_notices(ctx: Any, item: Item, assignments: list[Assignment]) -> list[GeneratedDocument]:
    """《领导批办事项通知单》 for each unit the item was just assigned to (in the 交办 transaction; nothing is
    rendered here)."""
    who = issuer_of(ctx)
    tenant = ctx.registry.get(ctx.tenant)
    made = []
    for a in assignments:
        snap = _base(who, item, china_date(a.assigned_at))
        snap.update(unit={"unit": a.unit, "name": _unit_name(ctx.registry, a.unit), "role": a.role},
                    assignment_id=a.id, handler=who.actor_name, contact=who.actor_name,
                    accept_workdays=tenant.accept_workdays if tenant else 1)
        made.append(await _issue(who, "notice", item, snap, assignment=a,
                                 title=f"领导批办事项通知单（{snap['unit']['name']}）"))
    return made


# -- 催办通知书 -----------------------------------------------------------------------------------------
def overdue_days(a: Assignment, today: date) -> int:
    """Days past the 办结时限 of an unfinished assignment (0: not overdue)."""
    if a.state in FINISHED or a.deadline >= today:
        return 0
    return (today - a.deadline).days


async def create_reminder_notice(ctx: Any, item_id: str, data: ReminderNoticeCreate) -> GeneratedDocument:
    """催办通知书 for one overdue assignment of the item (409 if it is not overdue)."""
    items = ItemRepository(ctx.session, ctx.tenant)
    item = await items.get(item_id)
    a = next((x for x in await items.assignments_of(item.id) if x.id == data.assignment_id), None)
    if a is None:
        raise InvalidInput("该承办任务不属于本事项 (the assignment is not one of this item's)")
    today = ctx.time.today()
    days = overdue_days(a, today)
    if not days:
        state = builders.STATES.get(a.state, a.state)
        raise Conflict(f"{_unit_name(ctx.registry, a.unit)}的任务未超期（办结时限 {a.deadline}，状态「{state}」），"
                       f"不能发催办通知书 (the assignment is not overdue)")
    who = issuer_of(ctx)
    feedback = await items.feedback_of([a.id])
    notice = await DocumentRepository(ctx.session, ctx.tenant).notice_of(a.id)
    snap = _base(who, item, china_date(a.assigned_at))
    snap.update(
        unit={"unit": a.unit, "name": _unit_name(ctx.registry, a.unit), "role": a.role},
        assignment={"id": a.id, "deadline": a.deadline.isoformat(), "state": a.state,
                    "last_feedback": feedback[-1].text[:200] if feedback else None},
        days_over=days, reply_by=ctx.calendar.add_workdays(today, data.reply_within_workdays).isoformat(),
        notice_number=notice.number if notice else None, note=(data.note or "").strip() or None,
        contact=(data.contact or "").strip() or who.actor_name, phone=(data.phone or "").strip() or None)
    return await _issue(who, "reminder_notice", item, snap, assignment=a,
                        title=f"催办通知书（{snap['unit']['name']}）")


# -- 督查专报 ------------------------------------------------------------------------------------------
async def create_special_report(ctx: Any, item_id: str, data: SpecialReportCreate) -> GeneratedDocument:
    """《督查专报》 on the item, from the 督查室's text (at least the progress or the problems)."""
    items = ItemRepository(ctx.session, ctx.tenant)
    item = await items.get(item_id)
    text = {k: (getattr(data, k) or "").strip() for k in ("basis", "progress", "problems", "causes", "suggestions")}
    if not (text["progress"] or text["problems"]):
        raise InvalidInput("专报须写明进展情况或存在的问题 (write the progress or the problems)")
    assignments = await items.assignments_of(item.id)
    if not assignments:
        raise Conflict("事项尚未交办，没有可报的办理情况 (the item has not been assigned yet)")
    today = ctx.time.today()
    feedback = await items.feedback_of([a.id for a in assignments])
    last = {f.assignment_id: f for f in feedback}
    who = issuer_of(ctx)
    snap = _base(who, item, min(china_date(a.assigned_at) for a in assignments))
    snap.update(text=text, report_to=(data.report_to or "").strip() or snap["item"]["leader"] or None,
                assignments=[{"unit": a.unit, "name": _unit_name(ctx.registry, a.unit), "role": a.role,
                              "state": a.state, "deadline": a.deadline.isoformat(),
                              "overdue": overdue_days(a, today) > 0,
                              "last_feedback": last[a.id].text[:120] if a.id in last else None}
                             for a in assignments])
    return await _issue(who, "special_report", item, snap, title=f"督查专报：{item.title}")


# -- 办理情况报告 (from a unit's result feedback, at the assigner) ---------------------------------------
async def on_result_feedback(ctx: Any, actor_ref: str, a: Assignment,
                             f: FeedbackSubmitted) -> GeneratedDocument | None:
    """A unit's result feedback reached the assigner: its 办理情况报告 (items/events.py, in the event's
    transaction). Parts split at a unit (no item here) have none."""
    if f.kind != "result" or a.item_id is None:
        return None
    item = await ItemRepository(ctx.session, ctx.tenant).get(a.item_id)
    who = Issuer(ctx.tenant, ctx.session, ctx.registry, actor_ref, actor_ref, ctx.time.now())
    notice = await DocumentRepository(ctx.session, ctx.tenant).notice_of(a.id)
    snap = _base(who, item, china_date(a.assigned_at))
    snap.update(
        unit={"unit": a.unit, "name": _unit_name(ctx.registry, a.unit), "role": a.role},
        notice_number=notice.number if notice else None,
        accepted_on=china_date(a.accepted_at).isoformat() if a.accepted_at else None,
        feedback={"id": f.feedback_id, "text": f.text, "author": f.author,
                  "submitted_on": china_date(f.submitted_at).isoformat(),
                  "attachments": [r.name for r in f.attachments]},
        co_views=[{"name": _unit_name(ctx.registry, str(v.get("co_unit", ""))), "text": str(v.get("text", ""))}
                  for v in f.co_views if v.get("text")])
    return await _issue(who, "result_report", item, snap, assignment=a,
                        title=f"办理情况报告（{snap['unit']['name']}）")


# -- renditions ------------------------------------------------------------------------------------
def document_of(doc: GeneratedDocument):  # noqa: ANN201
    """The layout description the row's snapshot gives."""
    return builders.build(doc.kind, doc.snapshot)


def file_name(doc: GeneratedDocument, fmt: str) -> str:
    """``督办〔2026〕3号-领导批办事项通知单（清江浦区人民政府）.pdf``: one plain path segment."""
    name = f"{doc.number}-{doc.title}".replace("/", "_").replace("\\", "_")
    return f"{name[:100]}.{fmt}"


async def rendition(platform: Platform, tenant: str, doc: GeneratedDocument, fmt: str,
                    stored: Rendition | None) -> tuple[bytes, str]:
    """The rendition's bytes and SHA-256: the stored object if there is one, else made now, put into the
    tenant's bucket and recorded (in a transaction of its own: a download is a read request)."""
    store = platform.attachments
    if stored is not None:
        try:
            chunks = await store.open(stored.bucket, stored.key)
            data = b"".join([c async for c in chunks])
            if hashlib.sha256(data).hexdigest() == stored.sha256:
                return data, stored.sha256
        except Missing:
            pass
        # Lost or changed in the bucket: renditions are deterministic, so the one made again is the same file.
    data = await render.render_async(document_of(doc), fmt)
    sha = hashlib.sha256(data).hexdigest()
    if stored is not None:
        if sha != stored.sha256:
            raise Conflict(f"文书「{doc.number}」的{fmt.upper()}文件与登记的不符，请联系管理员 "
                           "(the stored rendition is missing or changed and renders differently now)")
        return data, sha
    bucket = await store.ensure_bucket(tenant)
    key = f"documents/{doc.id}/{fmt}-{sha}"
    await store.put(bucket, key, StreamReader(io.BytesIO(data).read), CONTENT_TYPES[fmt])
    async with platform.db.transaction(tenant) as session:
        kept = await DocumentRepository(session, tenant).keep_rendition(Rendition(
            document_id=doc.id, format=fmt, bucket=bucket, key=key, sha256=sha, size=len(data),
            created_at=platform.time.now().astimezone(UTC)))
        sha = kept.sha256
    return data, sha


async def download(ctx: Any, platform: Platform, item_id: str, document_id: str,
                   fmt: str) -> tuple[GeneratedDocument, bytes, dict[str, str]]:
    """A document as DOCX or PDF, with the answer's headers. A protected item's document (第八条) goes out
    only as a PDF marked with its reader, unit and time, as protected attachments do."""
    repo = DocumentRepository(ctx.session, ctx.tenant)
    doc = await repo.get(item_id, document_id)
    item = await ItemRepository(ctx.session, ctx.tenant).get(item_id)
    protected = is_protected(item.confidentiality)
    if protected and fmt != "pdf":
        raise Conflict(f"「{doc.title}」属于敏感事项，只能以加水印的 PDF 下载 "
                       "(a protected item's document is served only as a watermarked PDF)")
    stored = await repo.rendition(doc.id, fmt)
    data, sha = await rendition(platform, ctx.tenant, doc, fmt, stored)
    headers = {"X-Content-SHA256": sha, "Cache-Control": "no-store" if protected else "private"}
    if protected:
        tenant = ctx.registry.get(ctx.tenant)
        mark = watermark.Mark(reader=ctx.actor.display_name or ctx.actor.username, username=ctx.actor.username,
                              unit=tenant.name if tenant else ctx.tenant, unit_code=ctx.tenant,
                              at=ctx.time.now().astimezone(CHINA).strftime("%Y-%m-%d %H:%M"))
        import anyio.to_thread  # noqa: PLC0415

        data = await anyio.to_thread.run_sync(watermark.mark_pdf, data, mark)
        headers.update({"X-Original-SHA256": sha, "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
                        "X-Watermark": "cjk"})
    headers["Content-Length"] = str(len(data))
    return doc, data, headers


# -- 归档 --------------------------------------------------------------------------------------------
async def dossier_files(session: Any, tenant: str, item_id: str,
                        store: ArchiveStore) -> tuple[dict[str, StoredFile], dict[str, bytes], list[dict]]:
    """The item's documents as files of its dossier, both formats: a stored rendition is copied in from the
    bucket (checked against its SHA-256 now, as attachments are), one never downloaded is made now (the
    manifest hashes it); and the list that says which file is which."""
    repo = DocumentRepository(session, tenant)
    docs = await repo.of_item(item_id)
    kept = await repo.renditions([d.id for d in docs])
    stored: dict[str, StoredFile] = {}
    made: dict[str, bytes] = {}
    listing: list[dict] = []
    for n, doc in enumerate(docs, start=1):
        entry = {"id": doc.id, "kind": doc.kind, "kind_label": KINDS[doc.kind], "number": doc.number,
                 "title": doc.title, "assignment_id": doc.assignment_id, "unit": doc.unit,
                 "created_by": doc.created_by, "created_at": doc.created_at.isoformat(), "files": {}}
        for fmt in ("pdf", "docx"):
            name = f"文书{n:03d}-{file_name(doc, fmt)}"
            r = kept.get((doc.id, fmt))
            if r is not None:
                digests = await store.digest_object(r.bucket, r.key)
                if digests is None or digests.size != r.size or digests.sha256 != r.sha256:
                    what = "已丢失" if digests is None else "已被改动"
                    raise Conflict(f"文书「{doc.number}」的{fmt.upper()}文件在本单位存储中{what}，不能归档 "
                                   f"(document {doc.id} at s3://{r.bucket}/{r.key} is "
                                   f"{'missing' if digests is None else 'changed'})")
                stored[name] = StoredFile(r.bucket, r.key, r.size, r.sha256, digests.sm3, CONTENT_TYPES[fmt])
                sha = r.sha256
            else:
                try:
                    data = await render.render_async(document_of(doc), fmt)
                except ServiceUnavailable as exc:
                    # A node without the CJK fonts cannot make the PDF: the dossier keeps the DOCX and says
                    # why the PDF is absent, rather than refusing 归档 or sealing a PDF of empty boxes.
                    entry["files"][fmt] = {"file": None, "missing": exc.message}
                    continue
                made[name] = data
                sha = hashlib.sha256(data).hexdigest()
            entry["files"][fmt] = {"file": name, "sha256": sha}
        listing.append(entry)
    return stored, made, listing
