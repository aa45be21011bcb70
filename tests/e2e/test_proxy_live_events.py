"""A live event stream through a real ``breather serve``: events reach the client while the stream stays open.

mitmproxy buffers a response until it ends unless it is streamed; an event stream never ends, so without
streaming the client would wait forever for its first event (the upstream here holds the stream open for 60 s,
the client gives up after 15 s).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

pytestmark = pytest.mark.e2e

RULES = """\
[household]
timezone = "UTC"

[sites.mastodon]
adapter = "mastodon"
domains = ["mastodon.social"]

[profiles.me]
default = true
"""
DISTRESSING = "I want to kill myself tonight, I cannot go on"


def status(status_id: str, text: str) -> dict[str, object]:
    return {
        "id": status_id,
        "content": f"<p>{text}</p>",
        "sensitive": False,
        "spoiler_text": "",
        "account": {"id": "9"},
    }


def event(payload: dict[str, object]) -> bytes:
    return f"event: update\ndata: {json.dumps(payload)}\n\n".encode()


def test_events_arrive_live_and_a_distressing_one_is_marked(serve, upstream) -> None:
    pieces = [b":thump\n", event(status("1", "a heron by the river")), event(status("2", DISTRESSING))]
    upstream.stream_route("mastodon.social", "/api/v1/streaming/user", pieces, hold_open_s=60)
    service = serve(RULES)
    started = time.monotonic()
    received = b""
    url = "https://mastodon.social/api/v1/streaming/user"
    with service.client() as client, client.stream("GET", url, timeout=httpx.Timeout(15)) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            received += chunk
            if received.count(b"\n\n") >= 2:
                break
    assert time.monotonic() - started < 30, "the events waited for the stream to end"
    events = [json.loads(line[6:]) for line in received.decode().split("\n") if line.startswith("data: ")]
    assert [e["id"] for e in events] == ["1", "2"]
    assert events[0]["sensitive"] is False
    assert events[1]["sensitive"] is True and "Breather" in events[1]["spoiler_text"]
