"""What ``activity.source`` holds, and that docs/store.md says so (a review found the doc listing ``overlay`` while
the overlay's time on a page loaded through the proxy is stored under ``proxy``: the page load's visit opens the
span and the overlay's heartbeats extend it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from breather.store.db import open_database
from breather.store.model import Heartbeat
from breather.store.writer import Writer

DOC = Path(__file__).resolve().parents[3] / "docs" / "store.md"
START = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def _sources(db_path: Path, beats: list[Heartbeat]) -> list[tuple[str, str, float]]:
    writer = Writer(db_path, flush_ms=10).start()
    for beat in beats:
        writer.heartbeat(beat)
    writer.close()
    db = open_database(db_path)
    try:
        return [tuple(row) for row in db.execute("select site, source, duration_s from activity order by start")]
    finally:
        db.close()


def test_a_span_keeps_the_source_of_the_heartbeat_that_opened_it(db_path: Path) -> None:
    page_load = Heartbeat("me", "reddit.com", START, 0.0, "proxy")  # boundaries' visit, as the page goes through
    overlay = [Heartbeat("me", "reddit.com", START + timedelta(seconds=30 * n), 30.0, "overlay") for n in range(4)]
    later = Heartbeat("me", "reddit.com", START + timedelta(minutes=10), 30.0, "overlay")  # the tab come back to
    tab = Heartbeat("me", "old.reddit.com", START, 0.0, "extension")
    assert _sources(db_path, [page_load, tab, *overlay, later]) == [
        ("reddit.com", "proxy", 120.0),
        ("old.reddit.com", "extension", 0.0),
        ("reddit.com", "overlay", 30.0),
    ]


def test_the_store_doc_says_what_source_holds() -> None:
    row = next(line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `activity` |"))
    assert "the heartbeat that opened the span" in row
    assert "the overlay's time on a page loaded through the proxy is stored under `proxy`" in row
