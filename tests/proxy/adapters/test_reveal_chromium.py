"""The marked page in a real Chromium: the post is blurred, the reveal button shows it and logs the category,
and the injected style and script run under a strict nonce-only CSP."""

from __future__ import annotations

from typing import Any

import pytest

from breather.proxy.adapters.hackernews import HackerNewsAdapter
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_html_adapters import PAGE
from tests.proxy.conftest import CspSite

pytestmark = pytest.mark.e2e

NONCE = "r3v3al"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; connect-src 'self'"


@pytest.fixture
def browser_page(headless_chromium: Any) -> Any:
    return headless_chromium.new_page()


def test_chromium_blurs_the_flagged_post_and_the_button_reveals_and_logs_it(browser_page: Any) -> None:
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), context(nonce=NONCE))
    assert result is not None
    site = CspSite(result.body, CSP)
    errors: list[str] = []
    browser_page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        browser_page.goto(site.url)
        post = browser_page.locator(".breather-cw")
        calm = browser_page.locator(".comment").first
        assert "blur" in post.evaluate("element => getComputedStyle(element).filter")
        assert calm.evaluate("element => getComputedStyle(element).filter") == "none"
        button = browser_page.locator("button.breather-reveal")
        assert button.inner_text() == "Show post (self-harm)"
        button.click()
        browser_page.wait_for_function("() => document.querySelector('.breather-cw.breather-revealed') !== null")
        assert post.evaluate("element => getComputedStyle(element).filter") == "none"
        assert not button.is_visible()
        for _ in range(50):
            if site.posts:
                break
            browser_page.wait_for_timeout(100)
        assert site.posts == [({"category": "self_harm"}, "1")]
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        site.close()


def test_chromium_hides_collapsed_posts_until_revealed(browser_page: Any) -> None:
    ctx = context(nonce=NONCE, hidden_topics=frozenset({"self_harm"}))
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), ctx)
    assert result is not None
    site = CspSite(result.body, CSP)
    try:
        browser_page.goto(site.url)
        post = browser_page.locator(".breather-cw")
        assert not post.is_visible()
        browser_page.locator("button.breather-reveal").click()
        post.wait_for(state="visible", timeout=5000)
        assert DISTRESSING in post.inner_text()
    finally:
        site.close()


def test_the_sites_own_elements_with_warning_classes_keep_their_look(browser_page: Any) -> None:
    """warnings.css used global class selectors: on a page with a flagged post, the site's own ``.breather-cw``
    (blurred, unclickable) and ``.breather-warning`` (restyled) changed too."""
    own = "<p class=breather-cw id=own-cw>the site's own text</p><p class=breather-warning id=own-note>a note</p>"
    page = PAGE.format(text=DISTRESSING).replace("<table>", own + "<table>")
    result = HackerNewsAdapter().rewrite(page.encode(), context(nonce=NONCE))
    assert result is not None
    site = CspSite(result.body, CSP)
    look = "e => { const s = getComputedStyle(e); return [s.filter, s.pointerEvents, s.backgroundColor, s.padding]; }"
    try:
        browser_page.goto(site.url)
        assert browser_page.locator("#own-cw").evaluate(look) == ["none", "auto", "rgba(0, 0, 0, 0)", "0px"]
        assert browser_page.locator("#own-note").evaluate(look) == ["none", "auto", "rgba(0, 0, 0, 0)", "0px"]
        assert "blur" in browser_page.locator(".comment.breather-cw").evaluate(look)[0], "the flagged post is covered"
    finally:
        site.close()
