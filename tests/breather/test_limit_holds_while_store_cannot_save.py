"""A daily limit holds while the store cannot save what the writer holds (another program's lock, a full disk, a
read-only file): the proxy's figures then go on adding up in memory instead of being zeroed as if saved."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from breather import settings as breather_settings
from breather.paths import Paths
from breather.proxy.boundaries import Boundaries
from breather.proxy.local_api import HEARTBEAT_S, LocalApi
from breather.rules.watcher import RulesWatcher
from breather.runtime import Runtime, StoreUsage, usage_for
from breather.store.db import open_database
from breather.store.model import Heartbeat
from breather.store.writer import Writer

RULES = """\
[household]
timezone = "UTC"
country = "GB"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "old.reddit.com"]

[profiles.me]
default = true
daily_limit = "2m"
"""


@contextlib.contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """Another program (a ``sqlite3`` shell in ``BEGIN``, DB Browser with unsaved edits) holds the write lock."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("COMMIT")
        holder.close()


@contextlib.contextmanager
def running(tmp_path: Path) -> Iterator[tuple[Runtime, StoreUsage, Any]]:
    """A runtime on a real store, the proxy's store reader and its connection."""
    paths = Paths.resolve(tmp_path / "home").ensure()
    paths.rules_file.write_text(RULES, encoding="utf-8")
    writer = Writer(paths.database, flush_ms=50, busy_timeout_ms=200).start()
    runtime = Runtime(paths, breather_settings.resolve({}), RulesWatcher(paths.rules_file), writer=writer)
    db = open_database(paths.database)
    try:
        yield runtime, StoreUsage(runtime), db
    finally:
        db.close()
        writer.close()


def noon() -> datetime:
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def extension_heartbeat(runtime: Runtime, at: datetime) -> None:
    """What the dashboard's /api/v1/heartbeat logs for the extension: straight to the writer, not in memory."""
    runtime.writer.heartbeat(Heartbeat("me", "old.reddit.com", at, 30.0, "extension"))


def known_minutes(runtime: Runtime, at: datetime) -> float:
    return float(usage_for(runtime.sessions.read("me"), runtime.current_rules(), at).total_minutes)


def test_the_overlays_minutes_reach_the_limit_while_another_program_holds_the_lock(tmp_path: Path) -> None:
    with running(tmp_path) as (runtime, sync, db):
        overlay, start = LocalApi(runtime), noon()
        end = start + timedelta(seconds=HEARTBEAT_S * 5)
        with write_lock_held(runtime.paths.database):
            for beat in range(5):  # two and a half minutes of scrolling against a 2-minute limit
                at = start + timedelta(seconds=HEARTBEAT_S * beat)
                overlay.heartbeat("me", "old.reddit.com", {}, at)
                sync.refresh(db, now=at + timedelta(seconds=10))  # the store is read every 10 s
            assert Boundaries(runtime).decide("me", "old.reddit.com", end).kind == "limit_reached", (
                f"2.5 minutes against a 2-minute limit, and the proxy knows of {known_minutes(runtime, end):.1f}"
            )
        sync.refresh(db, now=end)  # the lock released: the store has it all, counted once
        assert 2.0 <= known_minutes(runtime, end) <= 3.0
        assert Boundaries(runtime).decide("me", "old.reddit.com", end).kind == "limit_reached"


def test_the_extensions_minutes_reach_the_limit_while_another_program_holds_the_lock(tmp_path: Path) -> None:
    with running(tmp_path) as (runtime, sync, db), write_lock_held(runtime.paths.database):
        start = noon()
        for beat in range(6):  # three minutes in the extension's browser against a 2-minute limit
            extension_heartbeat(runtime, start + timedelta(seconds=HEARTBEAT_S * beat))
        end = start + timedelta(minutes=3)
        sync.refresh(db, now=end)
        assert Boundaries(runtime).decide("me", "old.reddit.com", end).kind == "limit_reached", (
            f"3 minutes against a 2-minute limit, and the proxy knows of {known_minutes(runtime, end):.1f}"
        )


def test_one_tab_reported_by_both_is_counted_once_while_the_store_is_locked(tmp_path: Path) -> None:
    with running(tmp_path) as (runtime, sync, db), write_lock_held(runtime.paths.database):
        overlay, start = LocalApi(runtime), noon()
        for beat in range(3):  # 90 s in one tab, reported by the overlay and by the extension
            at = start + timedelta(seconds=HEARTBEAT_S * beat)
            overlay.heartbeat("me", "old.reddit.com", {}, at)
            extension_heartbeat(runtime, at)
        end = start + timedelta(seconds=HEARTBEAT_S * 3)
        sync.refresh(db, now=end)
        assert known_minutes(runtime, end) == 1.5
        assert Boundaries(runtime).decide("me", "old.reddit.com", end).kind == "allow"


def test_the_extensions_popup_says_the_minutes_the_limit_counts_while_the_store_is_locked(tmp_path: Path) -> None:
    """The popup read the store alone: "0 min" of a limit the proxy had closed on."""
    from breather.dashboard.pages.extension import status_for

    with running(tmp_path) as (runtime, sync, db), write_lock_held(runtime.paths.database):
        start = noon()
        for beat in range(6):
            extension_heartbeat(runtime, start + timedelta(seconds=HEARTBEAT_S * beat))
        end = start + timedelta(minutes=3)
        sync.refresh(db, now=end)
        said = status_for(db, runtime.current_rules(), "me", runtime, end, site="old.reddit.com")
        assert said["decision"]["kind"] == "limit_reached"
        assert said["minutes_today"] == 3.0
