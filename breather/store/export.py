"""Exporting the household's usage data as JSON or CSV.

Only what a person would call "my data" leaves the file: profiles, activity spans, events, daily rollups and,
when the dashboard has created them, time requests and weekly goals. Secrets (API tokens, pairing codes, the
household passphrase) and internal state (``meta``, migrations) are never exported.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

from sqlite_utils import Database

from breather.scheduler import first_goal_week_kept, week_start
from breather.store.model import iso
from breather.store.queries import local_midnight, member_column, members_deleted_at

FORMAT_NAME = "breather-export"
FORMAT_VERSION = 1

SinceKey = Literal["utc", "day", "week", "monday"]

OWNER_ONLY = 0o600  # an export holds the members' records, as the store does

# Every usage table (queries.USAGE_TABLES, what `delete --all` empties) -> (column that --since filters on, what it
# holds: a UTC timestamp, a local day, an ISO week "2026-W11" or the Monday a week starts on)
EXPORTED_TABLES: dict[str, tuple[str | None, SinceKey]] = {
    "profiles": (None, "utc"),
    "activity": ("end", "utc"),
    "events": ("at", "utc"),
    "daily_rollups": ("day", "day"),
    "weekly_reviews": ("week", "monday"),
    "day_limits": ("day", "day"),
    "time_answers": ("answered_at", "utc"),
    "weekly_goals": ("week", "week"),
    "time_requests": ("asked_at", "utc"),  # a `breather demo` before 0.2.0 made it (queries.LEGACY_USAGE_TABLES)
}
JSON_COLUMNS = {
    ("events", "detail"),
    ("daily_rollups", "counts"),
    ("weekly_reviews", "daily_minutes"),
    ("weekly_reviews", "daily_limit_minutes"),
    ("weekly_reviews", "warnings"),
}


@dataclass(frozen=True)
class TableExport:
    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


def collect(db: Database, since: date | None, tz: tzinfo, member: str | None = None) -> Iterator[TableExport]:
    """Each exported table's rows, from ``since`` on; with ``member``, only the rows about that member, and none of
    the tables that are the household's as a whole (``member_column``: the weekly goals set together)."""
    present = set(db.table_names())
    for name, (column, key) in EXPORTED_TABLES.items():
        if name not in present:
            continue
        where: list[str] = []
        params: list[str] = []
        if since is not None and column is not None:
            where.append(f"[{column}] >= ?")
            params.append(since_value(since, key, tz))
        if member is not None:
            whose = member_column(db, name)
            if whose is None:
                continue
            where.append(f"[{whose}] = ?")
            params.append(member)
        sql = f"SELECT * FROM [{name}]" + (f" WHERE {' AND '.join(where)}" if where else "")
        cursor = db.execute(sql + " ORDER BY rowid", params)
        yield TableExport(name, [item[0] for item in cursor.description], list(cursor.fetchall()))


def members_with_records(db: Database) -> list[str]:
    """Every member some exported table holds a row about: not the list of members seen alone, since the scheduler
    writes each member's daily limit and weekly review from the rules, whether or not they used a site (a review)."""
    present = set(db.table_names())
    names: set[str] = set()
    for table in EXPORTED_TABLES:
        column = member_column(db, table) if table in present else None
        if column is not None:
            names.update(name for (name,) in db.execute(f"SELECT DISTINCT [{column}] FROM [{table}]") if name)
    return sorted(names)


def member_with_records(db: Database, name: str, deleted_too: bool = False) -> str:
    """``name`` when Breather has records about that member (or, with ``deleted_too``, had them deleted on their
    own: a deletion is run again when compacting the file failed), else ``ValueError`` naming those it has records
    about (an empty export, or a deletion of nothing, for a typo would read as "Breather kept nothing about them")."""
    known = members_with_records(db)
    if name not in known and not (deleted_too and name in members_deleted_at(db)):
        listed = ", ".join(known) if known else "none yet"
        raise ValueError(f"Breather has no records about {name!r}; members with records: {listed}")
    return name


def since_value(since: date, key: SinceKey, tz: tzinfo) -> str:
    """``since`` written as the column keeps it, so the column compares with it as text."""
    if key == "day":
        return since.isoformat()
    if key == "monday":
        return week_start(since).isoformat()
    if key == "week":
        # a goal is for its whole week: the week ``since`` falls in is kept, as a span running across its midnight is
        return first_goal_week_kept(week_start(since))
    return iso(local_midnight(since, tz))


def write_json(
    db: Database, out: TextIO, since: date | None, tz: tzinfo, now: datetime | None = None, member: str | None = None
) -> None:
    tables = {
        table.name: [_json_row(table.name, dict(zip(table.columns, row, strict=True))) for row in table.rows]
        for table in collect(db, since, tz, member)
    }
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": iso(now or datetime.now(UTC)),
        "since": since.isoformat() if since else None,
        "member": member,  # None: every member's
        "time_zone": str(tz),
        "tables": tables,
    }
    json.dump(document, out, indent=1, ensure_ascii=False)
    out.write("\n")


def _json_row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    for column, value in row.items():
        if (table, column) in JSON_COLUMNS and isinstance(value, str):
            row[column] = json.loads(value)
    return row


# A spreadsheet reads a cell starting with one of these as a formula: in the files a spreadsheet opens (a folder, a
# ZIP), text someone typed (a weekly goal, a reason for a no) is written with a leading apostrophe, which the
# spreadsheet shows as the text itself.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets read a CSV file as UTF-8 when it starts with the byte-order mark, else in the machine's own code page
# ("Maya’s" came out as "Mayaâ€™s").
SPREADSHEET_ENCODING = "utf-8-sig"


def spreadsheet_cell(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _write_table(table: TableExport, out: TextIO, lineterminator: str = "\r\n", spreadsheet: bool = True) -> None:
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(table.columns)
    if spreadsheet:
        writer.writerows([spreadsheet_cell(value) for value in row] for row in table.rows)
    else:
        writer.writerows(table.rows)


def write_csv_sections(db: Database, out: TextIO, since: date | None, tz: tzinfo, member: str | None = None) -> None:
    """One stream (for a pipe or a script): each table as a ``# table: NAME`` line, a header row, its rows and a
    blank line."""
    for table in collect(db, since, tz, member):
        out.write(f"# table: {table.name}\n")
        _write_table(table, out, lineterminator="\n", spreadsheet=False)  # a script reads the values as stored
        out.write("\n")


def write_csv_files(
    db: Database, folder: Path, since: date | None, tz: tzinfo, member: str | None = None
) -> list[Path]:
    """One ``NAME.csv`` per table in ``folder`` (what spreadsheets open directly). Returns the files written."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for table in collect(db, since, tz, member):
        target = folder / f"{table.name}.csv"
        with open_private(target, SPREADSHEET_ENCODING) as handle:
            _write_table(table, handle)
        written.append(target)
    for name in EXPORTED_TABLES:  # an earlier export's file of a table not written now would pass for this one's
        left = folder / f"{name}.csv"
        if left not in written:
            left.unlink(missing_ok=True)
    return written


def write_csv_zip(db: Database, out: BinaryIO, since: date | None, tz: tzinfo, member: str | None = None) -> None:
    """The files ``write_csv_files`` writes, in one ZIP archive (the Data page's CSV download)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in collect(db, since, tz, member):
            text = io.StringIO()
            _write_table(table, text)
            archive.writestr(f"{table.name}.csv", text.getvalue().encode(SPREADSHEET_ENCODING))


def open_private(path: Path, encoding: str = "utf-8") -> TextIO:
    """Open ``path`` for writing text, readable by its owner only (0600, whatever the umask): a file an earlier
    export left readable to others is made private too before anything is written into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    try:
        os.fchmod(fd, OWNER_ONLY)
        return os.fdopen(fd, "w", newline="", encoding=encoding)
    except BaseException:
        os.close(fd)
        raise
