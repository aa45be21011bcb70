"""Calm mode for Mastodon's streaming API: ``text/event-stream`` bodies and the web client's WebSocket messages.

Pure: no mitmproxy, no I/O. In a calm window:

- ``update`` / ``status.update`` events: the status's counters are zeroed exactly as in the JSON timelines
  (:func:`breather.proxy.calm.calm_mastodon`), so a live timeline does not show likes ticking up;
- ``conversation`` events: the conversation arrives read (``unread: false``), so the direct-messages badge stays;
- ``notification`` events are held back: each one the web client receives raises the unread badge by one, and a
  zeroed count inside the payload would not stop that. Nothing is lost: they stay in the notifications list the
  server keeps, and the person sees them when they open it (or when the stream reconnects after the window).
- ``announcement`` events (a server announcement published while the tab is open) are held back for the same
  reason: the client adds each one as unread. The server keeps it; the next ``GET /api/v1/announcements`` brings
  it (marked read inside the window, unread again after it).

The same rules apply to a WebSocket message (``{"stream": [...], "event": "update", "payload": "<JSON text>"}``,
what Mastodon's web client reads): :func:`calm_socket_message`.

Only complete events are touched; an incomplete trailing event (the body was cut mid-event), events with more than
one ``data:`` line or a payload that is not JSON, and every other event (``delete``, ``filters_changed``, heartbeat
comments...) pass as they came. A body with nothing to calm gives None: send the original bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from breather.proxy.adapters.jsonbody import finite_decoder
from breather.proxy.calm import calm_mastodon

HELD_BACK_EVENTS = frozenset({"notification", "announcement"})
CALMED_EVENTS = frozenset({"update", "status.update", "conversation"})
STREAM_PATH = "/api/v1/streaming"


def calm_stream(body: bytes) -> bytes | None:
    """The event stream with counters zeroed and notifications and announcements held back, or None when nothing
    changed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    events = text.split("\n\n")
    # The last piece is "" (the body ended on an event boundary) or an incomplete event: it always stays as it is.
    kept: list[str] = []
    changed = False
    for event in events[:-1]:
        calmed = calm_event(event)
        changed = changed or calmed != event
        if calmed is not None:
            kept.append(calmed)
    if not changed:
        return None
    return "\n\n".join([*kept, events[-1]]).encode("utf-8")


def calm_event(event: str) -> str | None:
    """One complete event calmed, or None to hold it back."""
    lines = event.split("\n")
    names = [line[6:].strip() for line in lines if line.startswith("event:")]
    if len(names) != 1:
        return event
    if names[0] in HELD_BACK_EVENTS:
        return None
    data_lines = [index for index, line in enumerate(lines) if line.startswith("data:")]
    if names[0] not in CALMED_EVENTS or len(data_lines) != 1:
        return event
    index = data_lines[0]
    payload = lines[index][5:].lstrip(" ")
    document = _parse(payload)
    if document is None or not calm_mastodon(document, STREAM_PATH):
        return event
    lines[index] = "data: " + json.dumps(document, ensure_ascii=payload.isascii(), separators=(",", ":"))
    return "\n".join(lines)


def _parse(payload: str) -> Any:
    try:
        document = finite_decoder().decode(payload)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, (dict, list)) else None


@dataclass(frozen=True)
class SocketCalm:
    """What to do with one WebSocket message: hold it back, or send ``text`` in its place."""

    hold: bool = False
    text: str | None = None


HOLD = SocketCalm(hold=True)


def calm_socket_message(text: str) -> SocketCalm | None:
    """One message of Mastodon's WebSocket stream calmed; None when it goes out as it came."""
    message = _parse(text)
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        return None
    if message["event"] in HELD_BACK_EVENTS:
        return HOLD
    payload = message.get("payload")
    if message["event"] not in CALMED_EVENTS or not isinstance(payload, str):
        return None
    document = _parse(payload)
    if document is None or not calm_mastodon(document, STREAM_PATH):
        return None
    message["payload"] = json.dumps(document, ensure_ascii=payload.isascii(), separators=(",", ":"))
    return SocketCalm(text=json.dumps(message, ensure_ascii=text.isascii(), separators=(",", ":")))
