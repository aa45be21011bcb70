"""The Learn pages through Flask's test client: the list, one guide, getting help for the household, 404s."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard.learn import guide, guides
from breather.rules.crisis import crisis_line, shipped_table


def page_text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def set_country(app: Flask, country: str) -> None:
    rules_file = Path(app.config["PATHS"].rules_file)
    text = rules_file.read_text(encoding="utf-8")
    rules_file.write_text(text.replace('timezone = "UTC"', f'timezone = "UTC"\ncountry = "{country}"'), "utf-8")


def test_the_list_shows_every_guide_with_a_link_to_it(client: FlaskClient) -> None:
    text = page_text(client, "/learn")
    for item in guides():
        assert item.title in text
        assert item.summary in text
        assert f'href="/learn/{item.slug}"' in text


def test_a_guide_page_shows_its_sections_in_order(client: FlaskClient) -> None:
    boundaries = guide("boundaries")
    assert boundaries is not None
    text = page_text(client, "/learn/boundaries")
    assert f'<h1 id="guide-title">{boundaries.title}</h1>' in text
    positions = [text.index(section.heading) for section in boundaries.sections]
    assert positions == sorted(positions)
    for section in boundaries.sections:
        for line in (*section.paragraphs, *section.points):
            assert line in text
    assert "Someone to talk to" not in text, "only the getting-help guide carries the crisis box"


def test_getting_help_shows_the_crisis_line_for_the_households_country(app: Flask, client: FlaskClient) -> None:
    set_country(app, "GB")
    text = page_text(client, "/learn/getting-help")
    samaritans = crisis_line("GB")
    assert f"{samaritans.country}: {samaritans.service}" in text
    assert samaritans.phone in text
    assert crisis_line("US").service not in text


def test_getting_help_lists_each_members_country_the_default_members_first(app: Flask, client: FlaskClient) -> None:
    rules_file = Path(app.config["PATHS"].rules_file)
    text = rules_file.read_text(encoding="utf-8")
    rules_file.write_text(text.replace('password = "teen-proxy-pass"', 'password = "teen-proxy-pass"\ncountry = "GB"'))
    set_country(app, "US")
    page = page_text(client, "/learn/getting-help")
    assert re.findall(r'data-country="([A-Z]+)"', page) == ["US", "GB"]


def test_a_broken_crisis_override_is_named_and_the_shipped_line_still_shown(app: Flask, client: FlaskClient) -> None:
    set_country(app, "GB")
    override = Path(app.config["PATHS"].config_dir) / "crisis_lines.toml"
    override.write_text('[GB]\nservice = ""\n', encoding="utf-8")
    text = page_text(client, "/learn/getting-help")
    assert shipped_table()["GB"].phone in text
    assert f"{override}: [GB]: missing service" in text


def test_an_unknown_guide_is_a_404_page_that_says_so(client: FlaskClient) -> None:
    response = client.get("/learn/no-such-guide")
    assert response.status_code == 404
    text = html.unescape(response.get_data(as_text=True))
    assert "There is no guide called 'no-such-guide'" in text
    assert 'href="/learn"' in text


def test_learn_is_in_the_navigation_of_every_page_and_marked_current_on_guides(client: FlaskClient) -> None:
    nav = re.compile(r'<nav aria-label="Pages">.*?</nav>', re.DOTALL)
    for path in ("/", "/family", "/setup"):
        found = nav.search(page_text(client, path))
        assert found and '<a href="/learn">Learn</a>' in found.group(0), path
    guide_nav = nav.search(page_text(client, "/learn/content-warnings"))
    assert guide_nav and '<a href="/learn" aria-current="page">Learn</a>' in guide_nav.group(0)


def test_the_weekly_review_links_to_the_guides(client: FlaskClient) -> None:
    text = page_text(client, "/review")
    assert 'href="/learn/boundaries"' in text
    assert 'href="/learn"' in text
