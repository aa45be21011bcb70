"""A user test: a member's named topic "ED triggers" showed as a chip "ED_triggers" on Family, which the whole
household reads. The pages everyone reads (Family, the printable weekly review) count a member's own topics as
"their own topic", the names left out; the member's own Today keeps the name (it is theirs)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard.conftest import FAMILY_RULES, NOW, Seeder, flat, write_by_hand

WITH_A_NAMED_TOPIC = (
    FAMILY_RULES
    + """
[profiles.teen.topics]
"ED triggers" = ["calorie count*", "what I eat in a day"]
"""
)


def _seed(app: Flask, seed: Seeder) -> None:
    write_by_hand(app.config["PATHS"].rules_file, WITH_A_NAMED_TOPIC)
    seed.minutes("teen", "www.youtube.com", NOW - timedelta(minutes=30), 20)
    for minutes_ago in (20, 18, 15):  # the event log keeps the name with "_" for the space
        seed.event(
            "teen",
            "warning_shown",
            NOW - timedelta(minutes=minutes_ago),
            site="www.youtube.com",
            category="keyword:ED_triggers",
        )
    seed.event("teen", "warning_shown", NOW - timedelta(minutes=12), site="www.youtube.com", category="custom")
    seed.event("teen", "warning_shown", NOW - timedelta(minutes=10), site="www.youtube.com", category="violence")
    seed.send()


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return flat(response.get_data(as_text=True))


def test_family_counts_a_named_topic_without_its_name(client: FlaskClient, app: Flask, seed: Seeder) -> None:
    _seed(app, seed)
    page = _page(client, "/family")
    assert "ED_triggers" not in page and "ED triggers" not in page and "triggers" not in page
    assert '<span class="chip-count">4</span> their own topic' in page  # the named topic's 3 and the keyword's 1
    assert '<span class="chip-count">1</span> violence' in page
    assert "your topic" not in page  # it is not the reader's


def test_the_weekly_review_talks_about_their_own_topic_not_its_name(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    _seed(app, seed)
    page = _page(client, "/review")
    assert "triggers" not in page
    assert "teen saw 4 posts with a warning about their own topic." in page


def test_the_members_own_today_keeps_the_topics_name(client: FlaskClient, app: Flask, seed: Seeder) -> None:
    _seed(app, seed)
    page = _page(client, "/?member=teen")
    assert '<span class="chip-count">3</span> ED_triggers' in page
    assert '<span class="chip-count">1</span> your topic' in page
