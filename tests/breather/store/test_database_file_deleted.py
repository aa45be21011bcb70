"""The usage file itself deleted or replaced while the writer runs (a person or a clean-up tool removing
``breather.db``): the writer saves into a new file from its next batch, with what it had not saved yet, and never
dies of it.

A robustness test found the writer committing into the deleted file (gone at the next restart, nothing logged), and,
once the dashboard had made a new empty file, every batch failing and a span lookup killing the writer thread while
``/healthz`` still said it was saving.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.store.db import open_database
from breather.store.model import Heartbeat
from breather.store.writer import Writer

START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)


def minutes_saved(database: Path) -> dict[str, float]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT site, SUM(duration_s) FROM activity GROUP BY site").fetchall()
    return {site: round(seconds / 60, 2) for site, seconds in rows}


def beats(writer: Writer, site: str, first: int, last: int) -> None:
    """The overlay's heartbeats, one per 30 s, from second ``first`` up to ``last``."""
    for second in range(first, last, 30):
        writer.heartbeat(Heartbeat("sam", site, START + timedelta(seconds=second), 30, "overlay"))


def remove_database(path: Path, suffixes: tuple[str, ...]) -> None:
    for suffix in suffixes:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


@pytest.mark.parametrize(
    ("removed", "then"),
    [
        (("",), None),  # `rm breather.db`: its -wal and -shm stay
        (("", "-wal", "-shm"), None),
        (("",), "a dashboard page"),  # opens the store, making a new file with its tables
        (("", "-wal", "-shm"), "an empty file"),
    ],
)
def test_the_writer_saves_into_a_new_file_with_what_it_had_not_saved(
    db_path: Path, removed: tuple[str, ...], then: str | None
) -> None:
    writer = Writer(db_path, flush_ms=50).start()
    try:
        beats(writer, "reddit.com", 0, 120)
        assert writer.flush()
        remove_database(db_path, removed)
        if then == "a dashboard page":
            open_database(db_path).close()
        elif then == "an empty file":
            sqlite3.connect(db_path).close()
        beats(writer, "reddit.com", 120, 240)  # the open span goes on
        beats(writer, "youtube.com", 240, 300)  # a site the writer must look up first
        assert writer.flush(), "nothing saved after the file went"
        assert writer.state()["saving"]
        # the span still open is written whole into the new file; what the old file held is gone with it
        assert minutes_saved(db_path) == {"reddit.com": 4.0, "youtube.com": 1.0}
    finally:
        writer.close()


def test_a_lookup_the_store_refuses_does_not_stop_the_writer(db_path: Path) -> None:
    writer = Writer(db_path, flush_ms=50).start()
    try:
        beats(writer, "reddit.com", 0, 60)
        assert writer.flush()
        with contextlib.closing(sqlite3.connect(db_path)) as other:
            other.execute("ALTER TABLE activity RENAME TO activity_elsewhere")  # every lookup now fails
            other.commit()
        beats(writer, "youtube.com", 0, 60)
        assert not writer.flush(2), "a batch into a missing table cannot save"
        with contextlib.closing(sqlite3.connect(db_path)) as other:
            other.execute("ALTER TABLE activity_elsewhere RENAME TO activity")
            other.commit()
        beats(writer, "x.com", 0, 60)
        assert writer.flush(), "the writer stopped for good"
        assert "x.com" in minutes_saved(db_path)
    finally:
        writer.close()


def test_a_writer_stopped_by_an_unexpected_error_says_it_is_not_saving(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread died and /healthz went on saying "saving": the person lost every minute since, unwarned."""
    writer = Writer(db_path, flush_ms=50).start()
    try:
        monkeypatch.setattr("breather.store.writer._Batch.take", lambda *args: 1 / 0)
        beats(writer, "reddit.com", 0, 30)
        assert not writer.flush(2)
        assert writer.state()["saving"] is False and writer.state()["trouble"] == "stopped"
        later = writer.call(lambda db: None)
        with pytest.raises(RuntimeError):
            later.result(timeout=1)  # at once, not at the call's own time-out (a review)
    finally:
        writer.close()


def test_a_file_moved_aside_keeps_what_its_log_held(db_path: Path) -> None:
    """A review: SQLite does not copy the log into a file that was moved, and the new file took the log over: the
    file moved aside (as the "damaged" message says to) lost what was saved since the last checkpoint."""
    writer = Writer(db_path, flush_ms=50).start()
    try:
        beats(writer, "reddit.com", 0, 120)
        assert writer.flush()
        aside = db_path.with_name("breather.db.aside")
        db_path.rename(aside)
        beats(writer, "youtube.com", 0, 60)
        assert writer.flush()
        assert minutes_saved(aside) == {"reddit.com": 2.0}
        assert minutes_saved(db_path) == {"reddit.com": 2.0, "youtube.com": 1.0}  # the open span written whole again
    finally:
        writer.close()


def test_a_damaged_file_keeps_the_records_until_it_is_moved_aside(db_path: Path) -> None:
    """A robustness test damaged breather.db while the service ran: /healthz said "saving" and every batch was
    dropped after three tries. The writer now says the file is damaged and keeps what waits; moved aside, a new file
    gets it."""
    writer = Writer(db_path, flush_ms=50).start()
    try:
        beats(writer, "reddit.com", 0, 60)
        assert writer.flush()
        remove_database(db_path, ("", "-wal", "-shm"))
        db_path.write_bytes(b"this is no longer a database" * 200)  # a sync client's copy gone wrong
        beats(writer, "youtube.com", 0, 90)
        assert not writer.flush(3)
        assert writer.state()["trouble"] == "damaged" and writer.state()["held"] >= 3
        db_path.rename(db_path.with_name("breather.db.damaged"))
        assert writer.flush(10)
        assert minutes_saved(db_path) == {"reddit.com": 1.0, "youtube.com": 1.5}
    finally:
        writer.close()


def test_a_call_waiting_on_a_damaged_file_hears_at_the_stop(db_path: Path) -> None:
    """A stop with the usage file damaged waited a minute: a scheduler job's write waited out its own time-out."""
    writer = Writer(db_path, flush_ms=50).start()
    remove_database(db_path, ("", "-wal", "-shm"))
    db_path.write_bytes(b"this is no longer a database" * 200)
    waiting = writer.call(lambda db: None, timeout=60)
    beats(writer, "reddit.com", 0, 30)
    writer.flush(1)
    writer.close(timeout=2)
    with pytest.raises(RuntimeError):
        waiting.result(timeout=1)
