"""`breather status`: is the service running, what has each profile used today, and is the rules file sound."""

from __future__ import annotations

import argparse
import json
import sqlite3
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from breather import autostart
from breather.commands import aware_moment, command_hint
from breather.commands.other_code import other_code_note
from breather.paths import Paths
from breather.probe import LOOPBACK, RunningService, find_running_service, running_code, service_lock_held

if TYPE_CHECKING:
    from breather.rules.model import Rules
    from breather.store.usage import Usage

HELP = "show whether the service is running, today's usage per profile and any rules error"

SHOWN_COUNTERS = ("flows_seen", "documents_seen", "rewritten", "warnings_marked", "passed_after_error")
NOT_RUNNING_EXIT = 3  # as `systemctl status` does: the question was answered, the answer is "not running"
AT_EXAMPLE = "2026-11-25T22:30+00:00"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument(
        "--at",
        type=aware_moment(AT_EXAMPLE),
        default=None,
        metavar="ISO",
        help=f"report as of this moment instead of now, e.g. {AT_EXAMPLE}",
    )


def rules_report(paths: Paths) -> dict[str, Any]:
    """The rules file's state without writing anything: a first run's default is not created by a status check."""
    from breather.rules.loader import RulesError, load_rules
    from breather.rules.watcher import read_last_good

    if not paths.rules_file.exists():
        in_force = str(paths.last_good_rules) if paths.last_good_rules.is_file() else None
        return {
            "file": str(paths.rules_file),
            "ok": True,
            "profiles": [],
            "errors": [],
            "missing": True,
            "kept": in_force,
        }
    try:
        rules = load_rules(paths.rules_file)
    except (RulesError, OSError) as exc:
        # a file that cannot be read (its mode changed, a disk error) is reported like one with problems: the
        # service keeps the last good rules, and the rest of the report still says whether it runs
        problems = [str(p) for p in exc.problems] if isinstance(exc, RulesError) else [_unreadable(exc)]
        broken: dict[str, Any] = {"file": str(paths.rules_file), "ok": False, "profiles": [], "errors": problems}
        try:  # the service keeps the last version it took in: today's members and windows come from there
            kept = read_last_good(paths.last_good_rules)
        except (RulesError, OSError):
            kept = None
        if kept is not None:
            broken.update(profiles=list(kept.profiles), zone=str(kept.zone()), _rules=kept)
        return broken
    return {
        "file": str(paths.rules_file),
        "ok": True,
        "profiles": list(rules.profiles),
        "errors": [],
        "zone": str(rules.zone()),
        "_rules": rules,
    }


def _unreadable(exc: BaseException) -> str:
    """``PATH: reason`` as the system says it, or the database's message."""
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        return f"{exc.filename}: {reason}" if exc.filename is not None else reason
    return str(exc)


def today_usage(paths: Paths, rules: Rules, now: datetime) -> Usage | None:
    """Today's minutes (household zone) as the dashboard's pages count them: each site group's time once, and a
    person's total as their time online, which is not the sum of their sites. None when nothing was ever recorded.
    """
    from breather.store import usage
    from breather.store.db import open_database

    if not paths.database.exists():
        return None
    db = open_database(paths.database)
    try:
        today = now.astimezone(rules.zone()).date()
        # today from the spans themselves: its rollup is rebuilt only every quarter of an hour
        return usage.usage(db, rules, usage.Period(today, today))
    finally:
        db.close()


def _rules_for_usage(loaded: Rules | None) -> Rules:
    """The rules whose site groups name today's sites: the ones in force, else the default the dashboard would
    write on its first run."""
    from breather.rules.loader import default_rules_text, parse_rules

    return loaded if loaded is not None else parse_rules(default_rules_text())


def collect(paths: Paths, now: datetime | None = None) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    service = find_running_service(paths)
    rules = rules_report(paths)
    loaded = rules.pop("_rules", None)
    counting = _rules_for_usage(loaded)
    zone = counting.zone()
    profiles = list(rules["profiles"])
    unreadable = None
    try:
        found = today_usage(paths, counting, moment)
    except (sqlite3.Error, OSError) as exc:  # a damaged store, a disk error: the rest of the report still stands
        found, unreadable = None, f"{paths.database}: {_unreadable(exc)}"
    online = found.profiles() if found is not None else {}
    sites = {name: found.sites(name) for name in online} if found is not None else {}
    profiles += [name for name in online if name not in profiles]
    try:  # a broken file too: the loosening held before it broke still waits
        held = held_report(paths, zone, moment, service is not None or service_lock_held(paths))
    except (sqlite3.Error, OSError):  # the rules file or the store could not be read: said above
        held = []
    if held:
        rules["held"] = held
    today: dict[str, Any] = {
        "day": moment.astimezone(zone).date().isoformat(),
        "profiles": {name: sites.get(name, {}) for name in profiles},
        "totals": {name: online.get(name, 0.0) for name in profiles},
        "quiet_hours_until": _quiet_now(loaded, moment),
    }
    if unreadable is not None:
        today["unreadable"] = unreadable
    return {
        "running": service is not None,
        "service": _service_json(service, paths),
        "today": today,
        "rules": rules,
        "starts_at_login": [str(path) for path in autostart.installed()],
        "login_entries_outdated": [str(path) for path in autostart.outdated_entries()],
    }


def held_report(paths: Paths, zone: tzinfo, now: datetime, running: bool = True) -> list[dict[str, Any]]:
    """What the service holds for the cooling-off, found as its rules watcher finds it (the service's ``/healthz``
    gives only machine lines): each setting's path, when it takes effect, and a sentence for people. With no service
    ``running``, a loosening none has seen has no time yet: ``takes_effect`` is null and ``waits_from_next_start``
    says for how long it waits once Breather starts (``24h``)."""
    from breather.rules.cooling import duration_text
    from breather.rules.watcher import read_in_force
    from breather.service import dashboard_asked_at

    state = read_in_force(paths.rules_file, paths.last_good_rules, now, dashboard_asked_at(paths))
    held = sorted([*state.held, *_held_on_the_rules_page(paths, now)], key=lambda change: change.takes_effect)
    report: list[dict[str, Any]] = []
    for change in held:
        wait = None if running else change.unseen_wait
        when = change.takes_effect.isoformat(timespec="minutes") if wait is None else None
        entry = {
            "setting": change.path,
            "takes_effect": when,
            "text": change.sentence(zone, now, service_running=running),
        }
        report.append(entry if wait is None else {**entry, "waits_from_next_start": duration_text(wait)})
    return report


def _held_on_the_rules_page(paths: Paths, now: datetime) -> list[Any]:
    """The dashboard's own waiting changes (a user test found them missing from `status`)."""
    import sqlite3

    from breather.dashboard.db import connect
    from breather.pending_rules import held_here
    from breather.rules.errors import RulesError
    from breather.rules.textfile import read_rules_text

    if not paths.database.exists() or not paths.rules_file.exists():
        return []
    try:
        db = connect(str(paths.database))
    except sqlite3.Error:
        return []
    try:
        return held_here(db, read_rules_text(paths.rules_file), now)
    except sqlite3.Error:  # no table yet: the dashboard never ran on this store
        return []
    except RulesError:  # not UTF-8, unreadable: the report's rules lines say so, located
        return []
    finally:
        db.close()


def _quiet_now(rules: Any, now: datetime) -> dict[str, str]:
    """Profiles whose quiet hours are in force now, with the local time they end."""
    from breather.scheduler import quiet_hours_states

    if rules is None:
        return {}
    zone = rules.zone()
    return {
        name: state.next_change.astimezone(zone).strftime("%H:%M") if state.next_change else "further notice"
        for name, state in quiet_hours_states(rules, now).items()
        if state.quiet
    }


def _service_json(service: RunningService | None, paths: Paths) -> dict[str, Any] | None:
    from breather.net import address_for_other_devices

    if service is None:
        return None
    from breather.version import code_fingerprint

    info = service.info
    host = _proxy_host(paths)
    version, code = running_code(service)
    return {
        "pid": info.pid,
        "version": version,
        "code": code,
        "started_at": info.started_at,
        "same_code": code == code_fingerprint(),
        "web_port": info.web_port,
        "proxy_host": host,
        "proxy_port": info.proxy_port,
        "proxy_for_other_devices": address_for_other_devices(host),
        "dashboard": info.dashboard_url,
        "health": service.health,
    }


def _proxy_host(paths: Paths) -> str:
    """Where the proxy listens, as the service wrote it in its service file (``--listen-host``)."""
    try:
        host = json.loads(paths.service_file.read_text(encoding="utf-8")).get("proxy_host")
    except (OSError, ValueError, AttributeError):
        host = None
    return host if isinstance(host, str) else LOOPBACK


def render(report: dict[str, Any], home: str | None = None) -> str:
    """The report as text; ``home`` is the ``--home`` given, for the hint on how to start the service."""
    lines = [
        *_service_lines(report["service"], home),
        *_login_lines(report.get("starts_at_login", []), home, report.get("login_entries_outdated", [])),
        *_usage_lines(report["today"]),
        *_rules_lines(report),
    ]
    return "\n".join(lines)


def _login_lines(entries: list[str], home: str | None, outdated: list[str]) -> list[str]:
    if entries:
        older = f" (not what this Breather writes: `{command_hint('autostart', 'status', home=home)}` says more)"
        return [f"Starts at login: {', '.join(entries)}" + (older if outdated else "")]
    return [f"Does not start at login (`{command_hint('autostart', 'enable', home=home)}` makes it)."]


def _service_lines(service: dict[str, Any] | None, home: str | None) -> list[str]:
    if service is None:
        return [f"Breather is not running (start it with `{command_hint('run', home=home)}`)."]
    proxy = f"{_proxy_text(service)}, " if service["proxy_port"] else ""
    version = f" {service['version']}" if service.get("version") else ""
    lines = [f"Breather{version} is running (pid {service['pid']}): {proxy}dashboard at {service['dashboard']}"]
    if not service.get("same_code", True):
        note = other_code_note(service.get("version"), service.get("code"), service.get("started_at"), home)
        lines += [f"  {note}"] if note else []
    lines += _store_lines(service["health"].get("store"))
    counters = service["health"].get("proxy") or {}
    shown = [f"{name.replace('_', ' ')} {counters[name]}" for name in SHOWN_COUNTERS if name in counters]
    if shown:
        lines.append("  proxy: " + ", ".join(shown))
    return lines


def _store_lines(store: dict[str, Any] | None) -> list[str]:
    """What the service says of its usage store (``/healthz`` ``store``), when it is not all well."""
    from breather.store.writer import TROUBLE

    if not store:
        return []
    lines = []
    if not store.get("saving", True):
        why = TROUBLE.get(str(store.get("trouble")), "it cannot write the file")
        then = (
            "restart Breather (breather stop, then breather run)"
            if store.get("trouble") == "stopped"
            else f"{store.get('held', 0)} record(s) wait and are saved once it can"
        )
        lines.append(f"  the usage store is not being saved since {store.get('trouble_since')}: {why}; {then}")
    lost = int(store.get("dropped_records") or 0) + int(store.get("dropped_batches") or 0)
    if lost:
        lines.append(
            f"  the usage store lost records since the service started: {store.get('dropped_records', 0)} "
            f"record(s) and {store.get('dropped_batches', 0)} batch(es) could not be saved (see the service's log)"
        )
    return lines


def _proxy_text(service: dict[str, Any]) -> str:
    from breather.net import EVERY_INTERFACE

    host, port = service.get("proxy_host", LOOPBACK), service["proxy_port"]
    if host not in EVERY_INTERFACE:
        return f"proxy on {host}:{port}"
    return f"proxy on every interface, port {port} (other devices: {service['proxy_for_other_devices']}:{port})"


def _usage_lines(today: dict[str, Any]) -> list[str]:
    """Minutes written as the dashboard writes them (same figures, same rounding)."""
    from breather.store.usage import minutes_text, ranked

    lines = [f"Today ({today['day']}):"]
    quiet = today.get("quiet_hours_until", {})
    if today.get("unreadable"):  # "nothing yet" would be a guess: say what could not be read instead
        lines.append(f"  today's usage could not be read: {today['unreadable']}")
        return lines + [f"  {name}: quiet hours until {until}" for name, until in quiet.items()]
    if not today["profiles"]:
        lines.append("  no profiles yet")
    for name, sites in today["profiles"].items():
        note = f"; quiet hours until {quiet[name]}" if name in quiet else ""
        if not sites:
            lines.append(f"  {name}: nothing yet{note}")
            continue
        by_site = ", ".join(f"{site} {minutes_text(minutes)}" for site, minutes in ranked(sites).items())
        lines.append(f"  {name}: {minutes_text(today['totals'][name])} ({by_site}){note}")
    return lines


def _rules_lines(report: dict[str, Any]) -> list[str]:
    rules = report["rules"]
    if rules.get("missing") and rules.get("kept"):
        # deleted after a first run: the service keeps the rules last in force, and a start writes no default
        return [
            f"Rules: {rules['file']} is missing; the rules last in force are kept in {rules['kept']}"
            f"{' and the service goes on with them' if report['running'] else ''}: copy that back"
        ]
    if rules.get("missing"):
        return [f"Rules: {rules['file']} does not exist yet (the default is written on first run)"]
    if rules["ok"]:
        count = len(rules["profiles"])
        lines = [f"Rules: {rules['file']} is valid ({count} profile{'' if count == 1 else 's'})"]
    else:
        kept = " (the service keeps the last good rules)" if report["running"] else ""
        lines = [f"Rules: {rules['file']} has {len(rules['errors'])} problem(s){kept}:"]
        lines += [f"  {problem}" for problem in rules["errors"]]
    service = report["service"]
    service_rules = ((service or {}).get("health") or {}).get("rules", {})
    service_error = service_rules.get("last_error")
    if service_error and rules["ok"]:
        lines.append(f"  the service reports: {service_error}")
    held = [change["text"] for change in rules.get("held", [])] or service_rules.get("held") or []
    if held:
        lines.append("  held for the cooling-off:")
        lines += [f"    {change}" for change in held]
    return lines


def run(args: argparse.Namespace, paths: Paths) -> int:
    report = collect(paths, args.at)
    print(json.dumps(report, indent=2, sort_keys=True) if args.json else render(report, args.home))
    return 0 if report["running"] else NOT_RUNNING_EXIT
