"""What an extension heartbeat is worth: the 30 s it stands for, and nothing while the site is closed to the member.

A reviewer's real Chromium showed Breather's own block page (the proxy answers the site's address with it) counted as
minutes on reddit: 61, 62, 65 against a 60-minute limit while a child read the limit page. And with the extension the
only source of minutes (activity without routing), every visit lost its last 30 s and a visit under 30 s counted
nothing: a heartbeat was stored as a point while the overlay's counts 30 s."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from breather.runtime import Override, override_site
from breather.store.model import Heartbeat
from tests.dashboard.conftest import NOW, Seeder, pair, today_at
from tests.dashboard.test_api import auth, dashboard_of, service_that_saw


def beat(at: datetime, site: str = "www.youtube.com", **more: Any) -> dict[str, Any]:
    return {"site": site, "visible": True, "focused": True, "idle": "active", "at": at.isoformat(), **more}


def minutes(client: FlaskClient, app_or_writer: Any, token: str) -> float:
    app_or_writer.flush()
    return float(client.get("/api/v1/status", headers=auth(token)).get_json()["minutes_today"])


def test_one_heartbeat_is_the_30_seconds_it_stands_for(client: FlaskClient, app: Flask) -> None:
    token = pair(client, "parent")
    answer = client.post("/api/v1/heartbeat", json=beat(today_at(19, 30)), headers=auth(token)).get_json()
    assert answer["recorded"] is True and "not_recorded" not in answer
    assert minutes(client, app.extensions["breather.writer"], token) == 0.5


def test_a_visit_counts_to_the_end_of_its_last_heartbeat(client: FlaskClient, app: Flask) -> None:
    """Heartbeats at 0, 30 and 60 s: the person was there for 60 to 90 s, not the 60 s a point each gave."""
    token = pair(client, "parent")
    for second in (0, 30, 60):
        client.post("/api/v1/heartbeat", json=beat(today_at(19, 30) + timedelta(seconds=second)), headers=auth(token))
    assert minutes(client, app.extensions["breather.writer"], token) == 1.5


def test_the_overlay_and_the_extension_reporting_the_same_minute_count_it_once(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    token = pair(client, "parent")
    start = today_at(19, 30)
    for second in (0, 30):
        seed.writer.heartbeat(Heartbeat("parent", "old.reddit.com", start + timedelta(seconds=second), 30.0, "overlay"))
        at = start + timedelta(seconds=second + 2)  # the extension's tick, a moment after the overlay's
        client.post("/api/v1/heartbeat", json=beat(at, "old.reddit.com"), headers=auth(token))
    seed.writer.flush()
    assert minutes(client, app.extensions["breather.writer"], token) == round((60 + 2) / 60, 1)


def test_a_heartbeat_while_the_limit_closes_the_site_is_not_time_on_it(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    """teen's limit is 45 minutes: reached, the proxy answers with its limit page, which the tab shows."""
    token = pair(client, "teen")
    seed.minutes("teen", "www.youtube.com", NOW - timedelta(minutes=60), 50)
    seed.send()
    writer = app.extensions["breather.writer"]
    before = minutes(client, writer, token)
    for second in range(0, 121, 30):
        answer = client.post(
            "/api/v1/heartbeat", json=beat(NOW - timedelta(seconds=120 - second)), headers=auth(token)
        ).get_json()
        assert answer["recorded"] is False and answer["not_recorded"] == "limit_reached"
        assert answer["decision"]["kind"] == "limit_reached", "the answer is still the status the extension reads"
    assert minutes(client, writer, token) == before == 50.0


def test_a_heartbeat_in_quiet_hours_is_not_time_on_the_site(client: FlaskClient, app: Flask) -> None:
    token = pair(client, "teen")
    app.config["CLOCK"] = lambda: NOW.replace(hour=23)
    answer = client.post("/api/v1/heartbeat", json=beat(NOW.replace(hour=23)), headers=auth(token)).get_json()
    assert (answer["recorded"], answer["not_recorded"]) == (False, "quiet_hours")
    assert minutes(client, app.extensions["breather.writer"], token) == 0.0


def test_a_site_the_extension_does_not_route_loads_itself_and_counts_past_the_limit(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    """Activity without routing: no block page stands in the site's place, the member really is on it."""
    token = pair(client, "teen")
    seed.minutes("teen", "www.youtube.com", NOW - timedelta(minutes=60), 50)
    seed.send()
    answer = client.post(
        "/api/v1/heartbeat", json=beat(NOW - timedelta(minutes=1), routed=False), headers=auth(token)
    ).get_json()
    assert answer["recorded"] is True
    assert minutes(client, app.extensions["breather.writer"], token) == 50.5


def test_a_heartbeat_that_is_not_in_use_says_so(client: FlaskClient) -> None:
    token = pair(client, "parent")
    answer = client.post("/api/v1/heartbeat", json=beat(NOW, idle="idle"), headers=auth(token)).get_json()
    assert (answer["recorded"], answer["not_recorded"]) == (False, "not_in_use")


def test_routed_must_be_true_or_false(client: FlaskClient) -> None:
    token = pair(client, "parent")
    answer = client.post("/api/v1/heartbeat", json=beat(NOW, routed="yes"), headers=auth(token))
    assert answer.status_code == 400 and "'routed'" in answer.get_json()["message"]


def test_with_the_service_running_its_decision_counts_and_a_yes_lifts_the_block(
    breather_home: Path, seed: Seeder
) -> None:
    """As the proxy decides: the limit reached in its sessions, then more time granted for the site."""
    runtime = service_that_saw(breather_home, seed, "teen", 50)
    client = dashboard_of(runtime)
    token = pair(client, "teen")
    refused = client.post("/api/v1/heartbeat", json=beat(NOW), headers=auth(token)).get_json()
    assert refused["not_recorded"] == "limit_reached"

    grant = Override(override_site(runtime.current_rules(), "www.youtube.com"), "limit_reached")
    runtime.sessions.update(
        "teen", lambda session: session.overrides_until.update({grant: NOW + timedelta(minutes=10)})
    )
    status = client.get("/api/v1/status?site=www.youtube.com", headers=auth(token)).get_json()
    assert status["decision"]["kind"] not in ("limit_reached", "quiet_hours")
    granted = client.post("/api/v1/heartbeat", json=beat(NOW), headers=auth(token)).get_json()
    assert granted["recorded"] is True
    seed.writer.flush()
    from breather.store.db import open_database

    db = open_database(runtime.paths.database)
    try:
        ends = [row["end"] for row in db["activity"].rows]
    finally:
        db.close()
    assert ends == [(NOW + timedelta(seconds=30)).isoformat(timespec="microseconds")], (
        "the granted 30 s joined the visit"
    )
