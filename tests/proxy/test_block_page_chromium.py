"""The limit page in a real Chromium: the override button counts the friction delay down, then says only what it
does. Served under the page's own nonce-only CSP."""

from __future__ import annotations

import re
from typing import Any

import pytest

from breather.proxy.pages import BlockPage, render_block_page
from tests.proxy.conftest import CspSite

pytestmark = pytest.mark.e2e

NONCE = "bl0ckn0nce"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; connect-src 'self'"


def test_the_override_button_loses_its_countdown_once_it_can_be_pressed(headless_chromium: Any) -> None:
    """A user test: after the countdown the button read "Open news.ycombinator.com anyway (0s)"."""
    from playwright.sync_api import expect

    page = BlockPage("limit_reached", "news.ycombinator.com", "That's your time.", 2, "t0ken", can_ask=False)
    site = CspSite(render_block_page(page, NONCE), CSP)
    tab = headless_chromium.new_page()
    tab.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())  # no internet: fail fast
    try:
        tab.goto(site.url, wait_until="load")
        button = tab.locator(".breather-override")
        assert button.is_disabled()
        assert re.fullmatch(r"Open news\.ycombinator\.com anyway \([12]s\)", button.inner_text())
        expect(button).to_be_enabled(timeout=10_000)
        assert button.inner_text() == "Open news.ycombinator.com anyway"
    finally:
        tab.close()
        site.close()
