"""A member taken out of the rules while their usage and pairing stay: Today and the extension's status answer for
them, with their own minutes, and never as the default profile (which had a teen's extension block on the
parent's 70 minutes of the parent's hour)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard.conftest import FAMILY_RULES, Seeder, flat, pair, set_passphrase, today_at, write_by_hand

WITHOUT_TEEN = FAMILY_RULES[: FAMILY_RULES.index("[profiles.teen]")]


def _teen_paired_then_taken_out(app: Flask, client: FlaskClient, seed: Seeder) -> str:
    """teen's browser paired; the parent past the default profile's hour, teen at 10 minutes; then teen's part of
    the rules removed by hand. Returns the browser's token."""
    set_passphrase(client)
    token = pair(client, "teen")
    seed.minutes("parent", "www.youtube.com", today_at(10), 70)
    seed.minutes("teen", "www.youtube.com", today_at(9), 10)
    seed.send()
    write_by_hand(Path(app.config["PATHS"].rules_file), WITHOUT_TEEN)
    return token


def _stat(page: str, stat_id: str) -> str:
    found = re.search(rf'id="{stat_id}">([^<]+)<', page)
    assert found, f"no {stat_id} on the page"
    return found.group(1)


def test_today_for_a_member_out_of_the_rules_shows_their_minutes_and_says_no_limits_apply(
    client: FlaskClient, seed: Seeder
) -> None:
    seed.minutes("sam", "www.youtube.com", today_at(9), 10)  # sam is in the store, not in the rules
    seed.minutes("parent", "www.youtube.com", today_at(10), 70)
    seed.send()
    page = client.get("/?member=sam").get_data(as_text=True)
    assert _stat(page, "today-total") == "10 min"
    assert _stat(page, "decision") == "Not in the rules"
    text = flat(page)
    assert "sam is not in the rules now: no limits apply" in text
    assert "sam is not in the household's rules now, so no limits, breaks or quiet hours apply to that name." in text
    assert "1 hour 10 minutes" not in text  # the parent's minutes, told as sam's


def test_the_extension_of_a_member_taken_out_of_the_rules_is_told_their_own_minutes_and_no_limit(
    app: Flask, client: FlaskClient, seed: Seeder
) -> None:
    token = _teen_paired_then_taken_out(app, client, seed)
    answer = client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200  # not 401: the extension would forget its pairing, as if unpaired
    status = answer.get_json()
    assert (status["profile"], status["minutes_today"], status["limit_minutes"]) == ("teen", 10.0, None)
    assert status["decision"]["kind"] == "not_in_rules"
    assert status["decision"]["message"].startswith("teen is not in the household's rules now")
    assert (status["quiet_hours"], status["next_break_in_s"], status["quiet_hours_change_in_s"]) == (False, None, None)


def test_a_heartbeat_from_a_member_out_of_the_rules_is_answered_for_them(
    app: Flask, client: FlaskClient, seed: Seeder
) -> None:
    token = _teen_paired_then_taken_out(app, client, seed)
    beat = {"site": "www.youtube.com", "visible": True, "focused": True, "idle": "active"}
    answer = client.post("/api/v1/heartbeat", json=beat, headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (answer["profile"], answer["decision"]["kind"]) == ("teen", "not_in_rules")
