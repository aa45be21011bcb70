"""The Data page: export what the store holds (minutes, counts, categories) and delete it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from breather.store import queries

# What an export contains: usage only. No tokens, no passphrase hash, no pairing codes.
EXPORT_TABLES: dict[str, tuple[str, ...]] = {
    "activity": ("profile", "site", "start", "end", "duration_s", "source"),
    "events": ("at", "profile", "kind", "site", "category", "detail"),
    "daily_rollups": ("day", "profile", "site", "minutes", "counts"),
    "weekly_goals": ("week", "goal", "saved_at"),
}


def _rows(db: Database, table: str, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    if not db[table].exists():
        return iter(())
    quoted = ", ".join(f"[{column}]" for column in columns)
    return iter(db.execute(f"select {quoted} from [{table}] order by rowid"))


def export_json(db: Database) -> str:
    body = {
        table: [dict(zip(columns, row, strict=True)) for row in _rows(db, table, columns)]
        for table, columns in EXPORT_TABLES.items()
    }
    return json.dumps(body, indent=1)


def export_csv(db: Database, table: str) -> str:
    columns = EXPORT_TABLES[table]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(_rows(db, table, columns))
    return out.getvalue()


# The store's function itself, not a wrapper: run through ``context.write``, the writer recognises it and also
# forgets its open spans and compacts the file, so no deleted row stays on disk.
delete_everything = queries.delete_usage


def counts(db: Database) -> dict[str, int]:
    return {table: db[table].count for table in EXPORT_TABLES if db[table].exists()}
