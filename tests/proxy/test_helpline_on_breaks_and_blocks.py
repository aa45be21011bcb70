"""A user test: at night, after a run of self-harm posts, the heavy-run break, the quiet-hours page and the limit
page offered no help. They now offer the profile's helpline in one line (the warnings' entry); a regular break
does not."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from breather.proxy import flows
from breather.proxy.boundaries import Boundaries
from breather.proxy.breaks import HELPLINE_LEAD
from breather.proxy.overlay import Overlay
from breather.proxy.pages import BlockPage, render_block_page
from breather.rules.crisis import crisis_line
from tests.proxy.conftest import CspSite, rules_text, window_around_now
from tests.proxy.test_boundaries import document, heavy_posts_just_now
from tests.proxy.test_overlay import page_flow

NONCE = "h3lpn0nce"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; connect-src 'self'"


def block_page(crisis: Any = None, kind: str = "quiet_hours") -> str:
    page = BlockPage(kind, "reddit.com", "The feeds rest until 07:00.", 0, "t0ken", can_ask=False, crisis=crisis)
    return render_block_page(page, NONCE).decode()


def test_a_block_page_offers_the_helpline_with_links() -> None:
    text = block_page(crisis_line("GB"))
    line = re.search(r'<p class="breather-note breather-helpline">(.*?)</p>', text, re.S)
    assert line is not None
    assert line.group(1).startswith(html.escape(HELPLINE_LEAD))
    assert 'Samaritans — call <a href="tel:116123">116 123</a> (24/7)' in line.group(1)
    assert '<a href="https://www.samaritans.org" target="_blank" rel="noopener noreferrer">' in line.group(1)


def test_a_block_page_without_a_line_has_no_empty_offer() -> None:
    assert 'class="breather-note breather-helpline"' not in block_page(None)


@pytest.mark.parametrize("rule", ['quiet_hours = {{ daily = "{window}" }}', 'daily_limit = "0m"'])
def test_quiet_hours_and_limit_pages_carry_the_profiles_helpline(make_runtime, rule: str) -> None:
    text = rules_text(extra_me=rule.format(window=window_around_now())).replace('daily_limit = "1h"\n', "", 1)
    runtime = make_runtime(text)  # the household's country: GB
    flow = document()
    Boundaries(runtime).request(flow)
    assert flow.response is not None and flow.response.headers["x-breather"] in {"quiet_hours", "limit_reached"}
    page = flow.response.content.decode()
    assert "breather-helpline" in page and 'href="tel:116123"' in page


def overlay_config(runtime: Any, due: dict[str, Any] | None) -> dict[str, Any]:
    flow = page_flow()
    flow.metadata[flows.PROFILE] = "me"
    if due is not None:
        flow.metadata[flows.BREAK_DUE] = due
    Overlay(runtime).response(flow)
    data = re.search(rb'id="breather-overlay" data-breather="([^"]*)"', flow.response.content)
    assert data is not None
    return json.loads(html.unescape(data.group(1).decode()))


def test_the_overlay_gets_the_helpline_for_a_heavy_run_however_it_arrives(make_runtime) -> None:
    runtime = make_runtime()
    heavy_posts_just_now(runtime)
    flow = document()
    Boundaries(runtime).request(flow)
    config = overlay_config(runtime, flow.metadata[flows.BREAK_DUE])
    assert config["break_kind"] == "heavy"
    assert config["helpline"]["lead"] == HELPLINE_LEAD
    assert ["116 123", "tel:116123"] in config["helpline"]["pieces"]
    # A heartbeat may report the heavy run after the page loaded: the line comes with every page.
    assert overlay_config(runtime, None)["helpline"] == config["helpline"]


def overlay_page(config: dict[str, Any]) -> bytes:
    from breather.proxy.overlay import overlay_markup

    head = overlay_markup(NONCE, config).decode()
    return f"<!doctype html><html><head>{head}</head><body><p>feed</p></body></html>".encode()


HELPLINE = {
    "lead": HELPLINE_LEAD,
    "pieces": [["Samaritans — call ", ""], ["116 123", "tel:116123"], [" (24/7)", ""], ["x", "javascript:alert(1)"]],
}


@pytest.mark.e2e
@pytest.mark.parametrize(("kind", "offered"), [("heavy", True), ("cadence", False)])
def test_chromium_shows_the_line_on_the_heavy_run_break_only(headless_chromium: Any, kind: str, offered: bool) -> None:
    config = {
        "heartbeat_s": 3600,
        "pause_s": 0,
        "break_due": True,
        "reason": "r",
        "break_kind": kind,
        "snooze_allowed": True,
        "helpline": HELPLINE,
    }
    site = CspSite(overlay_page(config), CSP)
    tab = headless_chromium.new_page()
    try:
        tab.goto(site.url)
        tab.wait_for_selector("#breather-break")
        line = tab.locator(".breather-helpline")
        assert line.count() == (1 if offered else 0)
        if offered:
            assert line.inner_text() == f"{HELPLINE_LEAD} Samaritans — call 116 123 (24/7)x"
            assert tab.locator(".breather-helpline a").evaluate_all("links => links.map(a => a.href)") == [
                "tel:116123"
            ], "only tel:, sms: and https: become links"
    finally:
        tab.close()
        site.close()
