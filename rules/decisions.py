"""What applies to one person on one site at one moment: a pure function of the rules, the time and the usage.

``decide`` reads every window in the household's wall-clock time: a window written "22:00-07:00" starts at 22:00 on
the clock on the wall, whatever the UTC offset that night (so a DST change makes that night an hour shorter or longer).
Precedence: always-allowed sites, then quiet hours, then daily limits, then break cadence. Topic quiet hours are
reported alongside any kind, since they hide posts rather than sites.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal

from breather.rules.model import Profile, Rules, SiteGroup, Window, host_in_domain
from breather.rules.timeparse import DAY_TITLES, format_clock, format_duration, spoken_duration

DecisionKind = Literal["allow", "break_due", "limit_reached", "quiet_hours"]
ALL_SITES = "all sites"


@dataclass(frozen=True)
class Usage:
    """What the store knows about today, for one profile.

    ``minutes_today`` is keyed by site as the store records it (a host such as ``old.reddit.com``) or by site group
    name; pass one or the other for a given site, not both. ``group_minutes`` and ``total_minutes``, when given
    (``breather.store.queries.minutes_today`` gives both), count two tabs open at once only once; otherwise the
    per-site minutes are added up.
    """

    minutes_today: Mapping[str, float] = field(default_factory=dict)
    group_minutes: Mapping[str, float] = field(default_factory=dict)
    total_minutes: float | None = None
    active_since_break: timedelta = timedelta(0)
    snoozes_in_a_row: int = 0
    snoozed_until: datetime | None = None
    extra_time_until: datetime | None = None

    @classmethod
    def of_today(cls, today: Any, **more: Any) -> Usage:
        """From ``breather.store.queries.minutes_today``'s answer (asked with site groups): the groups' minutes and
        the total, each with overlapping time counted once."""
        return cls(minutes_today=today.by_group, group_minutes=today.by_group, total_minutes=today.total, **more)


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    reason: str
    profile: str
    site: str
    group: str | None = None
    until: datetime | None = None
    hidden_topics: frozenset[str] = frozenset()
    next_break_in: timedelta | None = None
    minutes_used: float = 0.0
    limit: timedelta | None = None
    friction_delay: timedelta = timedelta(0)
    snooze_allowed: bool = False
    # What the person reads on Breather's own pages and in the extension: second person, durations in words.
    # ``reason`` names the profile and is for ``breather rules explain`` and the family's rules preview.
    message: str = ""

    @property
    def blocked(self) -> bool:
        return self.kind != "allow"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the API and ``breather rules explain --json``."""
        return {
            "kind": self.kind,
            "reason": self.reason,
            "profile": self.profile,
            "site": self.site,
            "group": self.group,
            "until": self.until.isoformat() if self.until else None,
            "hidden_topics": sorted(self.hidden_topics),
            "next_break_in_s": self.next_break_in.total_seconds() if self.next_break_in is not None else None,
            "minutes_used": round(self.minutes_used, 1),
            "limit_minutes": self.limit.total_seconds() / 60 if self.limit is not None else None,
            "friction_delay_s": self.friction_delay.total_seconds(),
            "snooze_allowed": self.snooze_allowed,
            "message": self.message,
        }


@dataclass(frozen=True)
class _LimitState:
    label: str
    used: float
    limit: timedelta

    @property
    def remaining(self) -> float:
        return self.limit.total_seconds() / 60 - self.used


def decide(rules: Rules, profile: Profile | str, site: str, at: datetime, usage: Usage | None = None) -> Decision:
    if at.tzinfo is None:
        raise ValueError("decide() needs a time-zone-aware moment")
    person = rules.profile(profile) if isinstance(profile, str) else profile
    used = usage or Usage()
    zone = rules.zone()
    local = at.astimezone(zone)
    host = site.lower().rstrip(".")
    group = rules.group_for_host(host)
    base = Decision(
        "allow",
        "",
        profile=person.name,
        site=host,
        group=group.name if group else None,
        hidden_topics=hidden_topics(person, local),
        friction_delay=person.friction_delay,
    )
    if person.always_allows(host):
        return replace(base, reason=f"{host} is always allowed for {person.name}", message=f"{host} is always allowed.")
    if group is None:
        return replace(base, reason=f"{host} is not one of the sites Breather looks after")
    quiet = quiet_hours_at(person.quiet_hours, local)
    if quiet is not None:
        window, ends = quiet
        until = ends.replace(tzinfo=zone)
        reason = f"Quiet hours for {person.name}: {window.describe()} (until {when(ends, local)})"
        message = f"The feeds rest until {when(ends, local)} ({window.describe()})."
        return replace(base, kind="quiet_hours", reason=reason, until=until, message=message)
    limits = _limit_states(person, host, group, used)
    next_break = _next_break_in(person, used, at)
    granted = used.extra_time_until is not None and at < used.extra_time_until
    spent = [state for state in limits if state.remaining <= 0]
    if spent and not granted:
        state = spent[0]
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
        reason = (
            f"Daily limit for {person.name} on {state.label}: {format_minutes(state.used)} used of "
            f"{format_duration(state.limit)} (resets at 00:00 tomorrow)"
        )
        message = (
            f"You have used {spoken_duration(timedelta(minutes=state.used))} of your "
            f"{spoken_duration(state.limit)} on {state.label} today. It starts again at midnight."
        )
        until = midnight.replace(tzinfo=zone)
        return replace(
            base,
            kind="limit_reached",
            reason=reason,
            until=until,
            minutes_used=state.used,
            limit=state.limit,
            message=message,
        )
    tightest = min(limits, key=lambda state: state.remaining, default=None)
    if tightest is not None:
        base = replace(base, minutes_used=tightest.used, limit=tightest.limit)
    if next_break is not None and next_break <= timedelta(0):
        length = person.break_length
        back = when((local + length).replace(tzinfo=None), local)
        reason = (
            f"Time for a break, {person.name}: {format_duration(used.active_since_break)} of active use "
            f"(a {format_duration(length)} break, until {back})"
        )
        message = (
            f"{spoken_duration(used.active_since_break).capitalize()} of scrolling since your last break. "
            f"A pause of {spoken_duration(length)}, until {back}."
        )
        return replace(
            base,
            kind="break_due",
            reason=reason,
            message=message,
            until=at + length,
            next_break_in=timedelta(0),
            snooze_allowed=used.snoozes_in_a_row < person.max_snoozes,
        )
    reason, message = _allow_texts(person, tightest, next_break, granted, used, local)
    return replace(base, reason=reason, next_break_in=next_break, message=message)


def hidden_topics(profile: Profile, local: datetime) -> frozenset[str]:
    """Warning categories collapsed right now by topic quiet hours."""
    return frozenset(
        item.category for item in profile.topic_quiet_hours if quiet_hours_at((item.window,), local) is not None
    )


def quiet_hours_at(windows: Iterable[Window], local: datetime) -> tuple[Window, datetime] | None:
    """The window in force at ``local`` and when it ends (naive wall-clock), following windows that join on."""
    windows = tuple(windows)
    moment = local.replace(tzinfo=None)
    found = _window_covering(windows, moment)
    if found is None:
        return None
    window, ends = found
    for _ in range(len(windows)):
        joined = _window_covering(windows, ends)
        if joined is None or joined[1] <= ends:
            break
        ends = joined[1]
    return window, ends


def _window_covering(windows: tuple[Window, ...], moment: datetime) -> tuple[Window, datetime] | None:
    for window in windows:
        for start_date in (moment.date(), moment.date() - timedelta(days=1)):
            if start_date.weekday() != window.day:
                continue
            starts = datetime.combine(start_date, window.start)
            end_date = start_date + timedelta(days=1) if window.spans_midnight else start_date
            ends = datetime.combine(end_date, window.end)
            if starts <= moment < ends:
                return window, ends
    return None


def when(moment: datetime, now: datetime) -> str:
    """``07:00``, ``07:00 tomorrow`` or ``Sat 07:00``, as seen from ``now`` (both wall-clock)."""
    clock = format_clock(moment.time())
    days = (moment.date() - now.date()).days
    if days == 0:
        return clock
    if days == 1:
        return f"{clock} tomorrow"
    return f"{DAY_TITLES[moment.weekday()]} {clock}"


def format_minutes(minutes: float) -> str:
    return format_duration(timedelta(minutes=round(minutes)))


def local_day(at: datetime, zone: tzinfo) -> date:
    """The household's calendar day for a moment: days are cut at local midnight."""
    return at.astimezone(zone).date()


def _limit_states(profile: Profile, host: str, group: SiteGroup, usage: Usage) -> list[_LimitState]:
    states: list[_LimitState] = []
    minutes = usage.minutes_today
    if profile.daily_limit is not None:
        total = usage.total_minutes if usage.total_minutes is not None else sum(minutes.values())
        states.append(_LimitState(ALL_SITES, total, profile.daily_limit))
    for key, limit in profile.limits.items():
        if key == group.name:
            used = usage.group_minutes.get(key)
            if used is None:
                used = sum(value for site, value in minutes.items() if site == key or group.matches(site))
            states.append(_LimitState(key, used, limit))
        elif "." in key and host_in_domain(host, key):
            used = sum(value for site, value in minutes.items() if "." in site and host_in_domain(site, key))
            states.append(_LimitState(key, used, limit))
    return states


def _next_break_in(profile: Profile, usage: Usage, at: datetime) -> timedelta | None:
    if profile.break_after is None:
        return None
    if usage.snoozed_until is not None and at < usage.snoozed_until:
        return max(usage.snoozed_until - at, profile.break_after - usage.active_since_break)
    return max(timedelta(0), profile.break_after - usage.active_since_break)


def _allow_texts(
    profile: Profile,
    tightest: _LimitState | None,
    next_break: timedelta | None,
    granted: bool,
    usage: Usage,
    local: datetime,
) -> tuple[str, str]:
    """The reason (naming the profile, short durations) and the person's message for a visit that is allowed, from
    the same facts: the tightest limit, extra time granted, the next break."""
    reason: list[str] = []
    message: list[str] = []
    if tightest is not None:
        used, limit = timedelta(minutes=tightest.used), tightest.limit
        reason.append(f"{format_minutes(tightest.used)} of {format_duration(limit)} used today on {tightest.label}")
        message.append(f"{spoken_duration(used)} of your {spoken_duration(limit)} on {tightest.label} today")
    else:
        reason.append("no daily limit")
    if granted and usage.extra_time_until is not None:
        extra_end = usage.extra_time_until.astimezone(local.tzinfo).replace(tzinfo=None)
        reason.append(f"extra time until {when(extra_end, local)}")
        message.append(reason[-1])
    if next_break is not None:
        reason.append(f"next break in {format_duration(next_break)}")
        message.append(f"next break in {spoken_duration(next_break)}")
    said = "; ".join(message)
    spoken = said[:1].upper() + said[1:] + "." if said else "No limit today."
    return f"Allowed for {profile.name}: " + "; ".join(reason), spoken
