"""A blocked site's own script cannot press "Open anyway" through a frame, and frames of blocked sites still show
Breather's calm message (a reviewer: a script of the site, in a tab left open when quiet hours began, loaded ``/``
in a hidden same-origin ``<iframe>``, read the block page's override token, waited out the friction delay and
posted ``/__breather__/override``: the site opened, logged as the member's own "Open anyway"). Real
``breather serve`` and real Chromium; the site's script is run in the site's page (``page.evaluate``), as the
site's own JavaScript would."""

from __future__ import annotations

import contextlib
import sqlite3
import time

import pytest

from tests.e2e.conftest import Service, wait_for
from tests.e2e.test_proxy_blocks_every_request import quiet_now
from tests.e2e.test_proxy_blocks_every_request import rules as reddit_rules

pytestmark = pytest.mark.e2e

REDDIT_PAGE = b"<!doctype html><html><head><title>reddit</title></head><body><h1>the feed</h1></body></html>"
FEED = b'{"kind": "Listing", "data": {"children": []}}'
OTHER_SITE = (
    "<!doctype html><html><head><title>homework</title></head><body><h1>homework</h1>"
    '<iframe src="https://www.reddit.com/r/aww/" width="600" height="400"></iframe></body></html>'
)
FEED_STATUS = "async () => (await fetch('/api/feed.json', {cache: 'no-store'})).status"
# What the reviewer's script did, up to taking the token: load the site's own URL in a hidden frame and read it.
READ_OWN_FRAME = """async () => {
  const frame = document.createElement('iframe');
  frame.style.display = 'none';
  frame.src = '/?' + Math.random();
  document.body.appendChild(frame);
  await new Promise(done => frame.onload = done);
  const page = frame.contentDocument;
  const found = {
    title: page.title,
    text: page.body.innerText,
    scripts: page.querySelectorAll('script').length,
    tokens: page.querySelectorAll('[data-token]').length,
    buttons: page.querySelectorAll('button').length,
  };
  frame.remove();
  return found;
}"""
OVERRIDE = """async (token) => {
  const r = await fetch('/__breather__/override', {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-Breather': '1'}, body: JSON.stringify({token})});
  return r.status;
}"""


def rules(quiet: str = "") -> str:
    return reddit_rules('friction_delay = "1s"\n' + quiet)


def overrides(service: Service) -> list[tuple[object, ...]]:
    """The member's "Open anyway" presses in the store (written within a moment of the call)."""
    time.sleep(1)
    with contextlib.closing(sqlite3.connect(f"file:{service.paths.database}?mode=ro", uri=True)) as db:
        return db.execute("select profile, site from events where kind = 'limit_overridden'").fetchall()


def test_the_site_s_own_hidden_frame_gets_no_token_and_the_site_stays_closed(serve, upstream, chromium) -> None:
    upstream.route("www.reddit.com", "/", REDDIT_PAGE)
    upstream.route("www.reddit.com", "/api/feed.json", FEED, "application/json")
    service = serve(rules())
    page = chromium(service).new_page()
    page.goto("https://www.reddit.com/")
    assert page.evaluate(FEED_STATUS) == 200

    service.paths.rules_file.write_text(rules(quiet_now()), encoding="utf-8")  # quiet hours begin, the tab open
    wait_for(lambda: page.evaluate(FEED_STATUS) == 403, 15, "quiet hours to begin", service)

    found = page.evaluate(READ_OWN_FRAME)
    assert found["title"] == "Breather · Quiet hours", found
    assert "To see your choices, open reddit.com in its own tab." in found["text"], found
    assert (found["scripts"], found["tokens"], found["buttons"]) == (0, 0, 0), found
    time.sleep(2)  # past the friction delay, as the script would wait
    assert page.evaluate(OVERRIDE, "") == 403
    assert page.evaluate(FEED_STATUS) == 403, "the site opened"
    assert overrides(service) == []


def test_a_blocked_site_framed_by_another_page_shows_the_calm_message_and_a_tab_s_page_refuses_frames(
    serve, upstream, chromium
) -> None:
    upstream.route("www.reddit.com", "/r/aww/", REDDIT_PAGE)
    service = serve(rules(quiet_now()))
    page = chromium(service).new_page()

    page.goto("about:blank")
    page.set_content(OTHER_SITE)  # a page of another site, not intercepted, with reddit in a frame
    frame = page.frame_locator("iframe")
    frame.locator("h1").wait_for(timeout=15000)
    assert frame.locator("h1").inner_text() == "Quiet hours"
    assert "open reddit.com in its own tab" in frame.locator(".breather-own-tab").inner_text()
    assert frame.locator("button").count() == 0
    assert not upstream.asked_for("www.reddit.com", "/r/aww/")

    response = page.goto("https://www.reddit.com/r/aww/")
    assert response is not None and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.locator(".breather-override").count() == 1, "the tab's own page keeps Open anyway"
