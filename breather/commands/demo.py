"""`breather demo`: a realistic month for a household of four, in a home of its own."""

from __future__ import annotations

import argparse
import os

from breather.commands import aware_moment, command_hint
from breather.errors import CommandError
from breather.paths import HOME_ENV, Paths

HELP = "seed a realistic month of usage for a household of four"
NOW_EXAMPLE = "2026-11-25T18:00+00:00"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=30, help="how many days of usage, ending now (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same household (default 1)")
    parser.add_argument(
        "--now",
        type=aware_moment(NOW_EXAMPLE),
        default=None,
        metavar="ISO",
        help=f"pretend it is this moment (the last day is its day), e.g. {NOW_EXAMPLE}",
    )


def run(args: argparse.Namespace, paths: Paths) -> int:
    from breather.demo import DemoHomeNotEmpty, seed_demo

    if args.home is None and not os.environ.get(HOME_ENV):
        raise CommandError(f"the demo goes into a home of its own: pass --home DIR (or set {HOME_ENV})")
    try:
        summary = seed_demo(paths, days=args.days, seed=args.seed, now=args.now)
    except DemoHomeNotEmpty as exc:
        raise CommandError(str(exc)) from exc
    except ValueError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    home = paths.config_dir.parent
    print(f"Demo household written to {home}: {summary.describe()}")
    print(
        f"See it with: {command_hint('run', home=home)}"
        " (add --proxy-port 0 --web-port 0 while your own Breather is running: 0 picks free ports)"
    )
    return 0
