"""`breather demo`: a month for a household of four, deterministic per seed, through the real store."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from breather.cli import main
from breather.dashboard.pages import requests
from breather.demo import seed_demo
from breather.paths import Paths
from breather.rules.loader import load_rules
from breather.rules.timeparse import local_zone_name
from breather.store import queries
from breather.store.db import open_database

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday
HOST_NAME = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")  # www.reddit.com; never a path, a port or a query
LABEL = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # a short label: no spaces, so never a sentence; no slashes


def _seed(home: Path, seed: int = 7, days: int = 30) -> tuple[Paths, Database]:
    paths = Paths.resolve(home)
    seed_demo(paths, days=days, seed=seed, now=NOW)
    return paths, open_database(paths.database)


def _fingerprint(db: Database) -> str:
    digest = hashlib.sha256()
    for sql in (
        'SELECT profile, site, start, "end" FROM activity ORDER BY 1, 2, 3',
        "SELECT at, profile, kind, site, category FROM events ORDER BY 1, 2, 3, 4, 5",
        "SELECT event_id, status, reason, granted_minutes FROM time_answers ORDER BY 1",
        "SELECT week, goal FROM weekly_goals ORDER BY 1",
    ):
        for row in db.execute(sql):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, Database]:
    return _seed(tmp_path_factory.mktemp("demo"))


def test_the_household_has_four_profiles_in_a_valid_rules_file(demo: tuple[Paths, Database]) -> None:
    paths, db = demo
    rules = load_rules(paths.rules_file)
    assert list(rules.profiles) == ["alex", "jordan", "maya", "leo"]
    assert rules.default_profile == "alex"
    assert sorted(queries.list_profiles(db)) == ["alex", "jordan", "leo", "maya"]
    assert rules.group_for_host("www.tiktok.com") is not None
    # the machine's zone written down, as a first run does: each process used its own (a user test)
    assert rules.timezone == local_zone_name()


def test_every_member_uses_the_sites_on_most_days(demo: tuple[Paths, Database]) -> None:
    paths, db = demo
    zone = load_rules(paths.rules_file).zone()
    usage = queries.minutes_per_site_per_day(db, date(2026, 10, 20), date(2026, 11, 30), zone)
    for member in ("alex", "jordan", "maya", "leo"):
        days_used = {row.day for row in usage if row.profile == member}
        assert len(days_used) >= 24, member
    last_day = NOW.astimezone(zone).date()  # the machine's zone, as the demo's rules name none
    assert min(row.day for row in usage) == last_day - timedelta(days=29)
    sites = {row.site for row in usage}
    assert {"www.reddit.com", "www.youtube.com", "www.tiktok.com"} <= sites


def test_teens_peak_in_the_evening_and_use_more_at_the_weekend(demo: tuple[Paths, Database]) -> None:
    paths, db = demo
    zone = load_rules(paths.rules_file).zone()
    by_hour = [0.0] * 24
    weekend, weekday = [], []
    for start, end, profile in db.execute('SELECT start, "end", profile FROM activity'):
        if profile not in ("maya", "leo"):
            continue
        began = datetime.fromisoformat(start).astimezone(zone)
        if began.weekday() < 5:
            by_hour[began.hour] += (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    assert sum(by_hour[9:15]) == 0  # at school
    assert 16 <= by_hour.index(max(by_hour)) <= 21
    for usage in queries.minutes_per_site_per_day(db, date(2026, 10, 27), date(2026, 11, 24), zone):
        if usage.profile in ("maya", "leo"):
            (weekend if usage.day.weekday() >= 5 else weekday).append(usage)
    weekend_days = {u.day for u in weekend}
    weekday_days = {u.day for u in weekday}
    per_weekend_day = sum(u.minutes for u in weekend) / len(weekend_days)
    per_weekday = sum(u.minutes for u in weekday) / len(weekday_days)
    assert per_weekend_day > per_weekday


def test_boundaries_and_warnings_leave_their_traces(demo: tuple[Paths, Database]) -> None:
    _, db = demo
    kinds = dict(db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
    for kind in (
        "warning_shown",
        "warning_revealed",
        "break_shown",
        "break_taken",
        "break_snoozed",
        "limit_reached",
        "more_time_asked",
        "more_time_granted",
        "more_time_declined",
        "quiet_hours_blocked",
    ):
        assert kinds.get(kind, 0) > 0, kind
    categories = {row[0] for row in db.execute("SELECT DISTINCT category FROM events WHERE kind = 'warning_shown'")}
    assert categories == {"self_harm", "eating_disorder", "violence", "harassment", "substance"}


def test_nobody_uses_the_sites_during_their_quiet_hours(demo: tuple[Paths, Database]) -> None:
    from breather.scheduler import quiet_hours_state

    paths, db = demo
    rules = load_rules(paths.rules_file)
    for profile, start, end in db.execute('SELECT profile, start, "end" FROM activity'):
        began = datetime.fromisoformat(start)
        state = quiet_hours_state(rules.profile(profile), began + timedelta(seconds=1), rules.zone())
        assert not state.quiet, (profile, start)
        if state.next_change is not None:
            assert datetime.fromisoformat(end) <= state.next_change + timedelta(seconds=1), (profile, start, end)


def test_asks_for_more_time_are_decided_or_pending(demo: tuple[Paths, Database]) -> None:
    _, db = demo
    pending = requests.pending(db, NOW)
    answered = requests.answered(db, NOW, UTC, days=31)
    assert len(pending) >= 1
    statuses = {ask.status for ask in answered}
    assert {"approved", "declined"} <= statuses
    assert all(ask.reason for ask in answered if ask.status == "declined")
    askers = {ask.profile for ask in pending + answered}
    assert askers <= {"maya", "leo"}
    tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
    assert "time_requests" not in tables, "asks are events plus time_answers; no second table of free-text notes"


def test_a_goal_is_saved_for_each_week(demo: tuple[Paths, Database]) -> None:
    _, db = demo
    weeks = [row[0] for row in db.execute("SELECT week FROM weekly_goals ORDER BY week")]
    assert weeks == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]


def test_nothing_private_is_stored(demo: tuple[Paths, Database]) -> None:
    """The demo is what people read to see what Breather keeps: bare site names and short labels, never an address,
    a page or a post's words."""
    _, db = demo
    assert db["activity"].count > 100 and db["events"].count > 100
    for table in ("activity", "events"):
        for row in db[table].rows:
            assert not any(isinstance(value, str) and "://" in value for value in row.values())
    for (site,) in db.execute("SELECT site FROM activity UNION SELECT site FROM events WHERE site IS NOT NULL"):
        assert HOST_NAME.fullmatch(site), site
    for (detail,) in db.execute("SELECT detail FROM events WHERE detail IS NOT NULL"):
        for key, value in json.loads(detail).items():
            assert LABEL.fullmatch(key), detail
            assert not isinstance(value, str) or LABEL.fullmatch(value), detail


def test_the_same_seed_gives_the_same_household(tmp_path: Path, demo: tuple[Paths, Database]) -> None:
    _, first = demo
    _, again = _seed(tmp_path / "again", seed=7)
    _, other = _seed(tmp_path / "other", seed=8)
    assert _fingerprint(again) == _fingerprint(first)
    assert _fingerprint(other) != _fingerprint(first)


def test_days_sets_the_length_of_the_history(tmp_path: Path) -> None:
    paths, db = _seed(tmp_path / "week", days=7)
    zone = load_rules(paths.rules_file).zone()
    days = {row.day for row in queries.minutes_per_site_per_day(db, date(2026, 1, 1), date(2026, 12, 31), zone)}
    last_day = NOW.astimezone(zone).date()  # 25 Nov 18:00 in UTC, already 26 Nov 07:00 in Auckland
    assert min(days) == last_day - timedelta(days=6)
    assert max(days) in (last_day - timedelta(days=1), last_day)  # at 07:00 nobody has been online yet today


def test_demo_refuses_a_home_that_already_has_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "used"
    assert main(["demo", "--home", str(home), "--days", "2"]) == 0
    before = (home / "data" / "breather.db").stat().st_size
    assert main(["demo", "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert "rules.toml already exists" in err
    assert "choose a new --home DIR" in err
    assert (home / "data" / "breather.db").stat().st_size == before


def test_demo_ends_with_the_command_to_see_it_for_that_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "my demo"
    assert main(["demo", "--home", str(home), "--days", "1", "--now", "2026-11-25T18:00+00:00"]) == 0
    hint = capsys.readouterr().out.splitlines()[-1]
    assert hint.startswith(f"See it with: breather run --home '{home}'")
    assert "--proxy-port 0 --web-port 0" in hint


def test_demo_needs_a_home_of_its_own(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    result = subprocess.run(
        [sys.executable, "-m", "breather", "demo"], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 1
    assert "pass --home DIR" in result.stderr
    assert not (tmp_path / "xdg").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--days", "0"], "--days must be at least 1, got 0"),
        (["--now", "yesterday"], "expected a date and time like 2026-11-25T18:00+00:00, got 'yesterday'"),
        (["--now", "2026-11-25T18:00"], "give a time zone too"),
    ],
)
def test_bad_arguments_get_a_clear_message(
    tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        code = main(["demo", "--home", str(tmp_path / "h"), *argv])
        raise SystemExit(code)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_each_day_of_the_month_keeps_the_limits_it_had(demo: tuple[Paths, Database]) -> None:
    """A user test lowered leo's limit on the demo's last day and the weekly review judged the whole week by it
    ("within their daily limit on 2 of the 7 days", 4 before): the demo had noted no day's limit, as a running service
    does at every rollup."""
    from breather.rules.loader import parse_rules
    from breather.scheduler import limits_by_day

    paths, db = demo
    text = paths.rules_file.read_text(encoding="utf-8")
    at_the_leo = text.index("[profiles.leo]")
    lowered = text[:at_the_leo] + text[at_the_leo:].replace('daily_limit = "1h"', 'daily_limit = "45m"', 1)
    month = [NOW.date() - timedelta(days=offset) for offset in range(30)]
    limits = limits_by_day(db, parse_rules(lowered), month)
    assert {limits[("leo", day)] for day in month} == {60.0}, "each day keeps the 1h leo had that day"
    assert {limits[("maya", day)] for day in month} == {90.0}


def test_next_weeks_goal_is_not_written_before_the_sunday_evening_it_is_saved(tmp_path: Path) -> None:
    """A user test ran the demo on a Sunday morning: next week's goal was already filled in, "saved" at 19:30 that
    evening, before the family had sat down to talk about it."""
    sunday_morning = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    paths = Paths.resolve(tmp_path / "home")
    seed_demo(paths, days=14, seed=7, now=sunday_morning)
    db = open_database(paths.database)
    try:
        saved = [(week, at) for week, at in db.execute("SELECT week, saved_at FROM weekly_goals ORDER BY week")]
    finally:
        db.close()
    assert "2026-W49" not in [week for week, _ in saved]
    assert all(datetime.fromisoformat(at) <= sunday_morning for _, at in saved), saved
