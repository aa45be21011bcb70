"""`breather eval`: precision, recall and F1 of the classifier on a labelled CSV file (or the shared sets)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from breather.errors import CommandError
from breather.paths import Paths

HELP = "evaluate the classifier on a labelled CSV file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="CSV with a text column and a label column")
    parser.add_argument("--text-col", default="text", help="column holding the post text (default: text)")
    parser.add_argument(
        "--label-col",
        default="label",
        help="column holding the label: self_harm, eating_disorder, violence, harassment, substance or none "
        "(several joined by |)",
    )
    parser.add_argument(
        "--format",
        choices=["table", "json"],
        default="table",
        help="table to read, or json for scripts (with --shared, json also has the flagged share of each source's "
        "groups) (default: table)",
    )
    parser.add_argument(
        "--sensitivity",
        choices=["low", "medium", "high"],
        default="medium",
        help="the level the classifier runs at, as a member's warnings in the rules: low flags only clear cases, "
        "high flags more (and more harmless posts with them) (default: medium)",
    )
    parser.add_argument("--shared", action="store_true", help="evaluate on the shared labelled sets instead of FILE")
    parser.add_argument(
        "--split",
        choices=["dev", "test", "all"],
        default=None,
        help="with --shared: which half of the shared sets, test (never tuned on), dev (the thresholds were chosen "
        "on it) or all (default: test)",
    )
    parser.add_argument(
        "--fixtures",
        default=None,
        help="with --shared: the fixtures folder (default: $BREATHER_FIXTURES, else shared/fixtures beside the "
        "checkout)",
    )
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="add 95%% bootstrap intervals (resampled by post, HateCheck by template): how far each number could "
        "move by chance",
    )


def run(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules import evaluation
    from breather.rules.intervals import bootstrap_intervals

    check_what_applies(args)
    if args.shared:
        report = _shared(args, evaluation)
    elif args.file:
        try:
            examples = evaluation.read_labelled_csv(Path(args.file), args.text_col, args.label_col)
        except ValueError as exc:
            raise CommandError(str(exc), exit_code=2) from exc
        predictions = evaluation.predict_all(examples, evaluation.predictor(args.sensitivity))
        report = evaluation.metrics(examples, predictions)
        if args.intervals:
            report["intervals"] = bootstrap_intervals(examples, predictions)
    else:
        raise CommandError("give a CSV file, or --shared for the shared labelled sets", exit_code=2)
    if args.format == "json":
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
    else:
        sys.stdout.write(format_table(report))
    return 0


def check_what_applies(args: argparse.Namespace) -> None:
    """Refuse options that would be ignored: a FILE beside --shared was never read, and --split or --fixtures
    without --shared changed nothing, while the person took the numbers for what they asked."""
    if args.shared and args.file:
        raise CommandError(f"give a CSV file or --shared, not both ({args.file} would not be read)", exit_code=2)
    if not args.shared:
        given = [flag for flag, value in (("--split", args.split), ("--fixtures", args.fixtures)) if value is not None]
        if given:
            verb = "apply" if len(given) > 1 else "applies"
            raise CommandError(
                f"{' and '.join(given)} {verb} only with --shared (the shared labelled sets)", exit_code=2
            )


def _shared(args: argparse.Namespace, evaluation: Any) -> dict[str, Any]:
    root = evaluation.fixtures_root(args.fixtures)
    if not (root / "labelled").is_dir():
        raise CommandError(f"{root}: no labelled/ folder (pass --fixtures or set BREATHER_FIXTURES)")
    report: dict[str, Any] = evaluation.full_report(
        root, args.split or "test", evaluation.predictor(args.sensitivity), intervals=args.intervals
    )
    report.pop("groups", None) if args.format == "table" else None
    return report


def format_table(report: dict[str, Any]) -> str:
    intervals = report.get("intervals", {})
    header = f"{'category':<16} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"
    lines = [header + (f"  {'recall 95%':>14}  {'f1 95%':>14}" if intervals else "")]
    for category, row in report["categories"].items():
        line = f"{category:<16} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} {row['support']:>8}"
        if intervals:
            spread = intervals["categories"][category]
            line += f"  {_span(spread['recall']):>14}  {_span(spread['f1']):>14}"
        lines.append(line)
    none = report["none"]
    lines.append(
        f"none: {none['false_positive_rate']:.1%} flagged of {none['support']} posts"
        + _percent_span(intervals.get("none", {}).get("false_positive_rate"))
    )
    if "hatecheck_contrast" in report:
        contrast = report["hatecheck_contrast"]
        lines.append(
            f"HateCheck contrast cases: {contrast['flagged_rate']:.1%} flagged of {contrast['posts']}"
            + _percent_span(intervals.get("hatecheck_contrast", {}).get("flagged_rate"))
        )
    other = report.get("mental_health_other", {})
    if other.get("posts"):
        lines.append(f"other mental-health posts: {other['flagged_rate']:.1%} flagged of {other['posts']}")
    feeds = report.get("recorded_feeds", {})
    if feeds.get("posts"):
        categories = ", ".join(f"{name} {count}" for name, count in feeds["by_category"].items())
        lines.append(f"recorded feed posts (unlabelled): {feeds['flagged']} of {feeds['posts']} flagged ({categories})")
    return "\n".join(lines) + "\n"


def _span(bounds: list[float]) -> str:
    return f"{bounds[0]:.3f}-{bounds[1]:.3f}"


def _percent_span(bounds: list[float] | None) -> str:
    return f" (95% interval {bounds[0]:.1%}-{bounds[1]:.1%})" if bounds else ""
