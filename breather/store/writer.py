"""The one writer thread: everything the store writes goes through here.

Proxy hooks and Flask views call ``heartbeat()``/``event()``, which only put a record on a queue and return (no
hook ever waits on the disk). The thread collects what arrives for up to ``flush_ms`` and commits it as one
transaction, so a crash loses at most the last batch. Anything else that must write (rollups, pruning, the
dashboard's own rows) goes through ``call(fn)``, which runs ``fn(db)`` inside the next batch and returns a Future.
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

from breather.store.db import open_database
from breather.store.model import Event, Heartbeat, epoch_from_iso, iso_from_epoch
from breather.store.queries import close_stale_spans, compact, delete_usage
from breather.store.spans import DEFAULT_PULSETIME_S, Span, SpanTracker

log = logging.getLogger(__name__)

DEFAULT_FLUSH_MS = 250
DEFAULT_MAX_QUEUE = 200_000
MAX_ATTEMPTS = 3


@dataclass
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)
    committed: bool = False


@dataclass
class _Call:
    fn: Callable[[Database], Any]
    future: Future[Any]
    result: Any = None


class _Stop:
    pass


@dataclass
class WriterStats:
    heartbeats: int = 0
    events: int = 0
    batches: int = 0
    dropped: int = 0
    failed_batches: int = 0


class Writer:
    def __init__(
        self,
        path: str | os.PathLike[str],
        flush_ms: int = DEFAULT_FLUSH_MS,
        pulsetime_s: float = DEFAULT_PULSETIME_S,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if flush_ms <= 0:
            raise ValueError(f"writer_flush_ms must be positive, got {flush_ms!r}")
        self.path = path
        self.flush_s = flush_ms / 1000
        self.pulsetime_s = pulsetime_s
        self.stats = WriterStats()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._closed = False

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

    def call(self, fn: Callable[[Database], Any]) -> Future[Any]:
        """Run ``fn(db)`` on the writer's connection inside the next batch; its result or error lands in the Future."""
        future: Future[Any] = Future()
        if not self._put(_Call(fn, future)):
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
        self._queue.put(_Stop())
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
        stopping = False
        while not stopping:
            markers: list[_Flush] = []
            stopping = self._collect(batch, markers)
            if stopping:
                batch.spans.close_all()
            else:
                batch.spans.evict_stale()
            self._commit(db, batch)
            for marker in markers:
                marker.committed = batch.is_empty()
                marker.done.set()

    def _collect(self, batch: _Batch, markers: list[_Flush]) -> bool:
        """Gather records for one batch: wait for the first, then take what arrives for up to ``flush_s``.

        Returns True when asked to stop. A batch left over from a failed commit is retried after ``flush_s``.
        """
        try:
            item = self._queue.get(timeout=None if batch.is_empty() else self.flush_s)
        except queue.Empty:
            return False
        deadline = time.monotonic() + self.flush_s
        while True:
            if isinstance(item, _Stop):
                return True
            if isinstance(item, _Flush):
                markers.append(item)
                return False
            batch.take(item, self.stats)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return False

    def _commit(self, db: Database, batch: _Batch) -> None:
        if batch.is_empty():
            return
        try:
            with db.atomic():
                new_ids = batch.write(db)
        except Exception:
            self.stats.failed_batches += 1
            batch.attempts += 1
            if batch.attempts < MAX_ATTEMPTS:
                log.exception("usage writer: batch failed (attempt %d), will retry", batch.attempts)
                return
            log.exception("usage writer: batch failed %d times, dropping it", batch.attempts)
            batch.drop()
            return
        self.stats.batches += 1
        if batch.usage_deleted():  # before the callers hear back, so a finished delete has left the file clean
            _after_usage_deleted(db, batch)
        batch.done(new_ids)


class _Batch:
    """What one transaction will write: changed spans, new events, new profiles, queued calls."""

    def __init__(self, spans: SpanTracker) -> None:
        self.spans = spans
        self.events: list[tuple[Any, ...]] = []
        self.profiles: dict[str, str] = {}
        self.known_profiles: set[str] = set()
        self.calls: list[_Call] = []
        self.attempts = 0

    def take(self, item: Any, stats: WriterStats) -> None:
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
        self._forget()

    def _forget(self) -> None:
        self.events = []
        self.profiles = {}
        self.calls = []
        self.attempts = 0


def _after_usage_deleted(db: Database, batch: _Batch) -> None:
    """Forget what the writer holds of the deleted usage, then compact the file so no old row stays in it."""
    batch.forget_usage()
    try:
        if not compact(db):
            log.warning(
                "usage deleted, but a reader kept the write-ahead log busy; it is emptied at a later checkpoint"
            )
    except Exception:
        log.exception("usage deleted, but compacting the file failed; freed pages were zeroed (secure_delete)")


def _run_call(db: Database, call: _Call) -> None:
    """Each call in its own savepoint: one failing call must not cost the whole batch."""
    try:
        with db.atomic():
            call.result = call.fn(db)
    except Exception as exc:
        log.exception("usage writer: a queued call failed")
        call.future.set_exception(exc)


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
