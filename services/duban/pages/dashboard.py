"""The leaders' dashboard (领导驾驶舱): on-time rate per unit and per month, the overdue trend, items by source,
as server-rendered SVG (pages/charts.py); the per-unit scoreboard of the annual review (第十二条) with its Excel
workbook; the network's figures (第九条). Every number comes from the same services as the API — the annual
review (review/service.py) and the bulletins' figures (bulletins/figures.py, which define each count) — under
the same ``authorize`` (``review``/``read``; the 第九条 figures only for ``figures``/``read``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, Response, get

from duban.bulletins.figures import SOURCE_LABELS, Task, by_item, rate
from duban.bulletins.repository import BulletinRepository
from duban.context import TenantContext
from duban.errors import DubanError
from duban.figures import service as figures
from duban.pages import charts
from duban.pages.render import page
from duban.review import service as review
from duban.web import Ctx


def _month_end(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


def _tone(value: float | None) -> str:
    return "none" if value is None else "green" if value >= 90 else "yellow" if value >= 60 else "red"


def monthly(tasks: list[Task], year: int, end: date) -> tuple[list[charts.Bar], list[charts.Bar]]:
    """Per month of ``year`` up to ``end``: the on-time rate of the work assigned in it (as of ``end``) and the
    overdue count at the month's end (超时未办 then, of all the work assigned so far in the year)."""
    on_time, overdue = [], []
    for month in range(1, end.month + 1 if end.year == year else 13):
        last = min(_month_end(year, month), end)
        mine = [t for t in tasks if t.assigned_on.year == year and t.assigned_on.month == month]
        done = [t for t in mine if t.done(end)]
        good = sum(t.on_time(end) for t in done)
        value = rate(good, len(done))
        on_time.append(charts.Bar(f"{month}月", value, f"交办 {len(mine)} 件，办结 {len(done)}，按期 {good}",
                                  _tone(value)))
        late = sum(t.overdue(last) for t in tasks if t.assigned_on <= last)
        overdue.append(charts.Bar(f"{month}月", late, f"截至 {last.month}月{last.day}日", "red"))
    return on_time, overdue


def by_source(tasks: list[Task]) -> list[charts.Bar]:
    counts: dict[str, int] = {}
    for mine in by_item(tasks).values():
        counts[mine[0].source_kind] = counts.get(mine[0].source_kind, 0) + 1
    return [charts.Bar(SOURCE_LABELS[k], counts[k], "件事项") for k in SOURCE_LABELS if counts.get(k)]


async def dashboard_context(request: Request, ctx: TenantContext) -> dict[str, Any]:
    today = ctx.time.today()
    wanted = request.query_params.get("year") or str(today.year)
    context: dict[str, Any] = {"year": wanted, "years": list(range(today.year, today.year - 5, -1)), "error": None,
                               "scores": None, "network": None}
    try:
        year = int(wanted)
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        context["error"] = "请选择考评年度（如 2026）"
        return context
    try:
        found = await review.review(ctx, year)
    except DubanError as exc:  # a year not begun, or without its holiday calendar: said next to the year
        context["error"] = exc.message.split(" (")[0]
        return context
    tasks = await BulletinRepository(ctx.session, ctx.tenant).tasks(date(year, 1, 1), date(year, 12, 31))
    on_time, overdue = monthly(tasks, year, found.as_of)
    units = [charts.Bar(u.name, u.on_time_rate, f"按期 {u.done_on_time} / 办结 {u.done}", _tone(u.on_time_rate))
             for u in found.units]
    context.update(
        year=year, scores=found,
        unit_chart=charts.bars(units, title=f"{year}年各承办单位按期办结率", percent=True, test_id="chart-units",
                               desc="按期办结数占办结数的百分比；尚无办结的单位记为“—”。"),
        month_chart=charts.bars(on_time, title=f"{year}年各月交办事项按期办结率", percent=True,
                                test_id="chart-months", desc="按交办月份统计，截至统计日的按期办结率。"),
        overdue_chart=charts.line(overdue, title=f"{year}年超时未办趋势", test_id="chart-overdue",
                                  desc="各月末超时未办（逾期未办结）的承办任务数。"),
        source_chart=charts.bars(by_source(tasks), title=f"{year}年交办事项按来源分布", test_id="chart-sources",
                                 desc="本年度交办的督查事项按来源类别（第三条）计数。"),
    )
    if ctx.policy.can(ctx.actor, "figures", "read"):
        context["network"] = await figures.overview(ctx)
    return context


class DashboardController(Controller):
    path = "/"
    include_in_schema = False

    @get("/dashboard")
    async def dashboard(self, request: Request, ctx: Ctx) -> Response:
        """领导驾驶舱: the year's charts and the per-unit scoreboard of the annual review."""
        ctx.policy.authorize(ctx.actor, "review", "read")
        return page(request, "dashboard.html", **await dashboard_context(request, ctx))
