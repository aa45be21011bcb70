"""A user test outside the US: the household never saw or chose its country, so self-harm warnings offered the US's
988. Setup now says which crisis line Breather shows, and the Rules page's household form changes the country: with
the passphrase, at once (a country is neither a loosening nor a tightening), comments kept."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from breather.rules.loader import load_rules
from tests.dashboard.conftest import FAMILY_RULES, PASSPHRASE, flat, form_token, set_passphrase, write_by_hand

IN_THE_UK = FAMILY_RULES.replace('timezone = "UTC"\n', 'timezone = "UTC"\ncountry = "GB"  # we live in Leeds\n')


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return flat(response.get_data(as_text=True))


def _words(page: str) -> str:
    """What a person reads: the page without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def _save_country(client: FlaskClient, country: str, other: str = "", passphrase: str = PASSPHRASE) -> tuple[int, str]:
    form = {
        "csrf_token": form_token(client, "/rules"),
        "country": country,
        "other_country": other,
        "passphrase": passphrase,
    }
    response = client.post("/rules/household", data=form, follow_redirects=True)
    return response.status_code, flat(response.get_data(as_text=True))


def _selected_country(page: str) -> str:
    select = re.search(r'<select id="household-country" name="country"[^>]*>(.*?)</select>', page)
    assert select, "no country field on the Rules page"
    chosen = re.findall(r'<option value="([^"]+)" selected>', select.group(1))
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_setup_says_which_crisis_line_breather_shows_and_where_to_change_it(client: FlaskClient, app: Flask) -> None:
    write_by_hand(app.config["PATHS"].rules_file, IN_THE_UK)
    page = _words(_page(client, "/setup"))
    assert (
        "Crisis lines: Samaritans, 116 123, for the United Kingdom (GB) — change the country on the Rules page" in page
    )
    assert "988" not in page


def test_setup_names_the_us_line_when_the_rules_name_no_country(client: FlaskClient) -> None:
    page = _words(_page(client, "/setup"))
    assert "Crisis lines: 988 Suicide & Crisis Lifeline, 988, for the United States (US)" in page


def test_the_rules_page_shows_the_country_as_a_choice_of_the_countries_breather_has_lines_for(
    client: FlaskClient, app: Flask
) -> None:
    write_by_hand(app.config["PATHS"].rules_file, IN_THE_UK)
    page = _page(client, "/rules")
    assert _selected_country(page) == "GB"
    for country in ("Ireland (IE)", "Canada (CA)", "India (IN)", "New Zealand (NZ)", "United States (US)"):
        assert f"{country}</option>" in page
    assert "Another country (the international directory)" in page
    assert "Self-harm and eating-disorder warnings show: Samaritans, 116 123, for the United Kingdom (GB)" in page


def test_saving_a_country_applies_at_once_and_keeps_the_files_comments(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    write_by_hand(rules_file, IN_THE_UK)
    status, page = _save_country(client, "IE")
    assert status == 200
    said = (
        "Saved. The new rules apply now. Self-harm and eating-disorder warnings now show: Samaritans Ireland, "
        "116 123, for Ireland (IE)."
    )
    # at the form the page opens at (a user test: the answer was at the top, above what the page showed)
    form = page.split('id="household"', 1)[1].split("</form>", 1)[0]
    assert said in form and page.count(said) == 1
    text = rules_file.read_text()
    assert 'country = "IE"  # we live in Leeds' in text and "# Our household" in text
    assert text.replace('"IE"', '"GB"') == IN_THE_UK  # nothing else in the file changed
    assert {profile.country for profile in load_rules(rules_file).profiles.values()} == {"IE"}
    assert _selected_country(_page(client, "/rules")) == "IE"
    assert "Crisis lines: Samaritans Ireland, 116 123, for Ireland (IE)" in _words(_page(client, "/setup"))
    assert "Waiting to take effect" not in _page(client, "/rules")


def test_a_household_without_a_country_line_gets_one(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    status, _ = _save_country(client, "GB")
    assert status == 200
    assert load_rules(rules_file).profiles["teen"].country == "GB"
    assert "Crisis lines: Samaritans, 116 123, for the United Kingdom (GB)" in _page(client, "/setup")


def test_another_country_gets_the_international_directory(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    status, _ = _save_country(client, "other", other="is")
    assert status == 200
    assert load_rules(app.config["PATHS"].rules_file).profiles["parent"].country == "IS"
    rules = _page(client, "/rules")
    assert _selected_country(rules) == "other"
    assert 'name="other_country" value="IS"' in rules
    setup = _words(_page(client, "/setup"))
    assert "Crisis lines: Find A Helpline" in setup and "https://findahelpline.com, for Iceland (IS)" in setup


def test_a_country_that_is_not_one_is_refused_at_the_form_and_nothing_is_written(
    client: FlaskClient, app: Flask
) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    before = rules_file.read_text()
    status, page = _save_country(client, "other", other="UK")
    assert status == 400
    assert 'use "GB" for the United Kingdom' in page
    assert 'name="other_country" value="UK"' in page  # what was typed is still there to fix
    status, page = _save_country(client, "other")
    assert status == 400 and "type its two-letter code" in page
    assert rules_file.read_text() == before


def test_a_country_typed_by_name_is_answered_with_its_code(client: FlaskClient, app: Flask) -> None:
    """A user test typed "Germany" into the code field: it kept two letters, "Ge", and saved Georgia."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    before = rules_file.read_text()
    assert 'maxlength="2"' not in _page(client, "/rules")
    status, page = _save_country(client, "other", other="germany")
    assert status == 400 and 'write "DE" for Germany' in page
    assert rules_file.read_text() == before


def test_saving_the_country_needs_the_household_passphrase(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    write_by_hand(rules_file, IN_THE_UK)
    status, page = _save_country(client, "US", passphrase="not it")
    assert status == 403
    assert "Nothing was saved" in page
    assert rules_file.read_text() == IN_THE_UK
    no_token = client.post("/rules/household", data={"country": "US", "passphrase": PASSPHRASE})
    assert no_token.status_code in (400, 403)
    assert rules_file.read_text() == IN_THE_UK


def test_a_country_change_leaves_a_waiting_loosening_waiting(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file: Path = app.config["PATHS"].rules_file
    form = {
        "csrf_token": form_token(client, "/rules"),
        "text": rules_file.read_text().replace('daily_limit = "45m"', 'daily_limit = "2h"'),
        "action": "save",
        "passphrase": PASSPHRASE,
    }
    assert client.post("/rules", data=form).status_code == 302
    status, _ = _save_country(client, "NZ")
    assert status == 200
    rules = load_rules(rules_file)
    assert rules.profiles["teen"].country == "NZ"  # at once
    assert rules.profiles["teen"].daily_limit == timedelta(minutes=45)  # the loosening still waits
    page = _page(client, "/rules")
    assert "Waiting to take effect" in page and "teen: a bigger daily limit" in page


def test_a_member_with_their_own_country_is_named_as_not_changed(client: FlaskClient, app: Flask) -> None:
    own = IN_THE_UK.replace('[profiles.teen]\nuser = "teen"', '[profiles.teen]\nuser = "teen"\ncountry = "FR"')
    write_by_hand(app.config["PATHS"].rules_file, own)
    page = _page(client, "/rules")
    assert "teen: France (FR), their own (set in the rules file)" in page
    setup = _words(_page(client, "/setup"))
    assert "parent: Samaritans, 116 123, for the United Kingdom (GB)" in setup
    assert "teen: " in setup and "for France (FR)" in setup
