"""The Rules page's side of four cooling-off loopholes a review found: an edit that moves quiet hours earlier writes
the added evening at once and keeps the dropped hour, and a new site group taking a subdomain waits; both are said
in words on the page and in ``breather status``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.commands.status import collect
from breather.rules.decisions import Usage, decide
from breather.rules.loader import load_rules
from tests.dashboard.conftest import FAMILY_RULES, NOW, PASSPHRASE, flat, form_token, set_passphrase

TONIGHT = NOW + timedelta(hours=1, minutes=30)  # 21:30, Wednesday
TOMORROW_EARLY = NOW + timedelta(hours=10, minutes=30)  # 06:30, before the wait ends at 20:00
ON_REDDIT = Usage(minutes_today={"reddit": 40.0}, group_minutes={"reddit": 40.0}, total_minutes=40.0)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """The family's dashboard (tests/dashboard/conftest.py) with its passphrase set."""
    set_passphrase(app.test_client())
    return app.test_client()


def save_text(client: FlaskClient, text: str) -> str:
    form = {"csrf_token": form_token(client, "/rules"), "text": text, "action": "save", "passphrase": PASSPHRASE}
    return flat(client.post("/rules", data=form, follow_redirects=True).get_data(as_text=True))


def later(app: Flask, hours: float) -> None:
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=hours)


def test_quiet_hours_moved_earlier_on_the_rules_page_are_quiet_tonight_and_the_dropped_hour_waits(
    client: FlaskClient, app: Flask
) -> None:
    paths = app.config["PATHS"]
    asked = FAMILY_RULES.replace('daily = "22:00-07:00"', 'daily = "21:00-06:00"')
    page = save_text(client, asked)
    assert "What it loosens (teen: shorter quiet hours) waits 24 hours" in page
    in_file = load_rules(paths.rules_file)
    assert decide(in_file, "teen", "reddit.com", TONIGHT).kind == "quiet_hours"  # the added hour: tonight
    assert decide(in_file, "teen", "reddit.com", TOMORROW_EARLY).kind == "quiet_hours"  # the dropped hour: kept
    held = collect(paths, NOW + timedelta(hours=1))["rules"]["held"]
    assert [change["text"] for change in held] == [
        "teen's quiet hours (some hours no longer covered) takes effect at 20:00 tomorrow"
    ]
    later(app, 25)
    client.get("/rules")
    assert paths.rules_file.read_text() == asked


def test_a_new_group_taking_a_subdomain_on_the_rules_page_waits(client: FlaskClient, app: Flask) -> None:
    paths = app.config["PATHS"]
    asked = FAMILY_RULES + '\n[sites.escape]\ndomains = ["new.reddit.com"]\n'
    page = save_text(client, asked)
    assert "This loosens a boundary (new.reddit.com moved to the site group escape), so it waits 24 hours" in page
    in_file = load_rules(paths.rules_file)
    assert decide(in_file, "parent", "new.reddit.com", NOW, ON_REDDIT).kind == "limit_reached"  # reddit's 30m
    later(app, 25)
    client.get("/rules")
    assert paths.rules_file.read_text() == asked
