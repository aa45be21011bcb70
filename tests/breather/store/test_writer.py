from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from breather.store import queries
from breather.store.db import open_database
from breather.store.model import Event, Heartbeat
from breather.store.writer import MAX_ATTEMPTS, StoreLocked, Writer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def activity(db: Database) -> list[tuple[str, str, str, str, float, int]]:
    return [
        tuple(row)
        for row in db.execute('SELECT profile, site, start, "end", duration_s, is_open FROM activity ORDER BY start')
    ]


def test_heartbeats_become_spans_in_the_database(writer: Writer, db: Database) -> None:
    for second in range(0, 300, 20):
        writer.heartbeat(Heartbeat("sam", "reddit.com", at(second)))
    writer.heartbeat(Heartbeat("sam", "reddit.com", at(1000), duration_s=30, source="extension"))
    assert writer.flush()
    assert activity(db) == [
        (
            "sam",
            "reddit.com",
            at(0).isoformat(timespec="microseconds"),
            at(280).isoformat(timespec="microseconds"),
            280.0,
            0,
        ),
        (
            "sam",
            "reddit.com",
            at(1000).isoformat(timespec="microseconds"),
            at(1030).isoformat(timespec="microseconds"),
            30.0,
            1,
        ),
    ]
    assert [row["name"] for row in db["profiles"].rows] == ["sam"]


def test_a_span_keeps_growing_across_batches(writer: Writer, db: Database) -> None:
    writer.heartbeat(Heartbeat("sam", "x.com", at(0)))
    writer.flush()
    writer.heartbeat(Heartbeat("sam", "x.com", at(40)))
    writer.flush()
    assert [(row[4], row[5]) for row in activity(db)] == [(40.0, 1)]


def test_after_a_restart_a_heartbeat_extends_the_span_in_the_file(db_path: Path, db: Database) -> None:
    first = Writer(db_path, flush_ms=20).start()
    first.heartbeat(Heartbeat("sam", "x.com", at(0)))
    first.heartbeat(Heartbeat("sam", "x.com", at(30)))
    first.close()
    second = Writer(db_path, flush_ms=20).start()
    second.heartbeat(Heartbeat("sam", "x.com", at(75)))
    second.close()
    assert [(row[4], row[5]) for row in activity(db)] == [(75.0, 0)]


def test_close_commits_the_queue_and_closes_open_spans(db_path: Path, db: Database) -> None:
    writer = Writer(db_path, flush_ms=10_000).start()
    writer.heartbeat(Heartbeat("sam", "x.com", at(0), duration_s=5))
    writer.event(Event("sam", "break_shown", at(5), site="x.com"))
    writer.close()
    assert [(row[4], row[5]) for row in activity(db)] == [(5.0, 0)]
    assert db["events"].count == 1
    writer.heartbeat(Heartbeat("sam", "x.com", at(10)))  # after close: dropped quietly, no exception


def test_events_keep_kind_category_and_detail(writer: Writer, db: Database) -> None:
    writer.event(
        Event("sam", "warning_shown", at(1), site="reddit.com", category="self_harm", detail={"field": "sensitive"})
    )
    writer.event(Event("alex", "rules_reloaded", at(2)))
    writer.flush()
    rows = list(db.execute("SELECT profile, kind, site, category, detail FROM events ORDER BY id"))
    assert rows == [
        ("sam", "warning_shown", "reddit.com", "self_harm", '{"field": "sensitive"}'),
        ("alex", "rules_reloaded", None, None, None),
    ]


def test_call_runs_on_the_writer_and_returns_its_result(writer: Writer) -> None:
    future = writer.call(lambda db: db.execute("SELECT COUNT(*) FROM profiles").fetchone()[0])
    assert future.result(timeout=5) == 0
    assert writer.call(lambda db: threading.current_thread().name).result(timeout=5) == "breather-store-writer"


def test_a_failing_call_reports_to_its_caller_and_the_batch_still_commits(
    writer: Writer, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(database: Database) -> None:
        database.execute("INSERT INTO nowhere VALUES (1)")

    writer.heartbeat(Heartbeat("sam", "x.com", at(0)))
    with caplog.at_level(logging.ERROR, logger="breather.store.writer"):
        future = writer.call(broken)
        with pytest.raises(Exception, match="nowhere"):
            future.result(timeout=5)
    writer.flush()
    assert db["activity"].count == 1
    assert "a queued call failed" in caplog.text


def test_a_full_queue_drops_and_counts_instead_of_blocking(db_path: Path) -> None:
    writer = Writer(db_path, max_queue=3)  # not started: nothing drains the queue
    for second in range(5):
        writer.heartbeat(Heartbeat("sam", "x.com", at(second)))
    assert writer.stats.dropped == 2
    assert writer.call(lambda db: None).exception(timeout=1) is not None


def test_start_fails_loudly_when_the_database_cannot_open(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        Writer(blocker / "breather.db").start()


def test_readers_on_other_threads_read_while_the_writer_writes(writer: Writer, db_path: Path) -> None:
    seen: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    stop = threading.Event()

    def count(reader: Database) -> int:
        return int(reader.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def read() -> None:
        mine = seen.setdefault(threading.current_thread().name, [])
        reader = open_database(db_path)
        try:
            while not stop.is_set():
                mine.append(count(reader))
            mine.append(count(reader))
        except BaseException as exc:
            errors.append(exc)
        finally:
            reader.close()

    readers = [threading.Thread(target=read, name=f"reader-{n}") for n in range(3)]
    for thread in readers:
        thread.start()
    for second in range(3000):
        writer.event(Event("sam", "warning_shown", at(second), site="x.com", category="violence"))
        if second % 500 == 0:
            writer.flush()
    writer.flush()
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert len(seen) == 3
    for counts in seen.values():
        assert counts == sorted(counts)  # a reader never sees rows vanish or a batch half-applied and undone
        assert counts[-1] == 3000


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Heartbeat("sam", "https://reddit.com/r/x", T0), "bare domain"),
        (lambda: Heartbeat("sam", "reddit.com", datetime(2026, 1, 1)), "timezone-aware"),
        (lambda: Heartbeat("sam", "reddit.com", T0, source="mail"), "source"),
        (lambda: Heartbeat("", "reddit.com", T0), "profile"),
        (lambda: Event("sam", "warning_clicked", T0), "unknown event kind"),
        (lambda: Event("sam", "warning_shown", T0, detail={"post": "https://x.com/a/status/1"}), "no URLs"),
        (lambda: Event("sam", "warning_shown", T0, detail={"text": "a" * 65}), "short label"),
        (lambda: Event("sam", "warning_shown", T0, detail={"text": "I want to die tonight"}), "short label"),
        (lambda: Event("sam", "warning_shown", T0, detail={"nested": {"a": 1}}), "short text"),
    ],
)
def test_bad_records_fail_in_the_callers_frame_with_a_clear_message(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_a_detail_label_of_the_longest_length_is_kept() -> None:
    assert Event("sam", "break_shown", T0, detail={"exercise": "a" * 64}).detail == {"exercise": "a" * 64}


def test_a_failed_batch_is_logged_kept_and_committed_once_the_file_recovers(
    writer: Writer, db_path: Path, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    writer.heartbeat(Heartbeat("sam", "x.com", at(0)))
    assert writer.flush()
    db.execute("ALTER TABLE events RENAME TO events_away")
    with caplog.at_level(logging.ERROR, logger="breather.store.writer"):
        writer.event(Event("sam", "break_shown", at(1)))  # the caller is never handed the failure
        assert writer.flush() is False
    assert "batch failed (attempt 1), will retry" in caplog.text
    db.execute("ALTER TABLE events_away RENAME TO events")
    assert writer.flush()
    assert [row["kind"] for row in db["events"].rows] == ["break_shown"]
    assert writer.stats.failed_batches == 1


def test_deleting_all_usage_through_the_writer_forgets_open_spans_and_leaves_no_trace(
    writer: Writer, db: Database, db_path: Path
) -> None:
    """The Data page's "Delete everything" runs ``delete_usage`` on the writer while spans are still open."""
    site = "quokka-telltale-forum.example"
    writer.call(lambda conn: conn.execute("PRAGMA secure_delete = OFF")).result(5)  # as on builds without it
    for second in range(0, 120, 20):
        writer.heartbeat(Heartbeat("sam", site, at(second)))
        writer.event(Event("sam", "warning_shown", at(second), site=site, category="violence"))
    assert writer.flush()
    assert activity(db)[0][5] == 1  # still open
    removed = writer.call(queries.delete_usage).result(10)
    assert removed["activity"] == 1 and removed["events"] == 6 and removed["profiles"] == 1
    for path in db_path.parent.glob(db_path.name + "*"):
        assert site.encode() not in path.read_bytes(), path
    # Within pulsetime of the deleted span's end: it must start afresh, not revive the deleted span's row id
    # (which the next new span gets again, as the table is empty).
    writer.heartbeat(Heartbeat("sam", site, at(130)))
    writer.heartbeat(Heartbeat("sam", "x.com", at(140)))
    assert writer.flush()
    assert [(row[1], row[2], row[3]) for row in activity(db)] == [
        (site, at(130).isoformat(timespec="microseconds"), at(130).isoformat(timespec="microseconds")),
        ("x.com", at(140).isoformat(timespec="microseconds"), at(140).isoformat(timespec="microseconds")),
    ]
    assert [row["name"] for row in db["profiles"].rows] == ["sam"]


def test_a_delete_while_another_program_reads_the_file_says_so_and_empties_the_log_once_it_closes(
    db_path: Path,
) -> None:
    """DB Browser or a sqlite3 shell reading the file (docs/store.md invites it) kept the deleted rows in
    ``breather.db-wal`` for as long as the service ran, while the Data page said they were deleted."""
    site = "quokka-telltale-forum.example"
    wal = db_path.with_name(db_path.name + "-wal")
    writer = Writer(db_path, flush_ms=20, busy_timeout_ms=SHORT_BUSY_MS).start()
    try:
        for second in range(0, 120, 20):
            writer.event(Event("sam", "warning_shown", at(second), site=site, category="violence"))
        assert writer.flush()
        reader = sqlite3.connect(db_path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM events").fetchone()
        assert writer.call(queries.delete_usage).result(10)["events"] == 6
        assert writer.old_copies_remain, "the caller must hear that the log still holds old copies"
        assert site.encode() in wal.read_bytes()
        reader.execute("ROLLBACK")
        reader.close()
        wait_for(lambda: not writer.old_copies_remain)  # nothing else is written: the idle writer tries again
        for path in db_path.parent.glob(db_path.name + "*"):
            assert site.encode() not in path.read_bytes(), path
    finally:
        writer.close()


# -- another program holding the store's write lock (a `sqlite3` shell in BEGIN, DB Browser with unsaved edits) -----

SHORT_BUSY_MS = 100  # each attempt waits this long for the lock instead of the service's 5 s


@contextmanager
def another_program_holds_the_write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_what_is_logged_while_another_program_holds_the_lock_is_all_kept(
    db_path: Path, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    writer = Writer(db_path, flush_ms=20, busy_timeout_ms=SHORT_BUSY_MS).start()
    with caplog.at_level(logging.WARNING, logger="breather.store.writer"):
        with another_program_holds_the_write_lock(db_path):
            for n in range(10):
                writer.event(Event("maya", "limit_reached", at(n), site="reddit.com", detail={"n": n}))
                writer.heartbeat(Heartbeat("maya", "reddit.com", at(n)))
            # far more tries than a broken batch gets: the lock must not cost the batch
            wait_for(lambda: writer.stats.locked_attempts > MAX_ATTEMPTS + 2)
            assert writer.flush(timeout=5) is False  # not saved yet, and said so
        assert writer.flush(timeout=10)
    writer.close()
    assert [row["detail"] for row in db["events"].rows] == [f'{{"n": {n}}}' for n in range(10)]
    assert [row["name"] for row in db["profiles"].rows] == ["maya"]
    assert [(row[1], row[4]) for row in activity(db)] == [("reddit.com", 9.0)]
    assert "another program holds the store's write lock" in caplog.text
    assert "writable again" in caplog.text


def test_a_write_whose_caller_stopped_waiting_during_a_lock_fails_and_never_lands(db_path: Path, db: Database) -> None:
    """The dashboard waits so long for its write and then says it failed: the write must not be made later."""
    writer = Writer(db_path, flush_ms=20, busy_timeout_ms=SHORT_BUSY_MS).start()
    with another_program_holds_the_write_lock(db_path):
        writer.event(Event("maya", "more_time_asked", at(0), site="reddit.com"))
        impatient = writer.call(lambda d: queries.set_meta(d, "impatient", "yes", at(0)), timeout=0.5)
        patient = writer.call(lambda d: queries.set_meta(d, "patient", "yes", at(0)), timeout=60)
        with pytest.raises(StoreLocked):
            impatient.result(timeout=5)
        assert not patient.done()
    patient.result(timeout=10)
    writer.close()
    assert [row["key"] for row in db["meta"].rows_where("key in ('impatient', 'patient')")] == ["patient"]
    assert db["events"].count == 1


def test_a_long_lock_keeps_memory_bounded_and_counts_what_it_drops(db_path: Path, db: Database) -> None:
    writer = Writer(db_path, flush_ms=20, busy_timeout_ms=SHORT_BUSY_MS, max_queue=50).start()
    with another_program_holds_the_write_lock(db_path):
        writer.event(Event("maya", "warning_shown", at(0), site="reddit.com", category="violence"))
        wait_for(lambda: writer.stats.locked_attempts > 0)
        for n in range(1, 400):
            writer.event(Event("maya", "warning_shown", at(n), site="reddit.com", category="violence"))
            if n % 50 == 0:
                time.sleep(0.05)  # let the writer take what it can between its tries
        wait_for(lambda: writer.backlog() == 0)
    assert writer.flush(timeout=10)
    writer.close()
    stored = db["events"].count
    assert stored + writer.stats.dropped == 400
    assert 0 < stored <= 100  # the batch (50) and the queue (50) at most
    assert writer.stats.dropped >= 300


def test_a_dropped_batch_forgets_its_new_profiles_so_they_are_written_later(
    db_path: Path, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    writer = Writer(db_path, flush_ms=20).start()
    db.execute("ALTER TABLE events RENAME TO events_away")
    with caplog.at_level(logging.ERROR, logger="breather.store.writer"):
        writer.event(Event("ana", "break_shown", at(0)))
        wait_for(lambda: "dropping it" in caplog.text)
    db.execute("ALTER TABLE events_away RENAME TO events")
    writer.event(Event("ana", "break_taken", at(60)))
    assert writer.flush()
    writer.close()
    assert [row["kind"] for row in db["events"].rows] == ["break_taken"]
    assert [row["name"] for row in db["profiles"].rows] == ["ana"]


def test_deleting_one_members_records_leaves_no_trace_of_them_on_disk(writer: Writer, db_path: Path) -> None:
    """The Data page's "Delete one member's records": the site they visited is in none of the store's files
    afterwards (not in the write-ahead log, not in freed pages), while the other member's record stays readable."""
    theirs, others = "quokka-telltale-forum.example", "wombat-kept-forum.example"
    writer.call(lambda conn: conn.execute("PRAGMA secure_delete = OFF")).result(5)  # as on builds without it
    for second in range(0, 120, 20):
        writer.heartbeat(Heartbeat("sam", theirs, at(second)))
        writer.event(Event("sam", "warning_shown", at(second), site=theirs, category="violence"))
        writer.heartbeat(Heartbeat("ana", others, at(second)))
    assert writer.flush()
    removed = writer.call(queries.MemberDeletion("sam", at(120))).result(10)
    assert removed["activity"] == 1 and removed["events"] == 6
    files = {path: path.read_bytes() for path in db_path.parent.glob(db_path.name + "*")}
    for path, data in files.items():
        assert theirs.encode() not in data, path
    assert any(others.encode() in data for data in files.values())


def test_deleting_one_members_records_forgets_their_open_span_and_keeps_everyone_elses(tmp_path: Path) -> None:
    """After one member's rows are deleted, their next heartbeat starts a new span (their open span's row is gone)
    and another member's open span goes on in its own row."""
    start = datetime(2026, 5, 3, 10, 0, tzinfo=UTC)
    writer = Writer(tmp_path / "b.db", flush_ms=20).start()
    try:
        for member in ("sam", "ana"):
            writer.heartbeat(Heartbeat(member, "reddit.com", start, duration_s=30))
        assert writer.flush(5)
        removed = writer.call(queries.MemberDeletion("sam", start)).result(5)
        assert removed["activity"] == 1 and removed["profiles"] == 1
        for member in ("sam", "ana"):
            writer.heartbeat(Heartbeat(member, "reddit.com", start + timedelta(seconds=30), duration_s=30))
        assert writer.flush(5)
    finally:
        writer.close()
    db = open_database(tmp_path / "b.db")
    try:
        rows = {row["profile"]: row for row in db["activity"].rows}
        assert set(rows) == {"sam", "ana"} and db["activity"].count == 2
        assert rows["ana"]["duration_s"] == 60  # one span, carried on across the deletion
        assert rows["sam"]["duration_s"] == 30 and rows["sam"]["start"].startswith("2026-05-03T10:00:30")
        assert [row["name"] for row in db["profiles"].rows] == ["ana", "sam"]  # sam seen again since
    finally:
        db.close()
