"""`breather delete --all`: remove every piece of recorded usage (the SQLite file and its WAL/SHM companions)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from breather.errors import CommandError
from breather.paths import Paths

HELP = "delete all usage data (asks for confirmation)"
COMPANION_SUFFIXES = ("", "-wal", "-shm", "-journal")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all", action="store_true", required=True, help="delete all usage data: activity, events, rollups, requests"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask; required when not run from a terminal")


def database_files(paths: Paths) -> list[Path]:
    return [Path(f"{paths.database}{suffix}") for suffix in COMPANION_SUFFIXES]


def run(args: argparse.Namespace, paths: Paths) -> int:
    present = [path for path in database_files(paths) if path.exists()]
    if not present:
        print(f"nothing to delete: there is no usage data at {paths.database}")
        return 0
    _refuse_while_service_runs(paths)
    if not args.yes and not _confirmed(paths):
        print("nothing deleted")
        return 1
    for path in present:
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # SQLite removes -wal/-shm itself when the last connection closes
        except OSError as exc:
            raise CommandError(f"could not remove {path}: {exc.strerror or exc}") from exc
        print(f"removed {path}")
    print(f"kept the rules ({paths.rules_file}) and the proxy's CA ({paths.mitmproxy_confdir}).")
    return 0


def _refuse_while_service_runs(paths: Paths) -> None:
    from breather.probe import pid_alive, read_service_file

    try:
        info = read_service_file(paths)
    except ValueError:
        return
    if info is not None and pid_alive(info.pid):
        raise CommandError(f"the Breather service is running (pid {info.pid}); stop it first, then delete", 1)


def _confirmed(paths: Paths) -> bool:
    if not sys.stdin.isatty():
        raise CommandError("refusing to delete without --yes when input is not a terminal", exit_code=2)
    answer = input(f"Delete all usage data in {paths.database}? This cannot be undone. Type 'yes' to confirm: ")
    return answer.strip().lower() == "yes"
