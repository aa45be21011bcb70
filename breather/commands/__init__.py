"""One module per ``breather`` sub-command: ``HELP``, ``add_arguments(parser)``, ``run(args, paths)``.

Also what the commands share: the options every command takes (``common_options``) and the way a command names
another one in a hint (``command_hint``).
"""

from __future__ import annotations

import argparse
import os
import shlex


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


def command_hint(*words: str, home: str | os.PathLike[str] | None = None) -> str:
    """``breather WORDS`` as the person should type it next: with ``--home DIR`` when they chose one on the command
    line (a hint without it would reach their default home instead), quoted for the shell."""
    return shlex.join(["breather", *words, *(["--home", os.fspath(home)] if home else [])])
