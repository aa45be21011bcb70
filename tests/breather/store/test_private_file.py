"""The usage store says who was online where and when: only its owner may read it (a family user test found
`breather.db` created 0644, readable by every user of the machine)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from breather.store.db import open_database
from breather.store.model import Heartbeat
from breather.store.writer import Writer


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask of most desktop sessions, which makes new files 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def store_files(db_path: Path) -> list[Path]:
    return [db_path, *(db_path.with_name(db_path.name + suffix) for suffix in ("-wal", "-shm"))]


def test_the_writer_creates_the_store_and_its_wal_for_the_owner_only(db_path: Path) -> None:
    writer = Writer(db_path, flush_ms=10).start()
    try:
        writer.heartbeat(Heartbeat("me", "reddit.com", datetime(2026, 3, 4, 9, tzinfo=UTC), 30.0))
        assert writer.flush(5)
        files = store_files(db_path)
        assert all(path.exists() for path in files)  # while it runs, the WAL and its index are there too
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    finally:
        writer.close()


def test_a_store_made_readable_by_an_earlier_version_is_made_private_when_opened(db_path: Path) -> None:
    open_database(db_path).close()
    db_path.chmod(0o644)
    open_database(db_path).close()
    assert mode(db_path) == 0o600
