"""A realistic month for a household of four, for newcomers, screenshots and the dashboard tests.

Two parents and two teenagers, each with their own profile in a rules file written into the demo home. Their usage
follows daily curves (parents at lunch and late evening, teens after school with an evening peak, later and longer
at the weekend), and the boundaries leave their traces: warnings by category, breaks shown and taken or snoozed,
limits reached, asks for more time (decided, and a few still pending), quiet-hours blocks, a goal for each week.

Everything goes through the store's public API (the ``Writer``), except asks for more time and weekly goals, which
live in the dashboard's own tables. The same seed, number of days and ``now`` always give the same household.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlite_utils import Database

from breather.paths import Paths
from breather.rules.loader import load_rules, with_household_zone
from breather.rules.model import Profile, Rules
from breather.rules.timeparse import local_zone_name
from breather.scheduler import quiet_hours_state
from breather.store.model import Event, Heartbeat, iso
from breather.store.writer import Writer

DEMO_RULES = """\
# The demo household written by `breather demo`: two parents and two teenagers.
# Edit it like any rules file; `breather rules check` tells you about mistakes.

[household]
country = "GB"
# timezone = "Europe/London"
retention_days = 365
cooling_off = "24h"
friction_delay = "10s"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com", "old.reddit.com"]

[sites.youtube]
adapter = "youtube"
domains = ["www.youtube.com", "m.youtube.com"]

[sites.tiktok]
adapter = "generic"
domains = ["www.tiktok.com"]

[sites.facebook]
adapter = "facebook"
domains = ["www.facebook.com", "m.facebook.com"]

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

# Alex: a parent, the default profile on this machine.
[profiles.alex]
default = true
user = "alex"
daily_limit = "1h"
break_after = "25m"
break_length = "5m"

[profiles.alex.quiet_hours]
daily = "23:00-07:00"

# Jordan: the other parent; starts from Alex's rules.
[profiles.jordan]
inherits = "alex"
user = "jordan"
daily_limit = "45m"

# Maya (15): more time at the weekend, earlier nights on school days.
[profiles.maya]
user = "maya"
daily_limit = "1h30m"
break_after = "20m"
break_length = "5m"

[profiles.maya.limits]
tiktok = "45m"

[profiles.maya.quiet_hours]
weekdays = "21:30-07:00"
weekend = "23:00-08:00"

[profiles.maya.warnings]
self_harm = "high"
eating_disorder = "high"
violence = "medium"
harassment = "high"
substance = "medium"

# Leo (13): inherits Maya's boundaries with a shorter day.
[profiles.leo]
inherits = "maya"
user = "leo"
daily_limit = "1h"

[profiles.leo.limits]
tiktok = "30m"
"""

CATEGORIES = ("self_harm", "eating_disorder", "violence", "harassment", "substance")

# Weekly goals, in the household's words, one picked per week.
GOALS = (
    "Phones out of the bedroom at night, all four of us.",
    "Take the break when it comes instead of snoozing it.",
    "No scrolling at dinner; talk about one good thing from the day.",
    "Maya and Leo: finish homework before YouTube on school days.",
    "Try one evening a week with no social sites at all.",
)
DECLINE_REASONS = ("It's a school night.", "We agreed on the limit together.", "Not tonight, maybe at the weekend.")


@dataclass(frozen=True)
class Member:
    """How one person uses the sites: which, when (weight per hour of day), how much."""

    name: str
    sites: dict[str, float]
    weekday_hours: dict[int, float]
    weekend_hours: dict[int, float]
    sessions_weekday: float
    sessions_weekend: float
    session_minutes: float
    warning_rate: float
    category_weights: dict[str, float]
    snooze_rate: float
    asks_for_more_time: bool


HOUSEHOLD: tuple[Member, ...] = (
    Member(
        name="alex",
        sites={"www.reddit.com": 0.55, "news.ycombinator.com": 0.3, "www.youtube.com": 0.15},
        weekday_hours={7: 1, 8: 1.5, 12: 2.5, 13: 1.5, 18: 1, 20: 2, 21: 3, 22: 2},
        weekend_hours={9: 2, 10: 2, 11: 1, 14: 1, 16: 1, 20: 2, 21: 2.5, 22: 1.5},
        sessions_weekday=4,
        sessions_weekend=5,
        session_minutes=11,
        warning_rate=0.35,
        category_weights={"violence": 4, "harassment": 2, "substance": 1, "self_harm": 0.5, "eating_disorder": 0.3},
        snooze_rate=0.45,
        asks_for_more_time=False,
    ),
    Member(
        name="jordan",
        sites={"www.facebook.com": 0.6, "www.youtube.com": 0.25, "www.reddit.com": 0.15},
        weekday_hours={7: 2, 12: 2, 13: 1, 17: 1, 19: 1, 20: 2.5, 21: 2},
        weekend_hours={8: 1, 9: 2, 10: 1.5, 13: 1, 15: 1, 19: 1, 20: 2, 21: 1.5},
        sessions_weekday=3,
        sessions_weekend=4,
        session_minutes=10,
        warning_rate=0.2,
        category_weights={"violence": 2, "harassment": 2, "substance": 1, "eating_disorder": 1, "self_harm": 0.3},
        snooze_rate=0.3,
        asks_for_more_time=False,
    ),
    Member(
        name="maya",
        sites={"www.tiktok.com": 0.45, "www.youtube.com": 0.3, "www.reddit.com": 0.25},
        weekday_hours={7: 1, 16: 2, 17: 2.5, 18: 1.5, 19: 2.5, 20: 3.5, 21: 1},
        weekend_hours={10: 1, 11: 1.5, 13: 1.5, 15: 2, 17: 2, 19: 2.5, 20: 3, 21: 3, 22: 2},
        sessions_weekday=6,
        sessions_weekend=8,
        session_minutes=13,
        warning_rate=0.4,
        category_weights={"eating_disorder": 3, "harassment": 3, "self_harm": 1.5, "violence": 1, "substance": 1},
        snooze_rate=0.55,
        asks_for_more_time=True,
    ),
    Member(
        name="leo",
        sites={"www.youtube.com": 0.6, "www.tiktok.com": 0.35, "www.reddit.com": 0.05},
        weekday_hours={7: 0.5, 15: 2, 16: 3, 17: 2, 18: 1.5, 19: 2, 20: 1.5},
        weekend_hours={8: 1, 9: 2, 10: 2.5, 11: 2, 14: 2, 16: 2, 18: 1.5, 20: 2, 21: 1},
        sessions_weekday=5,
        sessions_weekend=8,
        session_minutes=12,
        warning_rate=0.25,
        category_weights={"violence": 3, "harassment": 2, "substance": 0.5, "self_harm": 0.5, "eating_disorder": 0.5},
        snooze_rate=0.6,
        asks_for_more_time=True,
    ),
)


@dataclass
class DemoSummary:
    """What was seeded, so the command can say it in one line and tests can check it."""

    profiles: tuple[str, ...]
    days: int
    first_day: date
    last_day: date
    heartbeats: int = 0
    events: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    goals: int = 0

    def count(self, kind: str) -> None:
        self.events[kind] = self.events.get(kind, 0) + 1

    def describe(self) -> str:
        events = sum(self.events.values())
        pending = self.requests.get("pending", 0)
        return (
            f"{len(self.profiles)} profiles ({', '.join(self.profiles)}), {self.days} days "
            f"({self.first_day} to {self.last_day}), {self.heartbeats} sessions, {events} events, "
            f"{sum(self.requests.values())} asks for more time ({pending} pending), {self.goals} weekly goals"
        )


@dataclass(frozen=True)
class Session:
    member: Member
    site: str
    start: datetime
    minutes: float
    blocked: bool = False


class DemoHomeNotEmpty(ValueError):
    """The demo never mixes invented usage into a real home."""


def check_empty_home(paths: Paths) -> None:
    for existing in (paths.rules_file, paths.database):
        if existing.exists():
            raise DemoHomeNotEmpty(
                f"{existing} already exists: the demo writes a household of its own into an empty home "
                "(choose a new --home DIR)"
            )


def write_demo_rules(paths: Paths) -> Rules:
    paths.ensure()
    # the machine's zone written down, as a first run does (left out, each process used its own: a user test)
    paths.rules_file.write_text(with_household_zone(DEMO_RULES, local_zone_name()), encoding="utf-8")
    return load_rules(paths.rules_file)


def seed_demo(paths: Paths, *, days: int = 30, seed: int = 1, now: datetime | None = None) -> DemoSummary:
    """Write the demo rules and ``days`` days of usage ending at ``now`` into an empty home."""
    if days < 1:
        raise ValueError(f"--days must be at least 1, got {days}")
    check_empty_home(paths)
    rules = write_demo_rules(paths)
    zone = rules.zone()
    moment = (now or datetime.now(UTC)).astimezone(zone)
    first_day = moment.date() - timedelta(days=days - 1)
    summary = DemoSummary(tuple(rules.profiles), days, first_day, moment.date())
    rng = random.Random(seed)
    sessions = sorted(_month_of_sessions(rng, rules, first_day, moment), key=lambda item: item.start)
    writer = Writer(paths.database).start()
    try:
        for _day, day_sessions in _by_day(sessions, zone):
            _log_day(writer, rng, rules, day_sessions, summary)
        requests = _more_time_requests(rng, sessions, moment)
        for event in _request_events(requests):
            writer.event(event)
            summary.count(event.kind)
        goals = _weekly_goals(rng, first_day, moment, zone)
        if not writer.flush(60):
            raise RuntimeError("the usage writer did not finish writing the demo data")
        writer.call(lambda db: _store_household_rows(db, requests, goals)).result(timeout=60)
        writer.call(lambda db: _note_day_limits(db, rules, first_day, moment)).result(timeout=60)
        if not writer.flush(60):
            raise RuntimeError("the usage writer did not finish writing the demo data")
    finally:
        writer.close()
    for request in requests:
        summary.requests[request["status"]] = summary.requests.get(request["status"], 0) + 1
    summary.goals = len(goals)
    return summary


# -- invented usage ------------------------------------------------------------------------------------------------


def _month_of_sessions(rng: random.Random, rules: Rules, first_day: date, now: datetime) -> Iterator[Session]:
    zone = rules.zone()
    day = first_day
    while day <= now.date():
        for member in HOUSEHOLD:
            if member.name not in rules.profiles:
                continue
            profile = rules.profile(member.name)
            for session in _sessions_for_day(rng, member, day, zone):
                kept = _within_quiet_hours(session, profile, zone)
                if kept.start + timedelta(minutes=kept.minutes) <= now:
                    yield kept
        day += timedelta(days=1)


def _sessions_for_day(rng: random.Random, member: Member, day: date, zone: tzinfo) -> Iterator[Session]:
    weekend = day.weekday() >= 5
    hours = member.weekend_hours if weekend else member.weekday_hours
    mean = member.sessions_weekend if weekend else member.sessions_weekday
    # Some days are quiet and some are heavy: a day factor spreads the month out.
    count = max(0, round(rng.gauss(mean * rng.uniform(0.6, 1.4), 1.2)))
    sites = list(member.sites)
    site_weights = list(member.sites.values())
    slots = list(hours)
    slot_weights = list(hours.values())
    for _ in range(count):
        hour = rng.choices(slots, slot_weights)[0]
        start = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=zone)
        minutes = min(75.0, max(2.0, rng.lognormvariate(math.log(member.session_minutes), 0.55)))
        yield Session(member, rng.choices(sites, site_weights)[0], start, round(minutes, 1))


def _within_quiet_hours(session: Session, profile: Profile, zone: tzinfo) -> Session:
    """The proxy would have shown a quiet-hours page instead, or the session ends when quiet hours begin."""
    state = quiet_hours_state(profile, session.start, zone)
    if state.quiet:
        return replace(session, minutes=0.0, blocked=True)
    end = session.start + timedelta(minutes=session.minutes)
    if state.next_change is not None and state.next_change < end:
        minutes = (state.next_change - session.start).total_seconds() / 60
        return replace(session, minutes=round(minutes, 1), blocked=minutes < 1)
    return session


def _by_day(sessions: list[Session], zone: tzinfo) -> Iterator[tuple[date, list[Session]]]:
    current: date | None = None
    bucket: list[Session] = []
    for session in sessions:
        day = session.start.astimezone(zone).date()
        if current is not None and day != current:
            yield current, bucket
            bucket = []
        current = day
        bucket.append(session)
    if current is not None:
        yield current, bucket


def _log_day(writer: Writer, rng: random.Random, rules: Rules, sessions: list[Session], summary: DemoSummary) -> None:
    """Each session's time, and what the boundaries and warnings did during it, in the order it happened."""
    used: dict[str, float] = {}
    since_break: dict[str, float] = {}
    for session in sessions:
        member = session.member
        if session.blocked:
            writer.event(Event(member.name, "quiet_hours_blocked", session.start, site=session.site))
            summary.count("quiet_hours_blocked")
            continue
        profile = rules.profile(member.name)
        writer.heartbeat(Heartbeat(member.name, session.site, session.start, duration_s=session.minutes * 60))
        summary.heartbeats += 1
        for event in _session_events(rng, session, profile, used, since_break):
            writer.event(event)
            summary.count(event.kind)


def _session_events(
    rng: random.Random, session: Session, profile: Profile, used: dict[str, float], since_break: dict[str, float]
) -> Iterator[Event]:
    member = session.member
    name = member.name
    end = session.start + timedelta(minutes=session.minutes)
    yield from _warnings(rng, session)
    since_break[name] = since_break.get(name, 0.0) + session.minutes
    break_after = profile.break_after.total_seconds() / 60 if profile.break_after else None
    if break_after and since_break[name] >= break_after:
        shown = session.start + timedelta(minutes=max(1.0, session.minutes - 1))
        yield Event(name, "break_shown", shown, site=session.site)
        snoozed = rng.random() < member.snooze_rate
        yield Event(
            name, "break_snoozed" if snoozed else "break_taken", shown + timedelta(seconds=40), site=session.site
        )
        since_break[name] = break_after / 2 if snoozed else 0.0
    before = used.get(name, 0.0)
    used[name] = before + session.minutes
    limit = profile.daily_limit.total_seconds() / 60 if profile.daily_limit else None
    if limit and before < limit <= used[name]:
        yield Event(name, "limit_reached", end, site=session.site)
        if not member.asks_for_more_time and rng.random() < 0.4:
            yield Event(name, "limit_overridden", end + timedelta(seconds=15), site=session.site)


def _warnings(rng: random.Random, session: Session) -> Iterator[Event]:
    member = session.member
    expected = member.warning_rate * session.minutes / 10
    categories = list(member.category_weights)
    weights = list(member.category_weights.values())
    for _ in range(_poisson(rng, expected)):
        offset = timedelta(minutes=rng.uniform(0, session.minutes))
        category = rng.choices(categories, weights)[0]
        at = session.start + offset
        yield Event(member.name, "warning_shown", at, site=session.site, category=category)
        if rng.random() < 0.3:
            yield Event(
                member.name, "warning_revealed", at + timedelta(seconds=5), site=session.site, category=category
            )


def _poisson(rng: random.Random, expected: float) -> int:
    threshold = math.exp(-expected)
    count, product = 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


# -- asks for more time and weekly goals (the dashboard's tables) --------------------------------------------------


def _more_time_requests(rng: random.Random, sessions: list[Session], now: datetime) -> list[dict[str, Any]]:
    """The teens ask now and then; parents decide within the hour, except for the last day's asks.

    The latest ask is always left pending, so the Requests page has something to decide.
    """
    rows = []
    for session in sessions:
        if session.blocked or not session.member.asks_for_more_time or rng.random() > 0.12:
            continue
        asked = session.start + timedelta(minutes=session.minutes)
        row: dict[str, Any] = {
            "profile": session.member.name,
            "site": session.site,
            "asked_at": iso(asked),
            "note": rng.choice(("Finishing a video for school", "Talking to friends", "Just 15 more minutes?")),
            "status": "pending",
        }
        if now - asked > timedelta(hours=30):
            _decide(rng, row, asked)
        rows.append(row)
    if rows and rows[-1]["status"] != "pending":
        rows[-1] = {key: rows[-1][key] for key in ("profile", "site", "asked_at", "note")} | {"status": "pending"}
    return rows


def _decide(rng: random.Random, row: dict[str, Any], asked: datetime) -> None:
    decided = asked + timedelta(minutes=rng.randrange(2, 50))
    row["decided_at"] = iso(decided)
    if rng.random() < 0.65:
        minutes = rng.choice((15, 15, 60))
        row.update(status="granted", granted_minutes=minutes, granted_until=iso(decided + timedelta(minutes=minutes)))
    else:
        row.update(status="declined", reason=rng.choice(DECLINE_REASONS))


def _weekly_goals(rng: random.Random, first_day: date, now: datetime, zone: tzinfo) -> list[dict[str, Any]]:
    """A goal for each week after the first review, saved on the Sunday evening before it (not yet on a Sunday
    before 19:30: a demo made that morning showed next week's goal already written)."""
    goals = []
    monday = first_day - timedelta(days=first_day.weekday()) + timedelta(days=7)
    while monday <= now.date() + timedelta(days=7):
        year, week, _ = monday.isocalendar()
        saved = datetime.combine(monday - timedelta(days=1), time(19, 30), tzinfo=zone)
        if saved <= now:
            goals.append({"week": f"{year}-W{week:02d}", "goal": rng.choice(GOALS), "saved_at": iso(saved)})
        monday += timedelta(days=7)
    return goals


def _request_events(requests: list[dict[str, Any]]) -> Iterator[Event]:
    decided_kinds = {"granted": "more_time_granted", "declined": "more_time_declined"}
    for row in requests:
        yield Event(row["profile"], "more_time_asked", datetime.fromisoformat(row["asked_at"]), site=row["site"])
        kind = decided_kinds.get(row["status"])
        if kind:
            yield Event(row["profile"], kind, datetime.fromisoformat(row["decided_at"]), site=row["site"])


def _store_household_rows(db: Database, requests: list[dict[str, Any]], goals: list[dict[str, Any]]) -> None:
    """Answers to asks for more time and weekly goals live in the dashboard's tables (its own migrations).

    An ask is the store's ``more_time_asked`` event; a decided one also gets the dashboard's ``time_answers`` row
    (with the reason for a decline), exactly as the Requests page writes it.
    """
    from breather.dashboard.migrations import migrations as dashboard_migrations

    if dashboard_migrations.pending(db):
        dashboard_migrations.apply(db)
    answers = [_answer_row(db, row) for row in requests if row["status"] != "pending"]
    if answers:
        db["time_answers"].insert_all(answers, pk="event_id")  # type: ignore[union-attr]
    if goals:
        db["weekly_goals"].upsert_all(goals, pk="week")  # type: ignore[union-attr]


def _note_day_limits(db: Database, rules: Rules, first_day: date, now: datetime) -> None:
    """Each day's daily limits, as a running service notes them at every rollup: without them the weekly review
    judged every past day by today's limit once it was changed (a user test lowered one and a week of days went over).
    """
    from breather.scheduler import SCHEDULER_MIGRATIONS, record_day_limits

    if SCHEDULER_MIGRATIONS.pending(db):
        SCHEDULER_MIGRATIONS.apply(db)
    day = first_day
    while day <= now.date():
        record_day_limits(db, rules, datetime.combine(day, time(12), tzinfo=now.tzinfo))
        day += timedelta(days=1)


def _answer_row(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    (event_id,) = db.execute(
        "select id from events where kind = 'more_time_asked' and profile = ? and site = ? and at = ?",
        [request["profile"], request["site"], request["asked_at"]],
    ).fetchone()
    return {
        "event_id": event_id,
        "profile": request["profile"],
        "site": request["site"],
        "answered_at": request["decided_at"],
        "status": "approved" if request["status"] == "granted" else "declined",
        "reason": request.get("reason"),
        "granted_minutes": request.get("granted_minutes"),
        "granted_until": request.get("granted_until"),
    }
