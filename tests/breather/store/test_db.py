from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database, Migrations

from breather.store.db import open_database
from breather.store.migrations import STORE_MIGRATIONS

FORBIDDEN_COLUMN_WORDS = ("url", "uri", "path", "query", "post", "text", "body", "title", "content", "html", "link")


def test_new_file_has_wal_and_every_table(db_path: Path) -> None:
    db = open_database(db_path)
    assert db.journal_mode == "wal"
    assert {"profiles", "activity", "events", "daily_rollups", "meta"} <= set(db.table_names())
    db.close()


def test_reopening_an_existing_file_keeps_data_and_applies_nothing_twice(db_path: Path) -> None:
    first = open_database(db_path)
    first["profiles"].insert({"name": "sam", "created": "2026-01-01T00:00:00.000000+00:00"})
    applied = [m.name for m in STORE_MIGRATIONS.applied(first)]
    first.close()
    second = open_database(db_path)
    assert [m.name for m in STORE_MIGRATIONS.applied(second)] == applied
    assert [row["name"] for row in second["profiles"].rows] == ["sam"]
    assert second.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0] == len(applied)
    second.close()


def test_other_parts_add_their_own_migration_set(db_path: Path) -> None:
    theirs = Migrations("test.dashboard")

    @theirs()
    def add_tokens(db: Database) -> None:
        db.table("api_tokens").create({"token_hash": str, "profile": str}, pk="token_hash")

    db = open_database(db_path, extra=[theirs])
    assert "api_tokens" in db.table_names()
    db.close()
    open_database(db_path, extra=[theirs]).close()  # idempotent with the extra set too


def test_a_failing_migration_leaves_the_file_usable(db_path: Path) -> None:
    broken = Migrations("test.broken")

    @broken()
    def explode(db: Database) -> None:
        db.table("half_made").create({"id": int}, pk="id")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        open_database(db_path, extra=[broken])
    db = open_database(db_path)
    assert "half_made" not in db.table_names()
    assert "activity" in db.table_names()
    db.close()


def test_no_column_can_hold_a_url_or_post_text(db: Database) -> None:
    for table in ("profiles", "activity", "events", "daily_rollups", "meta"):
        for column in db[table].columns:
            assert not any(word in column.name.lower() for word in FORBIDDEN_COLUMN_WORDS), (table, column.name)


def test_a_reader_sees_committed_rows_while_the_writer_keeps_its_connection(db_path: Path) -> None:
    """The dashboard reads on its own connection while the writer's stays open (WAL): what was committed is there."""
    writer = open_database(db_path)
    try:
        writer["meta"].insert({"key": "seen", "value": "yes", "updated": "2026-11-30T00:00:00+00:00"})
        writer.conn.commit()
        reader = sqlite3.connect(db_path)
        try:
            assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert reader.execute("select value from meta where key = 'seen'").fetchall() == [("yes",)]
        finally:
            reader.close()
    finally:
        writer.close()


def test_each_members_first_span_is_one_index_search_in_old_stores_too(db_path: Path) -> None:
    """History, Family and the review ask each member's first span on every page (`usage.first_seen`): a walk over
    every span ever kept took 15 ms for a year of four members and grew with the history."""
    from breather.rules.loader import parse_rules
    from breather.store.migrations import create_usage_tables
    from breather.store.usage import first_seen

    older = Migrations("breather.store")
    older(name="0001_usage_tables")(create_usage_tables)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    older.apply(Database(db_path))  # a store made before the index
    db = open_database(db_path)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    first_seen(db, parse_rules("[profiles.me]\n", "rules.toml"))
    db.conn.set_trace_callback(None)
    on_spans = [sql for sql in statements if "from activity" in sql]
    assert on_spans
    for sql in on_spans:
        plan = " ".join(str(row[3]) for row in db.execute("explain query plan " + sql))
        assert "SCAN activity" not in plan and "USING COVERING INDEX activity_profile_start" in plan, plan
    db.close()
