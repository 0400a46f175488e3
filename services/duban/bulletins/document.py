"""A stored bulletin as a document description (documents/layout.py), rendered by documents/render.py.

Masthead (the tenant's name + 督查室), 第N期, 主送 the kinds of units below the tenant, 一、总体情况 (items
in total and per source kind), 二、存在问题 (the lagging units and their items by 编号), 三、工作要求 (the
督查室's own paragraph, if any), the issuer and date, and the 附件 table per unit. Every number comes from
the bulletin's figures snapshot (figures.py), never from the data as they are now."""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.bulletins.figures import PROTECTED_TITLE, percent
from duban.bulletins.models import Bulletin
from duban.bulletins.repository import china_day
from duban.documents.layout import Document, Heading, PageBreak, Paragraph, Signature, Table
from duban.tenancy.registry import Registry

ADDRESSEE_KINDS = (("county", "各县（区）人民政府"), ("zone", "各功能区管委会"), ("department", "市各委、办、局"),
                   ("unit", "各直属单位"), ("town", "各乡镇人民政府（街道办事处）"))
NUMERALS = "一二三四五六七八九十"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_period(start: date, end: date) -> str:
    """2026年10月1日至10月31日 (the year again only when it changes)."""
    tail = f"{end.month}月{end.day}日" if end.year == start.year else cn_date(end)
    return f"{cn_date(start)}至{tail}"


def _d(iso: str) -> str:
    return cn_date(date.fromisoformat(iso))


def masthead(registry: Registry, tenant: str) -> str:
    t = registry.get(tenant)
    return f"{t.name if t else tenant}督查室"


def addressees(registry: Registry, tenant: str) -> str:
    """主送: the kinds of units directly below the tenant, in the usual order."""
    kinds = {t.kind for t in registry.children(tenant)}
    return "，".join(label for kind, label in ADDRESSEE_KINDS if kind in kinds) or "各承办单位"


def title_of(b: Bulletin) -> str:
    return f"关于{cn_period(b.period_from, b.period_to)}督查事项办理情况的通报"


def _summary(c: dict[str, Any]) -> str:
    return (f"交办{c['assigned']}件，已办结{c['done']}件（其中按期办结{c['done_on_time']}件、"
            f"逾期办结{c['done_late']}件），正在办理{c['in_progress']}件（其中超时未办{c['overdue']}件），完成率{percent(c['completion_rate'])}，"
            f"按期办结率{percent(c['on_time_rate'])}")


def _named(e: dict[str, Any]) -> str:
    """An item as a bulletin names it: 编号《title》, or the 编号 alone for a protected item."""
    return f"{e['serial']}（敏感事项）" if e["title"] == PROTECTED_TITLE else f"{e['serial']}《{e['title']}》"


def _problem(p: dict[str, Any]) -> str:
    parts = []
    if p["overdue"]:
        listed = "；".join(f"{_named(e)}，办结时限{_d(e['deadline'])}，"
                          f"已超时{e['overdue_workdays']}个工作日" for e in p["overdue"])
        parts.append(f"超时未办{len(p['overdue'])}件（{listed}）")
    if p["late"]:
        listed = "；".join(f"{_named(e)}，办结时限{_d(e['deadline'])}，"
                          f"{_d(e['completed_on'])}申请办结，逾期{e['late_workdays']}个工作日" for e in p["late"])
        parts.append(f"逾期办结{len(p['late'])}件（{listed}）")
    if p["behind"]:
        listed = "；".join(f"{_named(e)}，{'、'.join(e['missed'])}逾期未报" for e in p["behind"])
        parts.append(f"进度滞后{len(p['behind'])}件（{listed}）")
    return f"{p['name']}：" + "；".join(parts) + "。"


def unit_table(f: dict[str, Any]) -> Table:
    """附件: 承办单位 | 承办件数 | 办结数 | 在办数 | 超时未办数 | 按期办结率, and the 合计 row."""
    rows = [(u["name"], str(u["assigned"]), str(u["done"]), str(u["in_progress"]), str(u["overdue"]),
             percent(u["on_time_rate"])) for u in f["units"]]
    t = f["units_total"]
    rows.append(("合计", str(t["assigned"]), str(t["done"]), str(t["in_progress"]), str(t["overdue"]),
                 percent(t["on_time_rate"])))
    return Table(headers=("承办单位", "承办件数", "办结数", "在办数", "超时未办数", "按期办结率"), rows=tuple(rows),
                 widths=(4.4, 1.3, 1.3, 1.3, 1.4, 1.4), caption="各承办单位督查事项办理情况统计表")


def bulletin_document(b: Bulletin, registry: Registry, tenant: str) -> Document:
    f = b.figures
    head = masthead(registry, tenant)
    issued = china_day(b.created_at)
    period = cn_period(b.period_from, b.period_to)
    blocks: list[Any] = [Heading("一、总体情况")]
    overall = f["overall"]
    blocks.append(Paragraph(f"{period}，共{_summary(overall)}。以上均为截至{cn_date(b.period_to)}的情况。"
                            if overall["assigned"] else f"{period}，未交办督查事项。"))
    for n, s in enumerate(f["by_source"]):
        blocks.append(Paragraph(f"（{NUMERALS[n]}）{s['label']}：{_summary(s)}。"))
    blocks.append(Heading("二、存在问题"))
    if f["problems"]:
        blocks.append(Paragraph("截至期末，下列单位的事项超时未办、逾期办结或进度滞后，予以通报："))
        blocks.extend(Paragraph(_problem(p)) for p in f["problems"])
    else:
        blocks.append(Paragraph("本期交办事项未发现超时未办、逾期办结或进度滞后的情况。"))
    if b.requirements and b.requirements.strip():
        blocks.append(Heading("三、工作要求"))
        blocks.extend(Paragraph(line.strip()) for line in b.requirements.splitlines() if line.strip())
    blocks.append(Paragraph("附件：各承办单位督查事项办理情况统计表"))
    blocks.append(Signature(issuer=head, date=cn_date(issued)))
    blocks += [PageBreak(), Paragraph("附件", align="left", bold=True), unit_table(f)]
    return Document(kind="bulletin", title=title_of(b), blocks=tuple(blocks), masthead=head,
                    number=f"第{b.number}期", addressees=addressees(registry, tenant),
                    footer=(f"{head}　　{cn_date(issued)}印发",))
