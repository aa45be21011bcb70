"""`breather delete --all` (or `--member NAME`): remove every record of use (or one member's) from the store, keep
what the household set up.

The rows go (see ``breather.store.queries.USAGE_TABLES``), and the file is then rebuilt and its write-ahead log
emptied, so no deleted row stays in ``breather.db`` or its ``-wal`` file. The passphrase, paired browsers, rule
changes waiting to apply, the rules and the proxy's CA stay: deleting data must not lock the household out.
"""

from __future__ import annotations

import argparse
import shlex
import sqlite3
import sys

from breather.commands import member_option
from breather.errors import CommandError
from breather.paths import Paths

HELP = "delete all usage data, or one member's (asks for confirmation); rules, pairings and the passphrase stay"
WHAT_GOES = "all usage records, warnings, breaks, answers and goals"
WHAT_STAYS = "rules, pairings and the passphrase stay"


MEMBER_STAYS = "the other members' records, the weekly goals, rules, pairings and the passphrase stay"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help=f"delete {WHAT_GOES}; {WHAT_STAYS}")
    which.add_argument("--member", metavar="NAME", help=f"delete every record about one member; {MEMBER_STAYS}")
    parser.add_argument("--yes", action="store_true", help="do not ask; required when not run from a terminal")


def run(args: argparse.Namespace, paths: Paths) -> int:
    if not paths.database.exists():
        print(f"nothing to delete: there is no usage data at {paths.database}")
        return 0
    _refuse_while_service_runs(paths)
    member = _member(paths, args.member)
    if not args.yes and not _confirmed(paths, member):
        print("nothing deleted")
        return 1
    removed, clean = _delete(paths, member)
    paths.shown_warnings.unlink(missing_ok=True)  # when warned posts were shown: a record of use too
    for table, rows in removed.items():
        print(f"deleted {rows} {'row' if rows == 1 else 'rows'} from {table}")
    if not clean:
        raise CommandError(
            f"the usage data is deleted, but another program is reading {paths.database}, so old copies may remain "
            f"in {paths.database}-wal until it closes; close it and run '{_again(member)}' again"
        )
    print(f"compacted {paths.database}: no deleted row is left in the file")
    print(
        "kept the household passphrase, paired browsers and rule changes waiting to apply (in the same file), "
        f"the rules ({paths.rules_file}) and the proxy's CA ({paths.mitmproxy_confdir})."
    )
    return 0


def _again(member: str | None) -> str:
    return "breather delete --all" if member is None else f"breather delete --member {shlex.quote(member)}"


def _member(paths: Paths, name: str | None) -> str | None:
    from breather.store.db import open_database

    if name is None:
        return None
    db = open_database(paths.database)
    try:
        return member_option(db, name, deleted_too=True, then="; nothing deleted")
    finally:
        db.close()


def _delete(paths: Paths, member: str | None) -> tuple[dict[str, int], bool]:
    from breather.store import queries
    from breather.store.db import open_database

    try:
        db = open_database(paths.database)
    except sqlite3.Error as exc:
        raise CommandError(f"could not open {paths.database}: {exc}; nothing deleted") from exc
    try:
        try:
            removed = queries.delete_usage(db) if member is None else queries.delete_member_usage(db, member)
        except sqlite3.Error as exc:
            raise CommandError(f"could not delete from {paths.database}: {exc}; nothing deleted") from exc
        try:
            clean = queries.compact(db)
        except sqlite3.Error as exc:
            raise CommandError(
                f"the usage data is deleted, but compacting {paths.database} failed ({exc}); run "
                f"'{_again(member)}' again"
            ) from exc
    finally:
        db.close()
    return removed, clean


def _refuse_while_service_runs(paths: Paths) -> None:
    from breather.probe import pid_alive, read_service_file

    try:
        info = read_service_file(paths)
    except ValueError:
        return
    if info is not None and pid_alive(info.pid):
        raise CommandError(f"the Breather service is running (pid {info.pid}); stop it first, then delete", 1)


def _confirmed(paths: Paths, member: str | None) -> bool:
    if not sys.stdin.isatty():
        raise CommandError("refusing to delete without --yes when input is not a terminal", exit_code=2)
    goes, stays = (WHAT_GOES, WHAT_STAYS) if member is None else (f"every record about {member}", MEMBER_STAYS)
    answer = input(
        f"Delete {goes} in {paths.database}? {stays.capitalize()}. This cannot be undone. Type 'yes' to confirm: "
    )
    return answer.strip().lower() == "yes"
