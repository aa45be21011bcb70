"""The getting-help page (a user test outside the US): numbers as tel:/sms: links, the page a link, "hours not
known" instead of nothing, and the table's date said for what it is; the content-warnings guide says exactly where
a helpline is shown and where it cannot be."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard.test_learn_views import page_text, set_country
from tests.rules.test_crisis import WITH_AN_EATING_DISORDER_LINE


def test_numbers_and_pages_are_links(app: Flask, client: FlaskClient) -> None:
    set_country(app, "GB")
    text = page_text(client, "/learn/getting-help")
    assert '<a href="tel:116123">116 123</a>' in text
    assert '<a href="sms:85258">85258</a>' in text
    assert '<a href="https://www.samaritans.org">https://www.samaritans.org</a>' in text
    assert '<a href="tel:999">999</a>' in text


def test_unknown_hours_are_said(app: Flask, client: FlaskClient) -> None:
    set_country(app, "IT")
    text = page_text(client, "/learn/getting-help")
    assert '<a href="tel:0223272327">02 2327 2327</a></strong> (hours not known)' in text


def test_the_date_is_the_day_the_table_was_compiled_not_a_check(app: Flask, client: FlaskClient) -> None:
    set_country(app, "GB")
    text = page_text(client, "/learn/getting-help")
    assert "checked 2026-11-25" not in text
    assert "From the service's own page, as compiled on 2026-11-25; numbers change: check the service's site" in text


def test_the_promise_says_where_the_helpline_is_shown_and_where_not(client: FlaskClient) -> None:
    text = page_text(client, "/learn/content-warnings")
    assert "content warning of Mastodon posts" in text
    assert "X, Bluesky and YouTube" in text and "no helpline appears there" in text


def test_a_countrys_eating_disorder_line_is_listed_after_its_crisis_line(
    app: Flask, client: FlaskClient, breather_home: Path
) -> None:
    (breather_home / "config" / "crisis_lines.toml").write_text(WITH_AN_EATING_DISORDER_LINE, encoding="utf-8")
    set_country(app, "GB")
    text = page_text(client, "/learn/getting-help")
    crisis = text.index("United Kingdom: Samaritans</h3>")
    eating = text.index("United Kingdom: An eating-disorder line (eating disorders)</h3>")
    assert crisis < eating
    assert '<a href="tel:0800123456">0800 123 456</a>' in text[eating:]
    assert text.count('<a href="tel:999">999</a>') == 1  # the emergency number once, with the crisis line
