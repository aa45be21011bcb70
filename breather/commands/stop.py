"""`breather stop`: stop the running service cleanly, the way SIGTERM stops it, and wait until it has gone."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any

from breather import autostart
from breather.commands import command_hint, require_household_passphrase
from breather.errors import CommandError
from breather.paths import Paths
from breather.probe import find_running_service, pid_alive

HELP = "stop the running service: the proxy, the dashboard and the scheduler (your boundaries are off until it runs)"

POLL_INTERVAL_S = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for it to finish its last writes and stop (default 30)",
    )
    parser.add_argument(
        "--stdin",
        action="store_true",
        help="read the household passphrase (when one is set) from the first line of standard input",
    )


def run(args: argparse.Namespace, paths: Paths) -> int:
    running = find_running_service(paths)
    if running is None:
        print("Breather is not running.")
        return 0
    pid = running.info.pid
    # Stopping switches every member's boundaries off, so it asks what a rule change on the dashboard asks.
    # A damaged store cannot say: stopping it is the way to move the file aside (Breather runs as the person, who
    # can end the process anyway), so it is not refused.
    require_household_passphrase(paths, args.stdin, "Breather keeps running", when_unreadable="stopping anyway.")
    os.kill(pid, signal.SIGTERM)
    if not _gone_within(pid, args.wait):
        raise CommandError(
            f"Breather (pid {pid}) did not stop within {args.wait:g} s; `kill -9 {pid}` stops it at once "
            "(losing at most the last second of its log)"
        )
    again = "It starts again at your next login, or" if autostart.installed() else "Start it again with"
    print(
        f"Stopped Breather (pid {pid}). Your boundaries are off until it runs again. {again} "
        f"`{command_hint('run', home=args.home)}`."
    )
    unsaved = _waiting_unsaved(running.health)
    if unsaved:
        print(unsaved, file=sys.stderr)
    return 0


def _waiting_unsaved(health: dict[str, Any]) -> str:
    """What the store could not save when the stop was asked (a robustness test: another program held the store's
    lock, the stop lost 65 records, and the command said a plain "Stopped")."""
    from breather.store.writer import TROUBLE

    store = health.get("store") or {}
    held = int(store.get("held") or 0)
    if store.get("saving", True) or not held:
        return ""
    why = TROUBLE.get(str(store.get("trouble")), "it could not write the file")
    return (
        f"The usage store could not save as Breather stopped ({why}): up to {held} record(s) of usage may be lost "
        "(the log says how many)."
    )


def _gone_within(pid: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_INTERVAL_S)
    return True
