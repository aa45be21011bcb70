"""A member whose name has a letter outside ASCII ("zoë") or a space ("Zoë Ann"): the rules, the Rules page and the
pairing took the name, but the usage store refused every record under it, so the extension's heartbeats were
answered 500 and the member's time never reached Today, Family or the weekly review (a reviewer's find)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard import security
from breather.dashboard.db import get_db
from tests.dashboard.conftest import NOW, dashboard_app, flat, pair

RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com"]

[profiles.parent]
default = true

[profiles."zoë"]
daily_limit = "1h"

[profiles."Zoë Ann"]
daily_limit = "30m"
"""


@pytest.fixture
def app(breather_home: Path) -> Iterator[Flask]:
    rules_file = breather_home / "config" / "rules.toml"
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    rules_file.write_text(RULES, encoding="utf-8")
    for app in dashboard_app(breather_home):
        app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: an exception is a 500 page
        yield app


def scroll_in_the_extension(client: FlaskClient, token: str, minutes: int) -> set[int]:
    """A social tab in front for ``minutes``, ending 20 minutes ago: a heartbeat every 30 s, as the extension sends."""
    answers = set()
    start = NOW - timedelta(minutes=20 + minutes)
    for second in range(0, minutes * 60 + 1, 30):
        at = (start + timedelta(seconds=second)).isoformat()
        beat = {"site": "www.reddit.com", "visible": True, "focused": True, "idle": "active", "at": at}
        answers.add(
            client.post("/api/v1/heartbeat", json=beat, headers={"Authorization": f"Bearer {token}"}).status_code
        )
    return answers


def test_the_extension_s_minutes_for_zoe_reach_the_weekly_review(app: Flask, client: FlaskClient) -> None:
    token = pair(client, "zoë")
    answers = scroll_in_the_extension(client, token, 10)
    assert answers == {200}, f"the extension's heartbeats for zoë were answered {sorted(answers)}"
    app.extensions["breather.writer"].flush()
    review = flat(client.get("/review").get_data(as_text=True))
    assert '<tr><th scope="row">zoë</th><td><span class="time">10 min</span>' in review


def test_zoe_ann_s_minutes_show_on_her_own_today_page_and_on_family(app: Flask, client: FlaskClient) -> None:
    token = pair(client, "Zoë Ann")
    assert scroll_in_the_extension(client, token, 12) == {200}
    app.extensions["breather.writer"].flush()
    today = flat(client.get(f"/?member={quote('Zoë Ann')}").get_data(as_text=True))
    assert "12 min" in today and "30 min" in today, "her 12 minutes of her 30-minute limit"
    family = flat(client.get("/family").get_data(as_text=True))
    assert "Zoë Ann" in family and "12 min" in family


def test_a_record_the_store_refuses_is_answered_with_a_json_400_not_a_500(app: Flask, client: FlaskClient) -> None:
    """A browser paired under a name the store cannot keep (here "-kid", which an older Breather took): the
    extension hears why, instead of a 500 on every heartbeat."""
    with app.app_context():
        token = security.issue_token(get_db(), "-kid", "chrome", None)
    auth = {"Authorization": f"Bearer {token}"}
    beat = {"site": "www.reddit.com", "at": (NOW - timedelta(minutes=5)).isoformat()}
    for path, body in (("/api/v1/heartbeat", beat), ("/api/v1/events", {"kind": "break_taken"})):
        answer = client.post(path, json=body, headers=auth)
        assert answer.status_code == 400, (path, answer.status_code)
        error = answer.get_json()
        assert error["error"] == "RecordRefused"
        assert 'member name "-kid"' in error["message"] and "nothing was recorded" in error["message"]
