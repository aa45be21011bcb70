"""The weekly review of a week gone by, and the goals in step with the weeks they were set for.

A user test of a household's year found no way to look back at any week but the last seven days, and on a Monday
morning the review showed the goal the family had set the night before for the week just starting as "The goal we
set for this week. How did it go?", while last week's goal was nowhere.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard.conftest import NOW, PASSPHRASE, Seeder, flat, form_token, set_passphrase, today_at

MONDAY = NOW + timedelta(days=5)  # Monday 9 March 2026, the first day of 2026-W11


def page_of(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return flat(response.get_data(as_text=True))


def save_goal(client: FlaskClient, week: str, goal: str) -> None:
    form = {"csrf_token": form_token(client, "/review"), "week": week, "goal": goal, "passphrase": PASSPHRASE}
    assert client.post("/review/goal", data=form).status_code == 302


def goal_section(page: str) -> str:
    return page.split('class="goal"')[1]


def test_on_monday_the_review_asks_about_last_weeks_goal_and_sets_this_weeks(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    save_goal(client, "2026-W10", "Homework before YouTube")
    save_goal(client, "2026-W11", "Phones out of the bedroom")  # set on Sunday evening, for the week ahead
    app.config["CLOCK"] = lambda: MONDAY.replace(hour=9)
    goal = goal_section(page_of(client, "/review"))
    words = re.sub(r"<[^>]+>", "", goal)
    assert "The goal we set for last week Homework before YouTube How did it go?" in words
    assert "Our goal for the week of Monday 9 March" in goal
    assert re.search(r'name="week" value="2026-W11"', goal)
    assert re.search(r'<textarea id="goal"[^>]*>Phones out of the bedroom</textarea>', goal)


def test_a_week_gone_by_is_reviewed_on_its_own_with_its_goal(client: FlaskClient, seed: Seeder) -> None:
    set_passphrase(client)
    save_goal(client, "2026-W10", "Homework before YouTube")  # this week's, at the Wednesday review
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=14), 5)  # Wed 18 Feb, in 2026-W08
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=9), 40)  # Mon 23 Feb, in 2026-W09
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=4), 15)  # Sat 28 Feb, in 2026-W09
    seed.minutes("teen", "www.youtube.com", today_at(16), 90)  # today, not in that week
    seed.send()
    page = page_of(client, "/review?week=2026-W09")
    assert "Our week, 23 Feb – 1 Mar 2026" in page
    row = re.search(r'<th scope="row">teen</th><td><span class="time">([^<]+)</span>', page)
    assert row and row.group(1) == "55 min"
    assert "this week" not in page.lower()  # the week is "that week" in its talking points, lines and table
    assert "Homework before YouTube" not in page  # 2026-W10's goal belongs to the week after
    assert 'id="goal"' not in page  # goals are set at the review of the week that has just been
    assert re.search(r'<a href="/review\?week=2026-W08">The week before</a>', page)
    assert '<a href="/review">The last 7 days</a>' in page and "The week after" not in page


def test_earlier_weeks_are_offered_back_to_the_first_kept(client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", today_at(16) - timedelta(days=20), 10)  # Thu 12 Feb, in 2026-W07
    seed.send()
    page = page_of(client, "/review")
    offered = re.findall(r'<option value="(2026-W\d\d)"', page)
    assert offered == ["2026-W09", "2026-W08", "2026-W07"], offered


def test_a_week_that_does_not_read_or_has_not_been_is_refused_with_what_to_write(client: FlaskClient) -> None:
    assert "a week like 2026-W09" in page_of(client, "/review?week=last", status=400)
    assert "has not ended yet" in page_of(client, "/review?week=2026-W12", status=400)
    assert "9999-W52" in page_of(client, "/review?week=9999-W52", status=400)  # was a 500 (review)
    assert "keeps no records of the week of 0001-W01" in page_of(client, "/review?week=0001-W01", status=400)
    this_week = page_of(client, "/review?week=2026-W10")  # this week, not over: the last 7 days, as without one
    assert "Our week, 26 Feb – 4 Mar 2026" in this_week and 'id="goal"' in this_week
