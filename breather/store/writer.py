"""The one writer thread: everything the store writes goes through here.

Proxy hooks and Flask views call ``heartbeat()``/``event()``, which only put a record on a queue and return (no
hook ever waits on the disk). The thread collects what arrives for up to ``flush_ms`` and commits it as one
transaction, so a crash loses at most the last batch. Anything else that must write (rollups, pruning, the
dashboard's own rows) goes through ``call(fn)``, which runs ``fn(db)`` inside the next batch and returns a Future.

When another program holds the file's write lock (a ``sqlite3`` shell in ``BEGIN``, DB Browser with unsaved edits),
the batch is kept and retried until the lock is released, however long that takes: a lock is not a broken batch.
What the writer holds meanwhile is bounded (``max_queue`` records in the batch, as many in the queue; past that,
records are dropped and counted). A queued call is the exception: its caller waits only so long, so a call that
could not be committed within its ``timeout`` fails (``StoreLocked``) and never runs later.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from breather.store.db import BUSY_TIMEOUT_MS, open_database
from breather.store.model import Event, Heartbeat, epoch_from_iso, iso_from_epoch
from breather.store.queries import close_stale_spans, compact, delete_usage
from breather.store.spans import DEFAULT_PULSETIME_S, Span, SpanTracker

log = logging.getLogger(__name__)

DEFAULT_FLUSH_MS = 250
DEFAULT_MAX_QUEUE = 200_000
MAX_ATTEMPTS = 3  # for a batch that fails for a reason other than a lock held by another program
DEFAULT_CALL_TIMEOUT_S = 10.0  # as long as the dashboard waits for its writes (dashboard.context.WRITE_TIMEOUT_S)
LOCK_BACKOFF_MAX_S = 2.0
LOCK_LOG_EVERY_S = 60.0
COMPACT_RETRY_S = 1.0  # how often an idle writer tries again to empty a write-ahead log a reader kept busy


class StoreLocked(RuntimeError):
    """Another program held the store's write lock for longer than a queued call's caller would wait."""


@dataclass
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)
    committed: bool = False


@dataclass
class _Call:
    fn: Callable[[Database], Any]
    future: Future[Any]
    result: Any = None
    deadline: float | None = None  # time.monotonic(): past it the caller has given up waiting


@dataclass
class _Stop:
    deadline: float  # time.monotonic(): until when a locked store is waited for before the last batch is given up


@dataclass
class WriterStats:
    heartbeats: int = 0
    events: int = 0
    batches: int = 0
    dropped: int = 0
    failed_batches: int = 0
    locked_attempts: int = 0


class Writer:
    def __init__(
        self,
        path: str | os.PathLike[str],
        flush_ms: int = DEFAULT_FLUSH_MS,
        pulsetime_s: float = DEFAULT_PULSETIME_S,
        max_queue: int = DEFAULT_MAX_QUEUE,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        if flush_ms <= 0:
            raise ValueError(f"writer_flush_ms must be positive, got {flush_ms!r}")
        self.path = path
        self.flush_s = flush_ms / 1000
        self.pulsetime_s = pulsetime_s
        self.busy_timeout_ms = busy_timeout_ms
        self.max_batch = max_queue
        self.stats = WriterStats()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._closed = False
        # After "Delete everything": whether old copies of the deleted rows may still be in the ``-wal`` file (another
        # program was reading, so the log could not be emptied). Set before the delete's caller hears back; cleared
        # once a later checkpoint empties the log.
        self.old_copies_remain = False

    # -- the callers' side: never blocks on the disk ------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> Writer:
        """Start the thread and wait until the database is open (a broken store fails here, loudly, once)."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="breather-store-writer", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the usage store at {self.path} did not open within {timeout} s")
        if self._start_error is not None:
            raise self._start_error
        return self

    def heartbeat(self, heartbeat: Heartbeat) -> None:
        self._put(heartbeat)

    def event(self, event: Event) -> None:
        self._put(event)

    def call(self, fn: Callable[[Database], Any], timeout: float | None = DEFAULT_CALL_TIMEOUT_S) -> Future[Any]:
        """Run ``fn(db)`` on the writer's connection inside the next batch; its result or error lands in the Future.

        ``timeout``: how long the caller waits for it at most. While another program holds the store's lock, a
        call whose batch could not commit before then fails with ``StoreLocked`` and is never run afterwards, so a
        write the caller reported as failed does not land later. (Without a lock it runs whenever its batch does.)
        """
        future: Future[Any] = Future()
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._put(_Call(fn, future, deadline=deadline)):
            future.set_exception(RuntimeError("the usage writer is not accepting work (closed or full)"))
        return future

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until everything queued so far is committed. False if it was not (a failed batch) or not in time."""
        if self._thread is None or not self._thread.is_alive():
            return False
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout) and marker.committed

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, close every open span, stop the thread."""
        if self._closed:
            return
        self._closed = True
        if self._thread is None:
            return
        self._queue.put(_Stop(deadline=time.monotonic() + timeout * 0.8))
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("usage writer did not stop within %s s; the last batch may be lost", timeout)

    def backlog(self) -> int:
        return self._queue.qsize()

    def _put(self, item: Any) -> bool:
        if self._closed:
            log.debug("usage writer closed; dropped %s", type(item).__name__)
            return False
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.stats.dropped += 1
            if self.stats.dropped % 10_000 == 1:
                log.warning("usage writer queue is full: %d records dropped so far", self.stats.dropped)
            return False
        return True

    # -- the writer thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            db = open_database(self.path)
            if self.busy_timeout_ms != BUSY_TIMEOUT_MS:
                db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            # a log reset after a checkpoint shrinks to what is written next: no old page lingers past its end
            db.execute("PRAGMA journal_size_limit = 0")
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            return
        try:
            close_stale_spans(db, datetime.now(UTC), self.pulsetime_s)
        except Exception:
            log.exception("usage writer: could not close spans left open by the last run")
        self._ready.set()
        batch = _Batch(SpanTracker(self.pulsetime_s, lookup=lambda p, s, since: _find_span(db, p, s, since)))
        try:
            self._loop(db, batch)
        finally:
            db.close()

    def _loop(self, db: Database, batch: _Batch) -> None:
        stop: _Stop | None = None
        while stop is None:
            markers: list[_Flush] = []
            stop = self._collect(batch, markers)
            if stop is not None:
                batch.spans.close_all()
            else:
                batch.spans.evict_stale()
            self._commit(db, batch)
            if self.old_copies_remain:
                self._empty_the_log(db)
            if stop is not None:
                self._last_commit(db, batch, stop)
            for marker in markers:
                marker.committed = batch.is_empty()
                marker.done.set()

    def _collect(self, batch: _Batch, markers: list[_Flush]) -> _Stop | None:
        """Gather records for one batch: wait for the first, then take what arrives for up to ``flush_s``.

        Returns the stop request when asked to stop. A batch left over from a failed commit is retried after
        ``flush_s``, or once its back-off ends when the store was locked; what arrives meanwhile joins it.
        """
        waiting: float | None = max(self.flush_s, batch.retry_at - time.monotonic())
        if batch.is_empty():  # nothing to retry: wait for work, or wake to empty a log a reader kept busy
            waiting = COMPACT_RETRY_S if self.old_copies_remain else None
        try:
            item = self._queue.get(timeout=waiting)
        except queue.Empty:
            return None
        deadline = max(time.monotonic() + self.flush_s, batch.retry_at)
        while True:
            if isinstance(item, _Stop):
                return item
            if isinstance(item, _Flush):
                markers.append(item)
                return None
            if batch.size < self.max_batch:
                batch.take(item, self.stats)
            else:
                self._refuse(item)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return None

    def _refuse(self, item: Any) -> None:
        """The batch already holds ``max_queue`` records (a store locked for very long): drop and count, as a full
        queue does, so memory stays bounded."""
        self.stats.dropped += 1
        if isinstance(item, _Call) and not item.future.done():
            item.future.set_exception(StoreLocked("the usage store is locked and the writer is full"))
        if self.stats.dropped % 10_000 == 1:
            log.warning("usage writer: the store stays locked and the batch is full: %d dropped", self.stats.dropped)

    def _commit(self, db: Database, batch: _Batch) -> None:
        if batch.is_empty():
            return
        if batch.locked_since is not None:
            # the next attempt may wait out the busy timeout: a call whose caller gives up before then is failed
            batch.expire_calls(time.monotonic() + self.busy_timeout_ms / 1000)
        try:
            with db.atomic():
                new_ids = batch.write(db)
        except Exception as exc:
            self.stats.failed_batches += 1
            if _is_locked(exc):
                self._locked(batch)
                return
            batch.attempts += 1
            if batch.attempts < MAX_ATTEMPTS:
                log.exception("usage writer: batch failed (attempt %d), will retry", batch.attempts)
                return
            log.exception("usage writer: batch failed %d times, dropping it", batch.attempts)
            batch.drop()
            return
        self.stats.batches += 1
        if batch.locked_since is not None:
            log.warning(
                "usage writer: the store is writable again after %.1f s; the %d record(s) kept meanwhile are saved",
                time.monotonic() - batch.locked_since,
                batch.size,
            )
        if batch.usage_deleted():  # before the callers hear back, so a finished delete has left the file clean
            self.old_copies_remain = not _after_usage_deleted(db, batch)
        batch.done(new_ids)

    def _empty_the_log(self, db: Database) -> None:
        """Try again to copy the log back and truncate it, without waiting: a reader still on an old snapshot only
        means the next try (after the next batch, or ``COMPACT_RETRY_S`` when idle)."""
        db.execute("PRAGMA busy_timeout = 0")
        try:
            busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            busy = 1
            log.debug("usage writer: emptying the write-ahead log failed (%s); trying again later", exc)
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        if not busy:
            self.old_copies_remain = False
            log.info("usage writer: the write-ahead log is emptied; no copy of the deleted usage is left in it")

    def _locked(self, batch: _Batch) -> None:
        """Another program holds the write lock: keep the whole batch (it does not count as an attempt) and retry
        after a back-off that grows to ``LOCK_BACKOFF_MAX_S``; the busy timeout already waited on each try."""
        self.stats.locked_attempts += 1
        now = time.monotonic()
        if batch.locked_since is None:
            batch.locked_since = now
            batch.lock_logged = now
            log.warning(
                "usage writer: another program holds the store's write lock (%s); keeping %d record(s) and "
                "retrying until it is released",
                self.path,
                batch.size,
            )
        elif now - batch.lock_logged >= LOCK_LOG_EVERY_S:
            batch.lock_logged = now
            log.warning(
                "usage writer: the store is still locked by another program after %.0f s; %d record(s) kept",
                now - batch.locked_since,
                batch.size,
            )
        batch.lock_tries += 1
        batch.retry_at = now + min(self.flush_s * 2 ** min(batch.lock_tries, 16), LOCK_BACKOFF_MAX_S)

    def _last_commit(self, db: Database, batch: _Batch, stop: _Stop) -> None:
        """On close: while the store is locked, keep trying until the stop's deadline, then say what is lost."""
        busy_s = self.busy_timeout_ms / 1000
        while batch.locked_since is not None and not batch.is_empty():
            pause = max(0.0, batch.retry_at - time.monotonic())
            if time.monotonic() + pause + busy_s > stop.deadline:
                log.error(
                    "usage writer: the store stayed locked by another program; %d record(s) were not saved",
                    batch.size,
                )
                batch.drop()
                return
            time.sleep(pause)
            self._commit(db, batch)


class _Batch:
    """What one transaction will write: changed spans, new events, new profiles, queued calls."""

    def __init__(self, spans: SpanTracker) -> None:
        self.spans = spans
        self.events: list[tuple[Any, ...]] = []
        self.profiles: dict[str, str] = {}
        self.known_profiles: set[str] = set()
        self.calls: list[_Call] = []
        self.attempts = 0
        self.size = 0  # records taken since the last commit (or drop): what bounds the batch's memory
        self.locked_since: float | None = None  # time.monotonic() of the first attempt another program's lock failed
        self.lock_logged = 0.0
        self.lock_tries = 0
        self.retry_at = 0.0

    def take(self, item: Any, stats: WriterStats) -> None:
        self.size += 1
        if isinstance(item, Heartbeat):
            stats.heartbeats += 1
            at = item.at.timestamp()
            self._profile(item.profile, at)
            self.spans.add(item.profile, item.site, at, item.duration_s, item.source)
        elif isinstance(item, Event):
            stats.events += 1
            at = item.at.timestamp()
            self._profile(item.profile, at)
            self.events.append(
                (iso_from_epoch(at), item.profile, item.kind, item.site, item.category, item.detail_json())
            )
        elif isinstance(item, _Call):
            self.calls.append(item)
        else:
            log.error("usage writer: ignored an unknown record %r", type(item).__name__)

    def _profile(self, name: str, at: float) -> None:
        if name not in self.known_profiles:
            self.known_profiles.add(name)
            self.profiles[name] = iso_from_epoch(at)

    def usage_deleted(self) -> bool:
        """Whether a ``delete_usage`` call in this batch succeeded (a failed call has its Future done already)."""
        return any(call.fn is delete_usage and not call.future.done() for call in self.calls)

    def forget_usage(self) -> None:
        """After ``delete_usage``: the open spans' rows are gone (and their ids will be given again), so forget
        them; the next heartbeat starts a new span. Profiles are written again when next seen."""
        self.spans.forget_open()
        self.known_profiles.clear()

    def expire_calls(self, latest_end: float) -> None:
        """Fail the calls whose caller stops waiting before ``latest_end``: they must not land after it gave up."""
        for call in self.calls:
            if call.deadline is not None and call.deadline < latest_end and not call.future.done():
                call.future.set_exception(
                    StoreLocked("another program holds the usage store's write lock; this write was not made")
                )
        self.calls = [call for call in self.calls if not call.future.done()]

    def is_empty(self) -> bool:
        changed, closed = self.spans.pending()
        return not (changed or closed or self.events or self.profiles or self.calls)

    def write(self, db: Database) -> dict[int, int]:
        conn = db.conn
        conn.executemany("INSERT OR IGNORE INTO profiles (name, created) VALUES (?, ?)", list(self.profiles.items()))
        changed, closed = self.spans.pending()
        # Only spans that stay open need their new row id back; the rest are written in bulk.
        new_ids = {id(span): _insert_span(conn, span) for span in changed if span.row_id is None}
        _update_spans(conn, [span for span in changed if id(span) not in new_ids], is_open=1)
        _update_spans(conn, [span for span in closed if span.row_id is not None], is_open=0)
        conn.executemany(
            _INSERT_SPAN, [_span_values(span, 0) + _span_key(span) for span in closed if span.row_id is None]
        )
        conn.executemany(
            "INSERT INTO events (at, profile, kind, site, category, detail) VALUES (?, ?, ?, ?, ?, ?)", self.events
        )
        for call in self.calls:
            if not call.future.done():  # a call that failed on its own in an earlier attempt was told so already
                _run_call(db, call)
        return new_ids

    def done(self, new_ids: dict[int, int]) -> None:
        self.spans.written(new_ids)
        for call in self.calls:
            if not call.future.done():
                call.future.set_result(call.result)
        self._forget()

    def drop(self) -> None:
        self.spans.written({})
        for call in self.calls:
            if not call.future.done():
                call.future.set_exception(RuntimeError("the usage writer could not commit this batch"))
        self.known_profiles -= self.profiles.keys()  # not written: queue them again when next seen
        self._forget()

    def _forget(self) -> None:
        self.events = []
        self.profiles = {}
        self.calls = []
        self.attempts = 0
        self.size = 0
        self.locked_since = None
        self.lock_tries = 0
        self.retry_at = 0.0


def _after_usage_deleted(db: Database, batch: _Batch) -> bool:
    """Forget what the writer holds of the deleted usage, then compact the file so no old row stays in it. False
    when old copies may remain in the write-ahead log: the writer then keeps trying to empty it."""
    batch.forget_usage()
    try:
        if compact(db):
            return True
        log.warning("usage deleted, but a reader kept the write-ahead log busy; it is emptied at a later checkpoint")
    except Exception:
        log.exception("usage deleted, but compacting the file failed; freed pages were zeroed (secure_delete)")
    return False


def _run_call(db: Database, call: _Call) -> None:
    """Each call in its own savepoint: one failing call must not cost the whole batch. A lock another program
    holds is not the call's failure: it fails the batch, which is kept and retried with the call in it."""
    try:
        with db.atomic():
            call.result = call.fn(db)
    except Exception as exc:
        if _is_locked(exc):
            raise
        log.exception("usage writer: a queued call failed")
        call.future.set_exception(exc)


def _is_locked(exc: BaseException) -> bool:
    """SQLITE_BUSY and its extended codes ("database is locked"): another connection, most often another program,
    holds the write lock past the busy timeout. (SQLITE_LOCKED is a conflict within one connection: retrying
    would not end it, so it stays an ordinary failure.)"""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == sqlite3.SQLITE_BUSY)
    return "database is locked" in str(exc)


_INSERT_SPAN = (
    'INSERT INTO activity (start, "end", duration_s, is_open, profile, site, source) VALUES (?, ?, ?, ?, ?, ?, ?)'
)


def _span_values(span: Span, is_open: int) -> tuple[str, str, float, int]:
    return iso_from_epoch(span.start), iso_from_epoch(span.end), span.duration_s, is_open


def _span_key(span: Span) -> tuple[str, str, str]:
    return span.profile, span.site, span.source


def _insert_span(conn: sqlite3.Connection, span: Span) -> int:
    row_id = conn.execute(_INSERT_SPAN, _span_values(span, 1) + _span_key(span)).lastrowid
    assert row_id is not None
    return row_id


def _update_spans(conn: sqlite3.Connection, spans: list[Span], is_open: int) -> None:
    conn.executemany(
        'UPDATE activity SET start = ?, "end" = ?, duration_s = ?, is_open = ? WHERE id = ?',
        [(*_span_values(span, is_open), span.row_id) for span in spans],
    )


def _find_span(db: Database, profile: str, site: str, ends_after: float) -> Span | None:
    row = db.execute(
        'SELECT id, start, "end", source FROM activity WHERE profile = ? AND site = ? AND "end" >= ? '
        'ORDER BY "end" DESC LIMIT 1',
        (profile, site, iso_from_epoch(ends_after)),
    ).fetchone()
    if row is None:
        return None
    row_id, start, end, source = row
    return Span(profile, site, epoch_from_iso(start), epoch_from_iso(end), source, row_id=row_id, dirty=False)
