"""台账 in and out.

Import: every row of the sheet is read into the plan ``POST /api/items`` takes (``ItemCreate``) and made an
item by the same ``items.service.create_item`` — a draft, attributed to the importing user, its history
and audit as any other. Every bad cell is reported with its row, column (header and letter) and the
reason in Chinese. By default all or nothing: one wrong row and no item is created (the creations run in
one savepoint, undone whole if any fails); ``good-rows`` creates the rows that are right, each in its own
savepoint; ``check`` only reports. A row's import key (SHA-256 over its normalised cells: what the item
is, not its progress) is stored with the item it became, so importing the same sheet again — or the
same sheet with updated progress — creates nothing twice.

Export and the template: export.py.

The columns:

- 事项来源 → ``source_kind`` and ``source``: a kind's label first, its details after it — 领导批示（领导，
  批示日期）[：文件], 会议议定事项：日期 第N次常务会议, 重大决策部署：文件, 指导[：说明], 其他[：说明]; any other
  text is 其他 with that text as its note; 建议提案 are registered through proposals/, not here.
- 督办事项 → the first line the ``title`` (≤ 200), the other lines the ``content``.
- 责任领导 → ``issuing_leader`` (a registry leader by name or code); the 督查组 follows it, unless the import
  names one.
- 牵头单位, 配合单位 → ``units``: tenants by name or code; the first listed is the lead, the rest 协办.
- 完成时限 → ``deadline``; 备注 → ``requirements``; 责任人/联系电话 and 进展情况 are kept with the import row.
- 完成状态: 已完成 rows are not imported; 序号「示例」marks the template's sample row.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError

from duban.audit import service as audit
from duban.context import TenantContext
from duban.db.base import new_id
from duban.errors import DubanError, InvalidInput
from duban.items import service as items
from duban.items.schemas import ItemCreate, UnitPlan
from duban.ledgers import sheet
from duban.ledgers.models import LedgerImport
from duban.ledgers.repository import LedgerRepository
from duban.ledgers.schemas import LedgerImportRead, RowCreated, RowError, RowSkipped

SAMPLE = ("示例", "例", "样例")
SOURCE_LABELS = {"instruction": "领导批示", "meeting_item": "会议议定事项", "major_decision": "重大决策部署",
                 "guidance": "指导", "suggestion_proposal": "建议提案", "other": "其他"}
# What a 事项来源 cell may start with (longest first), and the kind it names.
_PREFIXES = (("会议议定事项", "meeting_item"), ("重大决策部署", "major_decision"),
             ("人大代表建议", "suggestion_proposal"),
             ("政协委员提案", "suggestion_proposal"), ("领导批示", "instruction"), ("领导交办", "instruction"),
             ("会议议定", "meeting_item"), ("重大决策", "major_decision"), ("建议提案", "suggestion_proposal"),
             ("批示", "instruction"), ("指导", "guidance"), ("其他", "other"), ("其它", "other"))
_AFTER_LABEL = re.compile(r"^\s*(?:[（(]([^）)]*)[）)])?\s*(?:[:：]\s*(.*))?$", re.S)
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_SESSION = re.compile(r"第\s*([0-9一二三四五六七八九十百零〇两]+)\s*次")
_MEETINGS = (("全体", "plenary"), ("常务", "executive"), ("专题", "mayor_topic"))
MEETING_LABELS = {"plenary": "市政府全体会议", "executive": "市政府常务会议", "mayor_topic": "市长专题会议"}
_SPLIT_UNITS = re.compile(r"[、，,；;/／\n\r\t ]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Options:
    """How to import: ``mode`` (all | good-rows | check); the 督查组 of rows without a 责任领导 (and of all
    rows, if given); the 责任处室 the items record (default: the group's name)."""

    mode: str = "all"
    group: str | None = None
    division: str | None = None


@dataclass
class Parsed:
    """A row understood: the plan it makes, its import key, what is kept beside the item."""

    row: int
    plan: ItemCreate
    key: str
    contact: str | None
    progress: str | None


@dataclass
class _Row:
    """Collects one row's refusals."""

    number: int
    sheet: sheet.Sheet
    errors: list[RowError] = field(default_factory=list)

    def error(self, column: str, reason: str, value: object = None) -> None:
        shown = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))[:200]
        self.errors.append(RowError(self.number, column, self.sheet.position(column), reason, shown))


# -- cells ---------------------------------------------------------------------------------------------------
def _text(value: object) -> str:
    """A cell as text: trimmed, line ends unified, a whole number without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.strip() for line in lines).strip()


def _day(value: object) -> date | None:
    """A date cell (an Excel date, or text like 2026-12-31, 2026/12/31, 2026年12月31日); None if it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        m = _DATE.fullmatch(value.strip())
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def _leaders(ctx: TenantContext) -> dict[str, str]:
    """Every way a 责任领导 cell may name a leader → its code."""
    found: dict[str, str] = {}
    for leader in ctx.registry.leaders:
        for name in (leader.code, leader.name, f"{leader.title}{leader.name}"):
            found.setdefault(name, leader.code)
    return found


def _units(ctx: TenantContext) -> dict[str, str]:
    """Every way a unit cell may name a tenant (its code, its name) → its code."""
    found: dict[str, str] = {}
    for tenant in ctx.registry.tenants:
        found[tenant.code] = tenant.code
        found[re.sub(r"\s", "", tenant.name)] = tenant.code
    return found


def unit_name(ctx: TenantContext, code: str) -> str:
    """A unit's name as the 台账 writes it."""
    tenant = ctx.registry.get(code)
    return tenant.name if tenant else code


def leader_name(ctx: TenantContext, code: str | None) -> str:
    """A leader's name as the 台账 writes it."""
    leader = ctx.registry.leader(code) if code else None
    return leader.name if leader else (code or "")


# -- 事项来源 -------------------------------------------------------------------------------------------------
def format_source(kind: str, source: dict[str, Any]) -> str:
    """The 事项来源 cell of an item: what ``parse_source`` reads back as the same kind and details."""
    def tail(text: object) -> str:
        return f"：{text}" if text else ""

    if kind == "instruction":
        who, on = source.get("leader", ""), source.get("instructed_on", "")
        return f"领导批示（{who}，{on}）{tail(source.get('document'))}"
    if kind == "meeting_item":
        number = str(source.get("session_number", ""))
        session = number if number.startswith("第") else f"第{number}次"
        meeting = MEETING_LABELS.get(source.get("meeting_kind", ""), "")
        return f"会议议定事项：{source.get('meeting_date', '')} {session}{meeting}"
    if kind == "major_decision":
        return f"重大决策部署{tail(source.get('document'))}"
    if kind == "suggestion_proposal":
        which = "人大代表建议" if source.get("kind") == "suggestion" else "政协委员提案"
        return f"建议提案：{which}第{source.get('number', '')}号（{source.get('proposer', '')}）"
    return f"{SOURCE_LABELS.get(kind, '其他')}{tail(source.get('note'))}"


def parse_source(r: _Row, cell: str, title: str, content: str, leader: str, today: date,
                 deadline: date | None) -> tuple[str, dict[str, Any]] | None:
    """The kind and details a 事项来源 cell names (None: refused, the reason recorded)."""
    column = "事项来源"
    for prefix, named in _PREFIXES:
        shape = _AFTER_LABEL.match(cell[len(prefix):]) if cell.startswith(prefix) else None
        if shape is not None:
            kind, inner, detail = named, (shape[1] or "").strip(), (shape[2] or "").strip()
            break
    else:  # no kind named: 其他, the text its note
        kind, inner, detail = "other", "", cell
    text = content or title
    if kind == "suggestion_proposal":
        r.error(column, "建议提案须通过「建议提案登记」录入（含代表委员、答复等信息），不能从台账导入", cell)
        return None
    if kind == "instruction":
        parts = [p for p in re.split(r"[，,、;；\s]+", inner) if p]
        days = [d for d in (_day(p) for p in parts) if d is not None]
        who = "".join(p for p in parts if _day(p) is None) or leader
        if not days:
            r.error(column, "领导批示须注明批示日期，如「领导批示（市长，2026-09-01）」", cell)
            return None
        if not who:
            r.error(column, "领导批示须注明批示领导，如「领导批示（市长，2026-09-01）」，或填写责任领导", cell)
            return None
        on = days[0]
        if on > today:
            r.error(column, f"批示日期 {on} 晚于今天", cell)
            return None
        if deadline is not None and on > deadline:
            r.error(column, f"批示日期 {on} 晚于完成时限 {deadline}", cell)
            return None
        if len(who) > 100 or len(detail) > 200:
            r.error(column, "批示领导不能超过100字，文件名称不能超过200字", cell)
            return None
        return kind, {"leader": who, "instruction_text": text, "instructed_on": on.isoformat(), "document": detail}
    if kind == "meeting_item":
        words = f"{inner} {detail}"
        held = _DATE.search(words)
        session = _SESSION.search(words)
        meeting = next((k for word, k in _MEETINGS if word in words), None)
        if held is None or session is None or meeting is None:
            r.error(column, "会议议定事项须写明会议日期、第几次和会议类别（全体会议、常务会议或专题会议），"
                            "如「会议议定事项：2026-10-20 第12次常务会议」", cell)
            return None
        on = _day(held[0])
        if on is None or on > today:
            r.error(column, f"会议日期 {held[0]} 无效或晚于今天", cell)
            return None
        return kind, {"meeting_kind": meeting, "meeting_date": on.isoformat(),
                      "session_number": f"第{session[1]}次", "agreed_text": text}
    if kind == "major_decision":
        document = detail or inner
        if not document:
            r.error(column, "重大决策部署须写明文件名称或文号，如「重大决策部署：淮政发〔2026〕1号」", cell)
            return None
        if len(document) > 200:
            r.error(column, f"文件名称或文号超过200字（{len(document)}字）", cell)
            return None
        return kind, {"document": document}
    note = detail or inner
    if len(note) > 2000:
        r.error(column, f"事项来源的说明超过2000字（{len(note)}字）", cell)
        return None
    return kind, {"note": note}


# -- one row ---------------------------------------------------------------------------------------------------
def row_key(plan: ItemCreate) -> str:
    """SHA-256 over what the row says the item is (not its progress, contact or remarks, which change)."""
    what = [plan.source_kind, plan.source, plan.title, plan.content, plan.issuing_leader or "",
            [[u.unit, u.role] for u in plan.units], plan.deadline.isoformat()]
    return hashlib.sha256(json.dumps(what, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def parse_row(ctx: TenantContext, book: sheet.Sheet, number: int, cells: tuple[Any, ...], options: Options,
              leaders: dict[str, str], units: dict[str, str]) -> Parsed | RowSkipped | list[RowError]:
    """One data row: the plan it makes, or why it is passed over, or every refused cell."""
    def cell(column: str) -> str:
        return _text(book.cell(cells, column))

    if cell("序号") in SAMPLE:
        return RowSkipped(number, "示例行，不导入")
    r = _Row(number, book)
    status = cell("完成状态")
    if status and status not in sheet.STATUSES:
        r.error("完成状态", f"完成状态应为 {'、'.join(sheet.STATUSES)} 之一", status)
    elif status == "已完成":
        return RowSkipped(number, "完成状态为「已完成」，不导入")
    today = ctx.time.today()

    for column in sheet.COLUMNS:
        if _CONTROL.search(cell(column)):
            r.error(column, "含有不可见的控制字符，请删除后重试", cell(column))

    matter = cell("督办事项")
    title, _, content = matter.partition("\n")
    title, content = title.strip(), content.strip()
    if not title:
        r.error("督办事项", "督办事项不能为空")
    elif len(title) > 200:
        r.error("督办事项", f"第一行（标题）超过200字（{len(title)}字）：请把标题写在第一行，内容另起一行", title)
    if len(content) > 20000:
        r.error("督办事项", f"内容超过20000字（{len(content)}字）")

    leader_text = cell("责任领导")
    leader = leaders.get(leader_text) if leader_text else None
    if leader_text and leader is None:
        r.error("责任领导", f"未知的责任领导「{leader_text}」：应为领导名录中的姓名或代码（见导入模板「单位与领导」）",
                leader_text)
    elif not leader_text and options.group is None:
        r.error("责任领导", "责任领导为空：请填写责任领导，或在导入时指定督查组")

    plan_units: list[UnitPlan] = []
    seen: set[str] = set()
    for column in ("牵头单位", "配合单位"):
        text = cell(column)
        if column == "牵头单位" and not text:
            r.error(column, "牵头单位不能为空")
            continue
        for name in (n for n in _SPLIT_UNITS.split(text) if n):
            code = units.get(name) or units.get(name.lower())
            if code is None:
                r.error(column, f"未知的单位「{name}」：应为单位全称或代码（见导入模板「单位与领导」）", name)
            elif code in seen:
                r.error(column, f"单位「{name}」重复列出", name)
            elif not ctx.registry.is_below(code, ctx.tenant):
                r.error(column, f"「{name}」不是本单位的下级单位，不能交办", name)
            else:
                seen.add(code)
                plan_units.append(UnitPlan(code, "lead" if not plan_units else "co"))
    if len(plan_units) > 50:
        r.error("配合单位", f"承办单位超过50个（{len(plan_units)}个）")

    raw_deadline = book.cell(cells, "完成时限")
    deadline = _day(raw_deadline if not isinstance(raw_deadline, str) else raw_deadline.strip())
    if raw_deadline is None or _text(raw_deadline) == "":
        r.error("完成时限", "完成时限不能为空")
    elif deadline is None:
        r.error("完成时限", f"「{_text(raw_deadline)}」不是有效日期，应填写如 2026-12-31 的日期", raw_deadline)
    elif deadline < today:
        r.error("完成时限", f"完成时限 {deadline} 早于今天（{today}），已过期", deadline)

    leader_label = leader_name(ctx, leader) if leader else leader_text
    usable = deadline if deadline is not None and deadline >= today else None  # one error per wrong date
    source = parse_source(r, cell("事项来源"), title, content, leader_label, today, usable)

    requirements, contact, progress = cell("备注"), cell("责任人/联系电话"), cell("进展情况")
    if len(requirements) > 20000:
        r.error("备注", f"备注超过20000字（{len(requirements)}字）")
    if len(contact) > 200:
        r.error("责任人/联系电话", f"超过200字（{len(contact)}字）", contact)
    if len(progress) > 20000:
        r.error("进展情况", f"进展情况超过20000字（{len(progress)}字）")
    if r.errors or source is None or deadline is None:
        return r.errors
    group = options.group
    if group is None and leader is not None:
        found = ctx.registry.leader(leader)
        group = found.group if found else None
    registry_group = ctx.registry.group(group) if group else None
    division = options.division or (registry_group.name[:100] if registry_group else "督查室")
    plan = ItemCreate(title=title, source_kind=source[0], source=source[1], division=division, deadline=deadline,
                      units=plan_units, group=options.group, issuing_leader=leader, content=content,
                      requirements=requirements)
    return Parsed(number, plan, row_key(plan), contact or None, progress or None)


def _column_of(message: str) -> str:
    """The column a refusal of ``create_item`` is about (for a check this module does not make first)."""
    for words, column in ((("承办单位", "主办单位", "unit"), "牵头单位"), (("督查组", "交办领导", "group"), "责任领导"),
                          (("办结时限", "deadline"), "完成时限"),
                          (("事项来源", "批示", "会议", "source"), "事项来源")):
        if any(w in message for w in words):
            return column
    return "督办事项"


# -- the import ---------------------------------------------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, error: RowError) -> None:
        self.error = error


def _check_options(ctx: TenantContext, options: Options) -> None:
    if options.mode not in ("all", "good-rows", "check"):
        raise InvalidInput(f"导入方式 {options.mode} 无效，应为 all、good-rows 或 check (unknown mode)")
    if options.group is not None:
        found = ctx.registry.group(options.group)
        if found is None or found.tenant != ctx.tenant:
            raise InvalidInput(f"督查组 {options.group} 不存在 (unknown supervision group)")
    if options.division is not None and (not options.division.strip() or len(options.division) > 100
                                         or _CONTROL.search(options.division)):
        raise InvalidInput("责任处室应为 1–100 个字 (division: 1 to 100 characters)")


async def import_ledger(ctx: TenantContext, filename: str, data: bytes, options: Options = Options()
                        ) -> LedgerImportRead:
    """Import a 台账 (see the module's docstring); the report, also when nothing was imported."""
    _check_options(ctx, options)
    book = await asyncio.to_thread(sheet.read, filename, data)
    leaders, units = _leaders(ctx), _units(ctx)
    errors: list[RowError] = []
    skipped: list[RowSkipped] = []
    parsed: list[Parsed] = []
    for number, cells in book.rows:
        found = parse_row(ctx, book, number, cells, options, leaders, units)
        if isinstance(found, Parsed):
            parsed.append(found)
        elif isinstance(found, RowSkipped):
            skipped.append(found)
        else:
            errors.extend(found)
    repo = LedgerRepository(ctx.session, ctx.tenant)
    before = await repo.imported([p.key for p in parsed])
    first: dict[str, int] = {}
    todo: list[Parsed] = []
    for p in parsed:
        if p.key in before:
            skipped.append(RowSkipped(p.row, "已导入过（同一行此前已导入，不重复创建）", before[p.key]))
        elif p.key in first:
            skipped.append(RowSkipped(p.row, f"与第{first[p.key]}行相同，不重复创建"))
        else:
            first[p.key] = p.row
            todo.append(p)

    batch, file_sha = new_id(), hashlib.sha256(data).hexdigest()
    created: list[RowCreated] = []
    if options.mode == "good-rows":
        for p in todo:
            try:
                async with ctx.session.begin_nested():
                    created.append(await _create(ctx, repo, p, batch, filename, file_sha))
            except _Refused as exc:
                errors.append(exc.error)
    elif options.mode == "all" and not errors:
        try:
            async with ctx.session.begin_nested():
                for p in todo:
                    created.append(await _create(ctx, repo, p, batch, filename, file_sha))
        except _Refused as exc:
            errors.append(exc.error)
            created = []
    for e in errors:  # a refusal of create_item names its column only
        e.letter = e.letter or book.position(e.column)
    errors.sort(key=lambda e: (e.row, sheet.COLUMNS.index(e.column) if e.column in sheet.COLUMNS else 99))
    skipped.sort(key=lambda s: s.row)
    refused = options.mode == "all" and bool(errors)
    bad_rows = len({e.row for e in errors})
    if options.mode == "check":
        detail = (f"检查完成：{len(todo)} 行可导入，{bad_rows} 行有错误，跳过 {len(skipped)} 行；未导入任何事项 "
                  f"(check only: nothing imported)")
    elif refused:
        detail = (f"台账有 {bad_rows} 行共 {len(errors)} 处错误，未导入任何事项；"
                  "请改正后重新导入，或选择只导入无误的行 "
                  f"({len(errors)} errors in {bad_rows} rows: nothing imported)")
    else:
        detail = (f"已导入 {len(created)} 件事项（草稿），跳过 {len(skipped)} 行" +
                  (f"，{bad_rows} 行有错误未导入" if errors else "") + f" (created {len(created)})")
    await audit.record(ctx.session, ctx.tenant, ctx.actor.ref, "ledger_import", f"ledger {filename}"[:300],
                       ctx.time.now(), f"mode {options.mode}; file sha256 {file_sha}; batch {batch}; rows "
                       f"{len(book.rows)}: created {len(created)}, skipped {len(skipped)}, errors {len(errors)}"
                       + ("; refused: nothing imported" if refused else ""))
    return LedgerImportRead(400 if refused else 200, detail, options.mode, filename, book.name, len(book.rows),
                            bool(created), created, skipped, errors)


async def _create(ctx: TenantContext, repo: LedgerRepository, p: Parsed, batch: str, filename: str,
                  file_sha: str) -> RowCreated:
    """Make the row's item as ``POST /api/items`` does, and keep its import key (raises _Refused)."""
    try:
        item = await items.create_item(ctx, p.plan)
        repo.add(LedgerImport(id=new_id(), row_key=p.key, item_id=item.id, batch=batch, file_name=filename[:255],
                              file_sha256=file_sha, sheet_row=p.row, contact=p.contact, progress=p.progress,
                              imported_by=ctx.actor.ref, imported_at=ctx.time.now()))
        await repo.flush()
    except DubanError as exc:
        column = _column_of(exc.message)
        raise _Refused(RowError(p.row, column, "", exc.message)) from None
    except IntegrityError:  # the same row, imported at this moment by another request
        raise _Refused(RowError(p.row, "督办事项", "", "该行正由另一次导入同时导入，未重复创建")) from None
    return RowCreated(p.row, item.id, item.title)


def report_json(report: LedgerImportRead) -> str:
    """The report as the CLI prints it."""
    return msgspec.json.encode(report).decode()
