"""`breather classify`: print content-warning verdicts for text as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from breather.paths import Paths

HELP = "print content-warning verdicts for text as JSON lines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "text",
        nargs="+",
        help='the post text (several words are joined by spaces into one post), or "-" to read one post per line '
        "from stdin",
    )
    parser.add_argument(
        "--sensitivity",
        choices=["off", "low", "medium", "high"],
        default="medium",
        help="how readily a post is flagged, for every category: low flags only clear cases, high flags more (and "
        "more harmless posts with them), off flags only your --keyword topics (default: medium)",
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
    from breather.rules.crisis import line_for_categories

    country_line: Any = None
    for post in _posts(args.text):
        verdict = classify(post, keywords=args.keyword, sensitivity=args.sensitivity)
        record = verdict.to_dict()
        if verdict.needs_crisis_line:
            country_line = country_line or crisis_line_in_force(paths, args.country)
            shown = line_for_categories(country_line, verdict.flagged).to_dict()
            shown.pop("eating_disorder", None)  # the line this post shows, as a warning would
            record["crisis_line"] = shown
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _posts(text: list[str]) -> Iterator[str | bytes]:
    """The arguments as one post, or each line of stdin as bytes: a line that is not UTF-8 (or not text at all) is
    one post the classifier says so about, where decoding stdin as text ended the whole run at that line."""
    if text != ["-"]:
        yield " ".join(text)
        return
    source = getattr(sys.stdin, "buffer", sys.stdin)  # a stdin replaced by text (as in tests) has no bytes under it
    for line in source:
        yield line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n")


def crisis_line_in_force(paths: Paths, wanted: str | None) -> Any:
    """The line for ``wanted`` (else the rules' country) from the table the proxy would use; what the person should
    know about it (their own table unreadable, a country the table does not hold) is said once on stderr, and the
    verdicts go on: a mistake in their table must not take the helpline off, nor stop the stream."""
    from breather.rules.crisis import INTERNATIONAL, OVERRIDE_FILE, line_for, table_in_force

    table, problem = table_in_force(paths.config_dir / OVERRIDE_FILE)
    if problem is not None:
        _note(f"{problem}; your crisis lines file was not used, the verdicts carry the shipped table's lines")
    country = wanted or rules_country(paths)
    line = line_for(country, table)
    if line.is_international and country.strip().upper() != INTERNATIONAL:
        _note(
            f"no crisis line for the country {country!r}; the verdicts carry the international directory (give a "
            "code such as GB or a name such as Germany)"
        )
    return line


def _note(message: str) -> None:
    print(f"breather classify: {message}", file=sys.stderr)


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
