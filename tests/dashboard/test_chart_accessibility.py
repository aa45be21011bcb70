"""The accessibility user test's findings on charts and tables (keyboard, screen reader, 200% zoom, a 400-pixel
window, colour blindness), read on the demo household through the Flask test client.

A chart is an ``role="img"`` SVG: a screen reader hears only its label, a keyboard never reaches its hover titles,
so each number must also be in a table or in words beside it. Layout (text size, sideways scrolling) is checked in
Chromium by ``tests/e2e/test_dashboard_accessibility.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from breather.demo import seed_demo
from breather.paths import Paths
from breather.rules import timeparse
from breather.store.usage import minutes_text
from tests.dashboard.conftest import NOW, dashboard_app, flat

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture
def demo(breather_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    """The dashboard on ``breather demo``'s household: a month for four members, ending at the tests' clock. Its
    rules name no zone, so the machine's is pinned: the expected days are UTC's (in Auckland the month began a day
    later)."""
    monkeypatch.setattr(timeparse, "local_zone_name", lambda: "UTC")
    seed_demo(Paths.resolve(breather_home), days=30, seed=1, now=NOW)
    for app in dashboard_app(breather_home):
        yield app.test_client()


def page_of(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def outside_charts(page: str) -> str:
    """The text a screen reader reads of the page: an ``role="img"`` SVG is read by its label only."""
    text = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)
    text = re.sub(r"</?(span|strong|em|a)\b[^>]*>", "", text)  # words inside a line stay as written
    return flat(re.sub(r"<[^>]+>", " ", text))


def part(page: str, start: str, end: str) -> str:
    """The page from ``start`` to the next ``end``: a table or paragraph that must be on the page."""
    assert start in page, f"the page has no {start}"
    return page.split(start, 1)[1].split(end, 1)[0]


def hover_titles(page: str, chart_class: str) -> list[tuple[str, str, str]]:
    chart = re.search(rf'<svg class="chart {chart_class}".*?</svg>', page, flags=re.S)
    assert chart, f"no {chart_class} chart"
    return re.findall(r"<title>(\w{3}) ([^<]*?): ([^<]*)</title></rect>", chart.group(0))


@pytest.mark.parametrize("days", [7, 30, 90])
def test_every_day_of_the_per_day_chart_is_in_a_table_too(demo: FlaskClient, days: int) -> None:
    page = page_of(demo, f"/history?days={days}")
    titles = hover_titles(page, "columns")
    assert len(titles) == days
    table = outside_charts(part(page, 'id="per-day-table"', "</table>"))
    if days == 90:  # the demo's month: the 60 empty days before its first are left out, and the table says so
        assert "from 3 Feb, the first day with data" in table
        assert table.count(" 0 min") < 5
        titles = titles[60:]
    for weekday, day, spent in titles:
        assert f"{weekday} {day} {spent}" in table, f"{weekday} {day}: {spent} is only a hover title"


def test_the_per_day_table_is_for_the_member_chosen(demo: FlaskClient) -> None:
    """With one member chosen, the table under the chart holds that member's days, as the chart does."""
    page = page_of(demo, "/history?days=7&member=maya")
    table = outside_charts(part(page, 'id="per-day-table"', "</table>"))
    assert "maya: time online per day" in table
    titles = hover_titles(page, "columns")
    assert len(titles) == 7
    for weekday, day, spent in titles:
        assert f"{weekday} {day} {spent}" in table


def test_the_busiest_hours_are_said_in_words_and_every_hour_is_in_a_table(demo: FlaskClient) -> None:
    page = page_of(demo, "/history?days=30")
    cells = [title for title in hover_titles(page, "heatmap") if title[2] != "0 min"]
    assert len(cells) > 10
    weekday_names = {name[:3]: name for name in WEEKDAYS}
    busiest = max(cells, key=lambda cell: _minutes(cell[2]))
    said = outside_charts(part(page, 'id="busiest-hours"', "</p>"))
    start = int(busiest[1][:2])
    assert f"{weekday_names[busiest[0]]} {busiest[1]}–{start + 1:02d}:00 ({busiest[2]})" in said
    table = part(page, 'id="when-table"', "</table>")
    rows = {
        name: flat(cells_text)
        for name, cells_text in re.findall(r'<th scope="row">(\w+)</th>(.*?)</tr>', table, flags=re.S)
    }
    for weekday, hour, spent in cells:
        assert f"{hour} {spent}" in rows[weekday_names[weekday]], f"{weekday} {hour}: {spent} is only a hover title"


def test_history_keeps_the_numbers_of_the_site_and_member_bars_outside_the_picture(demo: FlaskClient) -> None:
    page = page_of(demo, "/history?days=7")
    read = outside_charts(page)
    for table_id in ("per-site-table", "per-member-table"):
        table = part(page, f'id="{table_id}"', "</table>")
        rows = re.findall(r'<th scope="row">([^<]+)</th><td[^>]*>([^<]+)</td>', table)
        assert len(rows) >= 4, table_id
        for name, spent in rows:
            assert f"{name} {spent}" in read
    assert "The same numbers as a table" in read


def test_the_per_day_scale_has_a_unit(demo: FlaskClient) -> None:
    page = page_of(demo, "/history?days=30")
    chart = re.search(r'<svg class="chart columns".*?</svg>', page, flags=re.S)
    assert chart
    scale = re.findall(r'<text class="tick" x="\d+" y="\d+" text-anchor="end">([^<]+)</text>', chart.group(0))
    assert scale[-1] == "0"
    assert re.fullmatch(r"\d+ (h|min)", scale[0]), f"the top of the scale reads {scale[0]!r}, without a unit"
    busiest_day = max(_minutes(spent) for _, _, spent in hover_titles(page, "columns"))
    assert busiest_day <= _minutes(scale[0]), "the scale's top is at or above the busiest day"


def test_the_weekly_reviews_limit_line_and_over_bars_are_said_in_words(demo: FlaskClient) -> None:
    page = page_of(demo, "/review")
    section = page.split("<h2>Time, against the limits</h2>")[1].split("</section>")[0]
    read = outside_charts(section)
    assert "The dotted line is seven days of each member's daily limit." in read
    assert "says how far over" in read
    key = re.search(r'<p class="legend chart-key">.*?</p>', section, flags=re.S)
    assert key and 'class="swatch over"' in key[0]
    assert not re.search(r"\b(rust|red|orange)", key[0]), "High Contrast fills the bar with its own colour"
    chart = re.search(r"<svg class=\"chart bars\".*?</svg>", section, flags=re.S)
    assert chart
    over_bars = re.findall(
        r'<rect class="bar over"[^>]*/><text class="value"[^>]*>([^<]+)<tspan[^>]*> \([^<]+ over\)<', chart[0]
    )
    assert over_bars, "the demo's maya is over her week's limit, and her bar says so in words"
    for spent in over_bars:
        assert f"{spent}, over" in read, "the table says over too"
    assert "Limit for the week" in read
    assert "10 h 30 min (7 × 1 h 30 min)" in read  # maya's daily limit is 1 h 30 min


def test_wide_tables_scroll_inside_a_labelled_focusable_box(demo: FlaskClient) -> None:
    box = r'<div class="scroll-box" role="region" aria-label="{}" tabindex="0">\s*<table class="numbers" id="{}"'
    assert re.search(box.format("Answered this week", "answered"), page_of(demo, "/requests"))
    review = page_of(demo, "/review")
    assert re.search(box.format("Limits, quiet hours and asks, as a table", "boundaries-table"), review)
    assert re.search(box.format("Time, against the limits, as a table", "week-table"), review)


def test_charts_scroll_inside_their_own_labelled_box(demo: FlaskClient) -> None:
    page = page_of(demo, "/history?days=7")
    boxes = re.findall(
        r'<div class="scroll-box chart-box" role="region" aria-label="Chart: [^"]+" tabindex="0">'
        r'<svg class="chart',
        page,
    )
    assert len(boxes) == 4


def _minutes(text: str) -> int:
    found = re.fullmatch(r"(?:(\d+) h)?\s*(?:(\d+) min)?", text.strip())
    assert found and text.strip(), text
    minutes = int(found.group(1) or 0) * 60 + int(found.group(2) or 0)
    assert minutes_text(minutes) == text.strip()
    return minutes


def test_a_bar_past_its_limit_says_how_far_over_not_its_whole_value_as_over() -> None:
    """A user test read "43 min over" on Today's bar as 43 minutes past a 30-minute limit: 13 minutes over."""
    from breather.dashboard.charts import Bar, bar_chart

    chart = bar_chart([Bar("tiktok", 43.0, limit=30.0), Bar("reddit", 10.0, limit=30.0)], "Today")
    assert re.search(r">43 min<tspan[^>]*> \(13 min over\)</tspan>", chart), chart
    assert "10 min<" in chart and "10 min<tspan" not in chart
    barely = bar_chart([Bar("tiktok", 30.4, limit=30.0)], "Today")
    assert "30 min<tspan" in barely and "(just over)" in barely, "not '30 min (0 min over)'"


def test_every_scale_label_of_the_day_columns_fits_left_of_the_columns() -> None:
    """A user test saw "h 30 min" at the top of a member's per-day chart: "1 h 30 min" ran out of the chart's left
    edge. The room there (``AXIS_LEFT``) holds "45 min"; the scale's tops are round numbers written no longer."""
    from breather.dashboard.charts import SCALE_TOPS, scale_top

    labels = [minutes_text(top) for top in SCALE_TOPS] + [minutes_text(scale_top(2000.0))]
    assert all(len(label) <= len("45 min") for label in labels), labels
