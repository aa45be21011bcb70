"""One module per ``breather`` sub-command: ``HELP``, ``add_arguments(parser)``, ``run(args, paths)``.

Also what the commands share: the options every command takes (``common_options``), the way a command names
another one in a hint (``command_hint``) and the reading of a moment given on the command line (``aware_moment``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from breather.errors import CommandError
from breather.paths import Paths


def common_options(*, nested: bool = False) -> argparse.ArgumentParser:
    """``--home`` and ``--debug``, as a parent parser: ``add_parser(name, parents=[common_options()])``.

    Commands with actions of their own (``breather rules check``) give each action ``common_options(nested=True)``,
    so the options work after the action too. Nested ones default to ``SUPPRESS``: an action given no ``--home``
    keeps what came before it (``breather rules --home DIR check``) instead of resetting it.
    """
    parent = argparse.ArgumentParser(add_help=False)
    home_default = argparse.SUPPRESS if nested else None
    debug_default = argparse.SUPPRESS if nested else False
    parent.add_argument(
        "--home",
        metavar="DIR",
        default=home_default,
        help="keep every Breather file under DIR (same as BREATHER_HOME)",
    )
    parent.add_argument("--debug", action="store_true", default=debug_default, help="show tracebacks and debug logging")
    return parent


def aware_moment(example: str) -> Callable[[str], datetime]:
    """An argparse ``type=`` for a moment in ISO 8601 with its time zone (``--now``, ``--at``); a refusal shows
    ``example``, the one the option's help gives."""

    def parse(raw: str) -> datetime:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"expected a date and time like {example}, got {raw!r}") from exc
        if moment.tzinfo is None:
            raise argparse.ArgumentTypeError(f"give a time zone too, like {example}, got {raw!r}")
        return moment

    return parse


def command_hint(*words: str, home: str | os.PathLike[str] | None = None) -> str:
    """``breather WORDS`` as the person should type it next: with ``--home DIR`` when they chose one on the command
    line (a hint without it would reach their default home instead), quoted for the shell."""
    return shlex.join(["breather", *words, *(["--home", os.fspath(home)] if home else [])])


def require_household_passphrase(
    paths: Paths, from_stdin: bool, otherwise: str, when_unreadable: str | None = None
) -> None:
    """Ask for the household passphrase when one is set (from the terminal, or the first line of stdin), as the
    dashboard does before a rule change; ``otherwise`` says what a wrong one leaves as it was ("nothing was
    changed"). A household that never set one is not asked. ``when_unreadable``: what goes ahead, unasked, when the
    damaged store cannot say whether one is set (else the store's error stands)."""
    from breather.dashboard.security import verify_passphrase
    from breather.store.writer import trouble_of

    try:
        stored = _household_passphrase_hash(paths)
    except sqlite3.DatabaseError as exc:
        if when_unreadable is None or trouble_of(exc) != "damaged":  # a lock or a permission is not (review)
            raise
        print(
            f"The usage store cannot be read ({exc}), so the household passphrase cannot be checked; {when_unreadable}",
            file=sys.stderr,
        )
        return
    if stored is None:
        return
    given = (
        sys.stdin.readline().rstrip("\r\n")
        if from_stdin
        else ask_hidden("household passphrase: ", "household passphrase", otherwise)
    )
    if not given:
        raise CommandError(f"enter the household passphrase; {otherwise}")
    if not verify_passphrase(given, stored):
        raise CommandError(f"that is not the household passphrase; {otherwise}")


def member_option(db: Any, name: str | None, deleted_too: bool = False, then: str = "") -> str | None:
    """``--member NAME`` checked against the store (``store.export.member_with_records``): a name without records is
    refused with exit 2, naming those it has records about, and ``then`` (what did not happen)."""
    from breather.store.export import member_with_records

    if name is None:
        return None
    try:
        return member_with_records(db, name, deleted_too=deleted_too)
    except ValueError as exc:
        raise CommandError(f"--member: {exc}{then}", exit_code=2) from None


def ask_hidden(prompt: str, what: str, otherwise: str) -> str:
    """What the person types at ``prompt``, not echoed. Without a terminal to ask on (a script, a service manager,
    ``</dev/null``) a clear error naming ``what`` was asked for, instead of getpass's end-of-file."""
    import getpass
    import warnings

    try:
        with warnings.catch_warnings():
            # getpass's fallback when it cannot hide the typing: a warning and the prompt, then end-of-file
            warnings.simplefilter("error", getpass.GetPassWarning)
            return getpass.getpass(prompt)
    except (EOFError, getpass.GetPassWarning):
        raise CommandError(
            f"there is no terminal to ask for the {what} on; pipe it to --stdin instead; {otherwise}"
        ) from None


def _household_passphrase_hash(paths: Paths) -> str | None:
    """The passphrase hash the dashboard keeps in the usage store, or None when none was set."""
    from breather.dashboard.security import PASSPHRASE_KEY
    from breather.store.db import open_database

    if not paths.database.exists():
        return None
    db = open_database(paths.database)
    try:
        row = db.execute("select value from household where key = ?", [PASSPHRASE_KEY]).fetchone()
    except sqlite3.OperationalError:  # no household table yet: the dashboard never ran on this store
        return None
    finally:
        db.close()
    return str(row[0]) if row is not None else None
