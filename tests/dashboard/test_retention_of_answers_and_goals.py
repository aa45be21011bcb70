"""Retention takes a parent's answers to asks for more time and the weekly goals too, and leaves no copy in the file.

A privacy user test set ``retention_days = 1``: the 03:30 job deleted old activity, events, rollups, reviews and day
limits, but the Requests page's answers (a parent's reason, "they will see this") and the Review page's weekly goals
stayed for ever. An answer now goes with its ask, a goal with its week.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather import scheduler
from breather.paths import Paths
from breather.rules.loader import load_rules
from breather.rules.model import Rules
from breather.store.writer import Writer
from tests.dashboard.conftest import (
    FAMILY_RULES,
    NOW,
    PASSPHRASE,
    Seeder,
    dashboard_app,
    form_token,
    set_passphrase,
)

REASON = "homework first, then we talk about your diary"
THIS_WEEK, NEXT_WEEK = "2026-W10", "2026-W11"  # NOW is Wednesday 4 March 2026


@pytest.fixture
def app(breather_home: Path) -> Iterator[Flask]:
    rules_file = breather_home / "config" / "rules.toml"
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    rules_file.write_text(FAMILY_RULES.replace("retention_days = 90", "retention_days = 1"), encoding="utf-8")
    yield from dashboard_app(breather_home)


@dataclass
class Service:
    """What the 03:30 retention job needs from the running service: paths, the rules and the store's writer."""

    paths: Paths
    rules: Rules
    writer: Writer

    def current_rules(self) -> Rules:
        return self.rules


def retention_at(app: Flask, seed: Seeder, at: datetime) -> Callable[[], dict[str, int]]:
    paths: Paths = app.config["PATHS"]
    service = Service(paths, load_rules(paths.rules_file), seed.writer)
    return lambda: scheduler.run_retention(service, lambda: at)


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def teen_asks(client: FlaskClient, seed: Seeder, at: datetime) -> list[int]:
    """The teen asks for 15 more minutes on YouTube; the asks waiting for an answer on the Requests page."""
    seed.event("teen", "more_time_asked", at, site="www.youtube.com", detail={"minutes": 15})
    assert seed.writer.flush(5)
    return [int(found) for found in re.findall(r"/requests/(\d+)/approve", page(client, "/requests"))]


def on_disk(database: Path) -> bytes:
    """The store as it lies on disk once the write-ahead log is copied back (what a copied file would hold)."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return b"".join(
        path.read_bytes() for path in (database, database.with_name(database.name + "-wal")) if path.exists()
    )


def test_a_parents_answer_goes_with_the_ask_and_a_new_ask_is_not_taken_for_it(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    set_passphrase(client)
    [event_id] = teen_asks(client, seed, NOW - timedelta(minutes=5))
    token = form_token(client, "/requests")
    declined = client.post(
        f"/requests/{event_id}/decline", data={"csrf_token": token, "reason": REASON, "passphrase": PASSPHRASE}
    )
    assert declined.status_code == 302
    assert f"no: {REASON}" in page(client, "/requests")

    later = NOW.replace(hour=3, minute=30) + timedelta(days=2)
    # the ask is the only record: a prune that deletes every record waits until the clock has said so for a day
    retention_at(app, seed, later)()
    later += timedelta(days=1)
    retention_at(app, seed, later)()
    app.config["CLOCK"] = lambda: later + timedelta(hours=7)
    assert REASON not in page(client, "/requests")
    assert REASON.encode() not in on_disk(app.config["PATHS"].database)

    # The teen asks again after the old ask is gone: it is a new ask, waiting for an answer, not last week's "no".
    waiting = teen_asks(client, seed, later + timedelta(hours=6))
    assert len(waiting) == 1, "the new ask waits for an answer (its id was the old ask's: it read as answered)"
    assert REASON not in page(client, "/requests")


def test_a_weekly_goal_goes_with_its_week(client: FlaskClient, app: Flask, seed: Seeder) -> None:
    set_passphrase(client)
    for week, goal in ((THIS_WEEK, "Phones off at dinner"), (NEXT_WEEK, "A walk on Sunday")):
        token = form_token(client, "/review")
        form = {"csrf_token": token, "week": week, "goal": goal, "passphrase": PASSPHRASE}
        assert client.post("/review/goal", data=form).status_code == 302

    friday = NOW.replace(hour=3, minute=30) + timedelta(days=2)  # keeps Thursday on: this week's Monday is older
    retention_at(app, seed, friday)()
    app.config["CLOCK"] = lambda: friday + timedelta(hours=7)
    review = page(client, "/review")
    assert "Phones off at dinner" not in review
    assert "A walk on Sunday" in review, "next week's goal stays until its own week is past the retention"

    next_wednesday = friday + timedelta(days=5)
    retention_at(app, seed, next_wednesday)()
    database = app.config["PATHS"].database
    assert b"A walk on Sunday" not in on_disk(database) and b"Phones off at dinner" not in on_disk(database)
