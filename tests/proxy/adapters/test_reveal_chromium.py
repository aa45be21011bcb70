"""The marked page in a real Chromium: the post is blurred, the reveal button shows it and logs the category,
and the injected style and script run under a strict nonce-only CSP."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.adapters.hackernews import HackerNewsAdapter
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_html_adapters import PAGE

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
NONCE = "r3v3al"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; connect-src 'self'"


class Site:
    def __init__(self, page: bytes) -> None:
        self.page = page
        self.reveals: list[tuple[dict[str, Any], str | None]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", CSP)
                self.end_headers()
                self.wfile.write(site.page)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                site.reveals.append((json.loads(self.rfile.read(length)), self.headers.get("X-Breather")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is needed for the browser tier")
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_chromium_blurs_the_flagged_post_and_the_button_reveals_and_logs_it(browser_page: Any) -> None:
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), context(nonce=NONCE))
    assert result is not None
    site = Site(result.body)
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
            if site.reveals:
                break
            browser_page.wait_for_timeout(100)
        assert site.reveals == [({"category": "self_harm"}, "1")]
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        site.server.shutdown()


def test_chromium_hides_collapsed_posts_until_revealed(browser_page: Any) -> None:
    ctx = context(nonce=NONCE, hidden_topics=frozenset({"self_harm"}))
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), ctx)
    assert result is not None
    site = Site(result.body)
    try:
        browser_page.goto(site.url)
        post = browser_page.locator(".breather-cw")
        assert not post.is_visible()
        browser_page.locator("button.breather-reveal").click()
        post.wait_for(state="visible", timeout=5000)
        assert DISTRESSING in post.inner_text()
    finally:
        site.server.shutdown()
