"""The accessibility user test's layout findings, in a real Chromium on the demo household: chart text stays
readable in a 400-pixel window, and wide charts and tables scroll inside their own box, never the page, where a
keyboard can reach and scroll them.

The Flask-level findings (every chart's numbers outside the picture, the scale's unit, the limit line in words) are
in ``tests/dashboard/test_chart_accessibility.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Service
from tests.e2e.test_dashboard_pages import chromium_browser, demo_service  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

NARROW_PAGES = ("/", "/history?days=7", "/history?days=30", "/history?days=90&member=leo", "/review", "/requests")

# The rendered size of each chart's text: its font size in the SVG's units times the SVG's scale on screen.
CHART_TEXT_SIZES = """
() => [...document.querySelectorAll("svg.chart text")].map(
  (text) => parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a)
"""

# Each box that scrolls sideways: whether it is labelled and in the tab order.
SCROLLING_BOXES = """
() => [...document.querySelectorAll("main *")].filter(
  (element) => element.scrollWidth > element.clientWidth + 1 && getComputedStyle(element).overflowX !== "visible"
).map((element) => ({
  label: element.getAttribute("aria-label"), role: element.getAttribute("role"), tabindex: element.tabIndex,
  holds: element.firstElementChild && (element.firstElementChild.id || element.firstElementChild.tagName),
}))
"""


def open_details(page: Any) -> None:
    """Unfold every "The same numbers as a table": their tables must fit the window too."""
    page.evaluate("() => document.querySelectorAll('details').forEach((details) => { details.open = true; })")


def test_a_400_pixel_window_scrolls_no_page_sideways_and_keeps_chart_text_readable(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
) -> None:
    narrow = chromium_browser.new_context(viewport={"width": 400, "height": 800})
    page = narrow.new_page()
    problems = []
    for path in NARROW_PAGES:
        page.goto(demo_service.web_url + path)
        open_details(page)
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if sideways > 1:
            problems.append(f"{path}: {sideways}px of sideways scrolling")
        sizes = page.evaluate(CHART_TEXT_SIZES)
        if sizes and min(sizes) < 11:
            problems.append(f"{path}: chart text at {min(sizes):.1f}px")
        for box in page.evaluate(SCROLLING_BOXES):
            if not box["label"] or box["role"] != "region" or box["tabindex"] != 0:
                problems.append(f"{path}: a box scrolls sideways but is no labelled, focusable region: {box}")
    narrow.close()
    assert not problems, "\n".join(problems)


def test_chart_text_is_not_blown_up_on_a_wide_window(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
) -> None:
    wide = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = wide.new_page()
    page.goto(demo_service.web_url + "/history?days=30")
    sizes = page.evaluate(CHART_TEXT_SIZES)
    wide.close()
    assert min(sizes) >= 11 and max(sizes) <= 18, (min(sizes), max(sizes))


def test_a_keyboard_scrolls_a_chart_that_is_wider_than_the_window(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
) -> None:
    narrow = chromium_browser.new_context(viewport={"width": 400, "height": 800})
    page = narrow.new_page()
    page.goto(demo_service.web_url + "/history?days=7")
    box = page.locator(".chart-box").first
    assert page.evaluate("(box) => box.scrollWidth > box.clientWidth", box.element_handle())
    box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(box) => box.scrollLeft > 0", arg=box.element_handle(), timeout=3000)
    narrow.close()
