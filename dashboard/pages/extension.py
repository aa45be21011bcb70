"""What the extension API answers, without Flask: parsing bodies, the PAC, the status of one profile."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from breather.dashboard.errors import ApiError
from breather.rules.decisions import Decision, Usage, decide
from breather.rules.model import Profile, Rules
from breather.runtime import Session, decide_past_overrides, lifted_until, usage_for
from breather.scheduler import quiet_hours_state
from breather.store import queries, usage
from breather.store.model import Event, Heartbeat, check_site

IDLE_STATES = ("active", "idle", "locked")
EXTENSION_EVENT_KINDS = ("break_taken", "break_snoozed", "more_time_asked")
THROUGH_PROXY_WINDOW = timedelta(minutes=2)
NO_BREAK_DUE = "No break is due now, so there is nothing to snooze."
HEARTBEAT_SECONDS = 30.0  # the extension sends one every 30 s while a social tab is in front
CLOSED_KINDS = ("limit_reached", "quiet_hours")  # the proxy answers the site with its block page


def required_str(body: dict[str, Any], key: str, limit: int = 200) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "InvalidField", f"'{key}' must be a non-empty string")
    if len(value) > limit:
        raise ApiError(400, "InvalidField", f"'{key}' must be at most {limit} characters")
    return value.strip()


def optional_str(body: dict[str, Any], key: str, limit: int = 200) -> str | None:
    return required_str(body, key, limit) if body.get(key) is not None else None


def _site(body: dict[str, Any]) -> str:
    raw = required_str(body, "site", 253).lower()
    try:
        return check_site(raw)
    except ValueError as exc:
        raise ApiError(400, "InvalidField", f"'site': {exc}") from None


def _timestamp(body: dict[str, Any]) -> datetime:
    raw = body.get("at")
    if raw is None:
        return datetime.now(UTC)
    if not isinstance(raw, str):
        raise ApiError(400, "InvalidField", "'at' must be an ISO-8601 time with a UTC offset")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "InvalidField", f"'at': {raw!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise ApiError(400, "InvalidField", "'at' must carry a UTC offset, e.g. 2026-03-01T09:30:00Z")
    return moment


@dataclass(frozen=True)
class BrowserBeat:
    site: str
    visible: bool
    focused: bool
    idle: str
    at: datetime
    routed: bool | None = None  # the extension sends the site through Breather (None: it does not say)

    @property
    def counts(self) -> bool:
        """Only a visible, focused tab with an active person is time spent on the site."""
        return self.visible and self.focused and self.idle == "active"


def parse_heartbeat(body: dict[str, Any]) -> BrowserBeat:
    idle = body.get("idle", "active")
    if idle not in IDLE_STATES:
        raise ApiError(400, "InvalidField", f"'idle' must be one of {', '.join(IDLE_STATES)}")
    flags = {}
    for key in ("visible", "focused"):
        value = body.get(key, True)
        if not isinstance(value, bool):
            raise ApiError(400, "InvalidField", f"'{key}' must be true or false")
        flags[key] = value
    routed = body.get("routed")
    if routed is not None and not isinstance(routed, bool):
        raise ApiError(400, "InvalidField", "'routed' must be true or false")
    return BrowserBeat(_site(body), flags["visible"], flags["focused"], str(idle), _timestamp(body), routed)


def record_heartbeat(
    writer: Any, db: Database, rules: Rules, profile: str, beat: BrowserBeat, runtime: Any
) -> str | None:
    """Store the heartbeat as the 30 s it stands for, as the overlay's are (the store counts time both report once),
    or say why it is not time on the site; None: recorded. Stored as a point, a heartbeat lost the last period of
    every visit and all of a visit shorter than one, which showed where the extension alone counts (no routing)."""
    reason = why_not_time_on_site(db, rules, profile, beat, runtime)
    if reason is None:
        record = _storable(lambda: Heartbeat(profile, beat.site, beat.at, HEARTBEAT_SECONDS, "extension"))
        writer.heartbeat(record)
    return reason


def _storable[T](build: Callable[[], T]) -> T:
    """The record ``build`` makes, or a 400 saying why the store refuses it (a browser paired as a name the store
    cannot keep): an uncaught refusal answered the extension with a 500 on every heartbeat."""
    try:
        return build()
    except ValueError as exc:
        raise ApiError(400, "RecordRefused", f"nothing was recorded: {exc}") from None


def why_not_time_on_site(db: Database, rules: Rules, profile_name: str, beat: BrowserBeat, runtime: Any) -> str | None:
    """Why the heartbeat is not time on the site: "not_in_use" (a hidden or unfocused tab, an idle person), or the
    block in force at its moment ("limit_reached", "quiet_hours", past running overrides and grants, as the status
    decides) when the page came through Breather: the tab shows Breather's block page in the site's place, which is
    not time on the site, as a request the proxy refused is not. None: it counts. A site loaded directly (``routed``
    false: the extension does not route it) shows whatever the rules say, so its time counts."""
    if not beat.counts:
        return "not_in_use"
    profile = rules.profiles.get(profile_name)
    if profile is None or beat.routed is False:
        return None
    today = minutes_today(db, rules, profile.name, beat.at)
    decision = _decision(db, rules, profile, beat.site, today, runtime, beat.at)
    return decision.kind if decision.kind in CLOSED_KINDS else None


@dataclass(frozen=True)
class BrowserEvent:
    kind: str
    site: str | None
    minutes: int | None


def parse_event(body: dict[str, Any]) -> BrowserEvent:
    kind = body.get("kind")
    if kind not in EXTENSION_EVENT_KINDS:
        raise ApiError(400, "InvalidField", f"'kind' must be one of {', '.join(EXTENSION_EVENT_KINDS)}")
    site = _site(body) if body.get("site") is not None else None
    minutes = body.get("minutes")
    if minutes is not None and (not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 240):
        raise ApiError(400, "InvalidField", "'minutes' must be a whole number from 1 to 240")
    # An ask with no site (0.1.0's extension sent them with no social tab in front, and a browser can keep running old
    # code after an update) is stored: a yes to it lifts the member's limits on every site (breather.grants); refused,
    # the old extension dropped it for good and the parent never saw it.
    return BrowserEvent(str(kind), site, minutes)


def apply_break_event(
    runtime: Any, rules: Rules, profile: str, event: BrowserEvent, now: datetime
) -> BrowserEvent | None:
    """A break taken or snoozed from the extension's notification, told to the running service as the page's own
    buttons tell it: before, only the store heard, so "Take a break" reached the proxy up to 10 s late and a snooze
    never did (the page kept the break on screen). A snooze is refused when the page's would be, and when no break
    is due (a notification answered after a pause that was a break: counted, it began a run of snoozes and the
    weekly review counted a break snoozed); the event logged carries the snooze's real length, which a restart
    replays. None: a snooze already runs, nothing to log (the same notification pressed in a second browser is that
    snooze, as a second tab's button is on the page)."""
    from breather.runtime import NO_MORE_SNOOZES, begin_break, snooze_break

    sessions = getattr(runtime, "sessions", None)
    if sessions is None or event.kind not in ("break_taken", "break_snoozed"):
        return event
    if event.kind == "break_taken":
        length = rules.profile(profile).break_length
        sessions.update(profile, lambda session: begin_break(session, now, length))
        return event
    session = sessions.read(profile)
    if session.snoozed_until is not None and now < session.snoozed_until:
        return None
    due = _break_due(rules, profile, event.site, session, now)
    if due is None:
        raise ApiError(409, "NoBreakDue", NO_BREAK_DUE)
    if not due.snooze_allowed:
        raise ApiError(409, "NoMoreSnoozes", NO_MORE_SNOOZES)
    length = sessions.update(profile, lambda session: snooze_break(session, now))
    return BrowserEvent(event.kind, event.site, int(length.total_seconds() // 60))


def _break_due(rules: Rules, profile: str, site: str | None, session: Any, now: datetime) -> Decision | None:
    """The break the status says is due (the extension's notification comes from it), as the proxy decides it, or
    None when none is."""
    person = rules.profiles.get(profile)
    if person is None:
        return None
    usage = usage_for(session, rules, now)
    shown_site = representative_site(rules, site, session, now)  # the site the status speaks for
    decision = decide_past_overrides(rules, person, shown_site, now, usage, session)
    return decision if decision.kind == "break_due" else None


# One ask at a time: checking for a waiting ask and logging a new one must not interleave between two requests.
_ASKING = threading.Lock()


def record_event(writer: Any, db: Database, profile: str, event: BrowserEvent, now: datetime) -> bool:
    """Log the event; an ask for more time then waits on the Requests page. False (nothing logged) for an ask while
    the member's ask for that site still waits: a user test sent fifty from a console, and the parent had fifty
    cards to answer one by one."""
    detail = {"minutes": event.minutes} if event.minutes is not None else None
    record = _storable(lambda: Event(profile, event.kind, now, site=event.site, detail=detail))
    if event.kind != "more_time_asked":
        writer.event(record)
        return True
    from breather.dashboard.pages.requests import pending

    with _ASKING:
        writer.flush(2)  # an ask queued a moment ago counts as waiting
        if any(ask.profile == profile and ask.site == event.site for ask in pending(db, now)):
            return False
        writer.event(record)
        writer.flush(2)
        return True


# --- Proxy configuration ------------------------------------------------------------------------------------------


def proxy_endpoint(settings: dict[str, Any], runtime: Any) -> tuple[str, int]:
    host = str(settings.get("listen_host", "127.0.0.1"))
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address: "PROXY ::1:8080" reads as nothing a browser can use
    port = getattr(runtime, "proxy_port", None) or int(settings.get("proxy_port", 8080))
    return host, int(port)


def config_version(rules: Rules, settings: dict[str, Any], runtime: Any) -> str:
    """A short digest of what the extension routes (the domains and the proxy's address): the status carries it, so
    the extension fetches its config again as soon as the rules gain a site, not minutes later."""
    import hashlib

    host, port = proxy_endpoint(settings, runtime)
    routed = json.dumps([sorted(set(rules.intercepted_domains())), host, port])
    return hashlib.sha256(routed.encode()).hexdigest()[:12]


def proxy_config(rules: Rules, settings: dict[str, Any], runtime: Any) -> dict[str, Any]:
    """What the extension routes, and the version of the extension shipped with this service (from the checkout's
    extension/manifest.json; left out when there is none, as in an installed wheel): a browser still running an
    older one says so in its popup."""
    from breather.version import extension_version

    host, port = proxy_endpoint(settings, runtime)
    domains = sorted(set(rules.intercepted_domains()))
    answer: dict[str, Any] = {
        "proxy": {"host": host, "port": port},
        "domains": domains,
        "config_version": config_version(rules, settings, runtime),
    }
    shipped = extension_version()
    if shipped is not None:
        answer["extension_version"] = shipped
    return answer


def pac_script(rules: Rules, settings: dict[str, Any], runtime: Any) -> str:
    """A PAC that sends only the intercepted domains (and their subdomains) to Breather; all else goes direct."""
    host, port = proxy_endpoint(settings, runtime)
    domains = json.dumps(sorted(set(rules.intercepted_domains())))
    return (
        "// Breather: only these social sites go through the local proxy; everything else is direct.\n"
        f"var BREATHER_DOMAINS = {domains};\n"
        "function FindProxyForURL(url, host) {\n"
        '  host = host.toLowerCase().replace(/\\.$/, "");\n'  # reddit.com. is reddit.com, as for the proxy
        "  for (var i = 0; i < BREATHER_DOMAINS.length; i++) {\n"
        "    var d = BREATHER_DOMAINS[i];\n"
        '    if (host === d || dnsDomainIs(host, "." + d)) {\n'
        f'      return "PROXY {host}:{port}";\n'
        "    }\n"
        "  }\n"
        '  return "DIRECT";\n'
        "}\n"
    )


# --- Status -------------------------------------------------------------------------------------------------------


def minutes_today(db: Database, rules: Rules, profile: str, now: datetime) -> queries.TodayUsage:
    """The same numbers the proxy decides on: overlapping tabs count once."""
    return queries.minutes_today(db, profile, now, rules.zone(), group_of=lambda host: usage.site_label(rules, host))


def through_proxy(runtime: Any, profile: str, now: datetime) -> bool | None:
    """Whether the proxy itself saw any request of this profile's for a site it reads lately (a page, a limit page
    served instead, a feed's JSON); unknown (None) without a running service."""
    sessions = getattr(runtime, "sessions", None)
    if sessions is None:
        return None
    seen = sessions.read(profile).last_seen.values()
    return any(now - at <= THROUGH_PROXY_WINDOW for at in seen)


def _decision(
    db: Database, rules: Rules, profile: Profile, site: str, today: queries.TodayUsage, runtime: Any, now: datetime
) -> Decision:
    """What the running proxy decides (the same functions: its usage, and the overrides and grants running for the
    member on the site), else, without a service, what the store says."""
    sessions = getattr(runtime, "sessions", None)
    if sessions is None:
        active = queries.active_minutes_since_break(db, profile.name, now)
        return decide(rules, profile, site, now, Usage.of_today(today, active_since_break=timedelta(minutes=active)))
    session = sessions.read(profile.name)
    return decide_past_overrides(rules, profile, site, now, usage_for(session, rules, now), session)


def _service_total(runtime: Any, rules: Rules, profile: str, now: datetime) -> float:
    """Today's minutes as the running proxy counts them (0 without one): the store's, plus what it holds that the
    store has not saved, while another program locks the file or the disk is full (the popup said the store's
    figure while the limit it decided on had gone on counting)."""
    sessions = getattr(runtime, "sessions", None)
    if sessions is None:
        return 0.0
    total = usage_for(sessions.read(profile), rules, now).total_minutes
    return total or 0.0


def representative_site(
    rules: Rules, site: str | None, session: Session | None = None, at: datetime | None = None
) -> str:
    """The site a status without one speaks for: one the member has no exception of their own on (a yes for more
    time, an "open anyway"), so a yes for reddit does not make Today say "Open" while every other site is shut (a
    user test); the exceptions are listed apart. The first site when every one has an exception, or none does."""
    if site:
        return site
    domains = list(rules.intercepted_domains())
    if session is not None and at is not None:
        domains = [domain for domain in domains if not _has_own_exception(session, rules, domain, at)] or domains
    return domains[0] if domains else "reddit.com"


def _has_own_exception(session: Session, rules: Rules, domain: str, at: datetime) -> bool:
    return any(lifted_until(session, rules, domain, kind, at) is not None for kind in CLOSED_KINDS)


def quiet_hours_change_in_s(rules: Rules, profile: Profile, now: datetime) -> int | None:
    """Whole seconds until the profile's quiet hours next start or end (None: it has none), so the extension can
    warn ahead of time. Computed from the rules rather than the scheduler's minute-old copy, to the second."""
    next_change = quiet_hours_state(profile, now, rules.zone()).next_change
    if next_change is None:
        return None
    return max(0, round((next_change - now).total_seconds()))


def _countdown_as_decided(rules: Rules, profile: Profile, now: datetime, quiet: bool) -> int | None:
    """The countdown, when it means what ``quiet`` says: while "open anyway" or a grant lifts quiet hours, the
    rules' countdown is to their end, which the extension would read as quiet hours starting."""
    if quiet_hours_state(profile, now, rules.zone()).quiet != quiet:
        return None
    return quiet_hours_change_in_s(rules, profile, now)


def status_for(
    db: Database,
    rules: Rules,
    profile_name: str,
    runtime: Any,
    now: datetime | None = None,
    site: str | None = None,
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    profile = rules.profiles.get(profile_name)
    if profile is None:
        return status_not_in_rules(db, rules, profile_name, runtime, moment)
    today = minutes_today(db, rules, profile.name, moment)
    session = runtime.sessions.read(profile.name) if getattr(runtime, "sessions", None) is not None else None
    shown_site = representative_site(rules, site, session, moment)
    decision = _decision(db, rules, profile, shown_site, today, runtime, moment)
    limit = profile.daily_limit.total_seconds() / 60 if profile.daily_limit else None
    return {
        "profile": profile.name,
        "minutes_today": round(max(today.total, _service_total(runtime, rules, profile.name, moment)), 1),
        "limit_minutes": round(limit) if limit is not None else None,
        "next_break_in_s": decision.next_break_in.total_seconds() if decision.next_break_in is not None else None,
        "decision": {"kind": decision.kind, "reason": decision.reason, "message": decision.message},
        "quiet_hours": decision.kind == "quiet_hours",
        "quiet_hours_change_in_s": _countdown_as_decided(rules, profile, moment, decision.kind == "quiet_hours"),
        "through_proxy": through_proxy(runtime, profile.name, moment),
    }


NOT_IN_RULES = "not_in_rules"


def status_not_in_rules(db: Database, rules: Rules, name: str, runtime: Any, now: datetime) -> dict[str, Any]:
    """A member taken out of the rules while their usage and pairing stay: their own minutes, and no decision, since
    no limit, break or quiet hours apply to the name. Answering as the default profile told a paired teen they had
    used the parent's 70 minutes of the parent's hour, and their extension blocked on it."""
    message = (
        f"{name} is not in the household's rules now, so no limits, breaks or quiet hours apply to that name. "
        "Ask whoever keeps the rules to add it back, or pair this browser as another member."
    )
    return {
        "profile": name,
        "minutes_today": round(minutes_today(db, rules, name, now).total, 1),
        "limit_minutes": None,
        "next_break_in_s": None,
        "decision": {"kind": NOT_IN_RULES, "reason": f"{name} is not in the rules", "message": message},
        "quiet_hours": False,
        "quiet_hours_change_in_s": None,
        "through_proxy": through_proxy(runtime, name, now),
    }
