"""The service's background jobs (APScheduler 3): rollups, retention, quiet-hours transitions, the weekly review
snapshot, and closing activity spans a crashed writer left open.

Each job is a plain function of the database (or the rules) and ``now``, so tests drive it with a chosen clock and a
real SQLite file. The ``run_*`` wrappers bind a job to the running service: writes go through the store's one writer
thread (``Writer.call``), reads of the rules go through the runtime's watcher. Every job has an explicit id and is
added with ``replace_existing=True`` so a restart or a second registration never duplicates it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlite_utils import Database, Migrations

from breather.rules.decisions import quiet_hours_now
from breather.rules.model import Profile, Rules
from breather.store import queries, usage
from breather.store.db import open_database
from breather.store.model import iso
from breather.store.writer import WriteNotMade, trouble_of

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

JOB_DAILY_ROLLUP = "daily_rollup"
JOB_RETENTION = "retention_prune"
JOB_QUIET_HOURS = "quiet_hours"
JOB_WEEKLY_REVIEW = "weekly_review"
JOB_STALE_SPANS = "close_stale_spans"
JOB_IDS: tuple[str, ...] = (JOB_DAILY_ROLLUP, JOB_RETENTION, JOB_QUIET_HOURS, JOB_WEEKLY_REVIEW, JOB_STALE_SPANS)

ROLLUP_EVERY_MINUTES = 15
ROLLUP_RECENT_DAYS = 7  # today and the six days before: rebuilt at every run, so late minutes reach the rollups
STALE_SPAN_AFTER = timedelta(minutes=10)
STORE_CALL_TIMEOUT_S = 60.0
QUIET_HOURS_META_KEY = "quiet_hours"

SCHEDULER_MIGRATIONS = Migrations("breather.scheduler")


@SCHEDULER_MIGRATIONS(name="0001_weekly_reviews")
def create_weekly_reviews(db: Database) -> None:
    db["weekly_reviews"].create(  # type: ignore[union-attr]
        {
            "week": str,
            "profile": str,
            "minutes": float,
            "daily_minutes": str,
            "limit_minutes": float,
            "days_within_limit": int,
            "breaks_taken": int,
            "breaks_snoozed": int,
            "limits_reached": int,
            "warnings": str,
            "built_at": str,
        },
        pk=("week", "profile"),
        not_null={"minutes", "daily_minutes", "days_within_limit", "warnings", "built_at"},
    )


@SCHEDULER_MIGRATIONS(name="0002_day_limits")
def create_day_limits(db: Database) -> None:
    db["day_limits"].create(  # type: ignore[union-attr]
        {"day": str, "profile": str, "limit_minutes": float, "recorded_at": str},
        pk=("day", "profile"),
        not_null={"recorded_at"},
    )


@SCHEDULER_MIGRATIONS(name="0003_weekly_reviews_limit_of_each_day")
def add_each_days_limit_to_weekly_reviews(db: Database) -> None:
    """The week's limit as the review counts it (each day's own, added up), beside ``limit_minutes`` (Sunday's): a
    user test's export read a week under 1h a day and 45m on Sunday as 7 x 45 min. Null in rows built before."""
    table = db["weekly_reviews"]
    table.add_column("daily_limit_minutes", str)  # type: ignore[union-attr]
    table.add_column("week_limit_minutes", float)  # type: ignore[union-attr]


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- the jobs: plain functions of (db or rules, now) -----------------------------------------------------------------


def local_day(now: datetime, zone: tzinfo) -> date:
    return now.astimezone(zone).date()


def rollup_recent_days(db: Database, now: datetime, zone: tzinfo, retention_days: int | None = None) -> list[date]:
    """Rebuild the rollups of today and the ``ROLLUP_RECENT_DAYS - 1`` days before it (idempotent).

    Reads of a rolled-up day (the weekly review, the export) take its rows as the whole day, and minutes keep
    arriving for past days: yesterday's last ones after midnight, a laptop's queue of heartbeats when its browser is
    back online days later. Rebuilding a week costs a few milliseconds (``rollup_day`` on a household's year).

    Also any earlier day whose rollup was built before the day ended: the service stopped on Friday evening (after
    the 22:00 rollup) and next ran more than a week later, so no rollup ever saw Friday's last minutes. Once rebuilt,
    its rows are built after its end and it is not looked at again, so a run without such a day costs one small
    query. With ``retention_days``, the oldest kept day (and any before it) is left alone: retention may have cut
    its spans but not its rollup.

    After a change of the rules' zone every rollup goes (they were cut in the other zone's days): then every day kept
    is rebuilt in the new zone, not the last week alone, or the export's daily rollups lost all earlier days.
    """
    today = local_day(now, zone)
    since = first_whole_day(now, zone, retention_days)
    first = today - timedelta(days=ROLLUP_RECENT_DAYS - 1)
    if since is not None:
        first = max(first, min(since, today - timedelta(days=1)))
    if queries.rollups_cut_in_another_zone(db, zone):
        first = min(first, max(queries.first_record_day(db, zone) or first, since or date.min))
    recent = [first + timedelta(days=offset) for offset in range((today - first).days + 1)]
    days = [*queries.rollups_built_early(db, first, zone, since), *recent]
    for day in days:
        queries.rollup_day(db, day, zone, now)
    return days


def first_whole_day(now: datetime, zone: tzinfo, retention_days: int | None) -> date | None:
    """The first day the retention has left whole (None: no retention): the day before it, the oldest kept, may
    have lost its first spans, while its rollup, built before, kept them."""
    return local_day(now - timedelta(days=retention_days), zone) + timedelta(days=1) if retention_days else None


def finish_rollups(
    db: Database, first: date, last: date, now: datetime, zone: tzinfo, retention_days: int
) -> list[date]:
    """Rebuild the rollups of the days from ``first`` to ``last`` that ended before ``now`` but were built before
    they ended, so a read of them sees each day whole (the days the retention left whole only).

    The weekly snapshot fires at Monday 00:15, and the rollup job every 15 minutes from the service's start: the
    last rollup of Sunday could be the one at 23:50, and the snapshot read Sunday without its last minutes. A day
    rebuilt here is built after its end and is not rebuilt again; its rows replace the old ones, never add to them.
    """
    before = min(last + timedelta(days=1), local_day(now, zone))
    since = max(first, first_whole_day(now, zone, retention_days) or first)
    days = queries.rollups_built_early(db, before, zone, since)
    for day in days:
        queries.rollup_day(db, day, zone, now)
    return days


def prune_old_data(db: Database, now: datetime, retention_days: int, zone: tzinfo) -> dict[str, int]:
    """Delete what is older than the rules' retention; the weekly reviews, day limits and weekly goals older than
    that go too (the store's ``prune`` takes the answers to asks with their asks).

    The dashboard's tables (``time_answers``, ``weekly_goals``) are named here, not imported, as ``delete_usage``
    names them; a table not created (yet) is skipped.
    """
    cutoff = now - timedelta(days=retention_days)
    result = queries.prune(db, cutoff, zone)
    first_kept = local_day(cutoff, zone)
    if db["weekly_reviews"].exists():
        reviews = db.execute("DELETE FROM weekly_reviews WHERE week < ?", [first_kept.isoformat()])
        result["weekly_reviews"] = reviews.rowcount
    if db["day_limits"].exists():
        result["day_limits"] = db.execute("DELETE FROM day_limits WHERE day < ?", [first_kept.isoformat()]).rowcount
    if db["weekly_goals"].exists():
        goals = db.execute("DELETE FROM weekly_goals WHERE week < ?", [first_goal_week_kept(first_kept)])
        result["weekly_goals"] = goals.rowcount
    return result


def first_goal_week_kept(first_kept: date) -> str:
    """The ISO week key (``2026-W11``, as the Review page keys goals) of the first goal kept: a goal goes with its
    week, when the week's review goes, i.e. once its Monday is before ``first_kept``. That Monday is before
    ``first_kept`` exactly when the week comes before the week of ``first_kept`` plus six days."""
    year, week, _ = (first_kept + timedelta(days=6)).isocalendar()
    return f"{year}-W{week:02d}"


def record_day_limits(db: Database, rules: Rules, now: datetime) -> None:
    """Note each member's daily limit for today as it stands now. Run at every rollup and rules change, so a day
    keeps the limit it ended with: the weekly review judges last Tuesday by Tuesday's limit, not today's."""
    day = local_day(now, rules.zone()).isoformat()
    rows = [
        {"day": day, "profile": name, "limit_minutes": _limit_minutes(profile), "recorded_at": iso(now)}
        for name, profile in rules.profiles.items()
    ]
    db["day_limits"].upsert_all(rows, pk=("day", "profile"))  # type: ignore[union-attr]


def limits_by_day(
    db: Database, rules: Rules, days: Iterable[date], also: Iterable[str] = ()
) -> dict[tuple[str, date], float | None]:
    """(member, day) -> the daily limit in minutes that day (None: no limit). A day with no note (before notes
    were kept, or the service was not running) takes the limit in the rules now. ``also``: names no longer in the
    rules, each day with the limit noted while they were in them, none on the other days."""
    wanted = sorted(set(days))
    noted: dict[tuple[str, date], float | None] = {}
    if wanted and db["day_limits"].exists():
        rows = db.execute(
            "SELECT profile, day, limit_minutes FROM day_limits WHERE day >= ? AND day <= ?",
            [wanted[0].isoformat(), wanted[-1].isoformat()],
        )
        noted = {(profile, date.fromisoformat(day)): limit for profile, day, limit in rows}
    limit_now = {name: _limit_minutes(profile) for name, profile in rules.profiles.items()}
    limit_now |= {name: None for name in also if name not in rules.profiles}
    return {(name, day): noted.get((name, day), limit) for name, limit in limit_now.items() for day in wanted}


def _limit_minutes(profile: Profile) -> float | None:
    return profile.daily_limit.total_seconds() / 60 if profile.daily_limit else None


def close_stale(db: Database, now: datetime, idle: timedelta = STALE_SPAN_AFTER) -> int:
    """Spans still marked open long after their last heartbeat were left by a service that died: close them."""
    return queries.close_stale_spans(db, now, idle.total_seconds())


@dataclass(frozen=True)
class QuietHoursState:
    """Whether a profile's quiet hours are in force at ``at``, and when that next changes (None: never)."""

    quiet: bool
    next_change: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"quiet": self.quiet, "next_change": iso(self.next_change) if self.next_change else None}


def quiet_hours_state(profile: Profile, now: datetime, zone: tzinfo) -> QuietHoursState:
    """As the proxy decides it (``breather.rules.decisions.quiet_hours_now``): on a night the clock changes too."""
    state = quiet_hours_now(profile.quiet_hours, now, zone)
    return QuietHoursState(quiet=state.quiet, next_change=state.next_change)


def quiet_hours_states(rules: Rules, now: datetime) -> dict[str, QuietHoursState]:
    zone = rules.zone()
    return {name: quiet_hours_state(profile, now, zone) for name, profile in rules.profiles.items()}


@dataclass(frozen=True)
class Transition:
    profile: str
    quiet: bool
    at: datetime

    def describe(self) -> str:
        return f"quiet hours {'began' if self.quiet else 'ended'} for {self.profile}"


def transitions_between(
    before: dict[str, QuietHoursState], after: dict[str, QuietHoursState], now: datetime
) -> list[Transition]:
    """Profiles whose quiet hours switched on or off since the last check (a new profile counts when it is quiet)."""
    changed = []
    for name, state in after.items():
        previous = before.get(name)
        was_quiet = previous.quiet if previous is not None else False
        if state.quiet != was_quiet:
            changed.append(Transition(profile=name, quiet=state.quiet, at=now))
    return changed


def save_quiet_hours(db: Database, states: dict[str, QuietHoursState], now: datetime) -> None:
    """The shared record the dashboard API (and through it the extension and overlay) reads."""
    value = json.dumps({name: state.as_json() for name, state in states.items()}, sort_keys=True)
    queries.set_meta(db, QUIET_HOURS_META_KEY, value, now)


def week_start(day: date) -> date:
    """Weeks run Monday to Sunday, as the weekly review is read."""
    return day - timedelta(days=day.weekday())


def snapshot_week(db: Database, rules: Rules, monday: date, now: datetime) -> list[dict[str, Any]]:
    """One ``weekly_reviews`` row per member for the week starting ``monday`` (idempotent: rebuilt in place).

    Its days are read whole (``finish_rollups``). The members are everyone in the rules, then every other name with
    time or events that week, under the name the store keeps (a member taken out of the rules on Saturday was in
    the household that week), as the dashboard's weekly review shows them.
    """
    zone = rules.zone()
    sunday = monday + timedelta(days=6)
    finish_rollups(db, monday, sunday, now, zone, rules.retention_days)
    minutes = queries.minutes_per_site_per_day(db, monday, sunday, zone)
    counts = queries.events_per_day(db, monday, sunday, zone)
    with_records = {row.profile for row in minutes} | {row.profile for row in counts}
    out_of_rules = sorted(with_records - rules.profiles.keys())
    names = [*rules.profiles, *out_of_rules]
    daily: dict[str, list[float]] = {name: [0.0] * 7 for name in names}
    for spent in minutes:
        daily[spent.profile][(spent.day - monday).days] += spent.minutes
    kinds: dict[str, dict[str, int]] = {name: {} for name in names}
    warnings: dict[str, dict[str, int]] = {name: {} for name in names}
    for count in counts:
        kinds[count.profile][count.kind] = kinds[count.profile].get(count.kind, 0) + count.count
        if count.kind == "warning_shown" and count.category:
            per_category = warnings[count.profile]
            per_category[count.category] = per_category.get(count.category, 0) + count.count
    days = [monday + timedelta(days=offset) for offset in range(7)]
    limits = limits_by_day(db, rules, days, also=out_of_rules)
    rows = [
        _review_row(monday, name, daily[name], [limits[(name, day)] for day in days], kinds[name], warnings[name], now)
        for name in names
    ]
    db["weekly_reviews"].upsert_all(rows, pk=("week", "profile"))  # type: ignore[union-attr]
    return rows


def _review_row(
    monday: date,
    name: str,
    daily: list[float],
    limits: list[float | None],
    kinds: dict[str, int],
    warnings: dict[str, int],
    now: datetime,
) -> dict[str, Any]:
    """``limits``: each day's own limit. A day without use is neither kept nor missed (as on the Family page)."""
    return {
        "week": monday.isoformat(),
        "profile": name,
        "minutes": round(sum(daily), 1),
        "daily_minutes": json.dumps([round(value, 1) for value in daily]),
        "limit_minutes": limits[-1],
        "daily_limit_minutes": json.dumps(limits),
        "week_limit_minutes": usage.week_limit(limits),
        "days_within_limit": sum(
            1 for value, limit in zip(daily, limits, strict=True) if usage.online_within(value, limit)
        ),
        "breaks_taken": kinds.get("break_taken", 0),
        "breaks_snoozed": kinds.get("break_snoozed", 0),
        "limits_reached": kinds.get("limit_reached", 0),
        "warnings": json.dumps(warnings, sort_keys=True),
        "built_at": iso(now),
    }


# -- binding the jobs to a running service ---------------------------------------------------------------------------


def _rules_of(runtime: Any) -> Rules:
    current = runtime.current_rules() if hasattr(runtime, "current_rules") else runtime.rules
    if current is None:
        raise RuntimeError("no valid rules are loaded")
    rules: Rules = current
    return rules


def on_store(runtime: Any, job: Callable[[Database], Any]) -> Any:
    """Run a writing job on the store's one writer thread; without a writer (a bare runtime), on a connection of
    its own."""
    writer = getattr(runtime, "writer", None)
    if writer is not None:
        return writer.call(job, timeout=STORE_CALL_TIMEOUT_S).result(timeout=STORE_CALL_TIMEOUT_S)
    db = open_database(runtime.paths.database, extra=[SCHEDULER_MIGRATIONS])
    try:
        with db.conn:
            return job(db)
    finally:
        db.close()


def run_daily_rollup(runtime: Any, clock: Clock = utc_now) -> list[date]:
    rules = _rules_of(runtime)
    now = clock()

    def job(db: Database) -> list[date]:
        record_day_limits(db, rules, now)
        return rollup_recent_days(db, now, rules.zone(), rules.retention_days)

    days: list[date] = on_store(runtime, job)
    log.debug("rolled up %s", ", ".join(day.isoformat() for day in days))
    return days


# Since when (by the clock) a prune would have deleted every record: one start with the clock a year ahead (a
# robustness test: a VM restored, a bad clock) deleted a household's whole history, for good.
EVERYTHING_DUE_KEY = "retention.everything_due_since"
EVERYTHING_DUE_WAIT = timedelta(days=1)


def run_retention(runtime: Any, clock: Clock = utc_now) -> dict[str, int]:
    rules = _rules_of(runtime)
    now = clock()
    result = on_store(runtime, lambda db: prune_unless_all_at_once(db, now, rules.retention_days, rules.zone()))
    if isinstance(result, datetime):
        log.warning(
            "retention: the clock says %s, %d days after Breather's newest record: every record would be deleted. "
            "If the clock is right, they are deleted a day after this was first seen; if it is wrong, set it "
            "right and nothing is lost",
            now.isoformat(timespec="minutes"),
            (now - result).days,
        )
        return {}
    log.info("retention: removed data older than %d days (%s)", rules.retention_days, result)
    return dict(result)


def prune_unless_all_at_once(
    db: Database, now: datetime, retention_days: int, zone: tzinfo
) -> dict[str, int] | datetime:
    """``prune_old_data``, except when it would delete every record: then only once the clock has said so for a
    day (a wrong clock is set right by then, or by the person warned in the log); while it waits, the newest
    record's time. Someone back after months away has their old records deleted a day later than the retention
    says.

    The newest record is the one noted when this was first seen: the use recorded meanwhile is stamped by the same
    clock, and would make everything look recent by the next run (a review)."""
    noted = queries.get_meta(db, EVERYTHING_DUE_KEY)
    seen_at, newest = _everything_due(noted) if noted else (None, newest_record(db))
    if newest is not None and newest < now - timedelta(days=retention_days):
        if seen_at is None:
            queries.set_meta(db, EVERYTHING_DUE_KEY, json.dumps({"seen": iso(now), "newest": iso(newest)}), now)
            return newest
        if now - seen_at < EVERYTHING_DUE_WAIT:
            return newest
    db.execute("DELETE FROM meta WHERE key = ?", [EVERYTHING_DUE_KEY])
    return prune_old_data(db, now, retention_days, zone)


def _everything_due(noted: str) -> tuple[datetime, datetime]:
    """(when a prune of every record was first seen due, the newest record then)."""
    found = json.loads(noted)
    return datetime.fromisoformat(found["seen"]), datetime.fromisoformat(found["newest"])


def newest_record(db: Database) -> datetime | None:
    """When the newest span ended or the newest event happened; None with neither."""
    row = db.execute('SELECT MAX(m) FROM (SELECT MAX("end") AS m FROM activity UNION ALL SELECT MAX(at) FROM events)')
    found = row.fetchone()[0]
    return datetime.fromisoformat(found) if found else None


def run_close_stale_spans(runtime: Any, clock: Clock = utc_now) -> int:
    now = clock()
    return int(on_store(runtime, lambda db: close_stale(db, now)))


def run_weekly_review(runtime: Any, clock: Clock = utc_now) -> list[dict[str, Any]]:
    """On Monday morning (and at every start), the week that just ended, and any earlier week kept whose Monday
    passed while the service was off: a laptop shut down every night was never up at 00:15 on a Monday, and the
    export's weekly reviews skipped those weeks for good."""
    rules = _rules_of(runtime)
    now = clock()
    last_week = week_start(local_day(now, rules.zone())) - timedelta(days=7)

    def job(db: Database) -> list[dict[str, Any]]:
        missed = weeks_never_snapshotted(db, rules, last_week, now)
        if missed:
            log.info("saving the weekly reviews of %d earlier week(s) the service was off for", len(missed))
        return [row for monday in [*missed, last_week] for row in snapshot_week(db, rules, monday, now)]

    rows: list[dict[str, Any]] = on_store(runtime, job)
    members = sum(1 for row in rows if row["week"] == last_week.isoformat())
    log.info("weekly review for the week of %s saved for %d member(s)", last_week.isoformat(), members)
    return rows


def weeks_never_snapshotted(db: Database, rules: Rules, before: date, now: datetime) -> list[date]:
    """The Mondays before ``before`` of weeks with records and no review saved, from the week of the first record
    on, and not before the first Monday the retention keeps (an earlier week's review is pruned at once)."""
    zone = rules.zone()
    first_record = queries.first_record_day(db, zone)
    if first_record is None:
        return []
    first_kept = local_day(now - timedelta(days=rules.retention_days), zone)
    monday = max(week_start(first_record), week_start(first_kept + timedelta(days=6)))
    saved = {week for (week,) in db.execute("SELECT DISTINCT week FROM weekly_reviews")}
    missed = []
    while monday < before:
        if monday.isoformat() not in saved:
            missed.append(monday)
        monday += timedelta(days=7)
    return missed


class QuietHoursWatch:
    """Remembers the last quiet-hours state per profile, so each run can say what switched since the last one.

    The current states also go on the runtime as ``runtime.quiet_hours`` (for the proxy and the API in-process)
    and into the store's ``meta`` table under ``quiet_hours`` (for any other reader).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, QuietHoursState] = {}

    def __call__(self, runtime: Any, clock: Clock = utc_now) -> list[Transition]:
        rules = _rules_of(runtime)
        now = clock()
        states = quiet_hours_states(rules, now)
        with self._lock:
            changed = transitions_between(self._states, states, now)
            self._states = states
        runtime.quiet_hours = states
        for transition in changed:
            log.info("%s at %s", transition.describe(), iso(now))
        on_store(runtime, lambda db: save_quiet_hours(db, states, now))  # last: the proxy holds them without it
        return changed


# -- registration ----------------------------------------------------------------------------------------------------


def is_store_trouble(exc: BaseException) -> bool:
    """What a job meets when the store cannot be used now: the writer did not make its write (a damaged, locked, full
    or deleted file), a read on its own connection met the same trouble, or the writer did not answer in time. An SQL
    mistake or a file's own time-out (an OSError) is a bug or another trouble, and keeps its traceback."""
    if isinstance(exc, WriteNotMade):
        return True
    if isinstance(exc, sqlite3.Error):
        return trouble_of(exc) is not None
    return isinstance(exc, TimeoutError) and getattr(exc, "errno", None) is None


class SaysStoreTrouble:
    """Runs a job; when the store cannot be used, says so in one WARNING line the first time (and again when the
    reason changes) and when it works again, instead of APScheduler's ERROR traceback at every run (every minute for
    quiet hours, for as long as a damaged file stays). The job runs again at its next time, as it would anyway."""

    def __init__(self, job: Callable[..., Any], what: str) -> None:
        self.job = job
        self.what = what
        self.trouble: str | None = None  # what was last said, while it lasts

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self.job(*args, **kwargs)
        except Exception as exc:
            if not is_store_trouble(exc):
                raise
            trouble = str(exc) or "it did not answer in time"
            level = logging.DEBUG if trouble == self.trouble else logging.WARNING
            log.log(
                level, "%s: the usage store could not be used (%s); trying again at its next run", self.what, trouble
            )
            self.trouble = trouble
            return None
        if self.trouble is not None:
            log.info("%s: the usage store works again", self.what)
            self.trouble = None
        return result


def add_store_job(scheduler: Any, job: Callable[..., Any], trigger: Any, *, name: str, **options: Any) -> None:
    """``scheduler.add_job`` for a job that uses the store: its trouble is said as ``SaysStoreTrouble`` says it. A job
    registered again (the rules reloaded) keeps what it last said, so the same trouble is not said once more."""
    wrapped = SaysStoreTrouble(job, name)
    existing = scheduler.get_job(options["id"]) if "id" in options else None
    if existing is not None and isinstance(existing.func, SaysStoreTrouble):
        wrapped.trouble = existing.func.trouble
    scheduler.add_job(wrapped, trigger, name=name, **options)


def register_jobs(scheduler: Any, runtime: Any, clock: Clock = utc_now) -> None:
    """Add every job with its explicit id; calling it again (rules reloaded, a new zone) replaces them in place."""
    zone = _rules_of(runtime).zone()
    common: dict[str, Any] = {"args": [runtime, clock], "replace_existing": True, "coalesce": True}
    # Keep the watch (and its memory of who is in quiet hours) across re-registrations, or every rules reload
    # during the night would announce that quiet hours "began" again.
    existing = scheduler.get_job(JOB_QUIET_HOURS)
    kept = getattr(existing.func, "job", None) if existing is not None else None
    watch = kept if isinstance(kept, QuietHoursWatch) else QuietHoursWatch()
    add_store_job(
        scheduler,
        run_daily_rollup,
        IntervalTrigger(minutes=ROLLUP_EVERY_MINUTES, timezone=zone),
        id=JOB_DAILY_ROLLUP,
        name="roll up yesterday and today (and a day rolled up before it ended)",
        misfire_grace_time=ROLLUP_EVERY_MINUTES * 60,
        **common,
    )
    add_store_job(
        scheduler,
        run_retention,
        CronTrigger(hour=3, minute=30, timezone=zone),
        id=JOB_RETENTION,
        name="delete data older than the retention",
        misfire_grace_time=24 * 3600,  # a laptop asleep at 03:30 prunes when it wakes
        **common,
    )
    add_store_job(
        scheduler,
        watch,
        CronTrigger(second=0, timezone=zone),
        id=JOB_QUIET_HOURS,
        name="quiet-hours transitions",
        misfire_grace_time=50,
        **common,
    )
    add_store_job(
        scheduler,
        run_weekly_review,
        CronTrigger(day_of_week="mon", hour=0, minute=15, timezone=zone),
        id=JOB_WEEKLY_REVIEW,
        name="weekly review snapshot",
        misfire_grace_time=24 * 3600,
        **common,
    )
    add_store_job(
        scheduler,
        run_close_stale_spans,
        IntervalTrigger(minutes=5, timezone=zone),
        id=JOB_STALE_SPANS,
        name="close activity spans left open",
        misfire_grace_time=300,
        **common,
    )


def prepare_store(runtime: Any) -> None:
    """Create the scheduler's own table (weekly reviews) before any job writes to it. A store that cannot be opened
    now (damaged or replaced since the service opened it) is said, and the jobs start anyway: quiet hours must still
    switch, and the writer makes the tables in the new file it saves into (a CI run's service exited 1 here)."""
    try:
        open_database(runtime.paths.database, extra=[SCHEDULER_MIGRATIONS]).close()
    except sqlite3.DatabaseError as exc:
        # A WARNING: an ERROR logged on the proxy's thread before its `running` hooks are done makes mitmproxy's
        # start-up check end the whole service (exit 1), which is what this goes on past.
        log.warning("the scheduler could not prepare the usage store (%s); its jobs start anyway", exc)


def start_scheduler(runtime: Any, clock: Clock = utc_now) -> BackgroundScheduler:
    """Start the jobs in a background thread; the quiet-hours state is computed once right away."""
    prepare_store(runtime)
    scheduler = BackgroundScheduler(timezone=_rules_of(runtime).zone(), daemon=True)
    register_jobs(scheduler, runtime, clock)
    scheduler.start()
    scheduler.modify_job(JOB_QUIET_HOURS, next_run_time=datetime.now(UTC))
    scheduler.modify_job(JOB_DAILY_ROLLUP, next_run_time=datetime.now(UTC))
    # A laptop shut down every night was never up at 03:30: old records outlived the retention for good. Pruning
    # twice deletes nothing more, so the start prunes too.
    scheduler.modify_job(JOB_RETENTION, next_run_time=datetime.now(UTC))
    scheduler.modify_job(JOB_WEEKLY_REVIEW, next_run_time=datetime.now(UTC))  # likewise a Monday at 00:15
    follow_rules(scheduler, runtime, clock)
    return scheduler


def follow_rules(scheduler: Any, runtime: Any, clock: Clock = utc_now) -> None:
    """When the rules file changes (a new time zone, new quiet hours), re-register the jobs in the new zone and
    recompute the quiet hours at once instead of at the next minute."""
    add_listener = getattr(getattr(runtime, "rules", None), "add_listener", None)
    if add_listener is None:
        return

    def rules_changed(_rules: Rules) -> None:
        register_jobs(scheduler, runtime, clock)
        scheduler.modify_job(JOB_QUIET_HOURS, next_run_time=datetime.now(UTC))
        scheduler.modify_job(JOB_DAILY_ROLLUP, next_run_time=datetime.now(UTC))  # today's limit noted at once

    add_listener(rules_changed)
