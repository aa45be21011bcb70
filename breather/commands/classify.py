"""`breather classify`: print content-warning verdicts for text as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

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
    parser.add_argument(
        "--country",
        default=None,
        help="the country whose crisis line a self-harm or eating-disorder verdict carries (default: the rules' "
        "country, the default member's; without a rules file yet, the one a first run would pick)",
    )


def run(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.classify import classify
    from breather.rules.crisis import crisis_line, line_for_categories

    posts = sys.stdin if args.text == ["-"] else [" ".join(args.text)]
    country = args.country
    for line in posts:
        verdict = classify(line.rstrip("\n"), keywords=args.keyword, sensitivity=args.sensitivity)
        record = verdict.to_dict()
        if verdict.needs_crisis_line:
            country = country or rules_country(paths)
            try:
                line = crisis_line(country, override=paths.config_dir / "crisis_lines.toml")
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            shown = line_for_categories(line, verdict.flagged).to_dict()
            shown.pop("eating_disorder", None)  # the line this post shows, as a warning would
            record["crisis_line"] = shown
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def rules_country(paths: Paths) -> str:
    """The country the proxy shows crisis lines for: the default member's in the rules in force (found as the
    service finds them, nothing written); with no rules yet, the country a first run would write."""
    from breather.rules.countries import guess_country
    from breather.rules.timeparse import local_zone_name
    from breather.rules.watcher import read_in_force

    rules = read_in_force(paths.rules_file, paths.last_good_rules, datetime.now(UTC)).rules
    if rules is None:
        return guess_country(local_zone_name()).code
    return str(rules.profile(rules.default_profile).country)
