"""A limit keyed by a domain counts the minutes on that site once, on every page that shows or decides it.

A review: with ``"reddit.com" = "20m"``, one tab on old.reddit.com is two reports (the overlay's ``reddit.com``, the
extension's ``old.reddit.com``); the decision added them up (the site closed at half its time) while Today listed
the limit at "0 min".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard.db import connect
from breather.dashboard.pages.rules_page import preview_today
from breather.rules.loader import parse_rules
from breather.store.model import Heartbeat
from tests.dashboard.conftest import FAMILY_RULES, NOW, Seeder, dashboard_app, pair, today_at
from tests.dashboard.test_api import auth

RULES = FAMILY_RULES.replace('reddit = "30m"', '"reddit.com" = "30m"')


@pytest.fixture
def app(breather_home: Path) -> Iterator[Flask]:
    rules_file = breather_home / "config" / "rules.toml"
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    rules_file.write_text(RULES, encoding="utf-8")
    yield from dashboard_app(breather_home)


@pytest.fixture
def one_tab_twice(seed: Seeder) -> Seeder:
    """The parent's old.reddit.com tab this morning, 09:00-09:20, reported every 30 s by the overlay (as reddit.com)
    and by the extension (as old.reddit.com): 20 minutes on reddit.com."""
    start = today_at(9)
    for beat in range(40):
        at = start + timedelta(seconds=30 * beat)
        seed.writer.heartbeat(Heartbeat("parent", "reddit.com", at, 30.0, "overlay"))
        seed.writer.heartbeat(Heartbeat("parent", "old.reddit.com", at + timedelta(seconds=2), 30.0, "extension"))
    assert seed.writer.flush(5)
    return seed


def page_text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_today_shows_the_minutes_a_domain_limit_counts(client: FlaskClient, one_tab_twice: Seeder) -> None:
    today = page_text(client, "/?member=parent")
    assert '<th scope="row">reddit.com</th><td>20 min</td><td>30 min</td>' in today  # was "0 min"


def test_the_extensions_status_decides_on_the_same_minutes(client: FlaskClient, one_tab_twice: Seeder) -> None:
    token = pair(client, "parent")
    status = client.get("/api/v1/status?site=old.reddit.com", headers=auth(token)).get_json()
    assert status["decision"]["kind"] == "allow"  # was limit_reached: 40 minutes of 30
    assert (
        status["decision"]["message"]
        == "You have used 20 minutes of your 30 minutes on reddit.com today; next break in 25 minutes."
    )


def test_the_rules_preview_counts_the_same_minutes(app: Flask, one_tab_twice: Seeder) -> None:
    tighter = parse_rules(RULES.replace('"reddit.com" = "30m"', '"reddit.com" = "15m"'))
    db = connect(app.config["DATABASE"])
    try:
        lines = preview_today(db, parse_rules(RULES), tighter, NOW)
    finally:
        db.close()
    assert (
        "parent on reddit: allow → Daily limit for parent on reddit.com: 20m used of 15m (resets at 00:00 tomorrow)"
        in lines
    )
