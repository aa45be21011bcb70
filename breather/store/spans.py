"""Pulse merging: heartbeats become activity spans, the way ActivityWatch merges its heartbeats.

A heartbeat that lands within ``pulsetime`` seconds of the end of the open span for the same (profile, site)
extends that span; otherwise a new span starts. The tracker keeps the open spans in memory (epoch seconds, cheap
arithmetic) and remembers which changed, so the writer can write only those in its next batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_PULSETIME_S = 60.0

SpanKey = tuple[str, str]


@dataclass(slots=True)
class Span:
    profile: str
    site: str
    start: float
    end: float
    source: str
    row_id: int | None = None
    dirty: bool = True

    @property
    def duration_s(self) -> float:
        return self.end - self.start


# Looks a span up in the database when it is not in memory (after a restart, or after eviction):
# (profile, site, earliest end that could still merge) -> the latest such span, or None.
SpanLookup = Callable[[str, str, float], Span | None]


class SpanTracker:
    def __init__(self, pulsetime_s: float = DEFAULT_PULSETIME_S, lookup: SpanLookup | None = None) -> None:
        if pulsetime_s <= 0:
            raise ValueError(f"pulsetime must be positive, got {pulsetime_s!r}")
        self.pulsetime_s = pulsetime_s
        self._lookup = lookup
        self.open: dict[SpanKey, Span] = {}
        self.closed: list[Span] = []
        self.high_water = 0.0

    def add(self, profile: str, site: str, at: float, duration_s: float, source: str) -> None:
        end = at + duration_s
        self.high_water = max(self.high_water, end)
        key = (profile, site)
        span = self.open.get(key)
        if span is None and self._lookup is not None:
            span = self._lookup(profile, site, at - self.pulsetime_s)
            if span is not None:
                self.open[key] = span
        if span is None:
            self.open[key] = Span(profile, site, at, end, source)
            return
        if span.start - self.pulsetime_s <= at <= span.end + self.pulsetime_s:
            self._extend(span, at, end)
            return
        if at > span.end:
            self._retire(span)
            self.open[key] = Span(profile, site, at, end, source)
            return
        # A late heartbeat from well before the open span: it gets its own span and the open one stays open.
        self.closed.append(Span(profile, site, at, end, source))

    @staticmethod
    def _extend(span: Span, at: float, end: float) -> None:
        if at < span.start or end > span.end:
            span.start = min(span.start, at)
            span.end = max(span.end, end)
            span.dirty = True

    def _retire(self, span: Span) -> None:
        span.dirty = True
        self.closed.append(span)

    def evict_stale(self) -> None:
        """Close spans that no heartbeat in time order can extend any more (keeps memory bounded).

        Staleness is judged against the newest heartbeat seen, not the wall clock, so replaying old data merges
        exactly as live data does.
        """
        horizon = self.high_water - 2 * self.pulsetime_s
        for key in [key for key, span in self.open.items() if span.end < horizon]:
            self._retire(self.open.pop(key))

    def close_all(self) -> None:
        for span in self.open.values():
            self._retire(span)
        self.open.clear()

    def forget_open(self) -> None:
        """Drop every open span without writing it (their rows were deleted); the next heartbeat starts anew."""
        self.open.clear()
        self.closed.clear()

    def pending(self) -> tuple[list[Span], list[Span]]:
        """(changed open spans, closed spans) still to be written."""
        return [span for span in self.open.values() if span.dirty], list(self.closed)

    def written(self, ids: dict[int, int]) -> None:
        """After a commit: record row ids given to new spans (keyed by ``id(span)``), forget what was written."""
        for span in self.open.values():
            if span.dirty:
                span.row_id = ids.get(id(span), span.row_id)
                span.dirty = False
        self.closed.clear()
