"""The accessibility user test's layout findings, in a real Chromium on the demo household: chart text stays
readable in a 400-pixel window, and wide charts and tables scroll inside their own box, never the page, where a
keyboard can reach and scroll them. And an accessibility review's: charts and the page you are on in Windows High
Contrast (Chromium's forced colours), reflow in a 320-pixel window (400% zoom), and the keyboard's focus ring.

The Flask-level findings (every chart's numbers outside the picture, the scale's unit, the limit line in words) are
in ``tests/dashboard/test_chart_accessibility.py``; a refused form's field and an error page's title in
``tests/dashboard/test_refused_fields.py``.
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

# Each box that scrolls sideways: whether it is labelled and in the tab order. Text hidden for screen readers only
# (clipped to a pixel) is no box anyone scrolls.
SCROLLING_BOXES = """
() => [...document.querySelectorAll("main *")].filter(
  (element) => element.scrollWidth > element.clientWidth + 1 && getComputedStyle(element).overflowX !== "visible"
    && !element.matches(".visually-hidden")
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


# Each chart's box: whether it scrolls sideways, and whether the hint beside it is shown.
CHART_HINTS = """() => [...document.querySelectorAll('.chart-box')].map((box) => {
  const hint = box.nextElementSibling;
  return {scrolls: box.scrollWidth > box.clientWidth + 1,
          hinted: !!hint && hint.matches('.scroll-hint') && hint.getClientRects().length > 0};
})"""


@pytest.mark.parametrize("width", [400, 540, 552, 560, 600, 1280])
def test_a_chart_that_scrolls_sideways_says_so_and_one_that_fits_does_not(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
    width: int,
) -> None:
    """A user test at 400 pixels: a chart's right half was cut off at the window's edge with nothing to show it
    scrolls. The widths around where the charts stop fitting check the hint and the scrolling agree."""
    context = chromium_browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(demo_service.web_url + "/history?days=7")
    charts = page.evaluate(CHART_HINTS)
    context.close()
    assert charts
    assert all(chart["scrolls"] == chart["hinted"] for chart in charts), (width, charts)


# -- An accessibility review: Windows High Contrast, a 320-pixel window and the keyboard's focus ring ---------------

# WCAG's relative luminance and contrast, and the colour an element is drawn on: its first ancestor whose background
# is not transparent, else the page's canvas.
COLOURS = """
window.rgb = (text) => { const m = text.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
window.luminance = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
window.contrast = (a, b) => { const x = luminance(rgb(a)), y = luminance(rgb(b));
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
window.behind = (element) => { for (let e = element; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return getComputedStyle(e).backgroundColor; }
  return getComputedStyle(document.documentElement).backgroundColor; };
"""

# What in a chart cannot be read on the colour behind it: text under 4.5:1, the limit's dotted line under 3:1, and
# a key's swatch with no colour of its own.
UNREADABLE_IN_CHARTS = """() => {
  const out = [];
  for (const text of document.querySelectorAll('svg.chart text')) {
    const fill = getComputedStyle(text).fill, under = behind(text.closest('svg').parentElement);
    if (contrast(fill, under) < 4.5) out.push(`"${text.textContent}" ${fill} on ${under}`);
  }
  for (const line of document.querySelectorAll('svg .limit')) {
    const stroke = getComputedStyle(line).stroke, under = behind(line.closest('svg').parentElement);
    if (contrast(stroke, under) < 3) out.push(`the limit's dotted line ${stroke} on ${under}`);
  }
  for (const swatch of document.querySelectorAll('.legend .swatch')) {
    const own = getComputedStyle(swatch).backgroundColor, under = behind(swatch.parentElement);
    if (own === under || rgb(own).a === 0) out.push(`the key's ${swatch.className} vanishes: ${own} on ${under}`);
  }
  return out;
}"""

HIGH_CONTRAST = {"viewport": {"width": 1280, "height": 900}, "forced_colors": "active", "color_scheme": "dark"}


def test_charts_stay_readable_in_a_dark_high_contrast_theme(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
) -> None:
    """Windows High Contrast turns the page black with white text, but leaves an SVG's fills alone: the charts'
    names and minutes stayed dark ink on black (1.42:1), the limit line vanished, and so did the keys' swatches
    (forced colours drop backgrounds)."""
    context = chromium_browser.new_context(**HIGH_CONTRAST)
    page = context.new_page()
    problems = []
    for path in ("/review", "/history?days=7", "/?member=maya"):
        page.goto(demo_service.web_url + path)
        page.evaluate(COLOURS)
        found = page.evaluate(UNREADABLE_IN_CHARTS)
        problems += [f"{path}: {line}" for line in found[:3]]  # the first few say enough
    context.close()
    assert not problems, "\n".join(problems)


# How a page name in the masthead looks: its colour, what it is drawn on, its border, underline, weight and outline.
NAV_LOOKS = """() => [document.querySelector('nav a[aria-current="page"]'),
                     document.querySelector('nav a:not([aria-current])')]
  .map((a) => { const c = getComputedStyle(a); return [c.color, behind(a), `${c.borderTopStyle} ${c.borderTopWidth}`,
    c.textDecorationLine, c.fontWeight, c.outlineStyle].join(' | '); })"""


def test_the_page_you_are_on_is_marked_in_the_navigation_in_high_contrast(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
) -> None:
    """The masthead marked the current page only by its background, which forced colours replace."""
    context = chromium_browser.new_context(**HIGH_CONTRAST)
    page = context.new_page()
    page.goto(demo_service.web_url + "/review")
    page.evaluate(COLOURS)
    current, other = page.evaluate(NAV_LOOKS)
    context.close()
    assert current != other, f"'Weekly review' (the page shown) and 'Today' look alike: {current}"


SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"
FIRST_TOO_WIDE = """() => [...document.querySelectorAll('main *')].filter((e) => !e.closest('.scroll-box')
  && e.getBoundingClientRect().right > innerWidth + 1).slice(0, 1).map((e) => e.outerHTML.slice(0, 80))"""


def test_a_320_pixel_window_answers_an_ask_shows_setup_and_a_dry_run_without_sideways_scrolling(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
) -> None:
    """WCAG 1.4.10: at 400% zoom (320 CSS pixels) a page reflows into one column. The forms to answer an ask, Setup's
    tables and a Rules dry run's table pushed the page sideways."""
    context = chromium_browser.new_context(viewport={"width": 320, "height": 700})
    page = context.new_page()
    problems = []

    def check(label: str) -> None:
        sideways = page.evaluate(SIDEWAYS)
        if sideways > 1:
            problems.append(f"{label}: {sideways}px of sideways scrolling, first {page.evaluate(FIRST_TOO_WIDE)}")

    page.goto(demo_service.web_url + "/requests")
    assert page.locator("article.ask").count() >= 1, "the demo leaves an ask waiting"
    check("/requests, an ask waiting")
    page.goto(demo_service.web_url + "/setup")
    check("/setup")
    page.goto(demo_service.web_url + "/rules")
    page.fill("#maya-daily", "45m")
    with page.expect_navigation():
        page.locator("form.profile-form:has(#maya-daily) button[value=dry_run]").click()
    assert page.locator("#dry-run").count() == 1
    check("/rules after Dry run last week")
    context.close()
    assert not problems, "\n".join(problems)


# The focused element's ring against what it is drawn on (the ring lies outside the control, on its parent).
FOCUS_RING = """() => {
  const e = document.activeElement, c = getComputedStyle(e);
  const name = e.id || `${e.tagName.toLowerCase()} ${(e.innerText || '').trim().slice(0, 20)}`;
  if (c.outlineStyle === 'none') return {name, ratio: 0, what: 'no ring'};
  const under = behind(e.parentElement);
  return {name, ratio: contrast(c.outlineColor, under), what: `${c.outlineColor} on ${under}`};
}"""


def test_the_focus_ring_stands_out_from_what_it_is_drawn_on(
    demo_service: Service,  # noqa: F811
    chromium_browser: Any,  # noqa: F811
) -> None:
    """WCAG 1.4.11 asks 3:1 for a focus indicator: the amber ring was 2.2:1 on the white masthead and cards and 2:1
    on the paper colour."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    faint: dict[str, list[str]] = {}
    for path in ("/", "/review", "/requests", "/data"):
        page.goto(demo_service.web_url + path)
        page.evaluate(COLOURS)
        for _ in range(25):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement === document.body"):
                break
            ring = page.evaluate(FOCUS_RING)
            if ring["ratio"] < 3:
                faint.setdefault(f"{path}: {ring['what']} = {ring['ratio']:.2f}:1", []).append(ring["name"])
    context.close()
    assert not faint, "\n".join(f"{what} ({', '.join(names[:4])})" for what, names in faint.items())
