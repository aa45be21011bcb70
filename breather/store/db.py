"""Opening the usage store: one ``Database`` per thread, WAL on, every migration applied."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from sqlite_utils import Database, Migrations

from breather.store.migrations import STORE_MIGRATIONS

BUSY_TIMEOUT_MS = 5000
OWNER_ONLY = 0o600


def open_database(path: str | os.PathLike[str], extra: Iterable[Migrations] = ()) -> Database:
    """Open (creating if needed) the store at ``path`` for the calling thread.

    sqlite3 connections must not cross threads: each thread (the writer, each Flask request, each scheduler job)
    opens its own. ``synchronous=NORMAL`` under WAL keeps every committed transaction through a process crash
    (SIGKILL); only a power cut can lose the last commits, never the file's integrity. ``secure_delete`` is on for
    every connection: rows that retention, the Data page or ``breather delete`` remove are overwritten with zeros,
    not left readable in free pages (a SQLite build may default it off).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _keep_private(target)
    db = Database(target)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA secure_delete = ON")
        apply_migrations(db, [STORE_MIGRATIONS, *extra])
    except BaseException:
        db.close()
        raise
    return db


def _keep_private(target: Path) -> None:
    """The store says who was online where and when: readable by its owner only. It is created 0600 (an empty file
    is an empty SQLite database), and SQLite gives the ``-wal`` and ``-shm`` files it makes the database's own mode;
    a store an earlier version left readable to others is made private when its owner opens it."""
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))
        return
    except FileExistsError:
        pass
    for file in (target, *(target.with_name(target.name + suffix) for suffix in ("-wal", "-shm"))):
        # gone meanwhile (a -wal at the last close) or not ours to change: SQLite itself says if that matters
        with contextlib.suppress(OSError):
            found = file.stat()
            if found.st_mode & 0o077 and found.st_uid == os.getuid():
                file.chmod(OWNER_ONLY)


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
