"""SVG charts made on the server: no JavaScript, no CDN, readable when printed and at any zoom.

Each chart is a ``viewBox`` SVG that scales with its box, but never below a width where its text stays readable
(about 11 px); a narrower window scrolls the chart inside its own box, never the page. Text is real SVG text
(selectable, zoomable), every chart has a ``<title>`` and an ``aria-label``, and the pages print the same numbers
as a table beside it: an ``role="img"`` chart hides its text from screen readers, and hover titles reach no one
using a keyboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

from breather.store.usage import day_text, minutes_text, whole_minutes

DAY_LETTERS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ROW_HEIGHT = 34
LABEL_WIDTH = 150
VALUE_WIDTH = 110
OVER_VALUE_WIDTH = 230  # room for "12 h 30 min (5 h 30 min over)"
CHART_WIDTH = 640
AXIS_LEFT = 64  # room for the day columns' scale, written in words ("45 min", "10 h")
# The tops a day-column scale rounds up to, in minutes: each reads as a round number ("30 min", "8 h").
# No "1 h 30 min": the scale's top is written left of the columns, where "45 min" is the longest that fits.
SCALE_TOPS = (10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 720, 960, 1200, 1440)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    limit: float | None = None
    note: str = ""

    @property
    def over(self) -> bool:
        return self.limit is not None and self.value > self.limit


@dataclass(frozen=True)
class HeatmapDay:
    """One weekday of the heatmap in words: its minutes over the period and each hour with time online."""

    name: str
    total: float
    hours: tuple[tuple[int, float], ...]


def _svg(width: int, height: int, title: str, body: str, css_class: str) -> Markup:
    """The chart inside its own box: the box scrolls sideways when the window is narrower than the chart's
    readable width (a labelled, focusable region, so a keyboard can scroll it too), and a line under it, shown
    only then, says so: the chart's cut edge alone does not (user test at 400 pixels)."""
    safe_title = escape(title)
    return Markup(
        f'<div class="scroll-box chart-box" role="region" aria-label="Chart: {safe_title}" tabindex="0">'
        f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" role="img" aria-label="{safe_title}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet"><title>{safe_title}</title>'
        f'{body}</svg></div><p class="scroll-hint" aria-hidden="true">Scroll the chart sideways to see all of it '
        f"&rarr;</p>"
    )


def bar_chart(bars: Sequence[Bar], title: str, limit_name: str = "the limit") -> Markup:
    """Horizontal bars, one per row, with the value written out and the limit (if any) drawn as a dotted line.

    A bar is as long as the whole minutes written beside it, so half a minute, written "0 min", draws no bar
    instead of filling the chart as the largest value. A bar past its limit says how far over beside its value
    ("43 min (13 min over)": a user test read "43 min over" as 43 minutes past the limit), not only in colour, and a
    key under the chart says what the dotted line is (``limit_name``)."""
    if not bars:
        return Markup(f'<p class="empty">{escape(title)}: nothing recorded yet.</p>')
    scale_max = max(max(whole_minutes(bar.value), bar.limit or 0.0) for bar in bars) or 1.0
    value_width = OVER_VALUE_WIDTH if any(bar.over for bar in bars) else VALUE_WIDTH
    track = CHART_WIDTH - LABEL_WIDTH - value_width
    parts: list[str] = []
    for index, bar in enumerate(bars):
        y = index * ROW_HEIGHT
        shown = whole_minutes(bar.value)
        width = max(2.0, track * shown / scale_max) if shown > 0 else 0.0
        over_word = f'<tspan class="over-word"> ({escape(how_far_over(bar))})</tspan>' if bar.over else ""
        parts.append(
            f'<text class="label" x="0" y="{y + 22}">{escape(bar.label)}</text>'
            f'<rect class="track" x="{LABEL_WIDTH}" y="{y + 8}" width="{track}" height="18" rx="4"/>'
            f'<rect class="bar{" over" if bar.over else ""}" x="{LABEL_WIDTH}" y="{y + 8}" width="{width:.1f}" '
            f'height="18" rx="4"/>'
            f'<text class="value" x="{CHART_WIDTH}" y="{y + 22}" text-anchor="end">'
            f"{escape(minutes_text(bar.value))}{over_word}</text>"
        )
        if bar.limit is not None:
            x = LABEL_WIDTH + track * bar.limit / scale_max
            parts.append(
                f'<line class="limit" x1="{x:.1f}" x2="{x:.1f}" y1="{y + 3}" y2="{y + 31}">'
                f"<title>limit {escape(minutes_text(bar.limit))}</title></line>"
            )
    chart = _svg(CHART_WIDTH, len(bars) * ROW_HEIGHT + 4, title, "".join(parts), "bars")
    if not any(bar.limit is not None for bar in bars):
        return chart
    return chart + _limit_key(limit_name)


def how_far_over(bar: Bar) -> str:
    """The minutes past the limit, counted in the whole minutes the value and the limit are written in ("43 min"
    against "30 min" is "13 min over"); less than a written minute is "just over"."""
    past = whole_minutes(bar.value) - whole_minutes(bar.limit or 0.0)
    return f"{minutes_text(past)} over" if past >= 1 else "just over"


def _limit_key(limit_name: str) -> Markup:
    """The key under a chart with limits, in words: the dotted line, and "over" on a bar past it. The words name no
    colour: with High Contrast on, the system's own highlight colour fills the bar and the square."""
    line = (
        '<svg class="key-line" viewBox="0 0 28 12" width="28" height="12" aria-hidden="true" focusable="false">'
        '<line class="limit" x1="2" x2="26" y1="6" y2="6"/></svg>'
    )
    return Markup(
        f'<p class="legend chart-key">{line} The dotted line is {escape(limit_name)}. '
        'A bar past it takes the colour of this square <span class="swatch over" aria-hidden="true"></span> and says '
        "<strong>how far over</strong>.</p>"
    )


def scale_top(peak: float) -> int:
    """The day columns' scale: the first round number of minutes at or above the busiest day."""
    for top in SCALE_TOPS:
        if peak <= top:
            return top
    return 1440 * -(-int(peak) // 1440)


@dataclass(frozen=True)
class Column:
    value: float  # minutes
    label: str  # its hover title, as the table below the chart names it
    tick: str | None = None  # written under it


def day_columns(days: Sequence[date], minutes: Mapping[date, float], title: str, today: date) -> Markup:
    """One column per day (7, 30 or 90 of them), with week starts marked along the bottom; each column's hover title
    names its day as the table below it does (with the year when it is not ``today``'s)."""
    columns, mondays = [], 0
    for day in days:
        tick = None
        if len(days) <= 7:
            tick = DAY_LETTERS[day.weekday()]
        elif day.weekday() == 0:
            mondays += 1
            if len(days) <= 31 or mondays % 2:  # every other week over 90 days, so the dates do not touch
                tick = f"{day.day} {day:%b}"
        value = minutes.get(day, 0.0)
        columns.append(Column(value, f"{day_text(day, today, weekday=True)}: {minutes_text(value)}", tick))
    return _columns(columns, title)


def week_columns(weeks: Mapping[date, float], title: str, today: date) -> Markup:
    """One column per week (by its Monday), for a year: each month's name under the first Monday in it (so names
    stay four or five weeks apart: the first week's own month named beside the next one's touched it)."""
    columns = []
    for monday, value in weeks.items():
        tick = f"{monday:%b}" if monday.day <= 7 else None
        columns.append(Column(value, f"Week of {day_text(monday, today, weekday=True)}: {minutes_text(value)}", tick))
    return _columns(columns, title)


def _columns(columns: Sequence[Column], title: str) -> Markup:
    """Columns on one scale, written in the words the rest of the page uses ("8 h", not "480")."""
    height, base, top, left = 180, 150, 14, AXIS_LEFT
    gap = 2 if len(columns) <= 31 else 1
    width = (CHART_WIDTH - left) / max(1, len(columns))
    peak = float(scale_top(max([column.value for column in columns] + [1.0])))
    parts = [
        f'<line class="grid" x1="{left}" x2="{CHART_WIDTH}" y1="{top}" y2="{top}"/>',
        f'<line class="axis" x1="{left}" x2="{CHART_WIDTH}" y1="{base}" y2="{base}"/>',
        f'<text class="tick" x="{left - 6}" y="{top + 5}" text-anchor="end">{minutes_text(peak)}</text>',
        f'<text class="tick" x="{left - 6}" y="{base}" text-anchor="end">0</text>',
    ]
    for index, column in enumerate(columns):
        bar_height = (base - top) * column.value / peak
        x = left + index * width
        parts.append(
            f'<rect class="bar" x="{x + gap / 2:.1f}" y="{base - bar_height:.1f}" width="{max(1.0, width - gap):.1f}"'
            f' height="{bar_height:.1f}"><title>{escape(column.label)}</title></rect>'
        )
        if column.tick is not None:
            parts.append(
                f'<text class="tick" x="{x + width / 2:.1f}" y="{base + 20}" text-anchor="middle">'
                f"{escape(column.tick)}</text>"
            )
    return _svg(CHART_WIDTH, height, title, "".join(parts), "columns")


def heatmap(cells: Mapping[tuple[int, int], float], title: str) -> Markup:
    """Hour of day across, weekday down; darker means more minutes. Empty cells stay the page colour."""
    left, top, cell_w, cell_h = 44, 24, (CHART_WIDTH - 44) / 24, 22
    peak = max([*cells.values(), 1.0])
    parts: list[str] = []
    for hour in range(0, 24, 3):
        parts.append(f'<text class="tick" x="{left + hour * cell_w:.1f}" y="15">{hour:02d}:00</text>')
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


def heatmap_days(cells: Mapping[tuple[int, int], float]) -> list[HeatmapDay]:
    """The heatmap as words, a weekday a row: every hour that shows at least a minute, in order."""
    rows = []
    for weekday, name in enumerate(DAY_NAMES):
        hours = tuple(
            (hour, cells[(weekday, hour)]) for hour in range(24) if whole_minutes(cells.get((weekday, hour), 0.0)) > 0
        )
        rows.append(HeatmapDay(name, sum(cells.get((weekday, hour), 0.0) for hour in range(24)), hours))
    return rows


def busiest_hours(cells: Mapping[tuple[int, int], float], count: int = 3) -> list[tuple[str, int, float]]:
    """The ``count`` darkest cells of the heatmap, busiest first: (weekday name, hour, minutes)."""
    ranked = sorted(
        ((minutes, weekday, hour) for (weekday, hour), minutes in cells.items() if whole_minutes(minutes) > 0),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    return [(DAY_NAMES[weekday], hour, minutes) for minutes, weekday, hour in ranked[:count]]
