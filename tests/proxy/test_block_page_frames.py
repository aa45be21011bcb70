"""The block page is served on the blocked site's own origin, so the site's scripts can read it wherever they can
reach it (a reviewer: a script of the blocked site loaded ``/`` in a hidden same-origin ``<iframe>``, read the
override token out of the page, waited out the friction delay and posted ``/__breather__/override``, and the site
opened with ``limit_overridden`` logged as the member's own "Open anyway"). A page load in a frame now gets a page
with the calm message and no token, no buttons and no script; a tab's page keeps them and may not be framed.
Every request goes through the real addon chain, on real rules and a real runtime."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from breather.proxy import flows
from breather.proxy.local_api import LocalApi
from tests.proxy.conftest import rules_text, window_around_now
from tests.proxy.test_blocked_requests import request

QUIET_NOW = f'quiet_hours = {{ daily = "{window_around_now()}" }}'
FAMILY = "[profiles.sam]\n"  # a second member: a tab's page offers "Ask for more time"
FRAMES = ["iframe", "frame", "embed", "object"]


def page_load(runtime: Any, dest: str | None, accept: str = "text/html,application/xhtml+xml") -> Any:
    flow = request(runtime, host="www.reddit.com", path="/", dest=dest, accept=accept)
    assert flow.response is not None and flow.response.status_code == 200, "no block page"
    return flow


def policy(flow: Any) -> str:
    return str(flow.response.headers["content-security-policy"])


def call(runtime: Any, name: str, body: dict[str, Any]) -> Any:
    """A Breather call as any script on the site's page can make it (a POST with ``X-Breather: 1``)."""
    flow = request(runtime, path=f"/__breather__/{name}", dest="empty", call=body)
    assert flow.response is not None
    return flow.response


@pytest.mark.parametrize("dest", FRAMES)
def test_a_blocked_site_in_a_frame_gets_the_calm_message_without_a_token_or_buttons(make_runtime, dest: str) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW, extra_profiles=FAMILY))
    flow = page_load(runtime, dest)
    page = flow.response.content.decode()
    assert flow.response.headers["x-breather"] == "quiet_hours"
    assert flow.response.headers["cache-control"] == "no-store"
    assert "<h1>Quiet hours</h1>" in page and "The feeds rest until" in page
    assert "reddit.com is paused here. To see your choices, open reddit.com in its own tab." in page
    assert 'href="tel:116123"' in page, "the helpline is offered in a frame too"
    assert "data-token" not in page and "<script" not in page
    assert "breather-override" not in page and "Open reddit.com anyway" not in page
    assert "Ask for more time" not in page
    assert runtime.block_tokens == {}, "a frame's page load issued a token"
    assert "script-src" not in policy(flow) and "frame-ancestors" not in policy(flow), "it must show in a frame"
    assert flow.metadata[flows.OWN_PAGE] is True
    assert runtime.counters.get("pages_served") == 1


def test_the_site_s_own_hidden_frame_finds_nothing_to_open_the_site_with(make_runtime, events_of) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW, extra_profiles=FAMILY))
    frame = request(runtime, host="www.reddit.com", path="/?0.41", dest="iframe", accept="text/html")
    found = re.search(r'data-token="([^"]*)"', frame.response.content.decode())
    assert found is None
    for token in ("", "guessed"):
        refused = call(runtime, "override", {"token": token})
        assert refused.status_code == 403, json.loads(refused.content)
        assert call(runtime, "ask-status", {"token": token}).status_code == 403
    assert request(runtime, path="/api/feed.json").response.status_code == 403, "the site opened"
    assert [event["kind"] for event in events_of(runtime)] == ["quiet_hours_blocked"]


def test_a_tab_s_block_page_keeps_its_buttons_and_may_not_be_framed(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW, extra_profiles=FAMILY))
    flow = page_load(runtime, "document")
    page = flow.response.content.decode()
    token = re.search(r'data-token="([^"]+)"', page)
    assert token is not None and token.group(1) in runtime.block_tokens
    assert "Open reddit.com anyway" in page and "Ask for more time" in page
    assert policy(flow).endswith("; frame-ancestors 'none'")
    answer = LocalApi(runtime).ask_status("me", "reddit.com", {"token": token.group(1)}, datetime.now(UTC))
    assert answer == {"ok": True, "answer": "none"}


def test_a_page_load_that_does_not_say_where_it_shows_gets_the_tab_s_page_as_before(make_runtime) -> None:
    """An older browser or curl: a frame cannot be told from a tab, so the page keeps its buttons and framing."""
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    flow = page_load(runtime, None)
    page = flow.response.content.decode()
    assert "Open reddit.com anyway" in page and len(runtime.block_tokens) == 1
    assert "frame-ancestors" not in policy(flow)


def test_a_limit_page_in_a_frame_says_the_limit(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me='limits = { reddit = "0m" }'))
    flow = page_load(runtime, "iframe")
    page = flow.response.content.decode()
    assert flow.response.headers["x-breather"] == "limit_reached"
    assert "<h1>That&#x27;s your time for today</h1>" in page
    assert "data-token" not in page and runtime.block_tokens == {}
