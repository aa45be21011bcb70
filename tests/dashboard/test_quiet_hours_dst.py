"""On the nights the clock changes, the proxy (``decide``), the extension's status (``status_for``: ``quiet_hours`` and
``quiet_hours_change_in_s``) and ``breather status`` give the same quiet hours at every minute, and those are the
hours a person reads on the wall clock (a user test found them an hour apart, or never quiet in one and quiet in the
other). ``breather status`` reads the rules file each time (a few milliseconds), so it is asked every minute near a
change (a window's start or end, the clock's) and every quarter of an hour between."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from breather.commands.status import collect, render
from breather.dashboard.db import connect
from breather.dashboard.pages.extension import status_for
from breather.paths import Paths
from breather.rules.decisions import decide
from breather.rules.loader import parse_rules

RULES = """
[household]
timezone = "{zone}"

[sites.reddit]
domains = ["reddit.com"]

[profiles.me]
default = true

[profiles.me.quiet_hours]
{quiet}
"""
LONDON_FORWARD = "2027-03-28T01:00"  # 01:00 GMT -> 02:00 BST
LONDON_BACK = "2026-10-25T01:00"  # 02:00 BST -> 01:00 GMT
MARGIN = timedelta(minutes=30)
NEAR = timedelta(minutes=20)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Night:
    """A schedule, and the quiet hours (UTC) a person reads on the clock that night."""

    quiet: str
    expected: tuple[tuple[str, str], ...]
    clock_change: str

    def changes(self) -> list[datetime]:
        return [utc(self.clock_change), *(utc(moment) for span in self.expected for moment in span)]

    def minutes(self) -> list[datetime]:
        first, last = min(self.changes()) - MARGIN, max(self.changes()) + MARGIN
        return [first + timedelta(minutes=n) for n in range(int((last - first).total_seconds() // 60))]

    def near_a_change(self, moment: datetime) -> bool:
        return any(abs(moment - change) <= NEAR for change in self.changes())


def check_every_minute(zone: str, night: Night, home: Path, db: Database) -> None:
    paths = Paths.resolve(home).ensure()
    text = RULES.format(zone=zone, quiet=night.quiet)
    paths.rules_file.write_text(text, encoding="utf-8")
    rules = parse_rules(text)
    expected = [(utc(start), utc(end)) for start, end in night.expected]
    minutes = night.minutes()
    for moment in minutes:
        decision = decide(rules, "me", "reddit.com", moment)
        status = status_for(db, rules, "me", None, moment, site="reddit.com")
        change = moment + timedelta(seconds=status["quiet_hours_change_in_s"])
        in_force = [end for start, end in expected if start <= moment < end]
        seen = (decision.kind == "quiet_hours", status["quiet_hours"])
        assert seen == (bool(in_force),) * 2, f"{night.quiet} at {moment:%H:%M}Z: proxy, extension {seen}"
        if night.near_a_change(moment) or moment.minute % 15 == 0:
            until = collect(paths, moment)["today"]["quiet_hours_until"].get("me")
            shown = change.astimezone(ZoneInfo(zone)).strftime("%H:%M") if in_force else None
            assert until == shown, f"{night.quiet} at {moment:%H:%M}Z: breather status says {until}"
        if in_force:
            assert decision.until is not None
            assert decision.until.astimezone(UTC) == change == in_force[0], f"{night.quiet} at {moment:%H:%M}Z"
        else:
            starts = [start for start, _ in expected if start > moment]
            assert change == min(starts) if starts else change > minutes[-1], f"{night.quiet} at {moment:%H:%M}Z"


def test_london_clock_change_nights_agree_every_minute(tmp_path: Path) -> None:
    db = connect(str(tmp_path / "store.db"))
    nights = [
        # Spring forward, Sun 28 Mar 2027: 01:00 GMT -> 02:00 BST (01:00 UTC).
        Night('sat = "22:00-01:30"', (("2027-03-27T22:00", "2027-03-28T01:00"),), LONDON_FORWARD),
        Night('sun = "01:30-02:30"', (("2027-03-28T01:00", "2027-03-28T01:30"),), LONDON_FORWARD),
        Night('daily = "23:00-07:00"', (("2027-03-27T23:00", "2027-03-28T06:00"),), LONDON_FORWARD),
        # Fall back, Sun 25 Oct 2026: 02:00 BST -> 01:00 GMT (01:00 UTC).
        Night('sun = "01:30-02:30"', (("2026-10-25T00:30", "2026-10-25T02:30"),), LONDON_BACK),
        Night('sun = "00:30-01:30"', (("2026-10-24T23:30", "2026-10-25T00:30"),), LONDON_BACK),
        Night('daily = "23:00-07:00"', (("2026-10-24T22:00", "2026-10-25T07:00"),), LONDON_BACK),
        # An ordinary night, as ever: 23:00 to 07:00 GMT.
        Night('daily = "23:00-07:00"', (("2026-11-25T23:00", "2026-11-26T07:00"),), "2026-11-26T03:00"),
    ]
    for night in nights:
        check_every_minute("Europe/London", night, tmp_path / "home", db)
    paths = Paths.resolve(tmp_path / "home")
    paths.rules_file.write_text(RULES.format(zone="Europe/London", quiet='sat = "22:00-01:30"'), encoding="utf-8")
    assert "me: nothing yet; quiet hours until 02:00" in render(collect(paths, utc("2027-03-28T00:30")))


def test_new_york_clock_change_nights_agree_every_minute(tmp_path: Path) -> None:
    db = connect(str(tmp_path / "store.db"))
    nights = [
        # Spring forward, Sun 14 Mar 2027: 02:00 EST -> 03:00 EDT (07:00 UTC).
        Night('sat = "22:00-02:30"', (("2027-03-14T03:00", "2027-03-14T07:00"),), "2027-03-14T07:00"),
        Night('daily = "23:00-07:00"', (("2027-03-14T04:00", "2027-03-14T11:00"),), "2027-03-14T07:00"),
        # Fall back, Sun 1 Nov 2026: 02:00 EDT -> 01:00 EST (06:00 UTC).
        Night('sat = "23:00-01:30"', (("2026-11-01T03:00", "2026-11-01T05:30"),), "2026-11-01T06:00"),
        Night('sun = "01:00-02:00"', (("2026-11-01T05:00", "2026-11-01T07:00"),), "2026-11-01T06:00"),
    ]
    for night in nights:
        check_every_minute("America/New_York", night, tmp_path / "home", db)


def test_lord_howe_half_hour_clock_changes_agree_every_minute(tmp_path: Path) -> None:
    db = connect(str(tmp_path / "store.db"))
    nights = [
        # Back, Sun 5 Apr 2026: 02:00 +11 -> 01:30 +10:30 (15:00 UTC on the 4th).
        Night('sun = "01:45-02:15"', (("2026-04-04T14:45", "2026-04-04T15:45"),), "2026-04-04T15:00"),
        Night('sun = "01:00-01:45"', (("2026-04-04T14:00", "2026-04-04T14:45"),), "2026-04-04T15:00"),
        # Forward, Sun 4 Oct 2026: 02:00 +10:30 -> 02:30 +11 (15:30 UTC on the 3rd).
        Night('sun = "02:00-02:20"', (), "2026-10-03T15:30"),
        Night('sat = "22:00-02:15"', (("2026-10-03T11:30", "2026-10-03T15:30"),), "2026-10-03T15:30"),
        Night('sun = "02:15-03:00"', (("2026-10-03T15:30", "2026-10-03T16:00"),), "2026-10-03T15:30"),
    ]
    for night in nights:
        check_every_minute("Australia/Lord_Howe", night, tmp_path / "home", db)
