from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from breather.store.db import open_database
from breather.store.writer import Writer


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "breather.db"


@pytest.fixture
def writer(db_path: Path) -> Iterator[Writer]:
    running = Writer(db_path, flush_ms=50).start()
    yield running
    running.close()


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.close()
