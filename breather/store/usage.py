"""Reading usage for every screen (the dashboard's pages, `breather status`): activity spans cut into the
household's local days and hours.

Spans are stored in UTC; days and the hour-by-weekday heatmap are in the household time zone, so a span that
crosses local midnight (or an hour) is split and each part counted where it belongs. Sites are shown by their
site group from the rules (``old.reddit.com`` and ``www.reddit.com`` are both "reddit").

A minute online is one minute, whatever reported it, exactly as Today counts it (``queries.minutes_today``):
overlapping time counts once per site group (the overlay's and the extension's report of one tab, two reddit
windows), and once in a person's total (reddit and YouTube side by side). So a total is not the sum of its sites.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlite_utils import Database

from breather.rules.model import Rules
from breather.store.model import iso


@dataclass(frozen=True, slots=True)
class Piece:
    """Time online inside one local hour: on one site group (``site`` is its label) or, with ``site`` None, on any
    site. Overlapping time counts once in each."""

    profile: str
    site: str | None
    day: date
    weekday: int
    hour: int
    seconds: float


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.days)]


def whole_minutes(minutes: float) -> int:
    return round(minutes)


def minutes_text(minutes: float) -> str:
    """Minutes as every screen says them (dashboard, `breather status`): "45 min", "1 h 05 min", "2 h"."""
    whole = whole_minutes(minutes)
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def week_limit(limits: Iterable[float | None]) -> float | None:
    """A week's limit: each day's own limit added up (a limit lowered today does not shrink the days before), None
    when no day had one. The kept weekly review and the review page read a week so."""
    had = [limit for limit in limits if limit is not None]
    return sum(had) if had else None


def online_within(minutes: float, limit: float | None) -> bool:
    """A day online and within its limit; a day without use is neither kept nor missed."""
    return minutes > 0 and (limit is None or minutes <= limit)


def day_text(day: date, today: date, weekday: bool = False) -> str:
    """A day as the pages name it, "29 Dec" ("Mon 29 Dec" with ``weekday``), with its year when that is not this
    year's: "Mon 29 Dec 2025" read in January, when a week over the new year or the last 90 days hold two of them."""
    named = f"{day:%a} {day.day} {day:%b}" if weekday else f"{day.day} {day:%b}"
    return named if day.year == today.year else f"{named} {day.year}"


def period_text(period: Period, today: date, year: bool = False) -> str:
    """ "23 Feb – 1 Mar", with the year at the end when it is not this year's (or with ``year``); a period over two
    years names both: "29 Dec 2025 – 4 Jan 2026", not "29 Dec – 4 Jan 2026"."""
    first, last = period.first, period.last
    two_years = first.year != last.year
    start = f"{first.day} {first:%b}" + (f" {first.year}" if two_years else "")
    end = f"{last.day} {last:%b}" + (f" {last.year}" if year or two_years or last.year != today.year else "")
    return f"{start} – {end}"


def last_days(today: date, days: int) -> Period:
    return Period(today - timedelta(days=days - 1), today)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def site_label(rules: Rules, host: str) -> str:
    group = rules.group_for_host(host)
    return group.name if group is not None else host


# Time online per (profile, site group, local day, hour) and per (profile, local day, hour), cut inside SQLite.
# Each span goes into two tracks: its site group's (hosts are mapped to the labels in ``:labels``) and the person's
# whole time online (label NULL). Within a track each span keeps only its part after every earlier span has ended
# (one window pass in one order, so spans that start together are trimmed against each other too): the parts never
# overlap and add up to the time covered. A recursive CTE then splits each part at every hour it crosses. Times are
# seconds on the local clock (UTC epoch + the zone's offset, constant within one segment; ``_segments`` splits the
# period where the offset changes), rounded to the millisecond as the store's own queries do: julianday's float
# error would otherwise leave a sliver of 22:00 in the 21:00 cell. Doing this in Python cost ~12 µs per piece, over
# half a second for a five-person 90-day History.
_HOURLY = """
with recursive labels(host, label) as (select key, value from json_each(:labels)),
spans(profile, label, b, e) as (
  select profile, coalesce(labels.label, site),
    max(round((julianday(start) - 2440587.5) * 86400.0, 3), :lo) + :offset,
    min(round((julianday([end]) - 2440587.5) * 86400.0, 3), :hi) + :offset
  from activity left join labels on labels.host = activity.site
  where [end] > :lo_iso and start < :hi_iso {member}
),
tracks(profile, label, b, e) as (
  select profile, label, b, e from spans where e > b
  union all
  select profile, null, b, e from spans where e > b
),
trimmed(profile, label, b, e) as (
  select profile, label,
    max(b, coalesce(max(e) over (partition by profile, label order by b, e
                                 rows between unbounded preceding and 1 preceding), b)),
    e
  from tracks
),
cut(profile, label, b, e) as (
  select profile, label, b, e from trimmed where e > b
  union all
  select profile, label, (cast(b / 3600 as integer) + 1) * 3600.0, e from cut
  where (cast(b / 3600 as integer) + 1) * 3600.0 < e
)
select profile, label, cast(b / 86400 as integer) as day, (cast(b as integer) % 86400) / 3600 as hour,
  sum(min(e, (cast(b / 3600 as integer) + 1) * 3600.0) - b) as seconds
from cut group by profile, label, day, hour
"""

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday


def _offset(zone: tzinfo, epoch: float) -> float:
    delta = datetime.fromtimestamp(epoch, zone).utcoffset()
    return delta.total_seconds() if delta is not None else 0.0


def _segments(zone: tzinfo, start: float, end: float) -> list[tuple[float, float, float]]:
    """(from, to, UTC offset) pieces of [start, end) with one offset each; a DST change is found to the second."""
    segments = []
    cursor = start
    while cursor < end:
        offset = _offset(zone, cursor)
        probe = cursor
        while probe < end and _offset(zone, min(probe + 86400, end - 1)) == offset and probe + 86400 < end:
            probe += 86400
        if probe + 86400 >= end and _offset(zone, end - 1) == offset:
            segments.append((cursor, end, offset))
            break
        low, high = probe, min(probe + 86400, end)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _offset(zone, middle) == offset else (low, middle)
        segments.append((cursor, high, offset))
        cursor = high
    return segments


def pieces(db: Database, rules: Rules, period: Period, profile: str | None = None) -> Iterator[Piece]:
    """Each person's time online (on any site, ``site`` None) per local day and hour, clipped to the period:
    overlapping time counted once, so the pieces add up to the time online."""
    return (piece for piece in hours(db, rules, period, profile) if piece.site is None)


def hours(db: Database, rules: Rules, period: Period, profile: str | None = None) -> Iterator[Piece]:
    """Time online per local day and hour, clipped to the period, twice over: per site group, and on any site
    (``site`` None). Add up one kind or the other, never both."""
    zone = rules.zone()
    start = local_midnight(period.first, zone).timestamp()
    end = local_midnight(period.last + timedelta(days=1), zone).timestamp()
    sql = _HOURLY.format(member="and profile = :profile" if profile is not None else "")
    labels = json.dumps(_labels(db, rules, start, end))
    for lo, hi, offset in _segments(zone, start, end):
        params = {
            "lo": lo,
            "hi": hi,
            "offset": offset,
            "lo_iso": iso(datetime.fromtimestamp(lo, UTC)),
            "hi_iso": iso(datetime.fromtimestamp(hi, UTC)),
            "profile": profile,
            "labels": labels,
        }
        for who, label, day_number, hour, seconds in db.execute(sql, params):
            day = date.fromordinal(_EPOCH_ORDINAL + day_number)
            yield Piece(who, label, day, (day_number + _EPOCH_WEEKDAY) % 7, hour, seconds)


def _labels(db: Database, rules: Rules, start: float, end: float) -> dict[str, str]:
    """Host -> the label the pages show, for every host with time in [start, end) that is not its own label."""
    hosts = db.execute(
        "select distinct site from activity where [end] > ? and start < ?",
        [iso(datetime.fromtimestamp(start, UTC)), iso(datetime.fromtimestamp(end, UTC))],
    )
    return {host: label for (host,) in hosts if (label := site_label(rules, host)) != host}


@dataclass
class Usage:
    """Minutes over a period, summed every way the pages need. Per site (group) and per person, overlapping time
    counts once; a person's total is their time online, not the sum of their sites."""

    by_profile_site: dict[tuple[str, str], float]
    by_profile_day: dict[tuple[str, date], float]  # time online
    by_site_day: dict[tuple[str, date], float]
    heatmap: dict[tuple[int, int], float]  # (weekday, hour) -> minutes online

    def total(self, profile: str | None = None) -> float:
        return sum(minutes for (who, _), minutes in self.by_profile_day.items() if profile in (None, who))

    def sites(self, profile: str | None = None) -> dict[str, float]:
        totals: defaultdict[str, float] = defaultdict(float)
        for (who, site), minutes in self.by_profile_site.items():
            if profile in (None, who):
                totals[site] += minutes
        return ranked(totals)

    def plus(self, other: Usage) -> Usage:
        """Both periods' minutes together (used to add today's fresh numbers to the cached days)."""
        return Usage(
            _added(self.by_profile_site, other.by_profile_site),
            _added(self.by_profile_day, other.by_profile_day),
            _added(self.by_site_day, other.by_site_day),
            _added(self.heatmap, other.heatmap),
        )

    def profiles(self) -> dict[str, float]:
        totals: defaultdict[str, float] = defaultdict(float)
        for (who, _), minutes in self.by_profile_day.items():
            totals[who] += minutes
        return ranked(totals)


def _added[K](first: dict[K, float], second: dict[K, float]) -> dict[K, float]:
    total = dict(first)
    for key, minutes in second.items():
        total[key] = total.get(key, 0.0) + minutes
    return total


def ranked[K](totals: dict[K, float]) -> dict[K, float]:
    """Largest first."""
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def usage(db: Database, rules: Rules, period: Period, profile: str | None = None, today: date | None = None) -> Usage:
    """Minutes over the period summed every way the pages need.

    Given ``today``, the days before it come from a small in-memory cache, used only while the store's finished
    spans look unchanged (their count, their latest end, the summed length of those in the period and the newest
    row id), so a deletion, a pruning, a new span or late minutes added to an older span are seen at once; today is
    always read fresh and added on top.
    """
    if today is None or period.first >= today:
        return _summed(hours(db, rules, period, profile))
    closed = Period(period.first, min(period.last, today - timedelta(days=1)))
    result = _closed_usage(db, rules, closed, profile, today)
    if period.last >= today:
        result = result.plus(_summed(hours(db, rules, Period(today, period.last), profile)))
    return result


_CACHE_SIZE = 32
_cache: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Usage]] = OrderedDict()
_cache_lock = threading.Lock()


def _closed_usage(db: Database, rules: Rules, period: Period, profile: str | None, today: date) -> Usage:
    path = db.execute("pragma database_list").fetchone()[2]
    key = (path, rules.timezone, rules.groups, period, profile)
    cut = iso(local_midnight(today, rules.zone()))
    counted = db.execute("select count(*), max([end]) from activity where [end] < ?", [cut]).fetchone()
    # Late minutes that extend an earlier span change none of the above. Summed over the spans that reach into the
    # period only: over a year of spans the sum costs ~9 ms, over a 90-day History's ~1 ms.
    start = iso(local_midnight(period.first, rules.zone()))
    length = db.execute("select total(duration_s) from activity where [end] > ? and [end] < ?", [start, cut])
    signature = (*counted, length.fetchone()[0], db.execute("select max(id) from activity").fetchone()[0], cut)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == signature:
            _cache.move_to_end(key)
            return hit[1]
    found = _summed(hours(db, rules, period, profile))
    with _cache_lock:
        _cache[key] = (signature, found)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return found


def _summed(found: Iterable[Piece]) -> Usage:
    by_profile_site: defaultdict[tuple[str, str], float] = defaultdict(float)
    by_profile_day: defaultdict[tuple[str, date], float] = defaultdict(float)
    by_site_day: defaultdict[tuple[str, date], float] = defaultdict(float)
    heat: defaultdict[tuple[int, int], float] = defaultdict(float)
    for piece in found:
        minutes = piece.seconds / 60.0
        if piece.site is None:
            by_profile_day[(piece.profile, piece.day)] += minutes
            heat[(piece.weekday, piece.hour)] += minutes
        else:
            by_profile_site[(piece.profile, piece.site)] += minutes
            by_site_day[(piece.site, piece.day)] += minutes
    return Usage(dict(by_profile_site), dict(by_profile_day), dict(by_site_day), dict(heat))


@dataclass(frozen=True, slots=True)
class EventRow:
    profile: str
    kind: str
    at: datetime
    site: str | None
    category: str | None
    detail: dict[str, object]


def events(
    db: Database, rules: Rules, period: Period, kinds: Iterable[str] | None = None, profile: str | None = None
) -> list[EventRow]:
    zone = rules.zone()
    start = local_midnight(period.first, zone)
    end = local_midnight(period.last + timedelta(days=1), zone)
    sql = "select profile, kind, at, site, category, detail from events where at >= ? and at < ?"
    params: list[str] = [iso(start), iso(end)]
    if profile is not None:
        sql += " and profile = ?"
        params.append(profile)
    wanted = list(kinds) if kinds is not None else None
    if wanted:
        sql += f" and kind in ({', '.join('?' for _ in wanted)})"
        params.extend(wanted)
    return [
        EventRow(who, kind, datetime.fromisoformat(at), site, category, json.loads(detail) if detail else {})
        for who, kind, at, site, category, detail in db.execute(sql + " order by at", params)
    ]


def count_events(rows: Iterable[EventRow]) -> Counter[tuple[str, str]]:
    """(profile, kind) → count."""
    return Counter((row.profile, row.kind) for row in rows)


def count_categories(rows: Iterable[EventRow], kind: str = "warning_shown") -> Counter[tuple[str, str]]:
    """(profile, category) → count of ``kind`` events."""
    return Counter((row.profile, row.category or "other") for row in rows if row.kind == kind)


def members(db: Database, rules: Rules) -> list[str]:
    """The household: the rules' profiles in file order, then anyone seen in the data but not in the rules."""
    names = list(rules.profiles)
    seen = {row[0] for row in db.execute("select name from profiles")}
    return names + sorted(seen - set(names))


def first_seen(db: Database, rules: Rules, today: date | None = None) -> dict[str, date]:
    """Each member's first day in Breather's records (in the household's zone): before it Breather was not watching,
    so a period that starts earlier holds nothing to compare with (a new install's "543% more than last week").
    The earliest of when they were first written down, their first span and their first rolled-up day: rows can
    arrive out of time order (the extension's queue after a night offline, an import). With ``today``, never before
    the first whole day the rules' retention keeps: the days before it were deleted, not empty (History's 90 days
    read "8900% more than the period before" with the default 90-day retention)."""
    seen = _first_recorded(db, rules.zone())
    return seen if today is None else still_kept(seen, rules, today)


def still_kept(seen: dict[str, date], rules: Rules, today: date) -> dict[str, date]:
    """``first_seen``'s days, none before the first whole day the rules' retention keeps on ``today``."""
    kept_from = today - timedelta(days=rules.retention_days - 1)
    return {name: max(day, kept_from) for name, day in seen.items()}


def _first_recorded(db: Database, zone: tzinfo) -> dict[str, date]:
    seen: dict[str, date] = {}

    def keep(name: str, day: date) -> None:
        seen[name] = min(day, seen.get(name, day))

    for name, created in db.execute("select name, created from profiles"):
        keep(name, datetime.fromisoformat(created).astimezone(zone).date())
    # one index seek per member (activity_profile_start); every span is written with its member's profiles row
    first_spans = "select name, (select min(start) from activity where profile = name) from profiles"
    for name, start in db.execute(first_spans):
        if start is not None:
            keep(name, datetime.fromisoformat(start).astimezone(zone).date())
    if db["daily_rollups"].exists():
        for name, day in db.execute("select profile, min(day) from daily_rollups group by profile"):
            keep(name, date.fromisoformat(day))
    if db["day_limits"].exists():  # the running service notes each member's limit each day, used or not
        for name, day in db.execute("select profile, min(day) from day_limits group by profile"):
            keep(name, date.fromisoformat(day))
    return seen


def watched_all_of(period: Period, since: dict[str, date], profile: str | None = None) -> bool:
    """Whether Breather's records cover the whole of ``period`` for ``profile`` (or the household's first member)."""
    days = [since[profile]] if profile is not None and profile in since else list(since.values())
    return not days or min(days) <= period.first
