"""The weekly review snapshot (``weekly_reviews``, kept in the export) at its edges: a Sunday whose rollup was built
before Sunday ended, and a member taken out of the rules before the Monday it is taken on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from breather import scheduler
from breather.paths import Paths
from breather.rules.loader import parse_rules
from breather.store.db import open_database
from breather.store.model import Event, Heartbeat
from breather.store.writer import Writer
from tests.breather.test_scheduler import RULES_TEXT, FakeClock, ServiceLike, london

WITHOUT_SAM = RULES_TEXT[: RULES_TEXT.index("[profiles.sam]")]
MONDAY = date(2026, 11, 16)


@pytest.fixture
def runtime(breather_home: Path) -> Iterator[Any]:
    paths = Paths.resolve().ensure()
    service = ServiceLike(paths=paths, rules=parse_rules(RULES_TEXT))
    scheduler.prepare_store(service)
    service.writer = Writer(paths.database, flush_ms=20).start()
    yield service
    service.writer.close()


def _write(runtime: Any, *records: Heartbeat | Event) -> None:
    for record in records:
        if isinstance(record, Heartbeat):
            runtime.writer.heartbeat(record)
        else:
            runtime.writer.event(record)
    assert runtime.writer.flush(10)


def _online(profile: str, start: datetime, minutes: int) -> list[Heartbeat]:
    """A heartbeat every 30 seconds, as the proxy and the extension send them."""
    return [Heartbeat(profile, "www.reddit.com", start + timedelta(seconds=30 * n), 30.0) for n in range(minutes * 2)]


def _review(runtime: Any, profile: str, week: date = MONDAY) -> dict[str, Any]:
    rows = open_database(runtime.paths.database)["weekly_reviews"].rows_where(
        "week = ? AND profile = ?", [week.isoformat(), profile]
    )
    found = list(rows)
    assert len(found) == 1, f"no review of the week of {week} for {profile}"
    return found[0]


def _sunday_minutes(row: dict[str, Any]) -> float:
    minutes: float = json.loads(row["daily_minutes"])[6]
    return minutes


# -- a finished Sunday -----------------------------------------------------------------------------------------------


def _sunday_late_evening_rolled_up_at_23_50(runtime: Any) -> None:
    """alex online Sunday 23:30 to midnight; the 15-minute rollup job ran at 23:50, with 20 of the 30 minutes."""
    evening = _online("alex", london(2026, 11, 22, 23, 30), 30)
    _write(runtime, *evening[:40])
    scheduler.run_daily_rollup(runtime, FakeClock(london(2026, 11, 22, 23, 50)))
    _write(runtime, *evening[40:])


def test_the_snapshot_at_monday_00_15_has_sundays_last_minutes(runtime: Any) -> None:
    """The snapshot job fired at 00:15, before the rollup job's next run: it read Sunday from the 23:50 rollup, and
    the kept review said 20 minutes for a Sunday of 30."""
    _sunday_late_evening_rolled_up_at_23_50(runtime)
    scheduler.run_weekly_review(runtime, FakeClock(london(2026, 11, 23, 0, 15)))
    alex = _review(runtime, "alex")
    assert _sunday_minutes(alex) == pytest.approx(30)
    assert alex["minutes"] == pytest.approx(30)


def test_a_rollup_run_after_the_snapshot_counts_sunday_once(runtime: Any) -> None:
    """Sunday's rollup rebuilt by the snapshot, again by the rollup job, and the snapshot taken again at the next
    start: still 30 minutes, never 50 or 60."""
    _sunday_late_evening_rolled_up_at_23_50(runtime)
    scheduler.run_weekly_review(runtime, FakeClock(london(2026, 11, 23, 0, 15)))
    scheduler.run_daily_rollup(runtime, FakeClock(london(2026, 11, 23, 0, 20)))
    scheduler.run_weekly_review(runtime, FakeClock(london(2026, 11, 23, 8, 0)))
    assert _sunday_minutes(_review(runtime, "alex")) == pytest.approx(30)
    sunday = [
        row["minutes"]
        for row in open_database(runtime.paths.database)["daily_rollups"].rows
        if row["day"] == "2026-11-22"
    ]
    assert sum(sunday) == pytest.approx(30)


# -- a member taken out of the rules ---------------------------------------------------------------------------------


def test_a_member_taken_out_of_the_rules_before_monday_is_in_that_weeks_review(runtime: Any) -> None:
    """sam was in the household all week (30-minute limit, noted by the rollup job Monday to Saturday) and was taken
    out of the rules on Saturday; the Monday snapshot had a row for alex only, though sam's 7 evenings and a
    warning are in the store."""
    for offset in range(7):
        day = MONDAY + timedelta(days=offset)
        _write(runtime, *_online("sam", london(day.year, day.month, day.day, 19), 20 if offset < 5 else 40))
        if offset < 6:
            scheduler.run_daily_rollup(runtime, FakeClock(london(day.year, day.month, day.day, 21)))
    _write(runtime, Event("sam", "warning_shown", london(2026, 11, 18, 19, 5), category="violence"))
    runtime.rules = parse_rules(WITHOUT_SAM)  # Saturday night
    scheduler.run_daily_rollup(runtime, FakeClock(london(2026, 11, 22, 21)))

    scheduler.run_weekly_review(runtime, FakeClock(london(2026, 11, 23, 0, 15)))
    sam = _review(runtime, "sam")
    assert sam["minutes"] == pytest.approx(5 * 20 + 2 * 40)
    assert json.loads(sam["warnings"]) == {"violence": 1}
    # each day by the limit it had while sam was in the rules; Sunday, out of them, by none
    assert sam["days_within_limit"] == 5 + 1
    assert sam["limit_minutes"] is None
    # the week's limit as the review counts it: the six days it had one, added up (a user test's export had only
    # Sunday's to go by)
    assert json.loads(sam["daily_limit_minutes"]) == [30.0] * 6 + [None]
    assert sam["week_limit_minutes"] == pytest.approx(6 * 30)
    assert _review(runtime, "alex")["minutes"] == 0  # everyone in the rules still has their row


def test_a_name_with_no_records_that_week_gets_no_row(runtime: Any) -> None:
    """Only the names with records in the week: a member taken out earlier is not given empty weeks for ever."""
    _write(runtime, *_online("sam", london(2026, 11, 3, 19), 20))  # the week of 2 November
    runtime.rules = parse_rules(WITHOUT_SAM)
    scheduler.run_weekly_review(runtime, FakeClock(london(2026, 11, 23, 0, 15)))
    reviews = open_database(runtime.paths.database)["weekly_reviews"].rows
    assert {(row["week"], row["profile"]) for row in reviews if row["profile"] == "sam"} == {("2026-11-02", "sam")}
