"""`breather rules`: check the rules file, explain a decision, show a resolved profile, set a member's password.

`explain` and `show` describe the rules Breather has in force, which are not always the file as written: a broken
edit leaves the last good version in force, and a loosening edit waits for its cooling-off. They say so when it
matters; `--file` describes a file as written instead.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from breather.commands import ask_hidden, command_hint, common_options, require_household_passphrase
from breather.errors import CommandError
from breather.paths import Paths

HELP = "check, explain or show the boundary rules; set a member's proxy password"
EXIT_INVALID = 2
AS_WRITTEN = ""  # `--file` without a path: the config folder's rules file as written
AS_WRITTEN_HELP = "describe this rules file as written (alone: the one in the config folder), not the rules in force"


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
    explain.add_argument(
        "--site", required=True, type=site_host, help="a host such as reddit.com (or a pasted address)"
    )
    explain.add_argument("--at", help="local time such as 2026-11-25T21:30 (default: now)")
    explain.add_argument("--used", help='minutes used today on this site, such as "40m" (default: from the store)')
    explain.add_argument("--active", help='active use since the last break, such as "20m"')
    explain.add_argument("--json", action="store_true", help="print the decision as JSON")
    explain.add_argument("--file", nargs="?", const=AS_WRITTEN, metavar="PATH", help=AS_WRITTEN_HELP)
    show = actions.add_parser("show", parents=common, help="print a profile after inheritance, as TOML or JSON")
    show.add_argument("--profile", help="profile name (default: the default profile)")
    show.add_argument("--format", choices=("toml", "json"), default="toml")
    show.add_argument("--file", nargs="?", const=AS_WRITTEN, metavar="PATH", help=AS_WRITTEN_HELP)
    password = actions.add_parser(
        "password",
        parents=common,
        help="store a household member's proxy password in the rules, as a salted hash",
        description="Store a household member's proxy password in the rules, as a salted hash. When the household "
        "has a passphrase (set on the dashboard's Setup page), it is asked for first, as the dashboard asks before "
        "a rule change; without one, only the new password is asked for.",
    )
    password.add_argument("profile", help="the member's profile name")
    password.add_argument(
        "--stdin",
        action="store_true",
        help="read from standard input instead of the terminal: the household passphrase on the first line when "
        "one is set, then the new password on the next (with no passphrase set, the password alone)",
    )
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


def site_host(given: str) -> str:
    """The host of ``--site``: a pasted address (``https://www.reddit.com/r/all``) counts as its host."""
    from urllib.parse import urlsplit

    text = given.strip()
    host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
    if not host or " " in host:
        raise argparse.ArgumentTypeError(f"{given!r} is not a site: give a host such as reddit.com")
    return host.rstrip(".").lower()


def _rules_path(given: str | None, paths: Paths) -> Path:
    """The file a command reads. The commented default is written only on a first run (no rules were ever in force
    in this home): after that, a file the person moved away must not be replaced by the defaults behind their back
    (the running service would take them in)."""
    from breather.rules.loader import ensure_rules_file

    if given:
        return Path(given)
    if not paths.last_good_rules.exists() and ensure_rules_file(paths.rules_file):
        print(f"wrote the default rules to {paths.rules_file}", file=sys.stderr)
    return paths.rules_file


def _existing_rules_path(given: str | None, paths: Paths) -> Path:
    path = _rules_path(given, paths)
    if path.is_file():
        return path
    where = "no rules file" if not path.exists() else "not a file"
    kept = paths.last_good_rules
    advice = f"; the rules last in force are kept in {kept}: copy that back" if not given and kept.is_file() else ""
    raise CommandError(f"{path}: {where}{advice}", EXIT_INVALID)


def _load(given: str | None, paths: Paths, home: str | None) -> Any:
    return _read_and_load(_existing_rules_path(given, paths), given, home)[1]


def _read_and_load(path: Path, given: str | None, home: str | None) -> tuple[str, Any]:
    """The file's text and its rules, from one read: a command that writes the file checks it still reads so."""
    from breather.rules.loader import RulesError, parse_rules
    from breather.rules.textfile import read_rules_text

    try:
        text = read_rules_text(path)
        return text, parse_rules(text, path.name)
    except RulesError as exc:
        raise _refusal(exc, given, home) from None


def _refusal(exc: Any, given: str | None, home: str | None) -> CommandError:
    more = len(exc.problems) - 1
    tail = f" (and {more} more: run `{_check_hint(given, home)}`)" if more else ""
    return CommandError(f"{exc.problems[0]}{tail}", EXIT_INVALID)


def _check_hint(given: str | None, home: str | None) -> str:
    return command_hint("rules", "check", *([given] if given else []), home=home)


@dataclass(frozen=True)
class _Described:
    """The rules a command describes, and what the reader should know about how they differ from the file."""

    rules: Any
    refused: Any = None  # the file's RulesError, when the last good version is in force instead
    held: tuple[Any, ...] = ()  # the file's loosenings still waiting for their cooling-off
    service_running: bool = True  # else a loosening no service has seen waits from when Breather next starts


def _described(args: argparse.Namespace, paths: Paths, at: datetime | None = None) -> _Described:
    """With ``--file``, that file as written; otherwise the rules the service has in force at ``at`` (default now),
    found the way its rules watcher finds them."""
    from breather.rules.watcher import read_in_force
    from breather.service import dashboard_asked_at

    if args.file is not None:
        return _Described(_load(args.file, paths, args.home))
    path = _rules_path(None, paths)
    state = read_in_force(path, paths.last_good_rules, at or datetime.now(UTC), dashboard_asked_at(paths))
    if state.rules is None:
        raise _refusal(state.refused, None, args.home)
    return _Described(state.rules, state.refused, state.held, service_watching(paths))


def service_watching(paths: Paths) -> bool:
    """Whether a service runs here (or is starting): its watcher sees an edit of the file within a second or two, so
    a loosening it has not noted yet waits from about now; with none, it waits from when Breather next starts."""
    from breather.probe import find_running_service, service_lock_held

    return service_lock_held(paths) or find_running_service(paths) is not None


def _notes(described: _Described, profile: str, now: datetime, home: str | None, *, tail: str) -> list[str]:
    """Plain sentences on how the rules described differ from ``rules.toml``, for ``profile``."""
    notes: list[str] = []
    if described.refused is not None:
        notes.append(f"{_problem_text(described.refused, home)}; Breather keeps the last good version, {tail}")
    held = [change for change in described.held if change.profile in (None, profile)]
    if held:
        from breather.rules.cooling import held_sentence

        old = "the old setting is" if len(held) == 1 else "the old settings are"
        when = held_sentence(held, described.rules.zone(), now, service_running=described.service_running)
        notes.append(f"Your edit loosening {when} (cooling-off); until then {old} in force, {tail}")
    return notes


def _problem_text(refused: Any, home: str | None) -> str:
    first = refused.problems[0]
    name = Path(first.file).name
    what = f"{first.key}: {first.message}" if first.key else first.message
    at = f" at line {first.line}" if first.line else ""
    if len(refused.problems) == 1:
        return f"{name} has a problem{at}: {what}"
    count, check = len(refused.problems), _check_hint(None, home)
    return f"{name} has {count} problems (the first{at}: {what}; `{check}` lists all)"


def _check(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.loader import RulesError, load_rules

    path = _existing_rules_path(args.file, paths)
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
    for note in rules.notes():
        print(f"note: {note}")
    return 0


def _plain_text_passwords(rules: Any) -> list[str]:
    from breather.rules.passwords import is_hashed

    return [p.name for p in rules.profiles.values() if p.password and not is_hashed(p.password)]


def _password(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.editing import ChangedMeanwhile, set_value_in_text, still_reads_as
    from breather.rules.passwords import hash_password, household_names, password_problem
    from breather.rules.watcher import write_private

    path = _existing_rules_path(args.file, paths)
    _profile(_read_and_load(path, args.file, args.home)[1], args.profile)  # a typo in the name: refused before asking
    # A member's proxy password decides whose boundaries apply (a user test: a child set the parent's and browsed as
    # the parent), so changing one needs the household passphrase, as a rule change on the dashboard does.
    require_household_passphrase(paths, args.stdin, "nothing was changed")
    plain = _read_new_password(args.stdin)
    read, rules = _read_and_load(path, args.file, args.home)  # after the typing: an edit saved meanwhile is kept
    profile = _profile(rules, args.profile)
    problem = password_problem(plain, household_names(rules))
    if problem is not None:
        raise CommandError(f"{problem}; nothing was changed", EXIT_INVALID)
    # the user name and the password in one write: the service never sees a member with a name and no password
    text = read
    if not profile.user:
        text = set_value_in_text(text, ("profiles", profile.name, "user"), profile.name, path.name)
    text = set_value_in_text(text, ("profiles", profile.name, "password"), hash_password(plain), path.name)
    try:  # it holds members' password hashes: its owner's only, whoever made it 0644
        write_private(path, text, still_as_read=still_reads_as(path, read))
    except ChangedMeanwhile:  # an edit saved by hand or on the dashboard meanwhile must not be undone unsaid
        raise CommandError(
            f"{path} changed while the password was being set (saved in an editor or on the dashboard?); "
            "nothing was changed: run the command again"
        ) from None
    print(f"stored a hashed password for {profile.name} (sign in to the proxy as {profile.user or profile.name!r})")
    if args.file is None:
        print(_password_in_force(paths, profile.name))
    shut_out = _cannot_sign_in(rules, profile.name)
    if shut_out:
        print(shut_out)
    return 0


def _cannot_sign_in(rules: Any, signed: str) -> str | None:
    """Once one member (``signed``, just given a password) has a password every browser signs in (a device named by
    address excepted), so a member with no user name, password or address has no way through: a user test's parent
    met a sign-in box they had no answer to. (One with a user name signs in by it alone on this machine.)"""
    from breather.rules.timeparse import spoken_list

    stuck = [
        p.name
        for p in rules.profiles.values()
        if p.name != signed and not p.user and not p.password and not p.client_ips
    ]
    if not stuck:
        return None
    run = "; ".join(f"`breather rules password {member}`" for member in stuck)
    owners = spoken_list([f"{member}'s" for member in stuck])
    has = "has" if len(stuck) == 1 else "have"
    return (
        "Every browser through the proxy now signs in (a device the rules name by address excepted). "
        f"{spoken_list(stuck)} {has} no password, so {owners} browsers cannot get through: run {run}."
    )


def _password_in_force(paths: Paths, member: str) -> str:
    """When the new password signs in: a changed one waits out the cooling-off, as any sign-in change made in the
    file does (a first one for a member who had none applies at once). Found as the service's watcher finds it."""
    from breather.rules.cooling import held_sentence
    from breather.rules.watcher import read_in_force
    from breather.service import dashboard_asked_at

    now = datetime.now(UTC)
    state = read_in_force(paths.rules_file, paths.last_good_rules, now, dashboard_asked_at(paths))
    held = [change for change in state.held if change.profile == member and change.setting in ("user", "password")]
    if not held or state.rules is None:
        return "It applies now."
    had_one = any(change.setting == "password" and change.old is not None for change in held)
    until = f"{member}'s old password still signs in" if had_one else f"{member}'s sign-in stays as it was"
    when = held_sentence(held, state.rules.zone(), now, service_running=service_watching(paths))
    return f"A changed password waits out the household's cooling-off: {when}. Until then {until}."


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin:
        typed = sys.stdin.readline().rstrip("\r\n")
    else:
        typed = ask_hidden("new password: ", "new password", "nothing was changed")
        if ask_hidden("again: ", "new password", "nothing was changed") != typed:
            raise CommandError("the two passwords differ; nothing was changed", EXIT_INVALID)
    if not typed:
        raise CommandError("a password cannot be empty; nothing was changed", EXIT_INVALID)
    return typed


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _explain(args: argparse.Namespace, paths: Paths) -> int:
    from breather.rules.decisions import decide

    described = _described(args, paths)
    at = _moment(args.at, described.rules.zone())
    if args.at is not None and args.file is None:  # a held loosening may be in force by then
        described = _described(args, paths, at)
    rules = described.rules
    profile = _profile(rules, args.profile)
    notes = _notes(described, profile.name, at, args.home, tail="used below")
    usage, note = _usage(args, paths, rules, profile.name, at)
    grant = _running_grant(paths, profile.name, _proxy_site(rules, args.site), at)
    if grant is not None:
        usage = replace(usage, extra_time_until=grant.until)
        if _asked_in_quiet_hours(rules, profile.name, args.site, grant):  # the proxy lets it through them too
            profile = replace(profile, quiet_hours=())
    decision = decide(rules, profile, args.site, at, usage)
    if args.json:
        extra = {"at": at.isoformat(), "usage": note, "notes": notes, "grant": _grant_json(grant)}
        print(json.dumps({**decision.to_dict(), **extra}, indent=2))
        return 0
    for line in notes:
        print(line)
    print(f"{decision.kind}: {decision.reason}")
    if grant is not None:
        print(_describe_grant(grant, rules.zone(), at))
    if decision.hidden_topics:
        hidden = ", ".join(sorted(_topic_words(category) for category in decision.hidden_topics))
        print(f"hidden now by topic quiet hours: {hidden}")
    print(f"({at.strftime('%a %Y-%m-%d %H:%M %Z')}; {note})")
    return 0


def _topic_words(category: str) -> str:
    """A category as the person wrote it: ``keyword:spoilers`` is their own topic "spoilers"."""
    from breather.rules.model import OWN_TOPIC_PREFIX

    if category.startswith(OWN_TOPIC_PREFIX):
        return f"{category.removeprefix(OWN_TOPIC_PREFIX)} (your topic)"
    return category


def _show(args: argparse.Namespace, paths: Paths) -> int:
    import tomlkit

    from breather.rules.render import profile_to_dict

    described = _described(args, paths)
    profile = _profile(described.rules, args.profile)
    notes = _notes(described, profile.name, datetime.now(UTC), args.home, tail="shown below")
    data = profile_to_dict(profile)
    if args.format == "json":
        print(json.dumps({"profile": profile.name, **data, "notes": notes}, indent=2))
        return 0
    document = tomlkit.document()
    for line in notes:
        document.add(tomlkit.comment(line))
    document.add(tomlkit.comment(f"profile {profile.name} after inheritance"))
    password = data.pop("password", None)  # "(none)" pasted back into the file would become the password
    if password is not None:
        state = "set" if password == "(set)" else "none"
        document.add(tomlkit.comment(f"password: {state} (never shown; `breather rules password` sets one)"))
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

    active = _duration_flag("--active", args.active, parse_duration) if args.active else None
    if args.used is not None:
        used = _duration_flag("--used", args.used, parse_duration)
        usage = Usage({args.site: used.total_seconds() / 60}, active_since_break=active or timedelta(0))
        return usage, "usage from --used"
    stored = _stored_usage(paths, rules, profile, at)
    if stored is None:
        return Usage(active_since_break=active or timedelta(0)), "no usage recorded yet: counted as zero"
    if active is not None:
        stored = replace(stored, active_since_break=active)
    since_break = stored.active_since_break.total_seconds() / 60
    return stored, f"usage from the store: {stored.total_minutes:.0f}m today, {since_break:.0f}m since the last break"


def _duration_flag(flag: str, raw: str, parse: Any) -> Any:
    try:
        return parse(raw)
    except ValueError as exc:
        raise CommandError(f"{flag}: {exc}", EXIT_INVALID) from None


def _stored_usage(paths: Paths, rules: Any, profile: str, at: datetime) -> Any:
    """Today's usage as the store has it (the running service adds the last few seconds), or None without a store."""
    from datetime import timedelta
    from functools import partial

    from breather.rules.decisions import Usage
    from breather.runtime import group_name
    from breather.store import queries
    from breather.store.db import open_database

    if not paths.database.exists():
        return None
    db = open_database(paths.database)
    try:
        today = queries.minutes_today(db, profile, at, rules.zone(), partial(group_name, rules))
        active = queries.active_minutes_since_break(db, profile, at)
    finally:
        db.close()
    return Usage(
        dict(today.by_site),
        group_minutes=dict(today.by_group),
        total_minutes=float(today.total),
        active_since_break=timedelta(minutes=active),
    )


def _grant_json(grant: Any) -> dict[str, str] | None:
    if grant is None:
        return None
    return {"site": grant.site, "until": grant.until.isoformat(), "approved_at": grant.approved_at.isoformat()}


def _describe_grant(grant: Any, zone: Any, at: datetime) -> str:
    from breather.rules.decisions import when

    local_at = at.astimezone(zone).replace(tzinfo=None)
    until, approved = (moment.astimezone(zone).replace(tzinfo=None) for moment in (grant.until, grant.approved_at))
    return (
        f"more time on {grant.site or 'every site'} until {when(until, local_at)}, approved on the dashboard at "
        f"{when(approved, local_at)}: Breather lets it through until then"
    )


def _proxy_site(rules: Any, host: str) -> str:
    """The site the proxy records a host as and keys its grants by."""
    from breather.rules.model import site_domain

    group = rules.group_for_host(host)
    return site_domain(host, group.domains if group else ())


def _asked_in_quiet_hours(rules: Any, profile: str, site: str, grant: Any) -> bool:
    from breather.grants import asked_in_quiet_hours

    return grant.asked_at is not None and asked_in_quiet_hours(rules, profile, site, grant.asked_at)


def _running_grant(paths: Paths, profile: str, site: str, at: datetime) -> Any:
    """The grant of more time for ``profile`` on ``site`` (the proxy's site domain) running at ``at`` (the longest if
    several are): the same answers the service gives back to the proxy after a restart, whichever of the site's hosts
    the ask named (the extension sends the tab's, ``www.reddit.com``)."""
    from breather.grants import approved_grants, grants_the_site
    from breather.store.db import open_database

    if not paths.database.exists():
        return None
    db = open_database(paths.database)
    try:
        grants = approved_grants(db)
    except sqlite3.OperationalError:  # no answers table yet: the dashboard never ran on this store
        return None
    finally:
        db.close()
    running = [g for g in grants if g.profile == profile and grants_the_site(g, site) and g.approved_at <= at < g.until]
    return max(running, key=lambda grant: grant.until, default=None)
