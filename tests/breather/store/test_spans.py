from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from breather.store import queries
from breather.store.model import Heartbeat
from breather.store.spans import SpanTracker
from breather.store.writer import Writer


def spans(tracker: SpanTracker) -> list[tuple[str, float, float]]:
    changed, closed = tracker.pending()
    return sorted((span.site, span.start, span.end) for span in [*changed, *closed])


def test_heartbeats_within_pulsetime_extend_one_span() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    for at in (0, 30, 85, 140):
        tracker.add("sam", "reddit.com", at, 0, "proxy")
    assert spans(tracker) == [("reddit.com", 0, 140)]


def test_a_gap_longer_than_pulsetime_starts_a_new_span() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    for at in (0, 50, 111):
        tracker.add("sam", "reddit.com", at, 0, "proxy")
    assert spans(tracker) == [("reddit.com", 0, 50), ("reddit.com", 111, 111)]


def test_duration_counts_towards_the_end_and_sites_merge_separately() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 0, 120, "extension")
    tracker.add("sam", "x.com", 10, 0, "proxy")
    tracker.add("sam", "reddit.com", 150, 30, "extension")
    assert spans(tracker) == [("reddit.com", 0, 180), ("x.com", 10, 10)]


def test_profiles_do_not_share_spans() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 0, 10, "proxy")
    tracker.add("alex", "reddit.com", 5, 10, "proxy")
    changed, _ = tracker.pending()
    assert sorted((s.profile, s.start, s.end) for s in changed) == [("alex", 5, 15), ("sam", 0, 10)]


def test_a_late_heartbeat_from_long_before_gets_its_own_span() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 1000, 0, "proxy")
    tracker.add("sam", "reddit.com", 100, 5, "proxy")
    assert spans(tracker) == [("reddit.com", 100, 105), ("reddit.com", 1000, 1000)]
    assert tracker.open[("sam", "reddit.com")].start == 1000


def test_stale_spans_leave_memory_by_heartbeat_time_not_wall_clock() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 0, 0, "proxy")
    tracker.add("sam", "x.com", 100, 0, "proxy")
    tracker.evict_stale()
    assert set(tracker.open) == {("sam", "reddit.com"), ("sam", "x.com")}
    tracker.add("sam", "x.com", 500, 0, "proxy")
    tracker.evict_stale()
    assert set(tracker.open) == {("sam", "x.com")}


def test_pulsetime_must_be_positive() -> None:
    with pytest.raises(ValueError, match="pulsetime"):
        SpanTracker(pulsetime_s=0)


def test_an_extensions_queue_of_late_heartbeats_merges_into_one_span() -> None:
    """A phone is on the site now; the laptop's extension, back online, sends the 20 minutes it queued offline:
    zero-length heartbeats every 30 s, oldest first. They are 20 minutes online, not 41 moments."""
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 7200, 0, "proxy")
    for at in range(0, 1201, 30):
        tracker.add("sam", "reddit.com", at, 0, "extension")
    assert spans(tracker) == [("reddit.com", 0, 1200), ("reddit.com", 7200, 7200)]


def test_a_late_run_sent_over_many_batches_is_written_once_in_parts_that_touch() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 7200, 0, "proxy")
    written: list[tuple[float, float]] = []
    for first in (0, 300, 600):
        for at in range(first, first + 300, 30):
            tracker.add("sam", "reddit.com", at, 0, "extension")
        _, closed = tracker.pending()
        written += [(span.start, span.end) for span in closed]
        tracker.written({})
    assert written == [(0, 270), (270, 570), (570, 870)]


def test_a_late_run_that_reaches_the_open_span_leaves_no_gap() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 600, 0, "proxy")
    for at in range(0, 571, 30):
        tracker.add("sam", "reddit.com", at, 0, "extension")
    assert spans(tracker) == [("reddit.com", 0, 540), ("reddit.com", 540, 600)]


def test_late_runs_far_apart_stay_apart() -> None:
    tracker = SpanTracker(pulsetime_s=60)
    tracker.add("sam", "reddit.com", 7200, 0, "proxy")
    for at in (0, 30, 60, 3000, 3030):
        tracker.add("sam", "reddit.com", at, 0, "extension")
    assert spans(tracker) == [("reddit.com", 0, 60), ("reddit.com", 3000, 3030), ("reddit.com", 7200, 7200)]


def test_the_extensions_queue_sent_while_a_phone_is_on_counts_in_today(writer: Writer, db: Database) -> None:
    """Through the real writer: the phone's proxy heartbeats, then the queue one request (and batch) at a time."""
    now = datetime(2026, 3, 4, 20, 5, tzinfo=UTC)
    for second in range(0, 301, 30):
        writer.heartbeat(Heartbeat("teen", "www.youtube.com", now - timedelta(seconds=300 - second), 0.0, "proxy"))
    assert writer.flush()
    queued_from = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    for second in range(0, 1201, 30):
        writer.heartbeat(
            Heartbeat("teen", "www.youtube.com", queued_from + timedelta(seconds=second), 0.0, "extension")
        )
        if second % 300 == 0:
            assert writer.flush()
    assert writer.flush()
    assert round(queries.minutes_today(db, "teen", now, UTC).total) == 25
    assert db.execute("select sum(duration_s) from activity").fetchone()[0] == 25 * 60
