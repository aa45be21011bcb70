"""The Data page: export what the store holds (minutes, counts, categories) and delete it.

The downloads are ``breather export``'s documents, written by the same functions (``breather.store.export``), so
what a person downloads here is what the command and ``docs/store.md`` describe: every member's profile, activity,
events, rollups, the answers to their asks for more time and the weekly goals.
"""

from __future__ import annotations

import io
from datetime import datetime, tzinfo
from urllib.parse import quote

from sqlite_utils import Database

from breather.store import export, queries

# format -> (file name, media type)
DOWNLOADS = {
    "json": ("breather-export.json", "application/json"),
    "csv": ("breather-export-csv.zip", "application/zip"),
}


def download(fmt: str, member: str | None) -> tuple[str, str]:
    """(Content-Disposition, media type) of a download, named "breather-export-sam.json" for one member's."""
    filename, mimetype = DOWNLOADS[fmt]
    if member is None:
        return f'attachment; filename="{filename}"', mimetype
    named = filename.replace("breather-export", f"breather-export-{member}", 1)
    # A name in any script ("zoë", "प्रिया"): plain ASCII for old browsers, the name itself as RFC 6266 says.
    plain = "".join(char if char.isascii() and (char.isalnum() or char in "-_.") else "_" for char in named)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(named)}", mimetype


def export_body(db: Database, fmt: str, zone: tzinfo, now: datetime, member: str | None = None) -> bytes:
    """Everything, as ``breather export --format json`` writes it to stdout, or for CSV as ``breather export --format
    csv --output breather-export-csv.zip`` writes it: one file per table, as spreadsheets open them (a user test's
    spreadsheet read the one-stream CSV's eight tables as one sheet)."""
    if fmt == "csv":
        archive = io.BytesIO()
        export.write_csv_zip(db, archive, None, zone, member)
        return archive.getvalue()
    out = io.StringIO()
    export.write_json(db, out, None, zone, now, member)
    return out.getvalue().encode("utf-8")


# The store's function itself, not a wrapper (a ``functools.partial`` of it giving the time is recognised too): run
# through ``context.write``, the writer recognises it and also forgets its open spans and compacts the file, so no
# deleted row stays on disk.
delete_everything = queries.delete_usage
MemberDeletion = queries.MemberDeletion  # one member's records, recognised by the writer in the same way


# What each kind of record is, in the words of the Data page (a user test met "day limits" and "time answers" bare).
MEANINGS = {
    "profiles": "each member Breather has seen, and since when",
    "activity": "stretches of time on a site",
    "events": "warnings, breaks, limits reached, asks for more time",
    "daily_rollups": "each day's minutes per site, added up every night",
    "weekly_reviews": "each week's summary, kept on Mondays",
    "day_limits": "each day's daily limit, as it was that day",
    "time_answers": "the answers to asks for more time",
    "weekly_goals": "the goals set at the weekly review",
    "time_requests": "asks for more time, as Breather before 0.2.0 kept them",
}


members = export.members_with_records  # whose records a download may be limited to


def counts(db: Database) -> dict[str, int]:
    return {table: db[table].count for table in export.EXPORTED_TABLES if db[table].exists()}
