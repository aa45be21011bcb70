"""Read (and maintenance) functions over a usage-store ``Database``, for the dashboard, the proxy and the jobs.

Pure functions of the database and their arguments: the caller passes the clock (``now``) and the household time
zone (``tz``), so the same question always gets the same answer and tests need no patching. Days are cut at local
midnight in ``tz`` (a 23- or 25-hour day around a DST change is still one day). Functions that write (rollups,
pruning, closing spans, deleting all usage) are meant to run on the writer thread:
``writer.call(lambda db: rollup_day(db, day, tz))``.
"""

from __future__ import annotations

import ipaddress
import json
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from heapq import heappop, heappush
from itertools import pairwise
from typing import Any

from sqlite_utils import Database

from breather.store.model import epoch_from_iso, iso, iso_from_epoch
from breather.store.spans import DEFAULT_PULSETIME_S

DEFAULT_MIN_BREAK_S = 5 * 60
NO_CATEGORY = "-"
ROLLUP_ZONE_KEY = "rollups.zone"

GroupOf = Callable[[str], str | None] | Mapping[str, str]


@dataclass(frozen=True)
class SiteDay:
    day: date
    profile: str
    site: str
    minutes: float


@dataclass(frozen=True)
class EventCount:
    day: date
    profile: str
    kind: str
    category: str | None
    count: int


@dataclass(frozen=True)
class TodayUsage:
    """Minutes so far today, each the union of its spans: two tabs, or one tab the overlay and the extension both
    reported, are not twice the time.

    ``by_site`` is per host as the store records it. ``by_group`` is what each limit counts, by the limit's key: a
    site group's name (as ``group_of`` names it) and every domain a host with time today is in (``old.reddit.com``
    and ``reddit.com`` for a span on ``old.reddit.com``), a domain's being all its hosts' spans together. A group
    named like a domain is the group's.
    """

    total: float
    by_site: dict[str, float] = field(default_factory=dict)
    by_group: dict[str, float] = field(default_factory=dict)


# -- days in the household's zone ---------------------------------------------------------------------------------


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def day_of(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def _days(first: date, last: date) -> list[date]:
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _boundaries(days: list[date], tz: tzinfo) -> list[float]:
    """Epoch seconds of each day's local midnight, plus the midnight after the last day."""
    return [local_midnight(day, tz).timestamp() for day in [*days, days[-1] + timedelta(days=1)]]


# -- activity -------------------------------------------------------------------------------------------------------


# SQLite turns the ISO text into epoch seconds in C, much faster than parsing each row in Python. julianday is a
# double (about 20 µs of resolution in this century), so the result is rounded to whole milliseconds.
_EPOCH_SQL = "ROUND((julianday({}) - 2440587.5) * 86400.0, 3)"


def _spans(
    db: Database, since: float, until: float, profile: str | None, opened: bool = False
) -> Iterable[tuple[Any, ...]]:
    """(profile, site, start, end) of spans overlapping [since, until), clipped to it, in epoch seconds; with
    ``opened``, a fifth column: the start before clipping."""
    start_s, end_s = _EPOCH_SQL.format("start"), _EPOCH_SQL.format('"end"')
    columns = f"profile, site, MAX({start_s}, ?), MIN({end_s}, ?)" + (f", {start_s}" if opened else "")
    sql = f'SELECT {columns} FROM activity WHERE "end" > ? AND start < ?'
    params: list[str | float] = [since, until, iso_from_epoch(since), iso_from_epoch(until)]
    if profile is not None:
        sql += " AND profile = ?"
        params.append(profile)
    return db.execute(sql, params).fetchall()


def minutes_per_site_per_day(
    db: Database, first: date, last: date, tz: tzinfo, profile: str | None = None, use_rollups: bool = True
) -> list[SiteDay]:
    """Minutes on each site on each day from ``first`` to ``last`` (inclusive), per profile (all when None).

    Each moment a person was online is counted in one row only, so a day's rows add up to their time online that
    day, as ``minutes_today`` counts it: a tab two sources reported, or two windows side by side, is not twice the
    time (see ``_one_site_at_a_time``). A span that crosses midnight is split between the two days. Days already
    rolled up in the same zone are read from ``daily_rollups`` (the small table), the others from the spans. Sorted
    by day, profile, site.
    """
    days = _days(first, last)
    rolled = _rolled_up_days(db, first, last, tz) if use_rollups else set()
    from_rollups = [row for row in minutes_from_rollups(db, first, last, profile) if row.day in rolled]
    live = _minutes_from_spans(db, days, tz, profile, skip=rolled)
    return sorted([*from_rollups, *live], key=lambda row: (row.day, row.profile, row.site))


def _minutes_from_spans(
    db: Database, days: list[date], tz: tzinfo, profile: str | None, skip: set[date]
) -> list[SiteDay]:
    wanted = [index for index, day in enumerate(days) if day not in skip]
    if not wanted:
        return []
    cuts = _boundaries(days, tz)
    per_profile: dict[str, list[tuple[str, float, float, float]]] = defaultdict(list)
    for row_profile, site, start, end, opened in _spans(db, cuts[wanted[0]], cuts[wanted[-1] + 1], profile, True):
        per_profile[row_profile].append((site, start, end, opened))
    seconds: dict[tuple[int, str, str], float] = defaultdict(float)
    for row_profile, spans in per_profile.items():
        for site, start, end in _one_site_at_a_time(spans):
            index = bisect_right(cuts, start) - 1
            while start < end:
                piece_end = min(end, cuts[index + 1])
                seconds[(index, row_profile, site)] += piece_end - start
                start = piece_end
                index += 1
    return [
        SiteDay(days[index], row_profile, site, total / 60)
        for (index, row_profile, site), total in seconds.items()
        if total > 0 and days[index] not in skip
    ]


def _one_site_at_a_time(spans: list[tuple[str, float, float, float]]) -> Iterator[tuple[str, float, float]]:
    """One person's (site, start, end, opened) spans as stretches that never overlap, each on one site.

    They add up to the time online. A moment on two sites at once (the overlay's ``reddit.com`` and the extension's
    ``old.reddit.com`` for one tab, two windows side by side, the overlay's last 30 s after a tab switch) goes to
    the site opened last: the tab switched to, the window opened beside. ``opened`` is when the span really began,
    before it was cut to the days asked for: cut at midnight, two spans from the evening before would both seem
    opened at 00:00, and a day read alone (its rollup) would give their overlap to the other site than a week read
    together.
    """
    by_start = sorted(spans, key=lambda span: span[1])
    edges = sorted({edge for _, start, end, _ in spans for edge in (start, end)})
    running: list[tuple[float, str, float]] = []  # a heap of (-opened, site, end): the one opened last on top
    taken = 0
    for left, right in pairwise(edges):
        while taken < len(by_start) and by_start[taken][1] <= left:
            site, _, end, opened = by_start[taken]
            heappush(running, (-opened, site, end))
            taken += 1
        while running and running[0][2] <= left:
            heappop(running)
        if running:
            yield running[0][1], left, right


def _rolled_up_days(db: Database, first: date, last: date, tz: tzinfo) -> set[date]:
    if get_meta(db, ROLLUP_ZONE_KEY) != str(tz):
        return set()
    rows = db.execute(
        "SELECT DISTINCT day FROM daily_rollups WHERE day >= ? AND day <= ?", (first.isoformat(), last.isoformat())
    )
    return {date.fromisoformat(day) for (day,) in rows}


def _union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    total = 0.0
    current_start: float | None = None
    current_end = 0.0
    for start, end in sorted(intervals):
        if current_start is None or start > current_end:
            if current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_start is not None:
        total += current_end - current_start
    return total


def _group_lookup(group_of: GroupOf | None) -> Callable[[str], str | None]:
    if group_of is None:
        return lambda site: None
    if isinstance(group_of, Mapping):
        return group_of.get
    return group_of


def minutes_today(db: Database, profile: str, now: datetime, tz: tzinfo, group_of: GroupOf | None = None) -> TodayUsage:
    """What the boundary decisions need: today's minutes in total, per site, and per limit key (site group, domain)."""
    start = local_midnight(day_of(now, tz), tz).timestamp()
    per_site: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _, site, span_start, span_end in _spans(db, start, now.timestamp(), profile):
        per_site[site].append((span_start, span_end))
    lookup = _group_lookup(group_of)
    per_domain: dict[str, list[tuple[float, float]]] = defaultdict(list)
    per_group: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for site, intervals in per_site.items():
        for domain in _domains_holding(site):
            per_domain[domain].extend(intervals)
        group = lookup(site)
        if group is not None:
            per_group[group].extend(intervals)
    return TodayUsage(
        total=_union_seconds(span for spans in per_site.values() for span in spans) / 60,
        by_site={site: _union_seconds(spans) / 60 for site, spans in sorted(per_site.items())},
        by_group={key: _union_seconds(spans) / 60 for key, spans in sorted({**per_domain, **per_group}.items())},
    )


def _domains_holding(host: str) -> list[str]:
    """Each domain a limit may be keyed by that holds ``host``: ``old.reddit.com`` → ``old.reddit.com``,
    ``reddit.com``; none for an IP address."""
    if _is_ip_address(host):
        return []
    labels = host.split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def last_break(
    db: Database, profile: str, now: datetime, min_break_s: float = DEFAULT_MIN_BREAK_S, lookback_h: float = 24
) -> datetime | None:
    """When the person last had a break: a ``break_taken`` event, or a pause of ``min_break_s`` between spans."""
    since = now.timestamp() - lookback_h * 3600
    row = db.execute(
        "SELECT MAX(at) FROM events WHERE profile = ? AND kind = 'break_taken' AND at <= ?",
        (profile, iso(now)),
    ).fetchone()
    latest = epoch_from_iso(row[0]) if row and row[0] else None
    busy_until: float | None = None
    for _, _, start, end in sorted(_spans(db, since, now.timestamp(), profile), key=lambda span: span[2]):
        if busy_until is not None and start - busy_until >= min_break_s:
            latest = max(latest or 0.0, start)
        busy_until = end if busy_until is None else max(busy_until, end)
    if busy_until is not None and now.timestamp() - busy_until >= min_break_s:
        latest = now.timestamp()
    return None if latest is None else datetime.fromtimestamp(latest, UTC)


def active_minutes_since_break(
    db: Database, profile: str, now: datetime, min_break_s: float = DEFAULT_MIN_BREAK_S, lookback_h: float = 24
) -> float:
    """Minutes of use (overlaps counted once) since the last break, for the break cadence."""
    since_break = last_break(db, profile, now, min_break_s, lookback_h)
    since = since_break.timestamp() if since_break else now.timestamp() - lookback_h * 3600
    spans = _spans(db, since, now.timestamp(), profile)
    return _union_seconds((start, end) for _, _, start, end in spans) / 60


def list_profiles(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT name FROM profiles ORDER BY name")]


# -- events ---------------------------------------------------------------------------------------------------------


def events_per_day(
    db: Database, first: date, last: date, tz: tzinfo, profile: str | None = None, site: str | None = None
) -> list[EventCount]:
    """How many events of each kind and category happened on each day. Sorted by day, profile, kind, category."""
    days = _days(first, last)
    cuts = [iso_from_epoch(cut) for cut in _boundaries(days, tz)]
    # One range scan of the ``at`` index per day, counted inside SQLite.
    values = ", ".join("(?, ?, ?)" for _ in days)
    params: list[str | int] = [item for index in range(len(days)) for item in (index, cuts[index], cuts[index + 1])]
    sql = (
        f"WITH cuts(idx, lo, hi) AS (VALUES {values}) "
        "SELECT cuts.idx, e.profile, e.kind, e.category, COUNT(*) FROM cuts "
        "JOIN events AS e ON e.at >= cuts.lo AND e.at < cuts.hi"
    )
    for column, value in (("profile", profile), ("site", site)):
        if value is not None:
            sql += f" AND e.{column} = ?"
            params.append(value)
    sql += " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, COALESCE(e.category, ?)"
    params.append(NO_CATEGORY)
    return [
        EventCount(days[index], row_profile, kind, category, count)
        for index, row_profile, kind, category, count in db.execute(sql, params)
    ]


# -- rollups, retention, maintenance (run these on the writer thread) -----------------------------------------------


def rollup_day(db: Database, day: date, tz: tzinfo, now: datetime | None = None) -> int:
    """Rebuild ``daily_rollups`` for one local day; running it again gives the same rows. Returns the row count.

    One row per (profile, site): its minutes and ``counts``, a JSON object ``{kind: {category or "-": n}}``.
    A profile's rows add up to its time online that day (each moment in one row, as ``minutes_per_site_per_day``).
    Events without a site are counted on the row whose site is ``""``. ``built_at`` is ``now`` (the job's clock;
    the wall clock when None): a day whose rows were built before it ended may lack its last minutes.
    """
    minutes: dict[tuple[str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(dict)
    for usage in minutes_per_site_per_day(db, day, day, tz, use_rollups=False):
        minutes[(usage.profile, usage.site)] = usage.minutes
    for profile, site, kind, category, number in _event_counts_by_site(db, day, tz):
        counts[(profile, site)].setdefault(kind, {})[category] = number
    built_at = iso(now or datetime.now(UTC))
    keys = sorted(minutes.keys() | counts.keys())
    rows = [
        (day.isoformat(), profile, site, minutes.get((profile, site), 0.0), _json(counts.get((profile, site), {})))
        for profile, site in keys
    ]
    with db.atomic():
        if get_meta(db, ROLLUP_ZONE_KEY) != str(tz):
            db.execute("DELETE FROM daily_rollups")  # cut in another zone: they would mix two kinds of day
            set_meta(db, ROLLUP_ZONE_KEY, str(tz))
        db.execute("DELETE FROM daily_rollups WHERE day = ?", (day.isoformat(),))
        db.conn.executemany(
            "INSERT INTO daily_rollups (day, profile, site, minutes, counts, built_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(*row, built_at) for row in rows],
        )
    return len(rows)


def rollups_cut_in_another_zone(db: Database, tz: tzinfo) -> bool:
    """Whether the rollups kept were cut in a zone other than ``tz`` (the rules' zone changed; or none were cut yet):
    the next ``rollup_day`` deletes them all."""
    return get_meta(db, ROLLUP_ZONE_KEY) != str(tz)


def first_record_day(db: Database, tz: tzinfo) -> date | None:
    """The local day of the earliest span or event kept (None: nothing is recorded). Index seeks only (it runs at
    every start): the first span per member (``activity_profile_start``; every span has its member's ``profiles``
    row, as ``usage.first_seen`` reads them) and the first event (``events_at``), not a walk over every span."""
    firsts = [db.execute(query).fetchone()[0] for query in _FIRST_RECORDS]
    stamps = [datetime.fromisoformat(first) for first in firsts if first is not None]
    return min(stamps).astimezone(tz).date() if stamps else None


_FIRST_RECORDS = (
    "SELECT min((SELECT min(start) FROM activity WHERE profile = name)) FROM profiles",
    "SELECT min(at) FROM events",
)


def rollups_built_early(db: Database, before: date, tz: tzinfo, since: date | None = None) -> list[date]:
    """Days before ``before`` (from ``since`` on, when given) whose rollup rows were all built before the day
    ended: the service stopped that evening and did not run the whole next day, so no later rollup finished them.
    Reads then take such a day's rows as the whole day. Rollups cut in another zone count for nothing (the next
    ``rollup_day`` deletes them)."""
    if get_meta(db, ROLLUP_ZONE_KEY) != str(tz):
        return []
    rows = db.execute(
        "SELECT day, MAX(built_at) FROM daily_rollups WHERE day < ? AND day >= ? GROUP BY day ORDER BY day",
        (before.isoformat(), (since or date.min).isoformat()),
    )
    early = []
    for text, built_at in rows:
        day = date.fromisoformat(text)
        if datetime.fromisoformat(built_at) < local_midnight(day + timedelta(days=1), tz):
            early.append(day)
    return early


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _event_counts_by_site(db: Database, day: date, tz: tzinfo) -> list[tuple[str, str, str, str, int]]:
    start, end = _boundaries([day], tz)
    return [
        (profile, site, kind, category, count)
        for profile, site, kind, category, count in db.execute(
            "SELECT profile, COALESCE(site, ''), kind, COALESCE(category, ?), COUNT(*) FROM events "
            "WHERE at >= ? AND at < ? GROUP BY 1, 2, 3, 4",
            (NO_CATEGORY, iso_from_epoch(start), iso_from_epoch(end)),
        )
    ]


def minutes_from_rollups(db: Database, first: date, last: date, profile: str | None = None) -> list[SiteDay]:
    """The same answer as ``minutes_per_site_per_day`` for days already rolled up, from the small table."""
    sql = "SELECT day, profile, site, minutes FROM daily_rollups WHERE day >= ? AND day <= ? AND minutes > 0"
    params = [first.isoformat(), last.isoformat()]
    if profile is not None:
        sql += " AND profile = ?"
        params.append(profile)
    sql += " ORDER BY day, profile, site"
    return [SiteDay(_parse_day(day), p, site, minutes) for day, p, site, minutes in db.execute(sql, params)]


@lru_cache(maxsize=4096)
def _parse_day(text: str) -> date:
    return date.fromisoformat(text)


def prune(db: Database, older_than: datetime, tz: tzinfo) -> dict[str, int]:
    """Retention: forget spans and events before ``older_than``, rollups of days before its local day, and the
    answers to asks for more time whose ask (an event) is gone with them."""
    cutoff = iso(older_than)
    with db.atomic():
        removed = {
            "activity": db.execute('DELETE FROM activity WHERE "end" < ?', (cutoff,)).rowcount,
            "events": db.execute("DELETE FROM events WHERE at < ?", (cutoff,)).rowcount,
            "daily_rollups": db.execute(
                "DELETE FROM daily_rollups WHERE day < ?", (day_of(older_than, tz).isoformat(),)
            ).rowcount,
        }
        if db["time_answers"].exists():
            removed["time_answers"] = _prune_answers_without_ask(db)
    return removed


def _prune_answers_without_ask(db: Database) -> int:
    """Delete the dashboard's ``time_answers`` rows (a parent's reason, the minutes granted) whose ask is no longer
    in ``events``. Orphans left by earlier versions go too: event ids are reused once the newest events are deleted,
    so an old answer would otherwise attach itself to a new ask."""
    return int(
        db.execute(
            "DELETE FROM time_answers WHERE NOT EXISTS (SELECT 1 FROM events WHERE events.id = time_answers.event_id)"
        ).rowcount
    )


def close_stale_spans(db: Database, now: datetime, pulsetime_s: float = DEFAULT_PULSETIME_S) -> int:
    """Mark spans no heartbeat has extended for ``pulsetime_s`` as closed (e.g. left open by a crash)."""
    cutoff = iso_from_epoch(now.timestamp() - pulsetime_s)
    with db.atomic():
        return int(db.execute('UPDATE activity SET is_open = 0 WHERE is_open = 1 AND "end" < ?', (cutoff,)).rowcount)


def open_spans(db: Database, profile: str | None = None) -> list[tuple[str, str, datetime]]:
    """(profile, site, started) of the spans still being extended: who is on what right now."""
    sql = "SELECT profile, site, start FROM activity WHERE is_open = 1"
    params: list[str] = []
    if profile is not None:
        sql += " AND profile = ?"
        params.append(profile)
    return [(p, site, datetime.fromisoformat(start)) for p, site, start in db.execute(sql + " ORDER BY 1, 2", params)]


# -- small state ----------------------------------------------------------------------------------------------------


def get_meta(db: Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else str(row[0])


def usage_deleted_at(db: Database) -> datetime | None:
    """When everything Breather had recorded was last deleted (the Data page, ``breather delete --all``)."""
    value = get_meta(db, USAGE_DELETED_KEY) if "meta" in db.table_names() else None
    return datetime.fromisoformat(value) if value else None


def set_meta(db: Database, key: str, value: str, now: datetime | None = None) -> None:
    stamp = iso(now or datetime.now(UTC))
    db.execute(
        "INSERT INTO meta (key, value, updated) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        (key, value, stamp),
    )


# -- deleting every record of use (``breather delete --all``, the Data page) ---------------------------------------
#
# The file holds two kinds of rows. Records of what someone did or saw go: time on sites, events, the rollups and
# weekly reviews built from them, the profiles seen in the data, answers to asks for more time, the weekly goals
# written at the review, and when each paired browser was last heard from. What the household configured stays:
# the passphrase, paired browsers, pairing codes, rule changes waiting out their cooling-off, the store's small
# state (``meta``: the zone rollups are cut in, the quiet-hours state derived from the rules) and the migrations.
#
# Deleted rows must not linger in the file: ``delete_usage`` runs with ``secure_delete`` on (SQLite overwrites the
# freed cells and pages with zeros), and ``compact`` rebuilds the file and empties the write-ahead log, which holds
# copies of the old pages until a checkpoint has copied it back and truncated it.

# Emptied, in this order. Tables another part of Breather has not created (yet) are skipped.
USAGE_TABLES: tuple[str, ...] = (
    "activity",  # breather.store: time spans per profile and site
    "events",  # breather.store: warnings, breaks, limits, asks for more time...
    "daily_rollups",  # breather.store: minutes and counts per day, built from the two above
    "profiles",  # breather.store: who was seen in the data, and when first
    "weekly_reviews",  # breather.scheduler: each week's minutes and counts per profile
    "day_limits",  # breather.scheduler: each member's daily limit on each day the service ran
    "time_answers",  # breather.dashboard: answers to asks (the asks are events; their ids start again after this)
    "weekly_goals",  # breather.dashboard: the goal written at each weekly review
)
# Usage tables Breather no longer creates but a home made by an older version may hold: emptied too.
LEGACY_USAGE_TABLES: tuple[str, ...] = (
    "time_requests",  # `breather demo` before 0.2.0: asks for more time with the member's note, the parent's reason
)
# Kept as they are, apart from the usage column named in USAGE_COLUMNS.
KEPT_TABLES: tuple[str, ...] = (
    "household",  # the passphrase hash
    "api_tokens",  # paired browsers
    "pairing_codes",
    "pending_rule_changes",  # rule changes held for their cooling-off, and what became of them
    "meta",  # store state: the zone rollups are cut in, the quiet-hours state derived from the rules (the
    # shown-warnings key is deleted with the usage)
    "_sqlite_migrations",
)
# Columns of kept tables that record use: (table, column) set to NULL.
USAGE_COLUMNS: tuple[tuple[str, str], ...] = (("api_tokens", "last_seen_at"),)
# The ``meta`` row keeping the key of the proxy's shown-warnings digests (proxy/feed_warnings.py): with the usage
# gone it opens nothing, and a new one is made when a warning is next shown.
SHOWN_WARNINGS_KEY = "shown_warnings_salt"
# When everything was last deleted: the pages say so, or an emptied week read as "A quiet week" (a user test).
USAGE_DELETED_KEY = "usage_deleted_at"


# When one member's records were last deleted: {member: ISO time}, as JSON.
MEMBER_DELETED_KEY = "member_usage_deleted_at"


def delete_usage(db: Database, at: datetime | None = None) -> dict[str, int]:
    """Empty every usage table present in one transaction and note when (``at``, else now); returns the rows deleted
    per table.

    Runs on the writer thread in the service (the Data page: ``writer.call(delete_usage)``, which also makes the
    writer forget its open spans) or on its own connection with the service stopped (``breather delete --all``,
    which then calls :func:`compact`).
    """
    with _securely(db):
        removed = _delete_usage_rows(db, None)
        if "meta" in db.table_names():
            db.execute("DELETE FROM meta WHERE key IN (?, ?)", [SHOWN_WARNINGS_KEY, MEMBER_DELETED_KEY])
            set_meta(db, USAGE_DELETED_KEY, iso(at or datetime.now(UTC)), at)
    return removed


@dataclass(frozen=True)
class MemberDeletion:
    """``delete_member_usage`` as a call for the writer, which knows it by its type: it forgets the member's open
    spans too, and compacts the file."""

    member: str
    at: datetime | None = None

    def __call__(self, db: Database) -> dict[str, int]:
        return delete_member_usage(db, self.member, self.at)


def delete_member_usage(db: Database, member: str, at: datetime | None = None) -> dict[str, int]:
    """Every record about ``member`` (a user test: a member who wanted their own records gone could only have the
    whole household's deleted), as ``delete_usage`` deletes, and when, by member. Anyone else's records and the
    household's weekly goals stay. Returns the rows deleted per table."""
    with _securely(db):
        removed = _delete_usage_rows(db, member)
        if "meta" in db.table_names():
            deleted = {name: iso(when) for name, when in members_deleted_at(db).items()}
            deleted[member] = iso(at or datetime.now(UTC))
            set_meta(db, MEMBER_DELETED_KEY, json.dumps(deleted, sort_keys=True), at)
    return removed


def _delete_usage_rows(db: Database, member: str | None) -> dict[str, int]:
    """Every usage row (or ``member``'s: the tables without a member column keep theirs) and the usage columns of the
    kept tables; the rows deleted per table."""
    present = set(db.table_names())
    removed = {}
    for table in (*USAGE_TABLES, *LEGACY_USAGE_TABLES):
        whose = _whose(db, table, member) if table in present else None
        if whose is not None:
            removed[table] = db.execute(f"DELETE FROM [{table}]{whose[0]}", whose[1]).rowcount
    for table, column in USAGE_COLUMNS:
        whose = _whose(db, table, member) if table in present and column in db[table].columns_dict else None
        if whose is not None:
            db.execute(f"UPDATE [{table}] SET [{column}] = NULL{whose[0]}", whose[1])
    return removed


def _whose(db: Database, table: str, member: str | None) -> tuple[str, list[str]] | None:
    """The WHERE clause picking ``member``'s rows of ``table`` (every row for None); None: it has no member column."""
    if member is None:
        return "", []
    column = member_column(db, table)
    return (f" WHERE [{column}] = ?", [member]) if column is not None else None


def member_column(db: Database, table: str) -> str | None:
    """The column naming the member a row of ``table`` is about; None for a table of the household as a whole (the
    weekly goals set together)."""
    if table == "profiles":
        return "name"
    return "profile" if "profile" in db[table].columns_dict else None


def members_deleted_at(db: Database) -> dict[str, datetime]:
    """When each member's records were last deleted on their own (forgotten when everything is deleted)."""
    value = get_meta(db, MEMBER_DELETED_KEY) if "meta" in db.table_names() else None
    return {name: datetime.fromisoformat(when) for name, when in json.loads(value).items()} if value else {}


@contextmanager
def _securely(db: Database) -> Iterator[None]:
    """One transaction with SQLite's ``secure_delete`` on: freed cells and pages are overwritten with zeros."""
    previous = int(db.execute("PRAGMA secure_delete").fetchone()[0])
    db.execute("PRAGMA secure_delete = ON")
    try:
        with db.atomic():
            yield
    finally:
        db.execute(f"PRAGMA secure_delete = {previous}")


def compact(db: Database) -> bool:
    """Rebuild the file without free pages and empty the write-ahead log; False if a reader kept the log busy.

    Call it outside any transaction. ``VACUUM`` writes a fresh copy of what is left; ``wal_checkpoint(TRUNCATE)``
    copies it into the main file and truncates the ``-wal`` file to zero bytes. It waits (up to the busy timeout)
    for readers still on an older snapshot; if one stays, the old pages may remain in the ``-wal`` file until the
    next checkpoint.
    """
    db.execute("VACUUM")
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy
