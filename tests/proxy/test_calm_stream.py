"""Calm mode on Mastodon's streaming API: counters zeroed in live statuses, notifications held back, the rest as is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.calm_stream import calm_socket_message, calm_stream


def status(status_id: str, **counters: int) -> dict[str, Any]:
    return {
        "id": status_id,
        "content": "<p>a quiet morning by the river</p>",
        "spoiler_text": "",
        "account": {"id": "9", "acct": "heron", "followers_count": 310},
        "replies_count": counters.get("replies", 4),
        "reblogs_count": counters.get("reblogs", 12),
        "favourites_count": counters.get("favourites", 88),
    }


def event(name: str, payload: Any) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n"


NOTIFICATION = {"id": "77", "type": "favourite", "account": {"id": "3"}, "status": status("1")}
CONVERSATION = {"id": "c1", "unread": True, "accounts": [{"id": "3"}], "last_status": status("5")}
ANNOUNCEMENT = {"id": "8", "content": "<p>Maintenance on Sunday</p>", "published_at": "2026-11-20T08:00:00Z"}


def events_of(body: bytes) -> list[tuple[str, str]]:
    """(event name, data) for every complete event of a stream body."""
    found = []
    for block in body.decode().split("\n\n")[:-1]:
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        found.append((lines.get("event", ""), lines.get("data", "")))
    return found


def test_live_statuses_lose_their_counters_and_notifications_and_announcements_are_held_back() -> None:
    body = (
        ":thump\n\n"
        + event("update", status("1"))
        + event("notification", NOTIFICATION)
        + event("delete", "12345")
        + event("status.update", status("2", favourites=3))
        + event("announcement", ANNOUNCEMENT)
        + event("announcement.delete", "8")
        + event("conversation", CONVERSATION)
    ).encode()
    out = calm_stream(body)
    assert out is not None
    names = [name for name, _ in events_of(out)]
    assert names == ["", "update", "delete", "status.update", "announcement.delete", "conversation"]
    assert out.startswith(b":thump\n\n"), "heartbeat comments pass as they came"
    payloads = {name: data for name, data in events_of(out)}
    for name in ("update", "status.update"):
        calmed = json.loads(payloads[name])
        assert (calmed["replies_count"], calmed["reblogs_count"], calmed["favourites_count"]) == (0, 0, 0)
        assert calmed["content"] == status("1")["content"]
        assert calmed["account"]["followers_count"] == 310
    assert payloads["delete"] == "12345"
    conversation = json.loads(payloads["conversation"])
    assert conversation["unread"] is False
    assert conversation["last_status"]["favourites_count"] == 0


def test_a_partial_trailing_event_is_left_exactly_as_it_came() -> None:
    partial = 'event: update\ndata: {"id":"3","content":"<p>half'
    out = calm_stream((event("update", status("1")) + partial).encode())
    assert out is not None
    assert out.endswith(partial.encode())
    only_partial = f"event: notification\ndata: {json.dumps(NOTIFICATION)}"
    assert calm_stream(only_partial.encode()) is None, "an unfinished notification is not a complete event"


def test_nothing_to_calm_and_unknown_shapes_give_none() -> None:
    assert calm_stream(event("update", status("1", replies=0, reblogs=0, favourites=0)).encode()) is None
    assert calm_stream(event("delete", "1").encode() + b":thump\n\n") is None
    assert calm_stream(event("update", "not json at all").encode()) is None
    two_data_lines = f"event: update\ndata: {json.dumps(status('1'))}\ndata: more\n\n"
    assert calm_stream(two_data_lines.encode()) is None
    assert calm_stream(b"\xff\xfe not utf-8\n\n") is None
    assert calm_stream(b"") is None


def test_a_number_too_large_for_a_double_is_never_written_back_as_infinity() -> None:
    """Calming a status holding ``1e400`` wrote ``Infinity`` into the stream: the client's JSON.parse failed on it."""
    payload = json.dumps(status("1"), separators=(",", ":"))[:-1] + ',"big":1e400}'
    assert calm_stream(event("update", payload).encode()) is None
    assert calm_socket_message(json.dumps({"event": "update", "payload": payload})) is None


def test_non_ascii_payloads_keep_their_characters() -> None:
    post = {**status("1"), "content": "<p>café ☕ au bord de l’eau</p>"}
    out = calm_stream(event("update", json.dumps(post, ensure_ascii=False)).encode())
    assert out is not None
    assert "café ☕".encode() in out
    assert json.loads(events_of(out)[0][1])["favourites_count"] == 0


@pytest.mark.fixtures
def test_a_stream_of_the_real_recorded_statuses_and_notifications(shared_fixtures: Path) -> None:
    """The recorded home timeline's statuses as live ``update`` events, the recorded notifications between them."""
    folder = shared_fixtures / "feeds/mastodon"
    statuses = json.loads((folder / "home_timeline.json").read_bytes())
    notifications = json.loads((folder / "notifications_v1.json").read_bytes())
    assert statuses and notifications
    body = "".join(event("update", item) for item in statuses)
    body += "".join(event("notification", item) for item in notifications)
    out = calm_stream(body.encode())
    assert out is not None
    calmed = events_of(out)
    assert [name for name, _ in calmed] == ["update"] * len(statuses)
    for before, (_, data) in zip(statuses, calmed, strict=True):
        after = json.loads(data)
        assert without_counters(after) == without_counters(before)
        assert all(value == 0 for value in counter_values(after))
    assert any(value for status in statuses for value in counter_values(status)), "the recording has counts"


STATUS_COUNTERS = ("replies_count", "reblogs_count", "favourites_count", "quotes_count")


def without_counters(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: without_counters(value) for key, value in node.items() if key not in STATUS_COUNTERS}
    if isinstance(node, list):
        return [without_counters(value) for value in node]
    return node


def counter_values(node: Any) -> list[Any]:
    """Every status counter at any depth (boosted and quoted statuses included); accounts have none of these."""
    if isinstance(node, dict):
        own = [value for key, value in node.items() if key in STATUS_COUNTERS]
        return own + [value for child in node.values() for value in counter_values(child)]
    if isinstance(node, list):
        return [value for child in node for value in counter_values(child)]
    return []
