"""Calm through the real response pipeline (real rules, the real Boundaries decision, real FeedWarnings) for the
Mastodon stream and YouTube's page: calmed in quiet hours once opened anyway (while the block holds no request
reaches the site), byte-identical when calm is off or outside the window."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.proxy.test_calm import opened_anyway, quiet_hours_now
from tests.proxy.test_calm_stream import NOTIFICATION, event, status

RULES = """\
[household]
timezone = "UTC"
country = "GB"

[sites.mastodon]
adapter = "mastodon"
domains = ["mastodon.social"]

[sites.youtube]
adapter = "youtube"
domains = ["www.youtube.com"]

[profiles.me]
default = true
daily_limit = "1h"
calm = {calm}
{quiet}
"""


def served(runtime: Any, host: str, adapter: str, body: bytes, content_type: str, dest: str) -> Any:
    """A gzip response for a request that went through the real Boundaries request hook, then FeedWarnings."""
    from mitmproxy import http
    from mitmproxy.test import tflow

    from breather.proxy import flows
    from breather.proxy.boundaries import Boundaries
    from breather.proxy.feed_warnings import FeedWarnings

    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.path = host, "/"
    flow.request.headers["sec-fetch-dest"] = dest
    flow.metadata.update({flows.SITE: host, flows.ADAPTER: adapter, flows.PROFILE: "me"})
    flow.response = None
    opened_anyway(runtime, host)
    Boundaries(runtime).request(flow)
    assert flow.response is None, "open past quiet hours: the request goes to the site"
    headers = {"content-type": content_type, "content-encoding": "gzip"}
    flow.response = http.Response.make(200, b"", headers)
    flow.response.raw_content = gzip.compress(body)
    asyncio.run(FeedWarnings(runtime).response(flow))
    return flow


STREAM = (event("update", status("1")) + event("notification", NOTIFICATION)).encode()


def serve_stream(runtime: Any) -> Any:
    return served(runtime, "mastodon.social", "mastodon", STREAM, "text/event-stream", "empty")


def test_the_mastodon_stream_is_calmed_in_quiet_hours(make_runtime: Any) -> None:
    runtime = make_runtime(RULES.format(calm="true", quiet=quiet_hours_now()))
    body = serve_stream(runtime).response.content
    assert b"event: notification" not in body
    update = json.loads(body.split(b"data: ", 1)[1].split(b"\n", 1)[0])
    assert update["favourites_count"] == 0 and update["reblogs_count"] == 0


YOUTUBE_PAGE = (
    b'<!doctype html><html><head><title>Channel</title></head><body><script nonce="n">var ytInitialData = '
    + json.dumps(
        {
            "header": {
                "c4TabbedHeaderRenderer": {"title": "Ember", "subscriberCountText": {"simpleText": "224 subscribers"}}
            },
            "items": [
                {
                    "gridVideoRenderer": {
                        "videoId": "a",
                        "title": {"runs": [{"text": "A walk"}]},
                        "viewCountText": {"simpleText": "160 views"},
                    }
                }
            ],
        }
    ).encode()
    + b";</script></body></html>"
)


def serve_youtube(runtime: Any) -> Any:
    return served(runtime, "www.youtube.com", "youtube", YOUTUBE_PAGE, "text/html; charset=utf-8", "document")


def test_the_youtube_page_data_is_calmed_in_quiet_hours(make_runtime: Any) -> None:
    runtime = make_runtime(RULES.format(calm="true", quiet=quiet_hours_now()))
    body = serve_youtube(runtime).response.content
    assert b"160 views" not in body and b"224 subscribers" not in body
    assert b"A walk" in body and body.endswith(b";</script></body></html>")


@pytest.mark.parametrize("serve", [serve_stream, serve_youtube], ids=["mastodon-stream", "youtube-page"])
@pytest.mark.parametrize(("calm", "quiet"), [("false", True), ("true", False)], ids=["calm-off", "outside-window"])
def test_calm_off_or_outside_its_windows_leaves_the_bytes_identical(
    make_runtime: Any, serve: Any, calm: str, quiet: bool
) -> None:
    runtime = make_runtime(RULES.format(calm=calm, quiet=quiet_hours_now() if quiet else ""))
    flow = serve(runtime)
    assert flow.response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(flow.response.raw_content) == (STREAM if serve is serve_stream else YOUTUBE_PAGE)


def test_a_calm_step_that_fails_sends_the_body_as_it_was(
    make_runtime: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from breather.proxy import feed_warnings

    def broken(*_args: Any) -> bytes:
        raise RuntimeError("calm exploded")

    monkeypatch.setattr(feed_warnings, "soothe_body", broken)
    runtime = make_runtime(RULES.format(calm="true", quiet=quiet_hours_now()))
    flow = serve_stream(runtime)
    assert gzip.decompress(flow.response.raw_content) == STREAM
    assert runtime.counters.snapshot()["passed_after_error"] == 1
