"""`breather rules`: check the rules file, explain a decision, show a resolved profile, set a member's password."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from breather.commands import command_hint, common_options
from breather.errors import CommandError
from breather.paths import Paths

HELP = "check, explain or show the boundary rules; set a member's proxy password"
EXIT_INVALID = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="rules_action", metavar="ACTION")
    common = [common_options(nested=True)]  # `breather rules check --home DIR` as well as `rules --home DIR check`
    check = actions.add_parser(
        "check", parents=common, help="validate a rules file: exit 0 when valid, 2 with every problem"
    )
    check.add_argument("file", nargs="?", help="the rules file (default: the one in the config folder)")
    explain = actions.add_parser(
        "explain", parents=common, help="say what applies to a profile on a site at a moment, and why"
    )
    explain.add_argument("--profile", help="profile name (default: the default profile)")
    explain.add_argument("--site", required=True, help="a host such as reddit.com")
    explain.add_argument("--at", help="local time such as 2026-11-25T21:30 (default: now)")
    explain.add_argument("--used", help='minutes used today on this site, such as "40m" (default: from the store)')
    explain.add_argument("--active", help='active use since the last break, such as "20m"')
    explain.add_argument("--json", action="store_true", help="print the decision as JSON")
    explain.add_argument("--file", help="the rules file (default: the one in the config folder)")
    show = actions.add_parser("show", parents=common, help="print a profile after inheritance, as TOML or JSON")
    show.add_argument("--profile", help="profile name (default: the default profile)")
    show.add_argument("--format", choices=("toml", "json"), default="toml")
    show.add_argument("--file", help="the rules file (default: the one in the config folder)")
    password = actions.add_parser(
        "password", parents=common, help="store a household member's proxy password in the rules, as a salted hash"
    )
    password.add_argument("profile", help="the member's profile name")
    password.add_argument("--stdin", action="store_true", help="read the password from standard input (one line)")
    password.add_argument("--file", help="the rules file (default: the one in the config folder)")
    parser.set_defaults(_rules_parser=parser)


def run(args: argparse.Namespace, paths: Paths) -> int:
    action = getattr(args, "rules_action", None)
    if action == "check":
        return _check(args, paths)
    if action == "explain":
        return _explain(args, paths)
    if action == "show":
        return _show(args, paths)
    if action == "password":
        return _password(args, paths)
    args._rules_parser.print_help()
    return EXIT_INVALID


def _rules_path(given: str | None, paths: Paths) -> Path:
    from breather.rules.loader import ensure_rules_file

    if given:
        return Path(given)
    if ensure_rules_file(paths.rules_file):
        print(f"wrote the default rules to {paths.rules_file}", file=sys.stderr)
    return paths.rules_file


def _load(given: str | None, paths: Paths, home: str | None) -> Any:
    from breather.rules.loader import RulesError, load_rules

    path = _rules_path(given, paths)
    try:
        return load_rules(path)
    except RulesError as exc:
        more = len(exc.problems) - 1
        check = command_hint("rules", "check", *([given] if given else []), home=home)
        tail = f" (and {more} more: run `{check}`)" if more else ""
        raise CommandError(f"{exc.problems[0]}{tail}", EXIT_INVALID) from None


def _check(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.loader import RulesError, load_rules

    path = _rules_path(args.file, paths)
    try:
        rules = load_rules(path)
    except RulesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    print(f"{path}: valid ({_count(len(rules.profiles), 'profile')}, {_count(len(rules.groups), 'site group')})")
    for name in _plain_text_passwords(rules):
        fix = command_hint("rules", "password", name, *(["--file", args.file] if args.file else []), home=args.home)
        print(f"note: profile {name!r} keeps its password in plain text; `{fix}` hashes it")
    return 0


def _plain_text_passwords(rules: Any) -> list[str]:
    from breather.rules.passwords import is_hashed

    return [p.name for p in rules.profiles.values() if p.password and not is_hashed(p.password)]


def _password(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.editing import set_value
    from breather.rules.passwords import hash_password

    path = _rules_path(args.file, paths)
    rules = _load(args.file, paths, args.home)
    profile = _profile(rules, args.profile)
    hashed = hash_password(_read_new_password(args.stdin))
    if not profile.user:
        set_value(path, ("profiles", profile.name, "user"), profile.name)
    set_value(path, ("profiles", profile.name, "password"), hashed)
    print(f"stored a hashed password for {profile.name} (sign in to the proxy as {profile.user or profile.name!r})")
    return 0


def _read_new_password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        typed = sys.stdin.readline().rstrip("\r\n")
    else:
        typed = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != typed:
            raise CommandError("the two passwords differ; nothing was changed", EXIT_INVALID)
    if not typed:
        raise CommandError("a password cannot be empty; nothing was changed", EXIT_INVALID)
    return typed


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _explain(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.decisions import decide

    rules = _load(args.file, paths, args.home)
    profile = _profile(rules, args.profile)
    zone = rules.zone()
    at = _moment(args.at, zone)
    usage, note = _usage(args, paths, rules, profile.name, at)
    decision = decide(rules, profile, args.site, at, usage)
    if args.json:
        print(json.dumps({**decision.to_dict(), "at": at.isoformat(), "usage": note}, indent=2))
        return 0
    print(f"{decision.kind}: {decision.reason}")
    if decision.hidden_topics:
        print(f"hidden now by topic quiet hours: {', '.join(sorted(decision.hidden_topics))}")
    print(f"({at.strftime('%a %Y-%m-%d %H:%M %Z')}; {note})")
    return 0


def _show(args: argparse.Namespace, paths: Paths) -> int:
    import tomlkit

    from breather.rules.render import profile_to_dict

    rules = _load(args.file, paths, args.home)
    profile = _profile(rules, args.profile)
    data = profile_to_dict(profile)
    if args.format == "json":
        print(json.dumps({"profile": profile.name, **data}, indent=2))
        return 0
    document = tomlkit.document()
    document.add(tomlkit.comment(f"profile {profile.name} after inheritance"))
    document.add("profiles", {profile.name: data})
    print(tomlkit.dumps(document), end="")
    return 0


def _profile(rules: Any, name: str | None) -> Any:
    if name is None:
        return rules.profiles[rules.default_profile]
    try:
        return rules.profile(name)
    except KeyError as exc:
        raise CommandError(str(exc.args[0]), EXIT_INVALID) from None


def _moment(raw: str | None, zone: Any) -> datetime:
    if raw is None:
        return datetime.now(zone)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(f'--at: expected a time like "2026-11-25T21:30", got "{raw}"', EXIT_INVALID) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _usage(args: argparse.Namespace, paths: Paths, rules: Any, profile: str, at: datetime) -> tuple[Any, str]:
    """Usage from the flags, else today's from the store when it has any; says which it used."""
    from datetime import timedelta

    from breather.rules.decisions import Usage
    from breather.rules.timeparse import parse_duration

    active = _duration_flag("--active", args.active, parse_duration) if args.active else timedelta(0)
    if args.used is not None:
        used = _duration_flag("--used", args.used, parse_duration)
        return Usage({args.site: used.total_seconds() / 60}, active_since_break=active), "usage from --used"
    stored = _stored_usage(paths, rules, profile, at)
    if stored is None:
        return Usage(active_since_break=active), "no usage recorded yet: counted as zero"
    minutes, groups, total = stored
    usage = Usage(minutes, group_minutes=groups, total_minutes=total, active_since_break=active)
    return usage, f"usage from the store: {total:.0f}m today"


def _duration_flag(flag: str, raw: str, parse: Any) -> Any:
    try:
        return parse(raw)
    except ValueError as exc:
        raise CommandError(f"{flag}: {exc}", EXIT_INVALID) from None


def _stored_usage(
    paths: Paths, rules: Any, profile: str, at: datetime
) -> tuple[dict[str, float], dict[str, float], float] | None:
    if not paths.database.exists():
        return None
    try:
        from breather.store import queries
        from breather.store.db import open_database
    except ImportError:
        return None
    if not hasattr(queries, "minutes_today"):
        return None

    def group_of(site: str) -> str | None:
        group = rules.group_for_host(site)
        return group.name if group else None

    db = open_database(paths.database)
    try:
        today = queries.minutes_today(db, profile, at, rules.zone(), group_of)
    finally:
        db.close()
    return dict(today.by_site), dict(today.by_group), float(today.total)
