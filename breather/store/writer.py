"""The one writer thread: everything the store writes goes through here.

Proxy hooks and Flask views call ``heartbeat()``/``event()``, which only put a record on a queue and return (no
hook ever waits on the disk). The thread collects what arrives for up to ``flush_ms`` and commits it as one
transaction, so a crash loses at most the last batch. Anything else that must write (rollups, pruning, the
dashboard's own rows) goes through ``call(fn)``, which runs ``fn(db)`` inside the next batch and returns a Future.

When another program holds the file's write lock (a ``sqlite3`` shell in ``BEGIN``, DB Browser with unsaved edits),
the batch is kept and retried until the lock is released, however long that takes: a lock is not a broken batch.
A full disk, a read-only file and an I/O error are kept and retried the same way (``TROUBLE``): they pass too, and
a batch dropped after three tries lost everything logged meanwhile for good. What the writer holds meanwhile is
bounded (``max_queue`` records in the batch, as many in the queue; past that, records are dropped and counted). A
queued call is the exception: its caller waits only so long, so a call that could not be committed within its
``timeout`` fails (``StoreLocked``, or ``StoreUnwritable`` for the other troubles) and never runs later.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database, Migrations

from breather.store.db import BUSY_TIMEOUT_MS, open_database
from breather.store.model import Event, Heartbeat, epoch_from_iso, iso_from_epoch
from breather.store.queries import MemberDeletion, close_stale_spans, compact, delete_usage
from breather.store.spans import DEFAULT_PULSETIME_S, Span, SpanTracker

log = logging.getLogger(__name__)

DEFAULT_FLUSH_MS = 250
DEFAULT_MAX_QUEUE = 200_000
MAX_ATTEMPTS = 3  # for a batch that fails for a reason other than a lock held by another program
DEFAULT_CALL_TIMEOUT_S = 10.0  # as long as the dashboard waits for its writes (dashboard.context.WRITE_TIMEOUT_S)
LOCK_BACKOFF_MAX_S = 2.0
LOCK_LOG_EVERY_S = 60.0
COMPACT_RETRY_S = 1.0  # how often an idle writer looks after its log file (emptied after a delete, still there)


class WriteNotMade(RuntimeError):
    """A queued call the writer did not run or commit: the writer closed or stopped, or the batch was dropped."""


class StoreUnwritable(WriteNotMade):
    """The store could not save a queued call before its caller stopped waiting; ``trouble`` says why (a key of
    ``TROUBLE``: "locked", "full", "read_only", "io_error")."""

    def __init__(self, message: str, trouble: str = "locked") -> None:
        super().__init__(message)
        self.trouble = trouble


class StoreLocked(StoreUnwritable):
    """Another program held the store's write lock for longer than a queued call's caller would wait."""


# why a batch could not be saved, for the ones that pass and are waited out rather than counted as a broken batch
TROUBLE = {
    "locked": "another program holds the store's write lock",
    "full": "the disk is full",
    "read_only": "the store's file or folder is read-only",
    "io_error": "the disk reported an input/output error",
    "damaged": "the usage file is damaged (move it aside: Breather then starts a new one and saves what waits)",
    "stopped": "the writer stopped after an unexpected error (see the log) and saves nothing until Breather restarts",
}


def unwritable(trouble: str, message: str) -> StoreUnwritable:
    return StoreLocked(message) if trouble == "locked" else StoreUnwritable(message, trouble)


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
    dropped_batches: int = 0


class Writer:
    def __init__(
        self,
        path: str | os.PathLike[str],
        flush_ms: int = DEFAULT_FLUSH_MS,
        pulsetime_s: float = DEFAULT_PULSETIME_S,
        max_queue: int = DEFAULT_MAX_QUEUE,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        migrations: Iterable[Migrations] = (),
    ) -> None:
        if flush_ms <= 0:
            raise ValueError(f"writer_flush_ms must be positive, got {flush_ms!r}")
        self.path = path
        self.flush_s = flush_ms / 1000
        self.pulsetime_s = pulsetime_s
        self.busy_timeout_ms = busy_timeout_ms
        self.migrations = list(migrations)  # beyond the store's own, for a new file made while running
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
        # why the store cannot save what the writer holds right now (a key of ``TROUBLE``) and since when (UTC);
        # None while it saves. Read by /healthz and ``breather status``.
        self.trouble: str | None = None
        self.trouble_since: datetime | None = None
        self.kept = 0  # records the batch keeps while the store cannot save
        # (st_dev, st_ino) of the ``-wal`` file this connection writes to, as first seen after a commit
        self._log_file: tuple[int, int] | None = None
        self._db: Database | None = None  # the writer thread's connection
        self._stopped = False  # the thread ended on an unexpected error: nothing more is taken
        self._file: tuple[int, int] | None = None  # (st_dev, st_ino) of the database file it has open
        self._log_gone_logged = False
        # The heartbeats put but not saved yet, numbered as put, so the proxy can count them while the store cannot
        # save (``unsaved_heartbeats``); bounded like the queue and the batch together.
        self._unsaved_lock = threading.Lock()
        self._unsaved: deque[tuple[int, Heartbeat]] = deque(maxlen=2 * max_queue)
        self._put_heartbeats = 0
        self._taken_heartbeats = 0  # the writer thread's: heartbeats taken off the queue (kept or refused)

    def state(self) -> dict[str, Any]:
        """What ``/healthz`` says of the store: saving, or why not and since when, and what was lost."""
        since = self.trouble_since
        return {
            "saving": self.trouble is None,
            "trouble": self.trouble,
            "trouble_since": since.isoformat(timespec="seconds") if since is not None else None,
            "held": self.kept + self.backlog(),
            "dropped_records": self.stats.dropped,
            "dropped_batches": self.stats.dropped_batches,
        }

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
        with self._unsaved_lock:  # numbered in the queue's order
            if self._put(heartbeat):
                self._put_heartbeats += 1
                self._unsaved.append((self._put_heartbeats, heartbeat))

    def unsaved_heartbeats(self) -> list[Heartbeat]:
        """The heartbeats the store has not saved yet: queued, or kept while it cannot save (a lock, a full disk)."""
        with self._unsaved_lock:
            return [heartbeat for _, heartbeat in self._unsaved]

    def _saved_heartbeats(self, through: int) -> None:
        """The heartbeats numbered up to ``through`` are saved (or dropped for good): no longer unsaved."""
        with self._unsaved_lock:
            while self._unsaved and self._unsaved[0][0] <= through:
                self._unsaved.popleft()

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
            future.set_exception(WriteNotMade("the usage writer is not accepting work (closed or full)"))
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
        if self._closed or self._stopped:
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
            db = self._open()
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            return
        try:
            close_stale_spans(db, datetime.now(UTC), self.pulsetime_s)
        except Exception:
            log.exception("usage writer: could not close spans left open by the last run")
        self._ready.set()
        batch = _Batch(SpanTracker(self.pulsetime_s, lookup=self._find_span))
        try:
            self._loop(batch)
        except Exception:  # said, in the log, /healthz, `breather status` and the dashboard: never silently
            self.trouble, self.trouble_since = "stopped", datetime.now(UTC)
            self._stopped = True
            log.critical(
                "usage writer: stopped by an unexpected error; nothing more is saved until Breather restarts",
                exc_info=True,
            )
            batch.drop()
            self._answer_what_waits()
        finally:
            if self._db is not None:
                self._db.close()

    def _answer_what_waits(self) -> None:
        """A stopped writer's queue: each call fails and each flush returns now, rather than at their time-outs."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Call) and not item.future.done():
                item.future.set_exception(WriteNotMade("the usage writer has stopped; this write was not made"))
            elif isinstance(item, _Flush):
                item.done.set()

    def _open(self) -> Database:
        db = open_database(self.path, extra=self.migrations)
        try:
            if self.busy_timeout_ms != BUSY_TIMEOUT_MS:
                db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            # a log reset after a checkpoint shrinks to what is written next: no old page lingers past its end
            db.execute("PRAGMA journal_size_limit = 0")
        except BaseException:
            db.close()
            raise
        try:
            self._file = _file_id(self.path)
        except OSError:
            self._file = None
        self._db, self._log_file = db, None
        return db

    def _find_span(self, profile: str, site: str, ends_after: float) -> Span | None:
        """The span to extend from the file; None when the file cannot say (the batch's commit meets the same
        trouble and keeps its records): a lookup that raised killed the writer thread."""
        if self._db is None:
            return None
        try:
            return _find_span(self._db, profile, site, ends_after)
        except sqlite3.Error as exc:
            log.warning("usage writer: could not look up %s's open span on %s (%s)", profile, site, exc)
            return None

    def _same_file(self, batch: _Batch) -> Database | None:
        """The connection to save this batch with. The database file deleted or replaced while the writer runs:
        the connection would go on committing into the deleted file (gone at the next restart) or fail on an empty
        one, so the batch is saved into a new file, with every span still open written whole (what the old file
        held went with it). None while no new file can be made (the batch is kept and tried again)."""
        try:
            found = _file_id(self.path)
        except OSError:  # cannot tell (a folder's permissions, a disk error): not taken for a new file
            return self._db
        if self._db is not None and found == self._file:
            return self._db
        if self._db is not None:
            log.error(
                "usage writer: %s was deleted, moved or replaced while Breather runs; saving into a new file from now "
                "on (what Breather had not saved yet goes into the new one)",
                self.path,
            )
            self._let_go_of_the_old_file(self._db)
            self._db = None
            batch.in_a_new_file()
        try:
            return self._open()
        except Exception as exc:
            self._locked(batch, trouble_of(exc) or "io_error", exc)
            batch.expire_calls(time.monotonic() + self.flush_s)  # their callers' time-outs hold here too
            return None

    @staticmethod
    def _let_go_of_the_old_file(db: Database) -> None:
        """Copy the write-ahead log into the old file before closing: SQLite does not when the file has been moved
        or deleted, and the new file would take the log over (a file moved aside lost what the log held)."""
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            log.warning("usage writer: could not copy the log into the old file (%s)", exc)
        db.close()

    def _loop(self, batch: _Batch) -> None:
        stop: _Stop | None = None
        while stop is None:
            markers: list[_Flush] = []
            stop = self._collect(batch, markers)
            if stop is not None:
                batch.spans.close_all()
            else:
                batch.spans.evict_stale()
            db = self._same_file(batch)
            if db is None:
                for marker in markers:
                    marker.done.set()
                if stop is not None:
                    log.error("usage writer: no usage file to save into; %d record(s) were not saved", batch.size)
                    batch.drop()  # its calls' callers hear it now, not at their own time-out (a stop waited 60 s)
                continue
            self._commit(db, batch)
            self._keep_the_log_in_the_file(db)
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
        if batch.is_empty():  # nothing to retry: wait for work, or wake to look after the log file
            waiting = COMPACT_RETRY_S
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
            if isinstance(item, Heartbeat):
                self._taken_heartbeats += 1
                batch.heartbeats_through = self._taken_heartbeats
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
            trouble = trouble_of(exc)
            if trouble is not None:
                self._locked(batch, trouble, exc)
                return
            batch.attempts += 1
            if batch.attempts < MAX_ATTEMPTS:
                log.exception("usage writer: batch failed (attempt %d), will retry", batch.attempts)
                return
            log.exception("usage writer: batch failed %d times, dropping it", batch.attempts)
            self.stats.dropped_batches += 1
            self._saved_heartbeats(batch.heartbeats_through)
            batch.drop()
            return
        self.stats.batches += 1
        if batch.locked_since is not None:
            log.warning(
                "usage writer: the store is writable again after %.1f s; the %d record(s) kept meanwhile are saved",
                time.monotonic() - batch.locked_since,
                batch.size,
            )
        self.trouble = self.trouble_since = None
        self.kept = 0
        self._saved_heartbeats(batch.heartbeats_through)
        deletions = batch.deletions()
        if deletions:  # before the callers hear back, so a finished delete has left the file clean
            self.old_copies_remain = not _after_usage_deleted(db, batch, deletions)
        batch.done(new_ids)

    def _keep_the_log_in_the_file(self, db: Database) -> None:
        """The ``-wal`` file deleted (or replaced) under a running writer (a clean-up tool sweeping ``*-wal``): the
        connection goes on committing into the deleted file, which a crash would lose with everything since the
        last checkpoint, and new readers fail. A checkpoint copies it all into ``breather.db`` at once, after
        every batch (and every ``COMPACT_RETRY_S`` when idle) until the writer is restarted."""
        log_path = f"{self.path}-wal"
        try:
            found = os.stat(log_path)
            seen: tuple[int, int] | None = (found.st_dev, found.st_ino)
        except OSError:
            seen = None
        if self._log_file is None:
            self._log_file = seen
            return
        if seen == self._log_file:
            return
        if not self._log_gone_logged:
            self._log_gone_logged = True
            log.warning(
                "usage writer: %s was deleted or replaced while Breather runs; each save is now copied into the "
                "database at once (restart Breather to end this)",
                log_path,
            )
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            log.debug("usage writer: checkpoint after the log went missing failed (%s); trying after the next", exc)

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

    def _locked(self, batch: _Batch, trouble: str = "locked", exc: BaseException | None = None) -> None:
        """The store cannot save for a reason that passes (``TROUBLE``: another program's lock, a full disk, a
        read-only file, an I/O error): keep the whole batch (it does not count as an attempt) and retry after a
        back-off that grows to ``LOCK_BACKOFF_MAX_S``; for a lock the busy timeout already waited on each try."""
        self.stats.locked_attempts += 1
        self.kept = batch.size
        now = time.monotonic()
        if batch.locked_since is None or batch.trouble != trouble:
            if batch.locked_since is None:
                batch.locked_since = now
            batch.lock_logged = now
            batch.trouble = trouble
            self.trouble, self.trouble_since = trouble, datetime.now(UTC)
            log.warning(
                "usage writer: the store cannot save: %s (%s: %s); keeping %d record(s) and retrying until it can",
                TROUBLE[trouble],
                self.path,
                exc,
                batch.size,
            )
        elif trouble == "locked" and now - batch.lock_logged >= LOCK_LOG_EVERY_S:
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
                    "usage writer: the store could not save until the service stopped (%s); %d record(s) were not "
                    "saved",
                    TROUBLE[batch.trouble or "locked"],
                    batch.size,
                )
                self.stats.dropped_batches += 1
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
        self.locked_since: float | None = None  # time.monotonic() of the first attempt that failed for ``trouble``
        self.trouble: str | None = None
        self.heartbeats_through = 0  # the number of the last heartbeat taken (``Writer._taken_heartbeats``)
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

    def in_a_new_file(self) -> None:
        """The file was replaced: every span still open, and each member this batch or a span names, is written
        again."""
        self.spans.in_a_new_file()
        self.known_profiles.clear()
        changed, closed = self.spans.pending()
        for span in [*self.spans.open.values(), *changed, *closed]:
            self._profile(span.profile, span.start)
        for at, profile, *_ in self.events:
            self._profile(profile, epoch_from_iso(at))

    def _profile(self, name: str, at: float) -> None:
        if name not in self.known_profiles:
            self.known_profiles.add(name)
            self.profiles[name] = iso_from_epoch(at)

    def deletions(self) -> list[str | None]:
        """The deletions in this batch that succeeded (a failed call has its Future done already): None for
        ``delete_usage`` (everything), a member's name for a ``MemberDeletion``."""
        found: list[str | None] = []
        for call in self.calls:
            if call.future.done():
                continue
            if getattr(call.fn, "func", call.fn) is delete_usage:
                found.append(None)
            elif isinstance(call.fn, MemberDeletion):
                found.append(call.fn.member)
        return found

    def forget_usage(self, member: str | None = None) -> None:
        """After a deletion of everything (or of ``member``'s records): the open spans' rows are gone (and their ids
        may be given again), so forget them; the next heartbeat starts a new span. Profiles are written again when
        next seen."""
        self.spans.forget_open(member)
        if member is None:
            self.known_profiles.clear()
        else:
            self.known_profiles.discard(member)

    def expire_calls(self, latest_end: float) -> None:
        """Fail the calls whose caller stops waiting before ``latest_end``: they must not land after it gave up."""
        for call in self.calls:
            if call.deadline is not None and call.deadline < latest_end and not call.future.done():
                trouble = self.trouble or "locked"
                call.future.set_exception(unwritable(trouble, f"{TROUBLE[trouble]}; this write was not made"))
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
                call.future.set_exception(WriteNotMade("the usage writer could not commit this batch"))
        self.known_profiles -= self.profiles.keys()  # not written: queue them again when next seen
        self._forget()

    def _forget(self) -> None:
        self.events = []
        self.profiles = {}
        self.calls = []
        self.attempts = 0
        self.size = 0
        self.locked_since = None
        self.trouble = None
        self.lock_tries = 0
        self.retry_at = 0.0


def _after_usage_deleted(db: Database, batch: _Batch, deletions: list[str | None]) -> bool:
    """Forget what the writer holds of the deleted usage (everything, or the members named), then compact the file
    so no old row stays in it. False when old copies may remain in the write-ahead log: the writer then keeps trying
    to empty it."""
    for member in deletions:
        batch.forget_usage(member)
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
        if trouble_of(exc) is not None:
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


_TROUBLE_CODES = {
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_IOERR: "io_error",
    sqlite3.SQLITE_CORRUPT: "damaged",
    sqlite3.SQLITE_NOTADB: "damaged",
}


def trouble_of(exc: BaseException) -> str | None:
    """Why the store cannot save, when the reason passes and the batch is worth keeping: another program's lock, a
    full disk (a download, a sync client), a read-only file or folder (a permissions change, a remount), an I/O
    error (a disk unplugged and back), a damaged file (kept until it is moved aside, when the writer starts a new
    one). None: a broken batch, retried a few times and then dropped."""
    if _is_locked(exc):
        return "locked"
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return _TROUBLE_CODES.get(code & 0xFF)
    text = str(exc)
    if "disk is full" in text:
        return "full"
    if "readonly" in text or "read-only" in text:
        return "read_only"
    if "malformed" in text or "not a database" in text:
        return "damaged"
    return "io_error" if "disk I/O error" in text else None


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


def _file_id(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the file, None when there is none; another ``OSError`` (cannot tell) is raised."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


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
