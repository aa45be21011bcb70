"""The weekly goal is a household edit: it needs the household passphrase (a family user test found a child could
overwrite the goal the family had agreed on)."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

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
    return _goal_answer(client, goal, **passphrase).status_code


def _goal_answer(client: FlaskClient, goal: str, **passphrase: str) -> TestResponse:
    data = {"csrf_token": form_token(client, "/review"), "week": "2026-W11", "goal": goal, **passphrase}
    return client.post("/review/goal", data=data)


def _goal_box(page: str) -> str:
    found = re.search(r'<textarea id="goal"[^>]*>([^<]*)</textarea>', page)
    assert found, "the review has no goal box"
    return html.unescape(found.group(1))


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
    assert "Set a household passphrase on the Setup page first." in flat(response.get_data(as_text=True))
    assert _goal(app) is None


def test_the_goal_form_asks_for_the_passphrase(client: FlaskClient) -> None:
    page = client.get("/review").get_data(as_text=True)
    goal_form = page.split('action="/review/goal#our-goal"', 1)[1].split("</form>", 1)[0]
    assert 'name="passphrase" type="password"' in goal_form


def test_a_wrong_passphrase_shows_the_review_again_with_the_goal_as_typed(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    typed = "Phones in the kitchen after nine, and a walk on Sunday together"
    response = _goal_answer(client, typed, passphrase="a guess")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert _goal_box(page) == typed
    assert re.search(r'id="goal-problem">That is not the household passphrase; nothing was changed\.<', page)
    assert "That did not work" not in page  # the review itself, not the error page
    assert _goal(app) is None


def test_after_too_many_wrong_passphrases_the_typed_goal_waits_beside_the_pause(client: FlaskClient) -> None:
    set_passphrase(client)
    for _ in range(5):
        assert _post_goal(client, AGREED, passphrase="a guess") == 403
    response = _goal_answer(client, AGREED, passphrase=PASSPHRASE)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert _goal_box(response.get_data(as_text=True)) == AGREED
    assert "too many wrong passphrases; try again in" in flat(response.get_data(as_text=True)).lower()


def test_a_goal_too_long_is_kept_to_shorten(client: FlaskClient) -> None:
    set_passphrase(client)
    long_goal = "less scrolling " * 40
    response = _goal_answer(client, long_goal, passphrase=PASSPHRASE)
    assert response.status_code == 400
    assert _goal_box(response.get_data(as_text=True)) == long_goal.strip()
    assert "Keep the goal under 500 characters." in flat(response.get_data(as_text=True))
