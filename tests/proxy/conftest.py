"""Helpers for the proxy addon tests: a real rules file, a real usage store, and a runtime around them; and, for
the browser tier, one page served on loopback under a chosen CSP and a headless Chromium to open it."""

from __future__ import annotations

import http.server
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mitmproxy.test import tflow

from breather import settings as breather_settings
from breather.paths import Paths
from breather.proxy import flows
from breather.proxy.local_api import LocalApi
from breather.proxy.overlay import inject, overlay_markup
from breather.rules.watcher import RulesWatcher
from breather.runtime import Runtime
from breather.store.writer import Writer

BASE_RULES = """\
[household]
timezone = "UTC"
country = "GB"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com", "old.reddit.com", "oauth.reddit.com"]

[sites.mastodon]
adapter = "mastodon"
domains = ["mastodon.social"]

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
daily_limit = "1h"
break_after = "25m"
break_length = "5m"
friction_delay = "10s"
{extra_me}
{extra_profiles}
"""


def window_around_now(hours: int = 1, zone: str = "UTC") -> str:
    """A daily window that is in force right now (on ``zone``'s clock), e.g. ``"13:00-15:00"``."""
    now = datetime.now(ZoneInfo(zone))
    start = (now - timedelta(hours=hours)).strftime("%H:00")
    end = (now + timedelta(hours=hours + 1)).strftime("%H:00")
    return f"{start}-{end}"


def zone_at_midday() -> str:
    """A fixed-offset zone where it is about noon now: a test that runs the clock on by minutes or hours and expects
    the same day stays on it, whenever the suite runs (one failed at 23:50 UTC, its day's limit gone at midnight)."""
    hours_east = (12 - datetime.now(UTC).hour + 12) % 24 - 12  # -12..11: Etc/GMT-N is N hours east of UTC
    return "UTC" if hours_east == 0 else f"Etc/GMT{-hours_east:+d}"


def block_token(flow: Any) -> str:
    """The token of the Breather page a flow was answered with, as the page's script reads it."""
    found = re.search(r'data-token="([^"]+)"', flow.response.content.decode())
    assert found, "the block page carries its token"
    return found.group(1)


def rules_text(extra_me: str = "", extra_profiles: str = "") -> str:
    return BASE_RULES.format(extra_me=extra_me, extra_profiles=extra_profiles)


def at_midday(text: str) -> str:
    """The rules with the household in :func:`zone_at_midday`'s zone."""
    return text.replace('timezone = "UTC"', f'timezone = "{zone_at_midday()}"')


@pytest.fixture
def make_runtime(breather_home: Path) -> Iterator[Callable[..., Runtime]]:
    """Build a Runtime on a temp home from rules text; the writer is real and closed after the test."""
    writers: list[Writer] = []

    def make(text: str | None = None, **overrides: Any) -> Runtime:
        paths = Paths.resolve(breather_home).ensure()
        paths.rules_file.write_text(text if text is not None else rules_text(), encoding="utf-8")
        watcher = RulesWatcher(paths.rules_file)
        assert watcher.current is not None, watcher.last_error
        settings = breather_settings.resolve(overrides)
        writer = Writer(paths.database, flush_ms=50).start()
        writers.append(writer)
        return Runtime(paths=paths, settings=settings, rules=watcher, writer=writer)

    yield make
    for writer in writers:
        writer.close()


@pytest.fixture
def make_runtime_at_midday(make_runtime: Callable[..., Runtime]) -> Callable[..., Runtime]:
    """``make_runtime`` with the household where it is about noon: a test whose clock starts minutes in the past
    counted those minutes on yesterday between 00:00 and 00:05 UTC, and the limit it waits for never came."""

    def make(text: str | None = None, **overrides: Any) -> Runtime:
        return make_runtime(at_midday(text if text is not None else rules_text()), **overrides)

    return make


def stored_events(runtime: Runtime) -> list[dict[str, Any]]:
    """What the store holds after the writer has flushed (read through plain sqlite3, as a person would)."""
    assert runtime.writer.flush(5)
    with sqlite3.connect(runtime.paths.database) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("select * from events order by id").fetchall()
    return [dict(row) for row in rows]


@pytest.fixture
def events_of() -> Callable[[Runtime], list[dict[str, Any]]]:
    return stored_events


CHROMIUM = "/usr/bin/chromium"


class CspSite:
    """One page on loopback, sent with ``csp`` as its Content-Security-Policy. POSTs to it (the overlay's calls to
    its own origin) are answered ``{}`` and kept in ``posts`` as (JSON body, X-Breather header)."""

    def __init__(self, page: bytes, csp: str) -> None:
        self.posts: list[tuple[Any, str | None]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", csp)
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                site.posts.append((json.loads(self.rfile.read(length)), self.headers.get("X-Breather")))
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

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def headless_chromium() -> Iterator[Any]:
    """The system Chromium, headless, through Playwright (a browser: open pages or contexts on it). Its back/forward
    cache is on, as in a person's browser (Playwright turns it off by default): a page the Back button brings back
    is restored without a request, and its ``goto``/``go_back`` waits for a "load" that never comes (wait for
    "commit")."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is needed for the browser tier")
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=args, ignore_default_args=["--disable-back-forward-cache"]
        )
        try:
            yield launched
        finally:
            launched.close()


def browser_request(
    host: str,
    path: str,
    *,
    dest: str | None = None,
    accept: str | None = None,
    call: dict[str, Any] | None = None,
    device: str | None = None,
) -> Any:
    """A request as the member's browser sends it: ``dest`` its ``Sec-Fetch-Dest``, ``call`` a POST with this JSON
    body as Breather's own scripts make, ``device`` the client's address."""
    from mitmproxy.test import tflow

    flow = tflow.tflow()
    flow.request.host, flow.request.path = host, path
    if device is not None:
        flow.client_conn.peername = (device, 50000)
    if accept is not None:
        flow.request.headers["accept"] = accept
    if dest is not None:
        flow.request.headers["sec-fetch-dest"] = dest
    if call is not None:
        flow.request.method = "POST"
        flow.request.headers["x-breather"] = "1"
        flow.request.content = json.dumps(call).encode()
    return flow


def through_addons(addons: list[Any], flow: Any) -> Any:
    """``flow`` through every addon's request hooks, as mitmproxy runs them (each hook, addon by addon)."""
    for hook in ("requestheaders", "request"):
        for addon in addons:
            if hasattr(addon, hook):
                getattr(addon, hook)(flow)
    return flow


# --- the overlay in a real Chromium, its local API answered by a real runtime -----------------------------------

NONCE = "0verl4yn0nce"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; connect-src 'self'"
PAGE = b"<!doctype html><html><head><title>feed</title></head><body><a href='/post'>a post</a></body></html>"


class Proxy:
    """The local API behind a tab of the overlay tests (``open_overlay``): each ``/__breather__/`` call answered by
    ``LocalApi``, kept in ``calls``."""

    def __init__(self, runtime: Any) -> None:
        self.api = LocalApi(runtime)
        self.calls: list[tuple[str, Any, int]] = []

    def answer(self, route: Any) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        flow = tflow.tflow()
        flow.request.host = "old.reddit.com"
        flow.request.method = route.request.method
        flow.request.path = f"/__breather__/{name}"
        flow.request.content = (route.request.post_data or "").encode()
        flow.request.headers["x-breather"] = route.request.headers.get("x-breather", "")
        flow.metadata[flows.SITE] = "reddit.com"
        flow.metadata[flows.PROFILE] = "me"
        self.api.request(flow)
        assert flow.response is not None
        self.calls.append((name, json.loads(flow.request.content or b"{}"), flow.response.status_code))
        route.fulfill(status=flow.response.status_code, content_type="application/json", body=flow.response.content)


@pytest.fixture
def open_overlay(headless_chromium: Any) -> Iterator[Any]:
    """Open a page carrying the overlay with ``config``, its local API answered by ``proxy``."""
    opened: list[tuple[Any, CspSite]] = []

    def open_page(config: dict[str, Any], proxy: Proxy) -> Any:
        site = CspSite(inject(PAGE, overlay_markup(NONCE, {"pause_s": 0.1, **config})), CSP)
        tab = headless_chromium.new_page()
        tab.set_default_timeout(10_000)
        opened.append((tab, site))
        tab.route(re.compile(r".*/__breather__/.*"), proxy.answer)
        tab.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())  # no internet: fail fast
        tab.goto(site.url, wait_until="load")
        return tab

    yield open_page
    for tab, site in opened:
        tab.close()
        site.close()
