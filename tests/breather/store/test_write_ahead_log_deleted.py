"""The write-ahead log deleted while the writer runs (a clean-up tool sweeping ``*-wal``): what was committed is
copied into ``breather.db`` at once, and what is written next still reaches it, so a crash loses nothing and new
readers see every row (they met "disk I/O error", and a crash lost everything since the last checkpoint)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from breather.store.model import Event
from breather.store.writer import Writer


def rows_in_the_file_alone(database: Path, tmp_path: Path) -> int:
    """Events in a copy of ``breather.db`` alone, as a crash would leave it without the deleted log."""
    copy = tmp_path / "after-a-crash.db"
    copy.write_bytes(database.read_bytes())
    with contextlib.closing(sqlite3.connect(copy)) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # not even the tables reached the file
            return 0


def test_a_deleted_write_ahead_log_is_copied_into_the_database(db_path: Path, tmp_path: Path) -> None:
    writer = Writer(db_path, flush_ms=50).start()
    start = datetime.now(UTC)
    try:
        for seq in range(20):
            writer.event(Event("sam", "warning_shown", start + timedelta(seconds=seq), site="x.com"))
        assert writer.flush()
        os.unlink(f"{db_path}-wal")
        time.sleep(1.5)  # the idle writer looks at its log every second
        assert rows_in_the_file_alone(db_path, tmp_path) == 20, "what was committed lives only in the deleted log"
        writer.event(Event("sam", "warning_shown", start + timedelta(seconds=30), site="x.com"))
        assert writer.flush()
        assert rows_in_the_file_alone(db_path, tmp_path) == 21, "what is saved next goes only to the deleted log"
        with contextlib.closing(sqlite3.connect(db_path)) as reader:
            assert reader.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 21
    finally:
        writer.close()
