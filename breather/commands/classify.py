"""`breather classify`: print content-warning verdicts for text as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys

from breather.errors import CommandError
from breather.paths import Paths

HELP = "print content-warning verdicts for text as JSON lines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="+", help='the post text, or "-" to read one post per line from stdin')
    parser.add_argument(
        "--sensitivity", choices=["off", "low", "medium", "high"], default="medium", help="default: medium"
    )
    parser.add_argument(
        "--keyword", action="append", default=[], metavar="PHRASE", help="your own topic phrase (repeatable)"
    )
    parser.add_argument("--country", default=None, help="add the crisis line for this country when one is needed")


def run(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.classify import classify
    from breather.rules.crisis import crisis_line

    posts = sys.stdin if args.text == ["-"] else [" ".join(args.text)]
    for line in posts:
        verdict = classify(line.rstrip("\n"), keywords=args.keyword, sensitivity=args.sensitivity)
        record = verdict.to_dict()
        if args.country is not None and verdict.needs_crisis_line:
            try:
                record["crisis_line"] = crisis_line(args.country, override=paths.config_dir / "crisis_lines.toml")
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            record["crisis_line"] = record["crisis_line"].to_dict()
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0
