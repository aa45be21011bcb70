"""SVG charts made on the server: no JavaScript, no CDN, readable when printed and at any zoom.

Each chart is a ``viewBox`` SVG that scales with its container; text is real SVG text (selectable, zoomable),
every chart has a ``<title>`` and an ``aria-label``, and the pages print the same numbers as a table beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

from breather.store.usage import minutes_text, whole_minutes

DAY_LETTERS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ROW_HEIGHT = 34
LABEL_WIDTH = 150
VALUE_WIDTH = 110
CHART_WIDTH = 640


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    limit: float | None = None
    note: str = ""


def _svg(width: int, height: int, title: str, body: str, css_class: str) -> Markup:
    safe_title = escape(title)
    return Markup(
        f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" role="img" aria-label="{safe_title}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet"><title>{safe_title}</title>'
        f"{body}</svg>"
    )


def bar_chart(bars: Sequence[Bar], title: str) -> Markup:
    """Horizontal bars, one per row, with the value written out and the limit (if any) drawn as a line.

    A bar is as long as the whole minutes written beside it, so half a minute, written "0 min", draws no bar
    instead of filling the chart as the largest value."""
    if not bars:
        return Markup(f'<p class="empty">{escape(title)}: nothing recorded yet.</p>')
    scale_max = max(max(whole_minutes(bar.value), bar.limit or 0.0) for bar in bars) or 1.0
    track = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts: list[str] = []
    for index, bar in enumerate(bars):
        y = index * ROW_HEIGHT
        shown = whole_minutes(bar.value)
        width = max(2.0, track * shown / scale_max) if shown > 0 else 0.0
        over = bar.limit is not None and bar.value > bar.limit
        parts.append(
            f'<text class="label" x="0" y="{y + 22}">{escape(bar.label)}</text>'
            f'<rect class="track" x="{LABEL_WIDTH}" y="{y + 8}" width="{track}" height="18" rx="4"/>'
            f'<rect class="bar{" over" if over else ""}" x="{LABEL_WIDTH}" y="{y + 8}" width="{width:.1f}" '
            f'height="18" rx="4"/>'
            f'<text class="value" x="{CHART_WIDTH}" y="{y + 22}" text-anchor="end">'
            f"{escape(minutes_text(bar.value))}</text>"
        )
        if bar.limit is not None:
            x = LABEL_WIDTH + track * bar.limit / scale_max
            parts.append(
                f'<line class="limit" x1="{x:.1f}" x2="{x:.1f}" y1="{y + 3}" y2="{y + 31}">'
                f"<title>limit {escape(minutes_text(bar.limit))}</title></line>"
            )
    return _svg(CHART_WIDTH, len(bars) * ROW_HEIGHT + 4, title, "".join(parts), "bars")


def day_columns(days: Sequence[date], minutes: Mapping[date, float], title: str) -> Markup:
    """One column per day (7, 30 or 90 of them), with week starts marked along the bottom."""
    height, base, top = 180, 150, 14
    gap = 2 if len(days) <= 31 else 1
    column = (CHART_WIDTH - 40) / max(1, len(days))
    peak = max([minutes.get(day, 0.0) for day in days] + [1.0])
    parts = [f'<line class="axis" x1="40" x2="{CHART_WIDTH}" y1="{base}" y2="{base}"/>']
    parts.append(f'<text class="tick" x="34" y="{top + 4}" text-anchor="end">{round(peak)}</text>')
    parts.append(f'<text class="tick" x="34" y="{base}" text-anchor="end">0</text>')
    for index, day in enumerate(days):
        value = minutes.get(day, 0.0)
        bar_height = (base - top) * value / peak
        x = 40 + index * column
        parts.append(
            f'<rect class="bar" x="{x + gap / 2:.1f}" y="{base - bar_height:.1f}" width="{max(1.0, column - gap):.1f}"'
            f' height="{bar_height:.1f}"><title>{day:%a %d %b}: {escape(minutes_text(value))}</title></rect>'
        )
        if day.weekday() == 0 or len(days) <= 7:
            parts.append(
                f'<text class="tick" x="{x + column / 2:.1f}" y="{base + 18}" text-anchor="middle">{day:%d %b}</text>'
                if len(days) > 7
                else f'<text class="tick" x="{x + column / 2:.1f}" y="{base + 18}" text-anchor="middle">'
                f"{DAY_LETTERS[day.weekday()]}</text>"
            )
    return _svg(CHART_WIDTH, height, title, "".join(parts), "columns")


def heatmap(cells: Mapping[tuple[int, int], float], title: str) -> Markup:
    """Hour of day across, weekday down; darker means more minutes. Empty cells stay the page colour."""
    left, top, cell_w, cell_h = 44, 22, (CHART_WIDTH - 44) / 24, 22
    peak = max([*cells.values(), 1.0])
    parts: list[str] = []
    for hour in range(0, 24, 3):
        parts.append(f'<text class="tick" x="{left + hour * cell_w:.1f}" y="14">{hour:02d}:00</text>')
    for weekday, name in enumerate(DAY_LETTERS):
        y = top + weekday * (cell_h + 3)
        parts.append(f'<text class="tick" x="0" y="{y + 16}">{name}</text>')
        for hour in range(24):
            value = cells.get((weekday, hour), 0.0)
            level = 0 if value <= 0 else 1 + min(4, int(5 * value / peak - 1e-9))
            parts.append(
                f'<rect class="heat h{level}" x="{left + hour * cell_w + 1:.1f}" y="{y}" width="{cell_w - 2:.1f}" '
                f'height="{cell_h}" rx="3"><title>{name} {hour:02d}:00: {escape(minutes_text(value))}</title></rect>'
            )
    return _svg(CHART_WIDTH, top + 7 * (cell_h + 3) + 2, title, "".join(parts), "heatmap")
