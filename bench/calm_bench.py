"""Calm mode's cost per real response, next to what the proxy already pays to read and write that body as JSON.

Run ``python -m bench calm``. Calm only runs inside a calm window (quiet hours, after a limit); outside it the step
returns before reading the body. Reads ../shared/fixtures in place; prints milliseconds (median of repeated runs)
and the ratio to a plain ``json.loads`` + ``json.dumps`` round trip of the same body.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import feeds_root, timings_ms
from breather.proxy.calm_media import calm_response
from breather.proxy.calm_stream import calm_socket_message

JSON_PLATFORMS = ("reddit", "mastodon", "twitter", "bluesky")


def median_ms(run: Callable[[], Any], repeat: int = 15) -> float:
    return statistics.median(timings_ms(run, repeat))


def stream_of(statuses: list[Any], notifications: list[Any]) -> bytes:
    events = [("update", item) for item in statuses] + [("notification", item) for item in notifications]
    return "".join(
        f"event: {name}\ndata: {json.dumps(item, separators=(',', ':'))}\n\n" for name, item in events
    ).encode()


def cases(feeds: Path) -> list[tuple[str, bytes, str, str]]:
    found = [
        (
            "youtube/channel_videos_page.html",
            (feeds / "youtube/channel_videos_page.html").read_bytes(),
            "youtube",
            "text/html",
        ),
        (
            "youtube/channel_videos_ytInitialData.json",
            (feeds / "youtube/channel_videos_ytInitialData.json").read_bytes(),
            "youtube",
            "application/json",
        ),
    ]
    for platform in JSON_PLATFORMS:
        for path in sorted((feeds / platform).glob("*.json")):
            if not path.name.endswith(".meta.json"):
                found.append((f"{platform}/{path.name}", path.read_bytes(), platform, "application/json"))
    statuses = json.loads((feeds / "mastodon/home_timeline.json").read_bytes())
    notifications = json.loads((feeds / "mastodon/notifications_v1.json").read_bytes())
    found.append(
        ("mastodon stream (home + notifications)", stream_of(statuses, notifications), "mastodon", "text/event-stream")
    )
    return found


def round_trip(body: bytes) -> Callable[[], Any]:
    try:
        json.loads(body)
    except ValueError:
        return lambda: None
    return lambda: json.dumps(json.loads(body))


def main() -> None:
    feeds = feeds_root()
    print(f"{'body':58} {'KB':>6} {'calm ms':>8} {'json ms':>8} {'ratio':>6}")
    for name, body, adapter, media in cases(feeds):
        calm = median_ms(lambda body=body, adapter=adapter, media=media: calm_response(body, adapter, "/", media))
        baseline = median_ms(round_trip(body)) if media == "application/json" else 0.0
        ratio = f"{calm / baseline:6.1f}" if baseline else "     -"
        base = f"{baseline:8.2f}" if baseline else "       -"
        print(f"{name[:58]:58} {len(body) // 1024:6d} {calm:8.2f} {base} {ratio}")
    message = json.dumps(
        {
            "stream": ["user"],
            "event": "update",
            "payload": json.dumps(json.loads((feeds / "mastodon/home_timeline.json").read_bytes())[0]),
        }
    )
    print(f"one WebSocket update message: {median_ms(lambda: calm_socket_message(message), 200):.3f} ms")


if __name__ == "__main__":
    main()
