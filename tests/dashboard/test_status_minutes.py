"""`breather status` shows the minutes the dashboard shows (a family user test: status said "40 min" for 40.51
minutes where Today and Family said "41 min", the parent's Hacker News "6m" where the dashboard said 7, and split
one tab's reddit into "www.reddit.com 20m … reddit.com 13m" where the dashboard said "reddit 33 min")."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.cli import main
from breather.store.model import Heartbeat
from tests.dashboard.conftest import NOW, Seeder, flat, today_at


@pytest.fixture
def one_morning(seed: Seeder) -> Seeder:
    """The teen's reddit tab: the overlay's 09:00-09:20 under ``reddit.com`` and the extension's 09:07-09:33 under
    ``www.reddit.com`` (33 minutes online), then Hacker News for 7.51 minutes: 40.51 minutes in all. The parent:
    Hacker News for 6.52 minutes."""
    beats = [
        Heartbeat("teen", "reddit.com", today_at(9), 20 * 60, "proxy"),
        Heartbeat("teen", "www.reddit.com", today_at(9, 7), 26 * 60, "extension"),
        Heartbeat("teen", "news.ycombinator.com", today_at(9, 40), 7.51 * 60, "proxy"),
        Heartbeat("parent", "news.ycombinator.com", today_at(10), 6.52 * 60, "proxy"),
    ]
    for beat in beats:
        seed.writer.heartbeat(beat)
    assert seed.writer.flush(5)
    return seed


def status_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    main(["status", "--at", NOW.isoformat()])
    return capsys.readouterr().out.splitlines()


def test_status_says_what_today_and_family_say(
    client: FlaskClient, app: Flask, one_morning: Seeder, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = status_lines(capsys)
    assert "  teen: 41 min (reddit 33 min, news.ycombinator.com 8 min)" in lines
    assert "  parent: 7 min (news.ycombinator.com 7 min)" in lines

    today = flat(client.get("/?member=teen").get_data(as_text=True))
    assert 'id="today-total">41 min<' in today
    assert '<th scope="row">reddit</th><td>33 min</td>' in today
    assert '<th scope="row">news.ycombinator.com</th><td>8 min</td>' in today
    parent = flat(client.get("/?member=parent").get_data(as_text=True))
    assert '<th scope="row">news.ycombinator.com</th><td>7 min</td>' in parent
    family = flat(client.get("/family").get_data(as_text=True))
    assert re.search(r"teen</h2> <dl> <div><dt>Today</dt><dd>41 min</dd>", family)
    assert re.search(r"parent</h2> <dl> <div><dt>Today</dt><dd>7 min</dd>", family)


def test_status_json_gives_each_site_group_and_the_time_online(
    app: Flask, one_morning: Seeder, capsys: pytest.CaptureFixture[str]
) -> None:
    """A total is the time online, not the sum of the sites: a consumer of `--json` rounds what the pages round."""
    import json

    main(["status", "--json", "--at", NOW.isoformat()])
    today = json.loads(capsys.readouterr().out)["today"]
    assert set(today["profiles"]["teen"]) == {"reddit", "news.ycombinator.com"}
    assert round(today["profiles"]["teen"]["reddit"]) == 33
    assert round(today["totals"]["teen"]) == 41 and round(today["totals"]["parent"]) == 7


def test_a_break_less_than_a_minute_away_is_under_a_minute_on_today(client: FlaskClient, seed: Seeder) -> None:
    """A user test read "Next break in 0 min" on the card beside "next break in under a minute" in the words."""
    from datetime import timedelta

    used = timedelta(minutes=24.7)  # of the parent's 25 minutes between breaks
    seed.writer.heartbeat(Heartbeat("parent", "news.ycombinator.com", NOW - used, used.total_seconds(), "proxy"))
    assert seed.writer.flush(5)
    today = flat(client.get("/?member=parent").get_data(as_text=True))
    assert 'id="next-break">in under a minute<' in today, re.search(r'id="next-break">[^<]*<', today)
