"""Server-sent event streams go through live: whole events out as soon as they are complete, marked and calmed."""

from __future__ import annotations

import json
from typing import Any

from mitmproxy import http
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.feed_warnings import FeedWarnings
from breather.proxy.live_events import EventStreamEditor, LiveEvents, leading_comments
from tests.proxy.test_calm_stream import event, status

DISTRESSING = "I want to kill myself tonight, I cannot go on"


def upper(events: bytes) -> bytes:
    return events.upper()


def test_only_complete_events_leave_and_a_split_event_waits_for_its_rest() -> None:
    editor = EventStreamEditor(upper)
    assert editor(b'event: update\ndata: {"a"') == []
    assert editor(b": 1}\n\nevent: delete\ndata: 7") == [b'EVENT: UPDATE\nDATA: {"A": 1}\n\n']
    assert editor(b"\n\n") == [b"EVENT: DELETE\nDATA: 7\n\n"]
    assert editor(b"") == []


def test_keepalive_comments_go_straight_through_and_the_rest_is_flushed_at_the_end() -> None:
    editor = EventStreamEditor(upper)
    assert editor(b":thump\n") == [b":thump\n"]
    assert editor(b":thump\nevent: upd") == [b":thump\n"]
    assert editor(b"") == [b"event: upd"]  # an unfinished last event goes out as it came


def test_cr_line_endings_switch_the_stream_to_plain_pass_through() -> None:
    editor = EventStreamEditor(upper)
    assert editor(b"event: a\r\ndata: 1\r\n\r\n") == [b"event: a\r\ndata: 1\r\n\r\n"]
    assert editor(b"event: b\n\n") == [b"event: b\n\n"]


def test_leading_comments_stop_at_the_first_field_or_unfinished_line() -> None:
    assert leading_comments(b":a\n:b\ndata: x") == (b":a\n:b\n", b"data: x")
    assert leading_comments(b":unfinished") == (b"", b":unfinished")


def stream_flow(*, status_code: int = 200, headers: dict[str, str] | None = None) -> http.HTTPFlow:
    flow = tflow.tflow(resp=True)
    flow.request.host = "mastodon.social"
    flow.request.path = "/api/v1/streaming/user"
    flow.metadata.update({flows.SITE: "mastodon.social", flows.ADAPTER: "mastodon"})
    flow.response = http.Response.make(status_code, b"", {"content-type": "text/event-stream", **(headers or {})})
    return flow


def payload(out: list[bytes]) -> dict[str, Any]:
    data = b"".join(out).decode().split("data: ", 1)[1].split("\n", 1)[0]
    return json.loads(data)


def test_a_distressing_live_status_is_marked_as_it_passes(make_runtime, events_of) -> None:
    runtime = make_runtime()
    feed = FeedWarnings(runtime)
    flow = stream_flow()
    LiveEvents(runtime, feed).responseheaders(flow)
    stream = flow.response.stream
    assert callable(stream)
    distressing = {**status("1"), "content": f"<p>{DISTRESSING}</p>"}
    text = event("update", distressing).encode()
    assert stream(text[:30]) == []
    marked = payload(stream(text[30:]))
    assert marked["sensitive"] is True and "Breather" in marked["spoiler_text"]
    calm = event("update", status("2")).encode()
    assert stream(calm) == [calm]
    assert [e["kind"] for e in events_of(runtime)] == ["warning_shown"]


def test_streams_of_other_kinds_are_streamed_untouched(make_runtime) -> None:
    runtime = make_runtime()
    live = LiveEvents(runtime, FeedWarnings(runtime))
    compressed = stream_flow(headers={"content-encoding": "gzip"})
    failed = stream_flow(status_code=500)
    other_site = stream_flow()
    other_site.metadata.pop(flows.SITE)
    for flow in (compressed, failed, other_site):
        live.responseheaders(flow)
    assert callable(compressed.response.stream) and failed.response.stream is True
    gzipped = b"\x1f\x8b\x08\x00 not whole events"
    assert compressed.response.stream(gzipped) == [gzipped], "a compressed stream passes as it comes"
    assert other_site.response.stream is False  # not intercepted: never reaches Breather's addons in practice


def test_a_live_batch_holds_the_event_loop_for_at_most_the_live_budget(make_runtime, monkeypatch) -> None:
    import time

    from breather.proxy import live_events

    runtime = make_runtime(classify_budget_ms=5000)  # a whole response could take this long, off the loop
    feed = FeedWarnings(runtime)
    judge_for = feed.judge_for

    def slow_judge_for(profile: Any) -> Any:
        judge = judge_for(profile)

        def slow(text: str) -> Any:
            time.sleep(live_events.LIVE_BUDGET_MS / 1000 + 0.01)
            return judge(text)

        return slow

    monkeypatch.setattr(feed, "judge_for", slow_judge_for)
    flow = stream_flow()
    LiveEvents(runtime, feed).responseheaders(flow)
    distressing = [{**status(str(n)), "content": f"<p>{DISTRESSING}</p>"} for n in range(3)]
    out = b"".join(flow.response.stream(b"".join(event("update", s).encode() for s in distressing)))
    data = [json.loads(line[len(b"data: ") :]) for line in out.split(b"\n") if line.startswith(b"data:")]
    marked = [status.get("sensitive", False) for status in data]
    assert marked == [True, False, False]  # the first within the budget; the rest pass unmarked, as they came
    assert runtime.counters.get("classify_budget_hit") == 1
