"""The Data page: export what the store holds (minutes, counts, categories) and delete it.

The downloads are ``breather export``'s documents, written by the same functions (``breather.store.export``), so
what a person downloads here is what the command and ``docs/store.md`` describe: every member's profile, activity,
events, rollups, the answers to their asks for more time and the weekly goals.
"""

from __future__ import annotations

import io
from datetime import datetime, tzinfo

from sqlite_utils import Database

from breather.store import export, queries

# format -> (file name, media type)
DOWNLOADS = {
    "json": ("breather-export.json", "application/json"),
    "csv": ("breather-export.csv", "text/csv"),
}


def export_text(db: Database, fmt: str, zone: tzinfo, now: datetime) -> str:
    """Everything, as ``breather export --format FMT`` writes it to stdout."""
    out = io.StringIO()
    if fmt == "json":
        export.write_json(db, out, None, zone, now)
    else:
        export.write_csv_sections(db, out, None, zone)
    return out.getvalue()


# The store's function itself, not a wrapper: run through ``context.write``, the writer recognises it and also
# forgets its open spans and compacts the file, so no deleted row stays on disk.
delete_everything = queries.delete_usage


def counts(db: Database) -> dict[str, int]:
    return {table: db[table].count for table in export.EXPORTED_TABLES if db[table].exists()}
