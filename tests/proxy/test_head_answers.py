"""A HEAD request gets the headers a GET would get and no body (RFC 9110 9.3.2), through the whole addon chain.

A review found Breather's own answers to a HEAD (the quiet-hours page, the 403 refusal, the 407 asking to sign in, a
local API answer) sent with their body: mitmproxy writes whatever body an addon sets, and on a kept-alive HTTP/1.1
connection the client read ``<!doctype html>`` as the next response's status line. (The connection itself is
checked through a real ``breather serve`` in ``tests/e2e/test_proxy_head_and_codings.py``.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mitmproxy import http

from breather.proxy.addon import make_addons
from breather.runtime import Runtime
from tests.proxy.conftest import browser_request, rules_text, window_around_now

QUIET_NOW = f'quiet_hours = {{ daily = "{window_around_now()}" }}'
SIGN_IN = 'user = "sam"\npassword = "correct horse"'


def through_the_chain(runtime: Runtime, flow: Any, site_answer: http.Response | None = None) -> Any:
    """Every hook of every addon, as mitmproxy runs them; ``site_answer`` is what the site sends when the request
    reaches it."""
    addons = make_addons(runtime)

    async def run() -> None:
        for hook in ("requestheaders", "request", "responseheaders", "response"):
            if hook == "responseheaders" and flow.response is None:
                flow.response = site_answer
            for addon in addons:
                if hasattr(addon, hook):
                    result = getattr(addon, hook)(flow)
                    if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                        await result

    asyncio.run(run())
    return flow


def asked(runtime: Runtime, method: str, path: str = "/r/aww/", dest: str | None = "document", **kwargs: Any) -> Any:
    flow = browser_request("old.reddit.com", path, dest=dest, accept="text/html" if dest == "document" else "*/*")
    flow.request.method = method
    return through_the_chain(runtime, flow, **kwargs)


@pytest.mark.parametrize(
    ("dest", "what"), [("document", "the quiet-hours page"), ("empty", "a refusal"), (None, "a refusal to curl -I")]
)
def test_in_quiet_hours_a_head_gets_the_headers_of_what_a_get_gets_and_no_body(make_runtime, dest, what) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    get = asked(runtime, "GET", dest=dest).response
    head = asked(runtime, "HEAD", dest=dest).response
    assert get.raw_content, f"the GET gets {what}"
    assert head.raw_content == b"", f"a HEAD got {len(head.raw_content)} bytes of {what}"
    assert (head.status_code, head.headers["content-type"], head.headers["x-breather"]) == (
        get.status_code,
        get.headers["content-type"],
        get.headers["x-breather"],
    )
    assert int(head.headers["content-length"]) == len(get.raw_content)


def test_a_head_in_quiet_hours_is_not_the_member_meeting_the_block_page(make_runtime, events_of) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    for _ in range(3):
        asked(runtime, "HEAD")
    assert runtime.block_tokens == {}, "a HEAD was given an 'Open anyway' token no page holds"
    assert events_of(runtime) == [], "a HEAD counted as a quiet-hours block in the weekly review"
    assert runtime.counters.get("pages_served") == 0

    asked(runtime, "GET")
    assert len(runtime.block_tokens) == 1
    assert [event["kind"] for event in events_of(runtime)] == ["quiet_hours_blocked"]


def test_the_sign_in_answer_to_a_head_has_no_body(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=SIGN_IN))
    head = asked(runtime, "HEAD").response
    assert head.status_code == 407
    assert head.raw_content == b""
    assert int(head.headers["content-length"]) == len(asked(runtime, "GET").response.raw_content)


def test_a_local_api_answer_to_a_head_has_no_body(make_runtime) -> None:
    runtime = make_runtime()
    head = asked(runtime, "HEAD", path="/__breather__/heartbeat", dest="empty").response
    assert head.status_code == 403 and head.headers["content-type"] == "application/json"
    assert head.raw_content == b"" and int(head.headers["content-length"]) > 0


def site_page(content_type: str = "text/html; charset=utf-8") -> http.Response:
    """What the site answers a HEAD with: the headers of its own body."""
    response = http.Response.make(200, b"", {"content-type": content_type, "cache-control": "private"})
    response.headers.update(
        {"etag": '"v1"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT", "accept-ranges": "bytes"}
    )
    response.headers.update({"content-length": "48213", "content-encoding": "gzip"})
    return response


def test_a_head_of_a_page_breather_edits_leaves_out_what_the_edited_get_leaves_out(make_runtime) -> None:
    runtime = make_runtime()
    head = asked(runtime, "HEAD", site_answer=site_page()).response
    for name in ("etag", "last-modified", "accept-ranges", "content-encoding", "content-length"):
        assert name not in head.headers, f"the HEAD says {name}: {head.headers[name]}, the GET of an edited page not"
    assert head.headers["cache-control"] == "private"


@pytest.mark.parametrize(
    ("content_type", "dest"), [("image/png", "image"), ("text/html; charset=utf-8", "empty")], ids=["image", "fetch"]
)
def test_a_head_of_what_breather_never_edits_keeps_the_site_s_headers(make_runtime, content_type, dest) -> None:
    runtime = make_runtime()
    head = asked(runtime, "HEAD", dest=dest, site_answer=site_page(content_type)).response
    assert (head.headers["etag"], head.headers["content-length"]) == ('"v1"', "48213")
