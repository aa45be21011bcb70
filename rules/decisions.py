"""What applies to one person on one site at one moment: a pure function of the rules, the time and the usage.

``decide`` reads every window in the household's wall-clock time: a window written "22:00-07:00" starts at 22:00 on
the clock on the wall, whatever the UTC offset that night (so a DST change makes that night an hour shorter or longer).
``quiet_stretches`` says exactly which instants a schedule covers, also on the nights the clock skips or repeats a
time; the proxy, the scheduler, ``breather status`` and the extension's status all read quiet hours through it.
A "until" that adds a duration (a break's end) is real elapsed time, shown on the household's clock.
Precedence: always-allowed sites, then quiet hours, then daily limits, then break cadence. Topic quiet hours are
reported alongside any kind, since they hide posts rather than sites.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal

from breather.rules.model import Profile, Rules, SiteGroup, Window, host_in_domain, site_domain
from breather.rules.timeparse import DAY_TITLES, format_clock, format_duration, spoken_duration

DecisionKind = Literal["allow", "break_due", "limit_reached", "quiet_hours"]
ALL_SITES = "all sites"
QUIET_HORIZON_DAYS = 8  # how far ahead the end of a quiet stretch, or the next one's start, is looked for


@dataclass(frozen=True)
class Usage:
    """What the store knows about today, for one profile.

    ``minutes_today`` is keyed by site as the store records it (a host such as ``old.reddit.com``) or by site group
    name; pass one or the other for a given site, not both. ``group_minutes`` is what each limit counts, by the
    limit's key: a site group's name, or a domain (all the hosts in it together). ``group_minutes`` and
    ``total_minutes``, when given (``breather.store.queries.minutes_today`` gives both), count time two tabs or two
    reports share only once; a key they lack adds up the per-site minutes instead.
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
        """From ``breather.store.queries.minutes_today``'s answer (asked with site groups): the sites' minutes, what
        each limit key (group or domain) counts and the total, each with overlapping time counted once."""
        return cls(minutes_today=today.by_site, group_minutes=today.by_group, total_minutes=today.total, **more)


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
        window, until = quiet
        reason = f"Quiet hours for {person.name}: {window.describe()} (until {when(until, local)})"
        message = f"The feeds rest until {when(until, local)} ({window.describe()})."
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
            f"{spoken_duration(state.limit)} on {state.label} today. Your time starts again at midnight."
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
        back = when((at + length).astimezone(zone), local)  # elapsed time: ten minutes are ten minutes at 01:00
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
    """Warning categories collapsed right now by topic quiet hours (``local``: aware, in the household zone)."""
    if not profile.topic_quiet_hours:
        return frozenset()
    categories = dict.fromkeys(item.category for item in profile.topic_quiet_hours)
    return frozenset(
        category
        for category in categories
        if quiet_hours_at(profile.hidden_category_windows(category), local) is not None
    )


@dataclass(frozen=True)
class QuietHoursNow:
    """Quiet hours at one moment: the window in force (the first in the rules' order; None when none is) and when
    that next changes (UTC): the end of the whole quiet stretch when in force, else the next start; None when nothing
    changes within ``QUIET_HORIZON_DAYS``."""

    window: Window | None
    next_change: datetime | None

    @property
    def quiet(self) -> bool:
        return self.window is not None


def quiet_hours_now(windows: Iterable[Window], at: datetime, zone: tzinfo) -> QuietHoursNow:
    """Whether ``windows`` (read in ``zone``) are in force at ``at``, and until when; as ``quiet_stretches`` defines
    them. The one answer the proxy, the scheduler, ``breather status`` and the extension's status all give."""
    schedule = tuple(windows)
    moment = at.astimezone(UTC)
    for stretch in quiet_stretches(schedule, zone, at.astimezone(zone).date()):
        if moment < stretch.start:
            return QuietHoursNow(None, stretch.start)
        if moment < stretch.end:
            index = min(index for start, end, index in stretch.parts if start <= moment < end)
            return QuietHoursNow(schedule[index], stretch.end)
    return QuietHoursNow(None, None)


def quiet_hours_at(windows: Iterable[Window], local: datetime) -> tuple[Window, datetime] | None:
    """The window in force at ``local`` (aware, in the household zone) and when its quiet stretch ends (in that zone),
    following windows that join on; None outside quiet hours."""
    zone = local.tzinfo
    if zone is None:
        raise ValueError("quiet_hours_at() needs a time-zone-aware moment")
    now = quiet_hours_now(windows, local, zone)
    if now.window is None or now.next_change is None:
        return None
    return now.window, now.next_change.astimezone(zone)


def wall_clock_instant(day: date, clock: time, zone: tzinfo) -> datetime:
    """The first instant (UTC) the household's clock shows ``clock`` on ``day``; for a time it skips (clocks going
    forward), the instant it jumps past it."""
    first = datetime.combine(day, clock, tzinfo=zone)  # fold=0: the first showing of a time shown twice
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == first.replace(tzinfo=None):
        return instant
    return _offset_change_between(first.replace(fold=1).astimezone(UTC), instant, zone)


def _offset_change_between(early: datetime, late: datetime, zone: tzinfo) -> datetime:
    """The instant between ``early`` and ``late`` at which the zone's UTC offset becomes ``late``'s, to the second."""
    new_offset = late.astimezone(zone).utcoffset()
    before, after = int(early.timestamp()), int(late.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == new_offset:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


@dataclass(frozen=True)
class QuietStretch:
    """One unbroken stretch of quiet hours (UTC): each window in it as (start, end, its index in the schedule)."""

    start: datetime
    end: datetime
    parts: tuple[tuple[datetime, datetime, int], ...]


@lru_cache(maxsize=1024)
def quiet_stretches(windows: tuple[Window, ...], zone: tzinfo, day: date) -> tuple[QuietStretch, ...]:
    """The instants (UTC, ``[start, end)``) that ``windows`` cover, from the windows starting the day before ``day``
    to those starting ``QUIET_HORIZON_DAYS`` after, in order; windows that overlap or meet are one stretch. Cached:
    ``decide`` asks on every request.

    What a window covers, read on the household's wall clock as a person would:

    - it starts at the first instant the clock shows its start time, and ends at the first instant after that the
      clock shows its end time; it belongs to the weekday on which it starts (``sat = "22:00-01:30"`` is Saturday's);
    - a time the clock skips when it goes forward is reached the instant the clock jumps past it: in London,
      ``sun = "01:30-02:30"`` on the spring-forward night is quiet from 02:00 BST to 02:30 BST, and
      ``sat = "22:00-01:30"`` ends at 02:00 BST, so that night's window is 3 hours long, not 3.5;
    - a time the clock shows twice when it goes back is its first showing: ``sun = "00:30-01:30"`` ends at 01:30 BST
      and is not quiet again in the repeated hour (01:00-01:30 GMT), and ``sun = "01:30-02:30"`` runs unbroken from
      01:30 BST to 02:30 GMT (two hours), since the clock does not show 02:30 before then;
    - a window that comes out empty by this (both ends in the skipped time: Lord Howe's ``sun = "02:00-02:20"`` on
      the night its clock jumps from 02:00 to 02:30) is not in force at all that night.

    On every other night a window is exactly its clock times: ``23:00-07:00`` is 23:00 to 07:00, an hour shorter or
    longer the night the clock changes.
    """
    placed = sorted(
        part for offset in range(-1, QUIET_HORIZON_DAYS + 1) for part in _placed(windows, zone, day + timedelta(offset))
    )
    stretches: list[QuietStretch] = []
    for part in placed:
        start, end, _ = part
        if stretches and start <= stretches[-1].end:
            last = stretches[-1]
            stretches[-1] = QuietStretch(last.start, max(last.end, end), (*last.parts, part))
        else:
            stretches.append(QuietStretch(start, end, (part,)))
    return tuple(stretches)


def _placed(windows: tuple[Window, ...], zone: tzinfo, day: date) -> Iterator[tuple[datetime, datetime, int]]:
    """The windows that start on ``day``, as instants; a window left empty by a clock change is left out."""
    for index, window in enumerate(windows):
        if window.day != day.weekday():
            continue
        end_day = day + timedelta(days=1) if window.spans_midnight else day
        start, end = wall_clock_instant(day, window.start, zone), wall_clock_instant(end_day, window.end, zone)
        if end > start:
            yield start, end, index


def when(moment: datetime, now: datetime) -> str:
    """``07:00``, ``07:00 tomorrow`` or ``Sat 07:00``, as seen from ``now`` (both on the household's clock: naive, or
    aware in its zone)."""
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
        elif "." in key and host_in_domain(host, counted := site_domain(key, group.domains)):
            # a limit on part of a site ("old.reddit.com") counts and closes the whole site, as the proxy records it
            used = usage.group_minutes.get(counted)
            if used is None:
                used = sum(value for site, value in minutes.items() if "." in site and host_in_domain(site, counted))
            states.append(_LimitState(counted, used, limit))
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
        # "used", said first: "Under a minute of your 1 hour" read as a minute left.
        message.append(
            f"you have used {spoken_duration(used)} of your {spoken_duration(limit)} on {tightest.label} today"
        )
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
