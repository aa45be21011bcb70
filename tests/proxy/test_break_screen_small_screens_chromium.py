"""The break screen and the block pages at 200% zoom and on a phone held sideways, in a real Chromium.

A review: at 200% zoom (a 1280x800 window is 640x400 CSS pixels) and at 844x390 the break screen's card is taller
than the window. The layer was fixed to the window and centred its card with nothing to scroll, so the card spilled
past both edges: "I'm done for now" and "5 more minutes" were below the screen, the heading above it, and scrolling
moved only the (inert) page underneath. The layer scrolls now, and the card is centred only while it fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from breather.proxy.overlay import inject, overlay_markup
from breather.proxy.pages import BlockPage, render_block_page, render_framed_block_page
from breather.rules.crisis import crisis_line
from tests.proxy.conftest import CSP, NONCE, PAGE, CspSite, Proxy, rules_text

pytestmark = pytest.mark.e2e

# (CSS width, CSS height, device pixels per CSS pixel): what the page is given to lay itself out in
SCREENS = {"zoom-200": (640, 400, 2), "phone-sideways": (844, 390, 3)}


@pytest.fixture(params=sorted(SCREENS))
def small_tab(request: Any, headless_chromium: Any) -> Iterator[Any]:
    width, height, scale = SCREENS[request.param]
    context = headless_chromium.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())  # no internet: fail fast
    yield tab
    context.close()


def scrolled_into_reach(tab: Any, selector: str, by: int) -> dict[str, float]:
    """Where ``selector`` is on the screen after a person turns the mouse wheel by ``by`` over the middle of it."""
    size = tab.viewport_size
    tab.mouse.move(size["width"] / 2, size["height"] / 2)
    tab.mouse.wheel(0, by)
    tab.wait_for_timeout(300)
    box = tab.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not on the page"
    return box


def assert_can_be_scrolled_to(tab: Any, top: str, bottom: str) -> None:
    height = tab.viewport_size["height"]
    low = scrolled_into_reach(tab, bottom, 4000)
    assert low["y"] >= 0 and low["y"] + low["height"] <= height, f"{bottom} cannot be scrolled to: {low}"
    high = scrolled_into_reach(tab, top, -8000)
    assert high["y"] >= 0 and high["y"] + high["height"] <= height, f"{top} cannot be scrolled to: {high}"


def test_the_break_screens_heading_and_buttons_can_be_scrolled_to(small_tab: Any, make_runtime: Any) -> None:
    from playwright.sync_api import expect

    proxy = Proxy(make_runtime(rules_text(extra_me="max_snoozes = 2")))
    config = {"pause_s": 0.1, "break_due": True, "reason": "26 minutes of scrolling.", "break_kind": "cadence"}
    site = CspSite(inject(PAGE, overlay_markup(NONCE, config)), CSP)
    try:
        small_tab.route(re.compile(r".*/__breather__/.*"), proxy.answer)
        small_tab.goto(site.url, wait_until="load")
        expect(small_tab.locator("#breather-break .breather-steps")).to_be_visible()  # the exercise, from the API
        expect(small_tab.locator("#breather-break button.breather-snooze")).to_be_visible()
        assert small_tab.evaluate("document.scrollingElement.scrollHeight <= innerHeight"), "the page itself is short"
        assert_can_be_scrolled_to(small_tab, "#breather-break h1", "#breather-break button.breather-snooze")
        assert_can_be_scrolled_to(small_tab, "#breather-break h1", "#breather-break button.breather-done")
    finally:
        site.close()


def test_the_break_screens_card_stays_centred_where_it_fits(headless_chromium: Any) -> None:
    tab = headless_chromium.new_page(viewport={"width": 1280, "height": 1400})
    tab.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    site = CspSite(inject(PAGE, overlay_markup(NONCE, {"break_due": True, "pause_s": 60})), CSP)
    try:
        tab.goto(site.url, wait_until="load")
        card = tab.locator("#breather-break .breather-card").bounding_box()
        assert card is not None
        assert abs(card["y"] + card["height"] / 2 - 700) <= 1 and abs(card["x"] + card["width"] / 2 - 640) <= 1, card
    finally:
        tab.close()
        site.close()


def test_the_block_pages_heading_and_buttons_can_be_scrolled_to(small_tab: Any) -> None:
    page = BlockPage(
        "limit_reached", "news.ycombinator.com", "That's your time.", 0, "t0ken", True, True, crisis_line("GB")
    )
    site = CspSite(render_block_page(page, NONCE), CSP)
    try:
        small_tab.goto(site.url, wait_until="load")
        assert_can_be_scrolled_to(small_tab, "#breather-block h1", "#breather-block button.breather-override")
        assert_can_be_scrolled_to(small_tab, "#breather-block h1", "#breather-block button.breather-done")
    finally:
        site.close()


def test_the_framed_block_pages_heading_and_advice_can_be_scrolled_to(small_tab: Any) -> None:
    page = render_framed_block_page(
        "quiet_hours", "reddit.com", "The feeds rest until 07:00.", crisis_line("GB"), NONCE
    )
    site = CspSite(page, CSP)
    try:
        small_tab.goto(site.url, wait_until="load")
        assert_can_be_scrolled_to(small_tab, "#breather-block h1", "#breather-block .breather-helpline")
    finally:
        site.close()
