"""The weekly goal is a household edit: it needs the household passphrase (a family user test found a child could
overwrite the goal the family had agreed on)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard.db import connect
from tests.dashboard.conftest import PASSPHRASE, flat, form_token, set_passphrase

AGREED = "No phones at dinner"


def _goal(app: Flask) -> str | None:
    db = connect(app.config["DATABASE"])
    try:
        row = db.execute("select goal from weekly_goals where week = '2026-W11'").fetchone()
    finally:
        db.close()
    return row[0] if row else None


def _post_goal(client: FlaskClient, goal: str, **passphrase: str) -> int:
    data = {"csrf_token": form_token(client, "/review"), "week": "2026-W11", "goal": goal, **passphrase}
    return client.post("/review/goal", data=data).status_code


def test_the_goal_is_saved_only_with_the_household_passphrase(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    assert _post_goal(client, AGREED, passphrase=PASSPHRASE) == 302
    assert _post_goal(client, "unlimited tiktok") == 403
    assert _post_goal(client, "unlimited tiktok", passphrase="a guess") == 403
    assert _goal(app) == AGREED


def test_without_a_household_passphrase_the_goal_says_to_set_one(client: FlaskClient, app: Flask) -> None:
    response = client.post(
        "/review/goal", data={"csrf_token": form_token(client, "/review"), "week": "2026-W11", "goal": AGREED}
    )
    assert response.status_code == 403
    assert "set a household passphrase on the Setup page first" in flat(response.get_data(as_text=True))
    assert _goal(app) is None


def test_the_goal_form_asks_for_the_passphrase(client: FlaskClient) -> None:
    page = client.get("/review").get_data(as_text=True)
    goal_form = page.split('action="/review/goal"', 1)[1].split("</form>", 1)[0]
    assert 'name="passphrase" type="password"' in goal_form
