"""The Rules page's member form edits named own topics, one a line (``politics: election, senat*``), writing only
the topics that changed: adding a phrase applies at once, taking one away waits for the cooling-off."""

from __future__ import annotations

import difflib
import html
import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from breather.rules.loader import load_rules
from tests.dashboard.conftest import (
    FAMILY_RULES,
    NOW,
    PASSPHRASE,
    flat,
    form_token,
    member_form,
    set_passphrase,
    write_by_hand,
)

WITH_TOPICS = FAMILY_RULES.replace(
    '[profiles.teen]\nuser = "teen"', '[profiles.teen]\ninherits = "parent"\nuser = "teen"'
) + (
    """
[profiles.parent.topics]
politics = ["election", "senat*"]  # the news before bed
"""
)


def _topics_field(page: str, member: str) -> str:
    found = re.search(rf'<textarea id="{member}-topics" name="topics"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no topics field for {member}"
    return html.unescape(found.group(1)).removeprefix("\n")


def _added_lines(before: str, after: str) -> list[str]:
    """What an edit added, line by line; fails when it also took a line away (a comment, a value)."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [line for line in diff if line.startswith("- ")], "\n".join(diff)
    return [line[2:] for line in diff if line.startswith("+ ") and line[2:].strip()]


def _rules_file(client: FlaskClient, app: Flask) -> Path:
    set_passphrase(client)
    rules_file: Path = app.config["PATHS"].rules_file
    write_by_hand(rules_file, WITH_TOPICS)
    return rules_file


def _save(client: FlaskClient, member: str, topics: str) -> str:
    form = member_form(client.get("/rules").get_data(as_text=True), member)
    form |= {"topics": topics, "action": "save", "passphrase": PASSPHRASE}
    return flat(client.post("/rules", data=form, follow_redirects=True).get_data(as_text=True))


def test_the_form_shows_a_members_topics_inherited_ones_included(client: FlaskClient, app: Flask) -> None:
    _rules_file(client, app)
    page = client.get("/rules").get_data(as_text=True)
    assert _topics_field(page, "parent") == "politics: election, senat*"
    assert _topics_field(page, "teen") == "politics: election, senat*"


def test_adding_a_topic_writes_only_that_topic_and_applies_at_once(client: FlaskClient, app: Flask) -> None:
    rules_file = _rules_file(client, app)
    page = _save(client, "teen", "politics: election, senat*\nbaby news: pregnan*, due date")
    assert "Saved. The new rules apply now." in page
    assert _added_lines(WITH_TOPICS, rules_file.read_text()) == [
        "[profiles.teen.topics]",
        '"baby news" = ["pregnan*", "due date"]',
    ]
    teen = load_rules(rules_file).profiles["teen"]
    assert teen.topics == {"politics": ("election", "senat*"), "baby news": ("pregnan*", "due date")}
    shown = client.get("/rules").get_data(as_text=True)
    assert _topics_field(shown, "teen") == "politics: election, senat*\nbaby news: pregnan*, due date"


def test_a_phrase_added_to_a_members_own_topic_keeps_the_comment_beside_it(client: FlaskClient, app: Flask) -> None:
    rules_file = _rules_file(client, app)
    _save(client, "parent", "politics: election, senat*, ballot*")
    assert 'politics = ["election", "senat*", "ballot*"]  # the news before bed' in rules_file.read_text()
    assert load_rules(rules_file).profiles["teen"].topics["politics"] == ("election", "senat*", "ballot*")


def test_taking_away_an_inherited_topic_waits_and_then_drops_it_for_that_member_only(
    client: FlaskClient, app: Flask
) -> None:
    rules_file = _rules_file(client, app)
    page = _save(client, "teen", "")
    assert "This loosens a boundary (teen: fewer words in the topic politics), so it waits 24 hours" in page
    assert load_rules(rules_file).profiles["teen"].topics["politics"] == ("election", "senat*")  # held
    assert 'teen\'s topic politics (removing "election")' in flat(client.get("/rules").get_data(as_text=True))
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=25)
    client.get("/rules")
    rules = load_rules(rules_file)
    assert rules.profiles["teen"].topics == {"politics": ()}  # `politics = []`: the parent's stays the parent's
    assert rules.profiles["parent"].topics == {"politics": ("election", "senat*")}
    assert _topics_field(client.get("/rules").get_data(as_text=True), "teen") == ""


def test_a_topics_line_that_does_not_read_is_refused_and_what_was_typed_stays(client: FlaskClient, app: Flask) -> None:
    rules_file = _rules_file(client, app)
    form = {"csrf_token": form_token(client, "/rules"), "profile": "teen", "action": "save", "passphrase": PASSPHRASE}
    response = client.post("/rules", data=form | {"topics": "politics election"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "own topics, line 1: write it as 'name: phrase, phrase'" in flat(page)
    assert _topics_field(page, "teen") == "politics election"
    assert rules_file.read_text() == WITH_TOPICS


def test_a_bad_topic_name_typed_in_the_form_is_shown_as_a_problem(client: FlaskClient, app: Flask) -> None:
    rules_file = _rules_file(client, app)
    form = {"csrf_token": form_token(client, "/rules"), "profile": "teen", "action": "preview"}
    response = client.post("/rules", data=form | {"topics": "politics: election, senat*\ntv$: television"})
    assert response.status_code == 422
    assert "own topics, line 2: topic name \"tv$\" has '$'" in flat(response.get_data(as_text=True))  # as typed
    assert rules_file.read_text() == WITH_TOPICS
