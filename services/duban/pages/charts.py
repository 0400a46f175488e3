"""Server-rendered SVG charts for the leaders' dashboard: no script, no chart library, no other origin.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say in words what it shows, and
every bar or point carries its own ``<title>`` (a tooltip, read by a screen reader); the numbers are also in
the tables next to the charts. Only presentation attributes and classes (duban.css): the pages' CSP allows no
inline style. Every text is escaped here (the charts are inserted as markup)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

W, H = 640, 260  # the viewBox; the SVG scales to its container's width (phone included)
LEFT, RIGHT, TOP, BOTTOM = 66, 12, 18, 48


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing to show (drawn as "—")
    note: str = ""  # the tooltip's detail, e.g. "按期 3 / 办结 4"
    tone: str = "blue"  # a class: blue, green, yellow, red


def _fmt(value: float, unit: str) -> str:
    return (f"{value:.1f}" if value != int(value) else f"{int(value)}") + unit


def _ticks(top: float, percent: bool) -> list[float]:
    if percent:
        return [0, 25, 50, 75, 100]
    step = max(1, -(-int(top) // 4))
    return [step * i for i in range(5)]


def _frame(title: str, desc: str, body: list[str], test_id: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{test_id}-t {test_id}-d" '
        f'data-testid="{test_id}" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{test_id}-t">{escape(title)}</title><desc id="{test_id}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _axes(top: float, percent: bool) -> tuple[list[str], float]:
    """The horizontal grid lines with their values; the scale's top."""
    ticks = _ticks(top, percent)
    top = ticks[-1] or 1
    plot_h = H - TOP - BOTTOM
    out = []
    for t in ticks:
        y = TOP + plot_h - plot_h * t / top
        out.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{_fmt(t, "%" if percent else "")}</text>')
    return out, top


def _short(label: str, room: float) -> str:
    """A category's label cut to what fits under its bar (the whole name stays in the tooltip)."""
    fits = max(2, int(room // 17))  # the phone's larger type (duban.css) included
    return label if len(label) <= fits else label[: fits - 1] + "…"


def bars(bars: Sequence[Bar], *, title: str, desc: str, test_id: str, percent: bool = False) -> Markup:
    """A vertical bar chart: one bar per category, its value above it."""
    if not bars:
        return _frame(title, desc, [f'<text class="none" x="{W / 2}" y="{H / 2}" text-anchor="middle">暂无数据</text>'],
                      test_id)
    top = 100.0 if percent else max([b.value or 0 for b in bars] + [1])
    body, top = _axes(top, percent)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / len(bars)
    width = min(48.0, slot * 0.62)
    for n, b in enumerate(bars):
        x = LEFT + slot * n + (slot - width) / 2
        cx = x + width / 2
        unit = "%" if percent else ""
        shown = "—" if b.value is None else _fmt(b.value, unit)
        tip = escape(f"{b.label}：{shown}" + (f"（{b.note}）" if b.note else ""))
        if b.value is not None:
            h = plot_h * b.value / top
            y = TOP + plot_h - h
            body.append(f'<g class="bar {escape(b.tone)}" data-label="{escape(b.label)}" data-value="{shown}">'
                        f'<title>{tip}</title><rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                        f'height="{max(h, 0.5):.1f}" rx="3"/>'
                        f'<text class="value" x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle">{shown}</text></g>')
        else:
            y = TOP + plot_h - 4
            body.append(f'<g class="bar none" data-label="{escape(b.label)}" data-value="—"><title>{tip}</title>'
                        f'<text class="value" x="{cx:.1f}" y="{y:.1f}" text-anchor="middle">—</text></g>')
        body.append(f'<text class="cat" x="{cx:.1f}" y="{H - BOTTOM + 18}" text-anchor="middle">'
                    f'{escape(_short(b.label, slot))}</text>')
    return _frame(title, desc, body, test_id)


def line(points: Sequence[Bar], *, title: str, desc: str, test_id: str) -> Markup:
    """A line chart over time (months): one point per month, its value by it."""
    if not points:
        return _frame(title, desc, [f'<text class="none" x="{W / 2}" y="{H / 2}" text-anchor="middle">暂无数据</text>'],
                      test_id)
    top = max([p.value or 0 for p in points] + [1])
    body, top = _axes(top, False)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / len(points)
    xy = []
    for n, p in enumerate(points):
        x = LEFT + slot * n + slot / 2
        y = TOP + plot_h - plot_h * (p.value or 0) / top
        xy.append((x, y, p))
    body.append('<polyline class="trend" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in xy) + '"/>')
    for x, y, p in xy:
        shown = "—" if p.value is None else _fmt(p.value, "")
        tip = escape(f"{p.label}：{shown}" + (f"（{p.note}）" if p.note else ""))
        body.append(f'<g class="point {escape(p.tone)}" data-label="{escape(p.label)}" data-value="{shown}">'
                    f'<title>{tip}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="4.5"/>'
                    f'<text class="value" x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">{shown}</text></g>'
                    f'<text class="cat" x="{x:.1f}" y="{H - BOTTOM + 18}" text-anchor="middle">'
                    f'{escape(_short(p.label, slot))}</text>')
    return _frame(title, desc, body, test_id)
