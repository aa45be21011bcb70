"""A marked page as the proxy sends it (content warnings, then the overlay), opened in a real Chromium under the
CSP the proxy sends with it: "Show post" must work whether or not the overlay could be injected, and under a
policy that governs ``<script>``/``<style>`` elements with ``*-src-elem``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.proxy.conftest import CspSite, rules_text
from tests.proxy.test_overlay import FORUM_RULES, NEAR_CAP, forum_flow, marked_then_overlaid, near_cap_page

pytestmark = pytest.mark.e2e


def as_sent(runtime: Any, flow: Any) -> bytes:
    """The proxy's response steps on a thread of their own: Playwright's event loop runs on this one."""
    with ThreadPoolExecutor(1) as worker:
        return worker.submit(marked_then_overlaid, runtime, flow).result()


def reveal_in_chromium(browser: Any, body: bytes, csp: str) -> list[str]:
    """Open the page, press "Show post"; the console's CSP errors (the post must end up revealed)."""
    site = CspSite(body, csp)
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        tab.goto(site.url)
        tab.locator("button.breather-reveal").first.click()
        tab.wait_for_function("() => document.querySelector('.breather-cw.breather-revealed') !== null", timeout=5000)
    finally:
        tab.close()
        site.close()
    return [error for error in errors if "Content Security Policy" in error]


def test_a_page_the_warnings_push_over_the_cap_can_still_be_revealed(headless_chromium, make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_profiles=FORUM_RULES), body_size_cap=NEAR_CAP, classify_budget_ms=5000)
    flow = forum_flow(near_cap_page(), {"content-security-policy": "script-src 'self'; style-src 'self'"})
    body = as_sent(runtime, flow)
    assert b'id="breather-overlay"' not in body  # over the cap: no overlay
    assert reveal_in_chromium(headless_chromium, body, flow.response.headers["content-security-policy"]) == []


def test_a_site_policy_with_element_directives_lets_the_warnings_and_overlay_run(
    headless_chromium, make_runtime
) -> None:
    runtime = make_runtime(rules_text(extra_profiles=FORUM_RULES), classify_budget_ms=5000)
    policy = "default-src 'self'; script-src 'self'; script-src-elem 'self'; style-src-elem 'self'"
    flow = forum_flow(near_cap_page()[:2000] + b"</body></html>", {"content-security-policy": policy})
    body = as_sent(runtime, flow)
    assert b'id="breather-overlay"' in body
    assert reveal_in_chromium(headless_chromium, body, flow.response.headers["content-security-policy"]) == []
