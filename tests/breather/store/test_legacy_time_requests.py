"""Homes made by a `breather demo` before 0.2.0 have a ``time_requests`` table (a member's note asking for more
time, a parent's reason): a user test found `breather export` leaving it out and `breather delete --all --yes`
leaving it in while saying no deleted row is left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.store.db import open_database

NOTE = "quokka-telltale please, project due tomorrow"
REASON = "okay, but finish the maths first"


@pytest.fixture
def old_demo_home(breather_home: Path) -> Paths:
    """The table as the old demo made it: sqlite-utils creating it from the first rows it inserts."""
    paths = Paths.resolve(breather_home)
    paths.ensure()
    db = open_database(paths.database)
    row = {
        "profile": "ana",
        "site": "reddit.com",
        "asked_at": "2026-05-04T10:00:00+00:00",
        "note": NOTE,
        "status": "granted",
        "decided_at": "2026-05-04T10:20:00+00:00",
        "granted_minutes": 15,
        "granted_until": "2026-05-04T10:35:00+00:00",
        "reason": REASON,
    }
    db["time_requests"].insert_all([row, {**row, "asked_at": "2026-05-01T09:00:00+00:00", "status": "declined"}])
    db.close()
    return paths


def test_export_includes_the_old_demos_asks(old_demo_home: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "json", "--tz", "UTC"]) == 0
    asks = json.loads(capsys.readouterr().out)["tables"]["time_requests"]
    assert [(ask["note"], ask["reason"]) for ask in asks] == [(NOTE, REASON)] * 2
    assert main(["export", "--format", "json", "--tz", "UTC", "--since", "2026-05-03"]) == 0
    assert [ask["status"] for ask in json.loads(capsys.readouterr().out)["tables"]["time_requests"]] == ["granted"]


def test_delete_all_removes_them_and_leaves_no_trace_in_the_file(
    old_demo_home: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["delete", "--all", "--yes"]) == 0
    assert "deleted 2 rows from time_requests\n" in capsys.readouterr().out
    db = open_database(old_demo_home.database)
    try:
        assert db.execute("SELECT COUNT(*) FROM time_requests").fetchone()[0] == 0
    finally:
        db.close()
    assert b"quokka-telltale" not in old_demo_home.database.read_bytes()
