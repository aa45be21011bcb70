"""Reading usage for the pages: activity spans cut into the household's local days and hours.

Spans are stored in UTC; days and the hour-by-weekday heatmap are in the household time zone, so a span that
crosses local midnight (or an hour) is split and each part counted where it belongs. Sites are shown by their
site group from the rules (``old.reddit.com`` and ``www.reddit.com`` are both "reddit").
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlite_utils import Database

from breather.rules.model import Rules
from breather.store.model import iso


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of one span inside one local hour."""

    profile: str
    site: str
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


def last_days(today: date, days: int) -> Period:
    return Period(today - timedelta(days=days - 1), today)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def site_label(rules: Rules, host: str) -> str:
    group = rules.group_for_host(host)
    return group.name if group is not None else host


def pieces(db: Database, rules: Rules, period: Period, profile: str | None = None) -> Iterator[Piece]:
    """Every span overlapping the period, cut at local hour boundaries and clipped to the period."""
    zone = rules.zone()
    start = local_midnight(period.first, zone).timestamp()
    end = local_midnight(period.last + timedelta(days=1), zone).timestamp()
    sql = "select profile, site, start, [end] from activity where [end] > ? and start < ?"
    params: list[str] = [iso(datetime.fromtimestamp(start, UTC)), iso(datetime.fromtimestamp(end, UTC))]
    if profile is not None:
        sql += " and profile = ?"
        params.append(profile)
    labels: dict[str, str] = {}
    for who, host, span_start, span_end in db.execute(sql, params):
        label = labels.get(host)
        if label is None:
            label = labels[host] = site_label(rules, host)
        begin = max(datetime.fromisoformat(span_start).timestamp(), start)
        finish = min(datetime.fromisoformat(span_end).timestamp(), end)
        yield from _cut_by_hour(who, label, begin, finish, zone)


def _cut_by_hour(profile: str, site: str, begin: float, finish: float, zone: tzinfo) -> Iterator[Piece]:
    while begin < finish:
        local = datetime.fromtimestamp(begin, zone)
        hour_end = (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).timestamp()
        cut = min(finish, hour_end)
        yield Piece(profile, site, local.date(), local.weekday(), local.hour, cut - begin)
        begin = cut


@dataclass
class Usage:
    """Minutes over a period, summed every way the pages need."""

    by_profile_site: dict[tuple[str, str], float]
    by_profile_day: dict[tuple[str, date], float]
    by_site_day: dict[tuple[str, date], float]
    heatmap: dict[tuple[int, int], float]  # (weekday, hour) -> minutes

    def total(self, profile: str | None = None) -> float:
        return sum(minutes for (who, _), minutes in self.by_profile_site.items() if profile in (None, who))

    def sites(self, profile: str | None = None) -> dict[str, float]:
        totals: defaultdict[str, float] = defaultdict(float)
        for (who, site), minutes in self.by_profile_site.items():
            if profile in (None, who):
                totals[site] += minutes
        return ranked(totals)

    def profiles(self) -> dict[str, float]:
        totals: defaultdict[str, float] = defaultdict(float)
        for (who, _), minutes in self.by_profile_site.items():
            totals[who] += minutes
        return ranked(totals)


def ranked[K](totals: dict[K, float]) -> dict[K, float]:
    """Largest first."""
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def usage(db: Database, rules: Rules, period: Period, profile: str | None = None) -> Usage:
    by_profile_site: defaultdict[tuple[str, str], float] = defaultdict(float)
    by_profile_day: defaultdict[tuple[str, date], float] = defaultdict(float)
    by_site_day: defaultdict[tuple[str, date], float] = defaultdict(float)
    heat: defaultdict[tuple[int, int], float] = defaultdict(float)
    for piece in pieces(db, rules, period, profile):
        minutes = piece.seconds / 60.0
        by_profile_site[(piece.profile, piece.site)] += minutes
        by_profile_day[(piece.profile, piece.day)] += minutes
        by_site_day[(piece.site, piece.day)] += minutes
        heat[(piece.weekday, piece.hour)] += minutes
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
