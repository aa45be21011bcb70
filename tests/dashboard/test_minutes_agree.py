"""One minute online is one minute on every page, whatever reported it (a user test found History and the family
review counting twice what Today counted once when both the page overlay and the extension reported a tab)."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.cli import main
from breather.dashboard.db import connect
from breather.dashboard.pages import summaries
from breather.rules.loader import parse_rules
from breather.scheduler import rollup_recent_days
from breather.store import usage
from breather.store.model import Heartbeat
from tests.dashboard.conftest import FAMILY_RULES, NOW, Seeder, today_at

TODAY = NOW.date()
YESTERDAY = TODAY - timedelta(days=1)


def overlay(beats: list[Heartbeat], site: str, start: datetime, minutes: int) -> None:
    """The page overlay: a heartbeat every 30 s, each counting the 30 s after it, under the proxy's site key."""
    beats += [Heartbeat("parent", site, start + timedelta(seconds=30 * n), 30.0, "overlay") for n in range(minutes * 2)]


def extension(beats: list[Heartbeat], host: str, start: datetime, minutes: int) -> None:
    """The extension: a heartbeat every 30 s with no length, under the tab's own host."""
    every = [start + timedelta(seconds=30 * n) for n in range(minutes * 2 + 1)]
    beats += [Heartbeat("parent", host, at, 0.0, "extension") for at in every]


@pytest.fixture
def both_reported(seed: Seeder) -> Seeder:
    """The parent's reddit tab reported by both (``reddit.com`` from the overlay, ``old.reddit.com`` from the
    extension, as each records it) this morning 09:00-09:20 and last night 22:00-22:40, and a YouTube window
    beside it this morning 09:10-09:30. Online: 30 minutes today, 40 yesterday; reddit 60, youtube 20."""
    beats: list[Heartbeat] = []
    for start, minutes in ((today_at(9), 20), (today_at(22) - timedelta(days=1), 40)):
        overlay(beats, "reddit.com", start, minutes)
        extension(beats, "old.reddit.com", start, minutes)
    overlay(beats, "www.youtube.com", today_at(9, 10), 20)
    for beat in sorted(beats, key=lambda beat: beat.at):
        seed.writer.heartbeat(beat)
    assert seed.writer.flush(5)
    return seed


def text_of(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


BAR = re.compile(r'<text class="label"[^>]*>([^<]+)</text>.*?<text class="value"[^>]*>([^<]+)</text>')


def site_bars(page: str) -> dict[str, str]:
    """Label → value of the History page's "Per site" bars."""
    return dict(BAR.findall(page.split("<h2>Per site</h2>", 1)[1].split("</section>", 1)[0]))


def test_every_page_counts_a_minute_both_sources_reported_once(
    client: FlaskClient, app: Flask, both_reported: Seeder
) -> None:
    today = text_of(client, "/?member=parent")
    assert 'id="today-total">30 min<' in today
    assert '<th scope="row">reddit</th><td>20 min</td>' in today

    history = text_of(client, "/history?days=7&member=parent")
    assert 'id="history-total">1 h 10 min<' in history  # was 2 h 20 min: each report counted, and both windows
    assert "<title>Wed 4 Mar: 30 min</title>" in history and "<title>Tue 3 Mar: 40 min</title>" in history
    assert site_bars(history) == {"reddit": "1 h", "youtube": "20 min"}
    assert "<title>Wed 09:00: 30 min</title>" in history and "<title>Tue 22:00: 40 min</title>" in history

    family = text_of(client, "/family")
    parent = family.split(">parent</h2>", 1)[1].split(">teen</h2>", 1)[0]
    assert "<dt>This week</dt><dd>1 h 10 min</dd>" in parent
    assert "2 of 2 days online" in parent  # the hour's limit was kept both days; it read 1 of 2
    assert "reddit · 1 h" in parent and "youtube · 20 min" in parent
    review = text_of(client, "/review")
    assert "parent spent 40 minutes online after 22:00" in review


def test_history_the_weekly_review_the_rollups_and_the_export_agree_with_today(
    app: Flask, both_reported: Seeder, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = parse_rules(FAMILY_RULES)
    db = connect(app.config["DATABASE"])
    try:
        page = summaries.history(db, rules, TODAY, 7, "parent")
        week = next(m for m in summaries.member_weeks(db, rules, TODAY, ["parent"]))
        today = summaries.today(db, rules, "parent", NOW)
    finally:
        db.close()
    assert today.total == pytest.approx(30)
    assert page.total == pytest.approx(70)
    assert {day: round(minutes, 6) for day, minutes in page.per_day.items()} == {TODAY: 30, YESTERDAY: 40}
    assert {site: round(minutes, 6) for site, minutes in page.by_site.items()} == {"reddit": 60, "youtube": 20}
    assert {cell: round(minutes, 6) for cell, minutes in page.heatmap.items()} == {(2, 9): 30, (1, 22): 40}
    assert (week.today, week.week, week.late_minutes) == pytest.approx((30, 70, 40))
    assert (week.days_within_limit, week.days) == (2, 2)
    assert [(site, round(minutes, 6)) for site, minutes in week.top_sites] == [("reddit", 60), ("youtube", 20)]

    both_reported.writer.call(lambda database: rollup_recent_days(database, NOW, UTC)).result(5)
    assert main(["export", "--format", "json", "--tz", "UTC"]) == 0
    rollups = json.loads(capsys.readouterr().out)["tables"]["daily_rollups"]
    per_day: defaultdict[date, float] = defaultdict(float)
    per_group: defaultdict[str, float] = defaultdict(float)
    for row in rollups:
        per_day[date.fromisoformat(row["day"])] += row["minutes"]
        per_group["reddit" if row["site"].endswith("reddit.com") else row["site"]] += row["minutes"]
    assert {day: round(minutes, 6) for day, minutes in per_day.items()} == {TODAY: 30, YESTERDAY: 40}
    # Each moment is in one row: the ten minutes the two windows overlapped are YouTube's, the one opened last.
    assert {site: round(minutes, 6) for site, minutes in per_group.items() if minutes} == {
        "reddit": 50,
        "www.youtube.com": 20,
    }


def test_the_hourly_cut_counts_each_moment_once_per_site_group_and_per_person(app: Flask, seed: Seeder) -> None:
    """Against a plain union in Python: spans that start together, nest, touch, cross hours and a DST change."""
    rules = parse_rules(FAMILY_RULES.replace('timezone = "UTC"', 'timezone = "Europe/Berlin"'))
    zone = rules.zone()
    hosts = ("reddit.com", "old.reddit.com", "www.reddit.com", "www.youtube.com", "example.org")
    rng = random.Random(11)
    start = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # Berlin moves its clocks on the night to 29 March
    beats = []
    for _ in range(120):
        at = start + timedelta(minutes=rng.randrange(0, 24 * 60, rng.choice((1, 15))))
        beats += [
            Heartbeat(rng.choice(("parent", "teen")), host, at, rng.choice((0, 30, 600, 5400)))
            for host in rng.sample(hosts, rng.randint(1, 3))
        ]
    for beat in sorted(beats, key=lambda beat: beat.at):
        seed.writer.heartbeat(beat)
    assert seed.writer.flush(5)

    db = connect(app.config["DATABASE"])
    try:
        rows = db.execute("select profile, site, start, [end] from activity").fetchall()
        found = usage.hours(db, rules, usage.Period(date(2026, 3, 28), date(2026, 3, 30)))
        got = {(p.profile, p.site, p.day, p.hour): round(p.seconds, 3) for p in found if round(p.seconds, 3)}
    finally:
        db.close()
    tracks: defaultdict[tuple[str, str | None], list[tuple[float, float]]] = defaultdict(list)
    for profile, site, began, ended in rows:
        span = (datetime.fromisoformat(began).timestamp(), datetime.fromisoformat(ended).timestamp())
        tracks[(profile, usage.site_label(rules, site))].append(span)
        tracks[(profile, None)].append(span)
    expected: defaultdict[tuple[str, str | None, date, int], float] = defaultdict(float)
    for (profile, label), spans in tracks.items():
        for left, right in union(spans):
            while left < right:  # Berlin's offsets are whole hours: its hours start on UTC hours
                step = min(right, (left // 3600 + 1) * 3600)
                local = datetime.fromtimestamp(left, zone)
                expected[(profile, label, local.date(), local.hour)] += step - left
                left = step
    assert got == {key: round(seconds, 3) for key, seconds in expected.items()}


def union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for left, right in sorted(spans):
        if merged and left <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], right))
        elif right > left:
            merged.append((left, right))
    return merged


def limits_noted_on(app: Flask, days_ago: tuple[int, ...]) -> None:
    """The service ran on those days under FAMILY_RULES and noted each member's daily limit, as its scheduler does."""
    from breather.scheduler import SCHEDULER_MIGRATIONS, record_day_limits
    from breather.store.db import open_database

    db = open_database(app.config["DATABASE"], extra=[SCHEDULER_MIGRATIONS])
    try:
        for days in days_ago:
            record_day_limits(db, parse_rules(FAMILY_RULES), today_at(23) - timedelta(days=days))
        db.conn.commit()
    finally:
        db.close()


def test_the_review_judges_each_day_by_the_limit_it_had(client: FlaskClient, app: Flask, seed: Seeder) -> None:
    """A user test: the teen's limit went from 45 to 30 minutes today, and the review turned the two days before,
    40 minutes each and within that day's limit, into days over it."""
    for days_ago in (2, 1, 0):
        seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=days_ago), 40)
    seed.send()
    limits_noted_on(app, days_ago=(2, 1))  # the service noted the 45 minutes while it ran on those days
    app.config["PATHS"].rules_file.write_text(FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "30m"'))

    family = text_of(client, "/family")
    teen = family.split(">teen</h2>", 1)[1]
    assert "2 of 3 days online" in teen  # today's 40 minutes are over today's 30; it read 0 of 3


def test_a_zero_minute_limit_is_a_limit_not_none() -> None:
    from breather.dashboard.pages.summaries import limit_minutes

    rules = parse_rules(FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "0m"'))
    assert limit_minutes(rules.profiles["teen"]) == 0.0
    assert limit_minutes(rules.profiles["parent"]) == 60.0


def test_the_review_reads_a_member_taken_out_of_the_rules_by_the_limit_they_had(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    """teen was under a 45-minute limit all week, then taken out of the rules today: the kept weekly review judges
    their days by it, and the page said "no limit set" for the same week."""
    for days_ago, minutes in ((2, 40), (1, 50)):
        seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=days_ago), minutes)
    seed.send()
    limits_noted_on(app, days_ago=(2, 1))
    app.config["PATHS"].rules_file.write_text(FAMILY_RULES[: FAMILY_RULES.index("[profiles.teen]")])

    teen = text_of(client, "/family").split(">teen</h2>", 1)[1]
    assert "1 of 2 days online" in teen  # 40 minutes within 45, 50 over it
    review = text_of(client, "/review")
    teen_row = review.split('<th scope="row">teen</th>', 1)[1].split("</tr>", 1)[0]
    # it read "none" and "—"; the days the service noted no limit for them (today) are counted as they are judged:
    # no limit; the days before its first record of them are not counted
    assert "(2 × 45 min, 1 day without a limit, from " in teen_row and "<td>1 of 2</td>" in teen_row, teen_row


def test_the_reviews_limit_for_the_week_adds_each_days_own_limit(client: FlaskClient, app: Flask, seed: Seeder) -> None:
    """A user test lowered a limit on the review's last day: "Limit for the week" read "5 h 15 min (7 × 45 min)" for
    a week lived under 1 h, and the chart's line moved with it."""
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=1), 40)
    seed.send()
    limits_noted_on(app, days_ago=range(1, 7))  # 45 minutes on the six days before today
    app.config["PATHS"].rules_file.write_text(FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "30m"'))

    review = text_of(client, "/review")
    teen_row = review.split('<th scope="row">teen</th>', 1)[1].split("</tr>", 1)[0]
    assert "5 h" in teen_row and "(6 × 45 min, 1 × 30 min)" in teen_row, teen_row  # 6 x 45 + 30 = 300 minutes
    assert "7 × 30 min" not in teen_row


def test_the_reviews_limit_for_the_week_counts_only_days_breather_kept_records(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    """A user test on a fresh install: "Limit for the week 28 min (7 × 4 min)" after one day, so the week's 5 minutes
    sat far under the limit line while the talking points said the limit was gone over. Days before Breather kept
    records have no limit to count."""
    with connect(app.config["DATABASE"]) as db:
        db.execute("delete from profiles")  # Breather first saw anyone yesterday
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=1), 50)
    seed.send()

    review = text_of(client, "/review")
    teen_row = review.split('<th scope="row">teen</th>', 1)[1].split("</tr>", 1)[0]
    assert "1 h 30 min" in teen_row and "(2 × 45 min, from " in teen_row, teen_row
    assert "7 × 45 min" not in teen_row


OVERLAP_NOTE = "Time on two sites at once counts for each of them, and once in the total."


def test_sites_used_at_once_say_why_they_add_up_to_more_than_the_total(client: FlaskClient, seed: Seeder) -> None:
    """A user test added up maya's sites on Family (10 h 38 min) against her week's 9 h 26 min, and History's per-site
    rows against its total, with nothing on the page saying why."""
    seed.minutes("teen", "www.youtube.com", today_at(16), 30)
    seed.minutes("teen", "www.reddit.com", today_at(16), 30)  # the same half hour, in another tab
    seed.send()

    history = text_of(client, "/history?member=teen")
    assert "30 min" in history and OVERLAP_NOTE in history
    assert OVERLAP_NOTE in text_of(client, "/family")


def test_sites_used_one_after_the_other_need_no_such_note(client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", today_at(15), 30)
    seed.minutes("teen", "www.reddit.com", today_at(16), 30)
    seed.send()
    assert OVERLAP_NOTE not in text_of(client, "/history?member=teen")
    assert OVERLAP_NOTE not in text_of(client, "/family")


def test_family_says_the_change_against_the_week_before_once(client: FlaskClient, seed: Seeder) -> None:
    """A user test read "Compared with the 7 days before: 1% more than the 7 days before"."""
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=15), 5)  # records cover the week before
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=8), 30)
    seed.minutes("teen", "www.youtube.com", today_at(16), 45)
    seed.send()
    teen = text_of(client, "/family").split(">teen</h2>", 1)[1].split("</dl>", 1)[0]
    assert "<dt>Change</dt><dd>50% more than the 7 days before</dd>" in teen, teen
    assert teen.count("the 7 days before") == 1
