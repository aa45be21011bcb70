from __future__ import annotations

import pytest

from breather.store.spans import SpanTracker


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
