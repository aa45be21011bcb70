"""Pulse merging: heartbeats become activity spans, the way ActivityWatch merges its heartbeats.

A heartbeat that lands within ``pulsetime`` seconds of the end of the open span for the same (profile, site)
extends that span; otherwise a new span starts. The tracker keeps the open spans in memory (epoch seconds, cheap
arithmetic) and remembers which changed, so the writer can write only those in its next batch.

Heartbeats from well before the open span merge the same way among themselves, into one late run per
(profile, site): a browser's extension, back online while a phone is on the site through the proxy, sends the queue
it kept offline, oldest first. It sends one request per heartbeat, so a run reaches the writer over many batches;
each batch writes, as a closed span, only the part of the run not written before (the parts touch, so the minutes
add up exactly and none counts twice).

A front-tab heartbeat (the overlay's, the extension's) does not bridge a gap in which the person was in front of
another site: they report only the tab in front, so one of theirs on another site since this site's last one means
the person went there and came back, and bridging would count the time away on both sites (a site limit counted
the minutes spent on the other site). Gaps of a few seconds (a timer's jitter between two heartbeats that touch)
are always bridged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from breather.rules.model import host_in_domain

DEFAULT_PULSETIME_S = 60.0
FRONT_TAB_SOURCES = frozenset({"overlay", "extension"})  # they report only the tab in front of the person
JITTER_S = 5.0  # a gap this short is two heartbeats that touch, late by their timer

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
    last_beat: float | None = None  # when its latest heartbeat began; None: read back from the store

    @property
    def latest_beat(self) -> float:
        return self.end if self.last_beat is None else self.last_beat

    @property
    def duration_s(self) -> float:
        return self.end - self.start


# Looks a span up in the database when it is not in memory (after a restart, or after eviction):
# (profile, site, earliest end that could still merge) -> the latest such span, or None.
SpanLookup = Callable[[str, str, float], Span | None]


def same_site(one: str, other: str) -> bool:
    """``old.reddit.com`` and ``reddit.com`` are one site here: the overlay and the extension may name one tab so."""
    return host_in_domain(one, other) or host_in_domain(other, one)


class SpanTracker:
    def __init__(self, pulsetime_s: float = DEFAULT_PULSETIME_S, lookup: SpanLookup | None = None) -> None:
        if pulsetime_s <= 0:
            raise ValueError(f"pulsetime must be positive, got {pulsetime_s!r}")
        self.pulsetime_s = pulsetime_s
        self._lookup = lookup
        self.open: dict[SpanKey, Span] = {}
        self.late: dict[SpanKey, Span] = {}  # the run of late heartbeats still growing, one per (profile, site)
        self._late_written: dict[SpanKey, tuple[float, float]] = {}  # the part of that run already written
        self.closed: list[Span] = []
        self.high_water = 0.0
        self._front: dict[str, tuple[str, float]] = {}  # profile -> (site, when) of the latest front-tab heartbeat

    def add(self, profile: str, site: str, at: float, duration_s: float, source: str) -> None:
        end = at + duration_s
        self.high_water = max(self.high_water, end)
        key = (profile, site)
        span = self.open.get(key)
        if span is None and self._lookup is not None:
            span = self._lookup(profile, site, at - self.pulsetime_s)
            if span is not None:
                self.open[key] = span
        # only a front-tab heartbeat: the proxy's (0 s, bridged) may come from a phone while the laptop shows another
        # site, whose gaps would then all go uncounted (a review)
        away = source in FRONT_TAB_SOURCES and self._went_elsewhere(span, at)
        if source in FRONT_TAB_SOURCES:
            self._note_front(profile, site, at)
        if span is None:
            self.open[key] = Span(profile, site, at, end, source, last_beat=at)
            return
        if span.start - self.pulsetime_s <= at <= span.end + self.pulsetime_s and not away:
            self._extend(span, at, end)
            span.last_beat = max(span.latest_beat, at)
        elif at > span.end:
            self._retire(span)
            self.open[key] = Span(profile, site, at, end, source, last_beat=at)
            return
        else:
            self._add_late(Span(profile, site, at, end, source, last_beat=at))
        late = self.late.get(key)
        if late is not None:
            self._bridge(late, span)

    def _went_elsewhere(self, span: Span | None, at: float) -> bool:
        """Whether a heartbeat at ``at`` would bridge a gap in ``span`` during which the person was in front of
        another site."""
        if span is None or at <= span.end + JITTER_S:
            return False
        front = self._front.get(span.profile)
        return front is not None and span.latest_beat < front[1] < at and not same_site(front[0], span.site)

    def _note_front(self, profile: str, site: str, at: float) -> None:
        front = self._front.get(profile)
        if front is None or at >= front[1]:
            self._front[profile] = (site, at)

    def _add_late(self, beat: Span) -> None:
        """A heartbeat from well before the open span (which stays open): it extends the late run it touches, or
        starts a new one."""
        key = (beat.profile, beat.site)
        late = self.late.get(key)
        if late is not None and late.start - self.pulsetime_s <= beat.start <= late.end + self.pulsetime_s:
            self._extend(late, beat.start, beat.end)
            return
        if late is not None:
            self.closed.extend(self._unwritten_parts(late))
        self.late[key] = beat
        self._late_written.pop(key, None)

    def _bridge(self, late: Span, span: Span) -> None:
        """A late run that has come within the pulse time of the open span reaches it: the gap between them was
        time online, as it is between any two heartbeats that merge."""
        if late.end < span.start <= late.end + self.pulsetime_s:
            late.end = span.start
            late.dirty = True

    def _unwritten_parts(self, late: Span) -> list[Span]:
        """The parts of a late run that are not in the store yet, as closed spans of their own."""
        if not late.dirty:
            return []
        written = self._late_written.get((late.profile, late.site))
        if written is None:
            return [Span(late.profile, late.site, late.start, late.end, late.source)]
        low, high = written
        parts = [(late.start, low), (high, late.end)]
        return [Span(late.profile, late.site, start, end, late.source) for start, end in parts if end > start]

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
        for late in self.late.values():
            self.closed.extend(self._unwritten_parts(late))
        self.late.clear()
        self._late_written.clear()

    def in_a_new_file(self) -> None:
        """The database file was replaced: the open spans and late runs held here are written whole, as new rows."""
        for span in self.open.values():
            span.row_id, span.dirty = None, True
        for span in self.closed:
            span.row_id = None
        for late in self.late.values():
            late.dirty = True
        self._late_written.clear()

    def forget_open(self, profile: str | None = None) -> None:
        """Drop every open span (or ``profile``'s) without writing it (their rows were deleted); the next heartbeat
        starts anew."""
        if profile is None:
            self.open.clear()
            self.late.clear()
            self._late_written.clear()
            self.closed.clear()
            self._front.clear()
            return
        for held in (self.open, self.late, self._late_written):
            for key in [key for key in held if key[0] == profile]:
                del held[key]
        self.closed = [span for span in self.closed if span.profile != profile]
        self._front.pop(profile, None)

    def pending(self) -> tuple[list[Span], list[Span]]:
        """(changed open spans, closed spans) still to be written."""
        closed = list(self.closed)
        for late in self.late.values():
            closed.extend(self._unwritten_parts(late))
        return [span for span in self.open.values() if span.dirty], closed

    def written(self, ids: dict[int, int]) -> None:
        """After a commit: record row ids given to new spans (keyed by ``id(span)``), forget what was written."""
        for span in self.open.values():
            if span.dirty:
                span.row_id = ids.get(id(span), span.row_id)
                span.dirty = False
        for key, late in self.late.items():
            if late.dirty:
                self._late_written[key] = (late.start, late.end)
                late.dirty = False
        self.closed.clear()
