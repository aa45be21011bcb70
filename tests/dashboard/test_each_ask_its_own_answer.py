"""Each ask for more time has its own answer. Yesterday evening teen asked on the reddit block page and nobody
answered; today the block page let teen ask again. The Requests page writes a ``more_time_granted`` /
``more_time_declined`` event beside each answer, and that event used to answer every earlier ask of teen's for
reddit still waiting: the other card left the waiting list unanswered, read "yes" (no end time) or "no" under
"Answered this week", and Family counted it."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard import context
from tests.dashboard.conftest import NOW, PASSPHRASE, Seeder, flat, form_token, set_passphrase

YESTERDAY_EVENING = NOW - timedelta(hours=22, minutes=20)  # Tuesday 21:40
THIS_EVENING = NOW - timedelta(minutes=30)  # Wednesday 19:30


def two_asks(client: FlaskClient, seed: Seeder) -> tuple[int, int]:
    """Yesterday's ask and today's, both from the block page (under the site the proxy decides on): their numbers."""
    set_passphrase(client)
    for at in (YESTERDAY_EVENING, THIS_EVENING):
        seed.event("teen", "more_time_asked", at, site="reddit.com", detail={"minutes": 15})
    assert seed.writer.flush(5)
    waiting = [int(number) for number in re.findall(r"/requests/(\d+)/approve", requests_page(client))]
    assert len(waiting) == 2, waiting
    return waiting[0], waiting[1]


def answer(client: FlaskClient, app: Flask, ask: int, choice: str, form: dict[str, str]) -> None:
    done = client.post(f"/requests/{ask}/{choice}", data={"csrf_token": form_token(client, "/requests"), **form})
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        assert context.writer().flush(5)  # the answer's event, which the dashboard logs without waiting


def requests_page(client: FlaskClient) -> str:
    return flat(client.get("/requests").get_data(as_text=True))


def answered_rows(page: str) -> list[str]:
    """The "Answered this week" table's rows, as the words a person reads."""
    body = page.split('id="answered">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_a_yes_to_todays_ask_leaves_yesterdays_waiting(client: FlaskClient, app: Flask, seed: Seeder) -> None:
    yesterdays, todays = two_asks(client, seed)
    answer(client, app, todays, "approve", {"grant": "60", "passphrase": PASSPHRASE})

    page = requests_page(client)
    assert f"/requests/{yesterdays}/approve" in page, "yesterday's ask left the waiting list with nobody answering it"
    assert f"/requests/{todays}/approve" not in page
    assert answered_rows(page) == ["teen reddit today 19:30 yes, until 21:00"]


def test_a_no_to_yesterdays_ask_does_not_answer_todays(client: FlaskClient, app: Flask, seed: Seeder) -> None:
    yesterdays, todays = two_asks(client, seed)
    answer(client, app, yesterdays, "decline", {"reason": "it was bedtime", "passphrase": PASSPHRASE})

    page = requests_page(client)
    assert f"/requests/{todays}/approve" in page, "today's ask read as declined by the answer to yesterday's"
    assert answered_rows(page) == ["teen reddit yesterday 21:40 no: it was bedtime"]

    answer(client, app, todays, "approve", {"grant": "15", "passphrase": PASSPHRASE})
    family = flat(client.get("/family").get_data(as_text=True))
    assert "teen asked for more time twice: 1 yes, 1 no." in family


def test_answered_this_week_is_the_reviews_week_and_says_which_day(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    """A user test on a Sunday read "Sun 16:12 no" under "Answered this week" beside today's "Sun 10:33 yes": the first
    was last Sunday's, a day before the review's week, which counted one "no" fewer than the list showed."""
    _yesterdays, todays = two_asks(client, seed)
    answer(client, app, todays, "decline", {"reason": "Not tonight", "passphrase": PASSPHRASE})
    assert answered_rows(requests_page(client)) == ["teen reddit today 19:30 no: Not tonight"]

    six_days_later = NOW + timedelta(days=6)  # Tuesday: the review's 7 days start on Wednesday, this ask's day
    app.config["CLOCK"] = lambda: six_days_later
    assert answered_rows(requests_page(client)) == ["teen reddit Wed 4 Mar, 19:30 no: Not tonight"]
    a_week_later = NOW + timedelta(days=7, hours=-1)  # Wednesday 19:00: within 7 times 24 hours, not the 7 days
    app.config["CLOCK"] = lambda: a_week_later
    assert answered_rows(requests_page(client)) == ["Nothing answered yet."]
