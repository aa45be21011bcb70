"""The History and weekly review pages name each date with its year where a period holds two years, or is not this
year's: read on 2 January, "Tue 29 Dec" was last year's or this December's, and a family reviewing a week over the
new year (or the last 90 days in March) could not tell."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard.conftest import Seeder, flat

SATURDAY_2_JANUARY = datetime(2027, 1, 2, 20, 0, tzinfo=UTC)


def _text(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return flat(answer.get_data(as_text=True))


def _per_day_table(page: str) -> str:
    return page.split('id="per-day-table"', 1)[1].split("</table>", 1)[0]


def test_history_over_the_new_year_gives_last_years_days_their_year(
    app: Flask, client: FlaskClient, seed: Seeder
) -> None:
    app.config["CLOCK"] = lambda: SATURDAY_2_JANUARY
    seed.minutes("parent", "www.youtube.com", datetime(2026, 12, 29, 10, 0, tzinfo=UTC), 20)
    seed.minutes("parent", "www.youtube.com", datetime(2027, 1, 2, 10, 0, tzinfo=UTC), 10)
    seed.send()
    page = _text(client, "/history?days=7")
    assert "Everyone, 27 Dec 2026 – 2 Jan 2027" in page
    table = _per_day_table(page)
    assert "from 29 Dec 2026, the first day with data" in table
    assert '<th scope="row">Tue 29 Dec 2026</th><td class="time">20 min</td>' in table
    assert '<th scope="row">Sat 2 Jan</th><td class="time">10 min</td>' in table  # this year's: no year needed
    chart = page.split('<svg class="chart columns"', 1)[1].split("</svg>", 1)[0]
    assert "<title>Tue 29 Dec 2026: 20 min</title>" in chart  # the hover title names the day as the table does
    assert "<title>Sat 2 Jan: 10 min</title>" in chart


def test_the_last_90_days_in_march_say_which_december(client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", datetime(2025, 12, 10, 17, 0, tzinfo=UTC), 15)  # the tests' clock: 4 Mar
    seed.send()
    page = _text(client, "/history?days=90&member=teen")
    assert "teen, 5 Dec 2025 – 4 Mar 2026" in page
    table = _per_day_table(page)
    assert '<th scope="row">Wed 10 Dec 2025</th><td class="time">15 min</td>' in table
    assert '<th scope="row">Thu 1 Jan</th>' in table


def test_a_period_in_this_year_is_told_as_before(client: FlaskClient) -> None:
    assert "Everyone, 26 Feb – 4 Mar<" in _text(client, "/history?days=7")
    review = _text(client, "/review")
    assert "Our week, 26 Feb – 4 Mar 2026<" in review
    assert "Our goal for the week of Monday 9 March</h2>" in review


def test_the_weekly_review_over_the_new_year_names_both_years(app: Flask, client: FlaskClient) -> None:
    app.config["CLOCK"] = lambda: SATURDAY_2_JANUARY
    assert "Our week, 27 Dec 2026 – 2 Jan 2027" in _text(client, "/review")  # was "27 Dec – 2 Jan 2027"


def test_a_goal_set_in_december_for_the_first_week_of_january_says_the_year(app: Flask, client: FlaskClient) -> None:
    app.config["CLOCK"] = lambda: datetime(2026, 12, 30, 20, 0, tzinfo=UTC)
    review = _text(client, "/review")
    assert "Our week, 24 Dec – 30 Dec 2026" in review
    assert "Our goal for the week of Monday 4 January 2027</h2>" in review
