"""A member's latest ask for more time on a site today, and the household's answer to it, read from the store.

Asks and answers are read as the dashboard's Requests page reads them (``breather.store.asks``: the
``time_answers`` row with a parent's reason or the time granted, else a later answer event), so the block page and
the Requests page never disagree about whether an ask still waits. Breather's block page asks for it so the member
hears the answer where they asked. Reads run on a thread of their own with its own connection (one connection per
thread, as ``breather.runtime.StoreUsage`` reads), and the proxy's event loop waits a moment at most: a busy store
costs the page one poll, never the proxy its pace.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from breather.rules.model import host_in_domain
from breather.store.asks import asks_since_sql
from breather.store.model import iso

READ_WAIT_S = 0.25

# one member's asks, oldest first, from the household's reading of every ask
_MEMBERS_ASKS = (
    "select site, at, status, reason, answered_at, granted_until from ({asks}) where profile = ? order by at, id"
)


@dataclass(frozen=True)
class AskAnswer:
    """One ask and its answer: ``status`` is ``approved`` or ``declined``, None while nobody has answered."""

    asked_at: datetime
    status: str | None = None
    reason: str | None = None
    answered_at: datetime | None = None
    granted_until: datetime | None = None
    host: str | None = None  # the host the ask named (any host of the site)


class AskAnswers:
    def __init__(self, database: Path) -> None:
        self.database = database
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def latest(self, profile: str, site: str, since: datetime) -> AskAnswer | None:
        """The member's latest ask since ``since`` for ``site`` (a rules site domain; the ask may name any host of
        it), with its answer. Raises ``TimeoutError`` when the store does not answer within ``READ_WAIT_S``."""
        future = self._reader().submit(self._read, profile, site, since)
        return future.result(timeout=READ_WAIT_S)

    def _reader(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="breather-asks")
            return self._executor

    def _read(self, profile: str, site: str, since: datetime) -> AskAnswer | None:
        db = self._connection()
        rows = db.execute(_MEMBERS_ASKS.format(asks=asks_since_sql(db)), [iso(since), profile]).fetchall()
        asks = [row for row in rows if row[0] and host_in_domain(row[0], site)]
        return _ask_answer(asks[-1]) if asks else None

    def _connection(self) -> Any:
        db = getattr(self._local, "db", None)
        if db is None:
            from breather.store.db import open_database

            db = self._local.db = open_database(self.database)
        return db


def _ask_answer(row: tuple[Any, ...]) -> AskAnswer:
    host, asked_at, status, reason, answered_at, granted_until = row
    return AskAnswer(_utc(asked_at), status, reason, _utc_or_none(answered_at), _utc_or_none(granted_until), host)


def _utc(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc_or_none(stamp: str | None) -> datetime | None:
    return _utc(stamp) if stamp else None
