"""The ``breather`` command line.

Each sub-command lives in its own module under ``breather.commands`` with ``HELP``, ``add_arguments(parser)``
and ``run(args, paths) -> int``. Modules import heavy libraries (mitmproxy, Flask, Qt) inside ``run`` so that
``breather --help`` and ``breather rules check`` stay fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from breather import __version__
from breather.commands import common_options
from breather.errors import CommandError
from breather.paths import Paths

COMMANDS: tuple[str, ...] = (
    "run",
    "serve",
    "open",
    "rules",
    "classify",
    "eval",
    "export",
    "delete",
    "demo",
    "ca",
    "status",
    "autostart",
    "stop",
)

BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a program the closed pipe stopped, as for `cat`


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"breather.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="breather",
        description="Breather: a local well-being proxy for social media.",
    )
    parser.add_argument("--version", action="version", version=f"breather {__version__}")
    common = common_options()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _command_module(name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP, parents=[common])
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # not a real file (tests capture it): nothing is left to flush
        pass


def _os_problem(exc: OSError, paths: Paths | None = None) -> str:
    """``PATH: reason`` as the system says it (``reason`` alone when no file is named), and what to do where it is
    the person's to fix: a robustness test's read-only home got "service.lock: Permission denied" alone."""
    reason = exc.strerror or str(exc)
    said = f"{exc.filename}: {reason}" if exc.filename is not None else reason
    in_home = paths is not None and exc.filename is not None and paths.holds(Path(os.fsdecode(exc.filename)))
    if exc.errno == errno.ENOSPC:
        return f"{said}: free some space on that disk and try again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        where = "or choose another Breather home with --home DIR" if in_home else "or choose another place"
        if exc.errno == errno.EROFS:
            return f"{said}: that disk is mounted read-only; {where} on a writable disk"
        return f"{said}: you may not use it; make it (and its folder) yours, readable and writable, {where}"
    return said


def store_problem(exc: sqlite3.Error, database: Path) -> str:
    """One line about the usage database's trouble: what it is, the file, and what to do."""
    from breather.store.writer import trouble_of

    trouble, text = trouble_of(exc), str(exc)
    if trouble == "full":
        return f"the disk holding the usage database {database} is full: free some space and start again"
    if trouble == "read_only":
        return (
            f"the usage database {database} cannot be written ({text}): make it and its folder writable "
            "for you, then start again"
        )
    if trouble == "damaged":
        return (
            f"the usage database {database} is damaged ({text}); Breather left it as it is. Move it aside (Breather "
            "then starts a new, empty one) and restore a backup of it if you have one"
        )
    return (
        f"the usage database {database} could not be used ({text}): check the disk has room and works; if this "
        "goes on, move the file aside (Breather then starts a new one) and restore a backup if you have one"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    paths: Paths | None = None
    try:
        paths = Paths.resolve(args.home)
        code = int(args._module.run(args, paths) or 0)
        sys.stdout.flush()  # here, so that a reader gone by now is met below rather than at interpreter exit
        return code
    except BrokenPipeError:
        # The reader went away (`breather export | head -1`): stop quietly, as `cat` does. Later flushes of what
        # is still buffered go nowhere instead of failing again at exit.
        _silence_stdout()
        return BROKEN_PIPE_EXIT
    except CommandError as exc:
        print(f"breather {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        # A file or folder the system refused (`--home` naming a file, a full disk): the person's to fix, and said
        # as such, not as a bug to debug.
        if args.debug:
            raise
        print(f"breather {args.command}: {_os_problem(exc, paths)}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        # A damaged usage database, a full disk, a read-only folder: the person's to fix, said with the file and
        # what to do. The file itself is never touched here: it may be all there is of the household's history.
        if args.debug:
            raise
        print(f"breather {args.command}: {store_problem(exc, Paths.resolve(args.home).database)}", file=sys.stderr)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"breather {args.command}: unexpected error: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
