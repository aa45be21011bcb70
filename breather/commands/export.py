"""`breather export`: the usage data as JSON or CSV, to stdout or a file (or one CSV file per table, in a folder or a
ZIP archive)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from breather.commands import member_option
from breather.errors import CommandError
from breather.paths import Paths

if TYPE_CHECKING:
    from sqlite_utils import Database

HELP = "export usage data as CSV or JSON"


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {raw!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("json", "csv"), default="json", help="output format (default: json)")
    parser.add_argument("--since", type=_date, metavar="DATE", help="only data from this local day on (YYYY-MM-DD)")
    parser.add_argument(
        "--output",
        metavar="PATH",
        help="write here instead of stdout; with --format csv, a folder (existing, or ending in /) or a .zip file "
        "gets one file per table, as spreadsheets open them",
    )
    parser.add_argument("--tz", metavar="ZONE", help="time zone for --since (default: the rules' household zone)")
    parser.add_argument(
        "--member",
        metavar="NAME",
        help="only the records about this member (without the household's weekly goals); default: everyone's",
    )


def run(args: argparse.Namespace, paths: Paths) -> int:
    from breather.store import export
    from breather.store.db import open_database

    if not paths.database.exists():
        raise CommandError(f"no usage data yet: {paths.database} does not exist")
    zone = _zone(args.tz, paths)
    db = open_database(paths.database)
    try:
        member = member_option(db, args.member)
        if args.output is None:
            _write(args.format, db, sys.stdout, args.since, zone, member)
            return 0
        target = Path(args.output)
        if args.format == "csv" and (target.is_dir() or args.output.endswith(("/", "\\"))):
            written = export.write_csv_files(db, target, args.since, zone, member)
            print(f"wrote {len(written)} files to {target}", file=sys.stderr)
            return 0
        if args.format == "csv" and target.suffix.lower() == ".zip":
            _write_private(
                target, lambda handle: export.write_csv_zip(db, handle, args.since, zone, member), binary=True
            )
        else:
            _write_private(target, lambda handle: _write(args.format, db, handle, args.since, zone, member))
    finally:
        db.close()
    print(f"wrote {target}", file=sys.stderr)
    return 0


def _write(fmt: str, db: Database, out: TextIO, since: date | None, zone: tzinfo, member: str | None) -> None:
    from breather.store import export

    if fmt == "json":
        export.write_json(db, out, since, zone, member=member)
    else:
        export.write_csv_sections(db, out, since, zone, member)


def _write_private(target: Path, write: Callable[[Any], None], binary: bool = False) -> None:
    """Write next to the target and rename, so a failed export never leaves half a file under the real name; the
    file is its owner's only, as the store is."""
    from breather.store.export import open_private

    partial = target.with_name(target.name + ".partial")
    try:
        with open_private(partial) as handle:
            write(handle.buffer if binary else handle)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _zone(name: str | None, paths: Paths) -> tzinfo:
    from breather.rules.timeparse import local_zone, zone_named

    if name is not None:
        try:
            return zone_named(name)
        except ValueError as exc:
            raise CommandError(f"--tz: {exc}", exit_code=2) from exc
    # The zone in force, as the service cuts days: a time zone change waiting out its cooling-off is not yet it (an
    # audit's export said the new zone while every day was still cut in the old one). A broken rules file must not
    # block getting one's data out: the last good rules, else this machine's zone.
    from breather.rules.watcher import read_in_force
    from breather.service import dashboard_asked_at

    rules = read_in_force(paths.rules_file, paths.last_good_rules, datetime.now(UTC), dashboard_asked_at(paths)).rules
    return rules.zone() if rules is not None else local_zone()
