"""A member who blocks the overlay's calls still has their minutes counted, and the limit still comes: a real
Chromium through a real ``breather serve``, every ``/__breather__/`` request aborted as a content-blocker rule
(``||reddit.com/__breather__/*``) does, on a page that polls its feed every two seconds. A user test with that rule
had 3+ minutes of YouTube against a 2-minute limit, and the parent's dashboard showed no minutes at all."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from breather.store.model import Heartbeat
from breather.store.writer import Writer
from tests.e2e.conftest import Service, wait_for

pytestmark = pytest.mark.e2e

FEED = b'{"kind": "Listing", "data": {"children": []}}'
# The feed's fetches (statuses shown in #fetches) go on as long as the page is open, as a real feed's polling does.
POLLING_PAGE = b"""<!doctype html><html><head><title>reddit</title></head><body><h1>the feed</h1>
<p id="fetches"></p>
<script>
setInterval(function () {
  fetch("/api/feed.json", { cache: "no-store" }).then(function (r) {
    document.getElementById("fetches").textContent += " " + r.status;
  }, function () {});
}, 2000);
</script></body></html>"""
RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com", "old.reddit.com"]

[profiles.me]
default = true
limits = { reddit = "2m" }
"""
EARLIER_TODAY_S = 90.0


def earlier_use_today(service: Service) -> None:
    """A minute and a half on reddit earlier today, reported by the overlay back then, so that the test needs less
    than a minute of scrolling to reach the 2-minute limit."""
    now = dt.datetime.now(dt.UTC)
    start = max(now - dt.timedelta(minutes=10), now.replace(hour=0, minute=0, second=0, microsecond=0))
    writer = Writer(service.paths.database).start()
    try:
        writer.heartbeat(Heartbeat("me", "reddit.com", start, EARLIER_TODAY_S, "overlay"))
        assert writer.flush(5)
    finally:
        writer.close()


def status_today(service: Service) -> dict[str, float]:
    """``breather status --json``'s minutes on each site for the member today."""
    env = {**os.environ, "BREATHER_HOME": str(service.home)}
    done = subprocess.run(
        [sys.executable, "-m", "breather", "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    return dict(json.loads(done.stdout)["today"]["profiles"]["me"])


def stored_seconds(service: Service) -> float:
    """The member's time on reddit in the store (the page's time continues the span its page load began, so it is
    stored under that span's source)."""
    with contextlib.closing(sqlite3.connect(f"file:{service.paths.database}?mode=ro", uri=True)) as db:
        row = db.execute("select coalesce(sum(duration_s), 0) from activity where profile = 'me'").fetchone()
    return float(row[0])


def test_with_every_breather_call_blocked_the_feed_s_traffic_counts_and_the_limit_blocks_the_site(
    serve, upstream, chromium
) -> None:
    upstream.route("www.reddit.com", "/", POLLING_PAGE)
    upstream.route("www.reddit.com", "/api/feed.json", FEED, "application/json")
    service = serve(RULES)
    earlier_use_today(service)
    context = chromium(service)
    blocked: list[str] = []
    context.route("**/__breather__/**", lambda route: (blocked.append(route.request.url), route.abort()))
    page = context.new_page()
    started = time.monotonic()
    page.goto("https://www.reddit.com/")
    page.wait_for_selector("html[data-breather=on]", timeout=15000)  # the overlay is on the page, its calls cut off

    wait_for(lambda: "403" in page.inner_text("#fetches"), 75, "the feed's fetch to be refused at the limit", service)
    fetches = page.inner_text("#fetches").split()
    assert fetches.count("200") >= 10, f"the feed was polled before the limit came: {fetches}"
    assert time.monotonic() - started < 75
    assert blocked, "the overlay's heartbeat was not even tried: the test did not block what a person would"

    page.reload()
    assert page.title() == "Breather · That's your time for today"
    assert stored_seconds(service) >= 120, "the page's minutes are not in the store"
    minutes = status_today(service)
    assert minutes.get("reddit", 0) >= 2, f"breather status shows {minutes}"
