"""Accessible SVG charts drawn on the server: a title and a description, patterns and value labels.

Colour is never the only cue: each series has its own fill pattern (solid, stripes, dots,
cross-hatch, lines) shown in the legend beside its name, and each bar carries its value when
there is room. The ``<svg>`` is an image named by its ``<title>`` and described by its ``<desc>``
(in the page's language); the same figures are in the data table under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from inquiry_desk.reports.charts import Chart

WIDTH = 720
PATTERNS = (
    '<rect width="8" height="8" fill="#1d3557"/>',
    '<rect width="8" height="8" fill="#ffffff"/><path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" '
    'stroke="#2a6f3e" stroke-width="2"/>',
    '<rect width="8" height="8" fill="#ffffff"/><circle cx="4" cy="4" r="2" fill="#8a3b12"/>',
    '<rect width="8" height="8" fill="#ffffff"/><path d="M0,0 l8,8 M8,0 l-8,8" stroke="#5b2a86" stroke-width="1.5"/>',
    '<rect width="8" height="8" fill="#ffffff"/><path d="M0,2 h8 M0,6 h8" stroke="#333333" stroke-width="1.5"/>',
)


def _fill(chart: Chart, index: int) -> str:
    return f"url(#{chart.id}-p{index % len(PATTERNS)})"


def _defs(chart: Chart) -> str:
    return "<defs>" + "".join(
        f'<pattern id="{chart.id}-p{i}" width="8" height="8" patternUnits="userSpaceOnUse">{body}</pattern>'
        for i, body in enumerate(PATTERNS[:max(len(chart.series), 1)])) + "</defs>"


def _legend(chart: Chart, y: int) -> str:
    parts, x = [], 8
    for index, (label, _values) in enumerate(chart.series):
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{_fill(chart, index)}" stroke="#000"/>'
                     f'<text x="{x + 20}" y="{y + 12}" font-size="12">{escape(label)}</text>')
        x += 28 + 7 * len(label)
    return "".join(parts)


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def _max(chart: Chart) -> float:
    if chart.stacked:
        totals = [sum(values[i] or 0 for _label, values in chart.series) for i in range(len(chart.categories))]
        top = max(totals, default=0) or 1
    else:
        top = max((value or 0 for _label, values in chart.series for value in values), default=0) or 1
    if chart.unit == "count":  # whole numbers on the axis: 0, half and top
        top = max(2 * math.ceil(top / 2), 2)
    return top


def columns(chart: Chart) -> str:
    """Vertical bars over time (stacked or side by side), an axis with three ticks, a legend."""
    height, left, top, bottom = 280, 56, 16, 64
    plot_w, plot_h = WIDTH - left - 12, height - top - bottom
    top_value = _max(chart)
    count = max(len(chart.categories), 1)
    slot = plot_w / count
    series_count = 1 if chart.stacked else max(len(chart.series), 1)
    bar_w = max(slot * 0.7 / series_count, 1.0)
    labelled = count * series_count <= 28
    every = max(1, round(count / 14))
    out = [_defs(chart)]
    for tick in (0, 0.5, 1):
        y = top + plot_h - tick * plot_h
        out.append(f'<line x1="{left}" x2="{WIDTH - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#bbb"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
                   f'{escape(chart.format(top_value * tick))}</text>')
    axis = chart.axis or chart.categories
    for i, category in enumerate(axis):
        base_x = left + i * slot + slot * 0.15
        stacked_at = 0.0
        for s, (_label, values) in enumerate(chart.series):
            value = values[i]
            if value is None:
                continue
            h = value / top_value * plot_h
            x = base_x + (0 if chart.stacked else s * bar_w)
            y = top + plot_h - h - (stacked_at / top_value * plot_h if chart.stacked else 0)
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                       f'fill="{_fill(chart, s)}" stroke="#000" stroke-width="0.5"/>')
            if labelled and value and not chart.stacked:
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">'
                           f'{escape(chart.format(value))}</text>')
            stacked_at += value
        if chart.stacked and labelled and stacked_at:
            y = top + plot_h - stacked_at / top_value * plot_h
            out.append(f'<text x="{base_x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">'
                       f'{escape(chart.format(stacked_at))}</text>')
        if i % every == 0:
            out.append(f'<text x="{base_x + bar_w * series_count / 2:.1f}" y="{top + plot_h + 16}" font-size="11" '
                       f'text-anchor="middle">{escape(_short(category, 10))}</text>')
    out.append(_legend(chart, height - 24))
    return _frame(chart, height, "".join(out))


def bars(chart: Chart) -> str:
    """Horizontal bars for categories (side by side per series), each with its value at the end."""
    left, right, top = 210, 60, 8
    series_count = max(len(chart.series), 1)
    row_h = 14 * series_count + 10
    height = top + row_h * max(len(chart.categories), 1) + 36
    plot_w = WIDTH - left - right
    top_value = _max(chart)
    out = [_defs(chart)]
    for i, category in enumerate(chart.categories):
        y0 = top + i * row_h
        out.append(f'<text x="{left - 6}" y="{y0 + row_h / 2 + 2:.1f}" font-size="12" text-anchor="end">'
                   f'{escape(_short(category, 32))}</text>')
        for s, (_label, values) in enumerate(chart.series):
            value = values[i]
            y = y0 + 4 + s * 14
            w = (value or 0) / top_value * plot_w
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="12" fill="{_fill(chart, s)}" '
                       f'stroke="#000" stroke-width="0.5"/>'
                       f'<text x="{left + w + 4:.1f}" y="{y + 10}" font-size="11">'
                       f'{escape(chart.format(value) if value is not None else "–")}</text>')
    out.append(_legend(chart, height - 24))
    return _frame(chart, height, "".join(out))


def _frame(chart: Chart, height: int, body: str) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'role="img" aria-labelledby="{chart.id}-title {chart.id}-desc" focusable="false">'
            f'<title id="{chart.id}-title">{escape(chart.title)}</title>'
            f'<desc id="{chart.id}-desc">{escape(chart.description)}</desc>{body}</svg>')


def draw(chart: Chart) -> Markup:
    return Markup(columns(chart) if chart.kind == "columns" else bars(chart))  # noqa: S704 (escaped above)


def draw_all(charts: Sequence[Chart]) -> dict[str, Markup]:
    return {chart.id: draw(chart) for chart in charts}
