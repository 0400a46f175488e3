"""Snapshot → :class:`~duban.documents.layout.Document`, one builder per kind. Pure functions: a builder reads
only the snapshot the documents row keeps (service.py makes it from the platform's data at the moment the
document is issued), so the same row always renders the same paper.

Snapshot keys shared by every kind: ``issuer`` (the tenant's name), ``office`` (its 督查室), ``number``,
``date`` (ISO, China), ``item`` (serial, title, content, requirements, source_kind, source_text,
content_label, division, leader, deadline, assigned_on, units [{unit, name, role}])."""

from __future__ import annotations

from datetime import date

from duban.documents.layout import Document, Field, Form, Heading, Paragraph, Signature, Table

ROLE = {"lead": "主办", "co": "协办"}
MEETINGS = {"plenary": "市政府全体（扩大）会议", "executive": "市政府常务会议", "mayor_topic": "市长专题会议"}
STATES = {"issued": "待签收", "accepted": "已签收", "in_progress": "办理中", "completion_requested": "已申请办结",
          "returned": "退回重办", "done": "已办结", "closed": "已关闭"}
BLANK = "　" * 6  # a space to write in by hand


def cn_date(iso: str | None) -> str:
    """2026-11-27 → 2026年11月27日 (GB/T 9704: Arabic numerals, no leading zeros)."""
    if not iso:
        return ""
    d = date.fromisoformat(str(iso)[:10])
    return f"{d.year}年{d.month}月{d.day}日"


def source_text(kind: str, source: dict) -> str:
    """任务来源 as an office writes it."""
    s = source or {}
    if kind == "instruction":
        text = f"{s.get('leader', '')}批示"
        if s.get("instructed_on"):
            text += f"（{cn_date(s['instructed_on'])}）"
        return text + (f"，{s['document']}" if s.get("document") else "")
    if kind == "meeting_item":
        meeting = MEETINGS.get(s.get("meeting_kind", ""), "会议")
        return f"{meeting}第{s.get('session_number', '')}次会议（{cn_date(s.get('meeting_date'))}）议定事项"
    if kind == "major_decision":
        by = f"（{s['issued_by']}）" if s.get("issued_by") else ""
        return f"重大决策部署：{s.get('document', '')}{by}"
    if kind == "suggestion_proposal":
        label = "人大代表建议" if s.get("kind") == "suggestion" else "政协委员提案"
        return f"{label}第{s.get('number', '')}号（{s.get('proposer', '')}）"
    if kind == "guidance":
        return "上级督查机构指导" + (f"：{s['note']}" if s.get("note") else "")
    by = f"（{s['leader']}）" if s.get("leader") else ""
    return "市领导交办" + by + (f"：{s['note']}" if s.get("note") else "")


def units_text(units: list[dict]) -> str:
    """主办：A\n协办：B、C."""
    lead = "、".join(u["name"] for u in units if u.get("role") == "lead")
    co = "、".join(u["name"] for u in units if u.get("role") != "lead")
    return f"主办：{lead}" + (f"\n协办：{co}" if co else "")


def _contact(s: dict) -> str:
    phone = s.get("phone") or BLANK
    return f"{s.get('contact') or BLANK}　电话：{phone}"


# -- 领导批办事项通知单 -------------------------------------------------------------------------------------
def notice(s: dict) -> Document:
    """《领导批办事项通知单》 for one unit, with its 签收 part."""
    item, unit = s["item"], s["unit"]
    fields = (
        Field("编　　号", f"{s['number']}（事项编号：{item['serial'] or '—'}）"),
        Field("事项名称", item["title"]),
        Field("任务来源", item["source_text"]),
        Field(item["content_label"], item["content"] or "—"),
        Field("承办单位", units_text(item["units"]) + f"\n（本单位为{ROLE.get(unit['role'], unit['role'])}单位）"),
        Field("办理要求", item["requirements"] or "按期办结，及时反馈办理情况。"),
        Field("交办时间", cn_date(item["assigned_on"])),
        Field("办结时限", cn_date(item["deadline"])),
        Field("分管领导", item["leader"] or "—"),
        Field("经 办 人", s.get("handler") or "—"),
        Field("联系人及电话", _contact(s)),
    )
    receipt = (
        Field("签收单位", unit["name"]),
        Field("签 收 人", BLANK),
        Field("签收时间", "　　　　年　　月　　日　　时"),
        Field("分管领导", BLANK),
        Field("联系电话", BLANK),
    )
    return Document(
        kind="notice", title="领导批办事项通知单", masthead=s["office"], number=s["number"],
        addressees=unit["name"], issued=s["date"],
        blocks=(
            Paragraph(f"现将《{item['title']}》交你单位办理，请认真落实，并于{cn_date(item['deadline'])}前将办理情况"
                      f"书面报送{s['office']}。"),
            Form(fields),
            Paragraph(f"请于收到本通知单后{s.get('accept_workdays', 1)}个工作日内签收；对交办有异议的，请于2个工作日内"
                      "说明理由。", align="left"),
            Form(receipt, caption="签收回执"),
            Signature(s["office"], cn_date(s["date"])),
        ),
        footer=(f"{s['office']}　　{cn_date(s['date'])}印发",),
    )


# -- 催办通知书 -----------------------------------------------------------------------------------------
def reminder_notice(s: dict) -> Document:
    """催办通知书 for an overdue assignment."""
    item, unit = s["item"], s["unit"]
    a = s["assignment"]
    reply_by = cn_date(s.get("reply_by"))
    blocks: list = [
        Paragraph(f"你单位{ROLE.get(unit['role'], '')}的《{item['title']}》（事项编号：{item['serial'] or '—'}"
                  + (f"，通知单编号：{s['notice_number']}" if s.get("notice_number") else "")
                  + f"），办结时限为{cn_date(a['deadline'])}。截至{cn_date(s['date'])}，"
                  f"已超过办结时限{s['days_over']}天，尚未办结。"),
        Paragraph(f"请你单位接此通知后高度重视，抓紧办理，并于{reply_by}前将办理进展及未按期办结的原因书面报送"
                  f"{s['office']}。逾期仍未办结的，将按规定予以通报。"),
    ]
    if s.get("note"):
        blocks.append(Paragraph(s["note"]))
    blocks += [
        Form((
            Field("事项名称", item["title"]),
            Field("任务来源", item["source_text"]),
            Field("承办单位", units_text(item["units"])),
            Field("交办时间", cn_date(item["assigned_on"])),
            Field("办结时限", cn_date(a["deadline"])),
            Field("超期天数", f"{s['days_over']}天"),
            Field("办理状态", STATES.get(a["state"], a["state"])),
            Field("最近反馈", a.get("last_feedback") or "尚未反馈"),
        ), caption="催办事项"),
        Signature(s["office"], cn_date(s["date"]), (f"（联系人：{_contact(s)}）",)),
    ]
    return Document(kind="reminder_notice", title="催办通知书", masthead=s["office"], number=s["number"],
                    addressees=unit["name"], issued=s["date"], blocks=tuple(blocks),
                    footer=(f"{s['office']}　　{cn_date(s['date'])}印发",))


# -- 督查专报 ------------------------------------------------------------------------------------------
def special_report(s: dict) -> Document:
    """《督查专报》 on one item: the 督查室's own text (basis, progress, problems, causes, suggestions), framed by
    what the platform knows about the item and its units."""
    item, text = s["item"], s["text"]
    rows = tuple((u["name"], ROLE.get(u["role"], u["role"]), STATES.get(u["state"], u["state"]),
                  cn_date(u["deadline"]), "是" if u["overdue"] else "否", u.get("last_feedback") or "尚未反馈")
                 for u in s["assignments"])
    done = sum(1 for u in s["assignments"] if u["state"] in ("done", "completion_requested", "closed"))
    overdue = sum(1 for u in s["assignments"] if u["overdue"])
    frame = (f"该事项来源为{item['source_text']}，{s['office']}于{cn_date(item['assigned_on'])}交办"
             f"{len(s['assignments'])}个单位办理（{units_text(item['units']).replace(chr(10), '；')}），办结时限为"
             f"{cn_date(item['deadline'])}。截至{cn_date(s['date'])}，已办结或申请办结{done}个，"
             f"超过办结时限未办结{overdue}个。")
    blocks: list = [Paragraph(text["basis"])] if text.get("basis") else []
    blocks += [
        Heading("一、基本情况及进展"),
        Paragraph(frame),
    ]
    if text.get("progress"):
        blocks.append(Paragraph(text["progress"]))
    if rows:
        blocks.append(Table(("承办单位", "角色", "办理状态", "办结时限", "超期", "最近反馈"), rows,
                            widths=(3.2, 1.1, 2.0, 2.7, 1.0, 2.6), caption="各承办单位办理情况"))
    for heading, key in (("二、存在的问题", "problems"), ("三、原因分析", "causes"), ("四、意见建议", "suggestions")):
        if text.get(key):
            blocks += [Heading(heading), Paragraph(text[key])]
    blocks.append(Signature(s["office"], cn_date(s["date"])))
    footer = ((f"报：{s['report_to']}。",) if s.get("report_to") else ()) + (
        f"{s['office']}　　{cn_date(s['date'])}印发",)
    return Document(kind="special_report", title=f"关于《{item['title']}》办理情况的专报", masthead="督查专报",
                    number=f"{s['number']}　{s['office']}", issued=s["date"], blocks=tuple(blocks), footer=footer)


# -- 办理情况报告 ----------------------------------------------------------------------------------------
def result_report(s: dict) -> Document:
    """A unit's 办理情况报告, from its result feedback."""
    item, unit, fb = s["item"], s["unit"], s["feedback"]
    cited = s.get("notice_number") or item["serial"] or ""
    received = f"，我单位于{cn_date(s['accepted_on'])}签收" if s.get("accepted_on") else ""
    blocks: list = [
        Paragraph(f"{s['office']}交办的《{item['title']}》（{cited}）{received}。我单位作为"
                  f"{ROLE.get(unit['role'], '')}单位认真组织办理，现将办理情况报告如下："),
        Heading("一、办理情况"),
        Paragraph(fb["text"]),
    ]
    co = [u for u in item["units"] if u.get("role") != "lead"]
    if unit["role"] == "lead" and co:
        views = s.get("co_views") or []
        blocks.append(Heading("二、协办单位办理情况"))
        if views:
            blocks += [Paragraph(f"{v['name']}：{v['text']}") for v in views]
        else:
            blocks.append(Paragraph("协办单位" + "、".join(u["name"] for u in co) + "按分工配合办理。"))
    blocks += [Heading(("三" if unit["role"] == "lead" and co else "二") + "、办理结果"),
               Paragraph(f"本单位于{cn_date(fb['submitted_on'])}报送办理结果，事项办结时限为{cn_date(item['deadline'])}，"
                         + ("按期报送。" if fb["submitted_on"] <= item["deadline"] else "超过办结时限报送。"))]
    if fb.get("attachments"):
        blocks.append(Paragraph("附件：" + "\n　　　".join(f"{i}. {name}" for i, name in
                                                         enumerate(fb["attachments"], start=1))))
    blocks.append(Signature(unit["name"], cn_date(fb["submitted_on"]), (f"（联系人：{fb['author']}）",)))
    return Document(kind="result_report", title=f"关于《{item['title']}》批办件办理情况的报告", masthead=unit["name"],
                    number=s["number"], addressees=s["office"], issued=fb["submitted_on"], blocks=tuple(blocks))


BUILDERS = {"notice": notice, "reminder_notice": reminder_notice, "special_report": special_report,
            "result_report": result_report}


def build(kind: str, snapshot: dict) -> Document:
    """The document a row describes."""
    return BUILDERS[kind](snapshot)
