"""Server-sent event streams (Mastodon's ``/api/v1/streaming``) go through live, one event at a time.

mitmproxy holds a response until it is complete unless the response is streamed, and an event stream never
completes: left alone, the browser would wait forever for its first event. So every ``text/event-stream`` response
of an intercepted site is streamed. Where the site's adapter reads events, each complete event is marked (and calmed
in a calm window) as it passes; a partial event waits only for the rest of itself, and keep-alive comments go
straight through. A compressed stream, CR line endings or an event over ``MAX_EVENT_BYTES`` switch that stream to
plain pass-through: it stays live, it is only no longer edited. A stream opened before a limit or quiet hours began
(a tab left open) carries nothing while the block holds (``Boundaries.blocked_now``, asked again every few seconds);
an edited stream picks up again at the next whole event once the block ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.adapters import adapter_for
from breather.proxy.bodies import is_streamed
from breather.proxy.boundaries import Boundaries
from breather.proxy.calm_stream import calm_stream
from breather.proxy.feed_warnings import FeedWarnings
from breather.proxy.safety import original_on_error
from breather.runtime import Runtime

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
MAX_EVENT_BYTES = 1024 * 1024
# mitmproxy calls a stream callable synchronously on its event loop, so a live batch cannot be classified off it
# like a whole response is: it gets at most this much classify time (a batch is usually one status, ~1 ms cold).
LIVE_BUDGET_MS = 25

Edit = Callable[[bytes], bytes]
Held = Callable[[], bool]


def never_held() -> bool:
    return False


def as_it_came(events: bytes) -> bytes:
    return events


class EventStreamEditor:
    """mitmproxy's ``response.stream`` callable: chunks in, whole events out, edited by ``edit``; nothing out while
    ``held()`` (the site is blocked now). ``raw``: chunks pass as they come (a compressed stream), or not at all.

    Returns a list of chunks (never an empty ``bytes``: on a chunked HTTP/1 response that would end the body).
    """

    def __init__(self, edit: Edit, held: Held = never_held, raw: bool = False) -> None:
        self._edit = edit
        self._held = held
        self._pending = b""
        self._raw = raw
        self._resync = False  # after a hold: the rest of an event cut in two by it is not sent

    def __call__(self, chunk: bytes) -> list[bytes]:
        if chunk and self._held():
            self._resync = not (self._pending + chunk).endswith(b"\n\n")
            self._pending = b""
            return []
        if self._raw:
            return [chunk] if chunk else []
        if not chunk:  # the stream ended: whatever is left goes out as it came
            rest, self._pending = (b"" if self._resync else self._pending), b""
            return [rest] if rest else []
        data = self._pending + chunk
        if self._resync:
            data = self._after_the_cut(data)
            if not data:
                return []
        if b"\r" in data or len(data) > MAX_EVENT_BYTES:
            self._raw, self._pending = True, b""
            return [data]
        boundary = data.rfind(b"\n\n")
        complete, partial = (data[: boundary + 2], data[boundary + 2 :]) if boundary >= 0 else (b"", data)
        keepalive, self._pending = leading_comments(partial)
        out = self._edit(complete) if complete else b""
        return [piece for piece in (out, keepalive) if piece]

    def _after_the_cut(self, data: bytes) -> bytes:
        """What follows the end of an event that a hold cut in two (its start was never sent, so neither is its
        rest); nothing while that end has not come."""
        boundary = data.find(b"\n\n")
        if boundary < 0:
            self._pending = data[-1:]  # a "\n" may be the first half of that end
            return b""
        self._resync, self._pending = False, b""
        return data[boundary + 2 :]


def leading_comments(partial: bytes) -> tuple[bytes, bytes]:
    """Split complete ``:comment`` lines off the start of an unfinished event: clients ignore them, and proxies
    and servers send them to keep an idle stream open, so they must not wait for the next event."""
    position = 0
    while partial.startswith(b":", position):
        line_end = partial.find(b"\n", position)
        if line_end < 0:
            break
        position = line_end + 1
    return partial[:position], partial[position:]


class LiveEvents:
    def __init__(self, runtime: Runtime, feed: FeedWarnings) -> None:
        self.runtime = runtime
        self.feed = feed
        self.boundaries = Boundaries(runtime)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or flows.site_of(flow) is None or flows.is_breather_answer(flow):
            return
        with original_on_error(self.runtime, flow, "reading a live event stream"):
            self._stream_events(flow, response)

    def _stream_events(self, flow: http.HTTPFlow, response: http.Response) -> None:
        if flows.media_type(response) != EVENT_STREAM or is_streamed(response):
            return
        if not flows.has_full_body(response):
            response.stream = True
            return

        def held() -> bool:
            return self.boundaries.blocked_now(flow)

        coding = response.headers.get("content-encoding", "identity").strip().lower()
        if coding not in ("", "identity"):
            response.stream = EventStreamEditor(as_it_came, held, raw=True)
            return
        response.stream = EventStreamEditor(lambda events: self._edit(flow, events), held)

    def _edit(self, flow: http.HTTPFlow, events: bytes) -> bytes:
        """Warnings, then calm, on complete events; any failure sends them as they came."""
        try:
            return self._calm(flow, self._mark(flow, events))
        except Exception:
            log.exception("editing a live event from %s failed; sending it as it came", flow.request.host)
            self.runtime.counters.increment("passed_after_error")
            return events

    def _mark(self, flow: http.HTTPFlow, events: bytes) -> bytes:
        adapter = adapter_for(str(flow.metadata.get(flows.ADAPTER, "generic")), flow.request.path, EVENT_STREAM)
        if adapter is None or not self.feed.profile_for(flow).warns:
            return events
        # A fresh context per batch: the classify budget is per response, and a stream is a response for hours.
        result = adapter.rewrite(events, self.feed.context_for(flow, adapter, most_ms=LIVE_BUDGET_MS))
        if result is None:
            return events
        self.runtime.counters.increment("rewritten")
        self.runtime.counters.increment("warnings_marked", len(result.marked))
        self.feed.log_marked(flow, result.marked)
        return result.body

    def _calm(self, flow: http.HTTPFlow, events: bytes) -> bytes:
        if not flow.metadata.get(flows.CALM_WINDOW) or flow.metadata.get(flows.ADAPTER) != "mastodon":
            return events
        return calm_stream(events) or events
