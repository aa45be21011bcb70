"""Reading usage for the pages: what History's cache of finished days must notice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlite_utils import Database

from breather.rules.loader import parse_rules
from breather.store import usage
from breather.store.model import Heartbeat
from breather.store.writer import Writer

RULES = """
[household]
timezone = "UTC"

[profiles.parent]
default = true

[profiles.teen]
"""

TODAY = date(2026, 3, 4)


def online(writer: Writer, profile: str, site: str, start: datetime, minutes: int) -> None:
    """A heartbeat every 30 s, as the proxy and the extension send them, committed before the next call."""
    for index in range(minutes * 2 + 1):
        writer.heartbeat(Heartbeat(profile, site, start + timedelta(seconds=30 * index)))
    assert writer.flush()


def test_the_cache_of_finished_days_sees_late_minutes_added_to_an_earlier_span(writer: Writer, db: Database) -> None:
    """Late heartbeats that extend yesterday's span, when it is neither the latest to end nor the newest row: the
    count of finished spans, their latest end and the newest row id all stay the same. History kept the old total
    while Family showed the new one."""
    rules = parse_rules(RULES)
    week = usage.last_days(TODAY, 7)
    online(writer, "teen", "www.youtube.com", datetime(2026, 3, 3, 10, 0, tzinfo=UTC), 10)
    online(writer, "parent", "reddit.com", datetime(2026, 3, 3, 21, 0, tzinfo=UTC), 10)
    assert round(usage.usage(db, rules, week, "teen", TODAY).total()) == 10
    online(writer, "teen", "www.youtube.com", datetime(2026, 3, 3, 10, 11, tzinfo=UTC), 29)
    assert db.execute("select count(*) from activity").fetchone()[0] == 2  # the earlier span grew to 10:00-10:40
    assert round(usage.usage(db, rules, week, "teen", TODAY).total()) == 40
