"""Opening the usage store: one ``Database`` per thread, WAL on, every migration applied."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sqlite_utils import Database, Migrations

from breather.store.migrations import STORE_MIGRATIONS

BUSY_TIMEOUT_MS = 5000


def open_database(path: str | os.PathLike[str], extra: Iterable[Migrations] = ()) -> Database:
    """Open (creating if needed) the store at ``path`` for the calling thread.

    sqlite3 connections must not cross threads: each thread (the writer, each Flask request, each scheduler job)
    opens its own. ``synchronous=NORMAL`` under WAL keeps every committed transaction through a process crash
    (SIGKILL); only a power cut can lose the last commits, never the file's integrity.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    db = Database(target)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        apply_migrations(db, [STORE_MIGRATIONS, *extra])
    except BaseException:
        db.close()
        raise
    return db


def apply_migrations(db: Database, sets: Iterable[Migrations]) -> None:
    """Apply pending migrations under one write lock, so two processes opening a new file cannot race.

    ``BEGIN IMMEDIATE`` takes the write lock before the pending list is read; sqlite-utils then nests each
    migration in a savepoint. The common case (nothing pending) only reads.
    """
    sets = list(sets)
    if not any(migrations.pending(db) for migrations in sets):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for migrations in sets:
            migrations.apply(db)
    except BaseException:
        db.rollback()
        raise
    db.commit()
