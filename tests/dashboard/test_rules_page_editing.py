"""Editing the rules on the Rules page, as a review found it going wrong: the person's comments and tables kept, a
form left open never undoing a hand edit, a site group with no domains previewed, the preview saying what will be
in force after the save, and a setting added by a form landing with the profile's own settings."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.rules.decisions import decide
from breather.rules.loader import first_run_rules_text, load_rules
from tests.dashboard.conftest import (
    NOW,
    PASSPHRASE,
    Seeder,
    dashboard_app,
    flat,
    form_token,
    member_form,
    set_passphrase,
    write_by_hand,
)

# The file a person starts from, with every comment that explains it.
FIRST_RUN = first_run_rules_text(zone="UTC", environ={})


@pytest.fixture
def app(breather_home: Path) -> Iterator[Flask]:
    rules_file = breather_home / "config" / "rules.toml"
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    rules_file.write_text(FIRST_RUN, encoding="utf-8")
    yield from dashboard_app(breather_home)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    set_passphrase(app.test_client())
    return app.test_client()


def at(app: Flask, moment: timedelta) -> None:
    app.config["CLOCK"] = lambda: NOW + moment


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def post_member(client: FlaskClient, action: str = "save", **changes: str) -> str:
    form = member_form(client.get("/rules").get_data(as_text=True), "me")
    response = client.post("/rules", data=form | changes | {"action": action, "passphrase": PASSPHRASE})
    return flat(response.get_data(as_text=True))


def preview_lines(page: str) -> str:
    found = re.search(r'<ul id="preview">.*?</ul>', page, re.S)
    assert found, "no preview on the page"
    return flat(re.sub(r"<[^>]+>", " ", found.group(0)))


def test_moving_quiet_hours_earlier_keeps_the_table_and_its_comments_now_and_when_the_held_hour_comes_due(
    client: FlaskClient, app: Flask
) -> None:
    """23:00-07:00 → 21:00-06:00: the evening applies at once and the morning hour waits. The file written at once
    lost the comments under [profiles.me.quiet_hours] and became a seven-day inline table."""
    rules_file = app.config["PATHS"].rules_file
    post_member(client, quiet_hours="daily = 21:00-06:00")
    assert changed_lines(FIRST_RUN, rules_file.read_text()) == ['-daily = "23:00-07:00"', '+daily = "21:00-07:00"']
    at(app, timedelta(days=1, minutes=5))
    client.get("/rules")  # a change come due is written when the page is opened
    assert changed_lines(FIRST_RUN, rules_file.read_text()) == ['-daily = "23:00-07:00"', '+daily = "21:00-06:00"']


def test_a_member_form_left_open_does_not_undo_a_hand_edit_made_meanwhile(client: FlaskClient, app: Flask) -> None:
    """The form showed the words "spoiler"; "election" was added by hand; the open form then added "finale". The
    save dropped "election" as the person's own loosening, and removed it a day later."""
    rules_file = app.config["PATHS"].rules_file
    rules_file.write_text(FIRST_RUN.replace('# keywords = ["spoiler", "election"]', 'keywords = ["spoiler"]'))
    form = member_form(client.get("/rules").get_data(as_text=True), "me")
    by_hand = rules_file.read_text().replace('keywords = ["spoiler"]', 'keywords = ["spoiler", "election"]')
    write_by_hand(rules_file, by_hand)
    response = client.post(
        "/rules", data=form | {"keywords": "spoiler, finale", "action": "save", "passphrase": PASSPHRASE}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "me's own words to warn about changed in the rules file after this page showed the form" in flat(page)
    assert member_form(page, "me")["keywords"] == "spoiler, finale"  # what was typed, still there
    assert rules_file.read_text() == by_hand
    at(app, timedelta(days=1, minutes=5))
    client.get("/rules")
    assert load_rules(rules_file).profiles["me"].keywords == ("spoiler", "election")


def test_after_a_stale_form_is_refused_saving_it_again_writes_what_was_typed(client: FlaskClient, app: Flask) -> None:
    """The refused page shows the form against the file as it is now: a second save is the person's own choice, not
    refused again and again until the page is reopened."""
    rules_file = app.config["PATHS"].rules_file
    rules_file.write_text(FIRST_RUN.replace('# keywords = ["spoiler", "election"]', 'keywords = ["spoiler"]'))
    form = member_form(client.get("/rules").get_data(as_text=True), "me")
    write_by_hand(rules_file, rules_file.read_text().replace('keywords = ["spoiler"]', 'keywords = ["spoiler", "war"]'))
    typed = {"keywords": "spoiler, war, finale", "action": "save", "passphrase": PASSPHRASE}
    refused = client.post("/rules", data=form | typed)
    assert refused.status_code == 409
    again = client.post("/rules", data=member_form(refused.get_data(as_text=True), "me") | typed)
    assert again.status_code == 302
    assert load_rules(rules_file).profiles["me"].keywords == ("spoiler", "war", "finale")  # a tightening: at once


def test_a_site_group_with_no_domains_can_be_previewed_and_its_limit_is_said_to_never_apply(
    client: FlaskClient, app: Flask
) -> None:
    """`domains = []` loads, and Preview and Dry run then failed with a server error."""
    rules_file = app.config["PATHS"].rules_file
    text = FIRST_RUN.replace('domains = ["news.ycombinator.com"]', "domains = []").replace(
        '# reddit = "30m"', 'hackernews = "20m"'
    )
    for action in ("preview", "dry_run"):
        form = {"csrf_token": form_token(client, "/rules"), "text": text, "action": action}
        response = client.post("/rules", data=form)
        assert response.status_code == 200, action
        said = preview_lines(response.get_data(as_text=True))
        assert "The site group hackernews lists no domains" in said and "a limit on hackernews never applies" in said
    write_by_hand(rules_file, text)
    page = flat(client.get("/rules").get_data(as_text=True))
    assert "The limit on hackernews never applies: the site group hackernews lists no domains" in page


def test_the_preview_says_what_the_proxy_will_do_once_a_partly_held_edit_is_saved(
    client: FlaskClient, app: Flask
) -> None:
    """At 22:30, 23:00-07:00 → 22:00-06:00: the preview said quiet "until 06:00", though the morning hour is held
    and the proxy keeps quiet hours until 07:00."""
    at(app, timedelta(hours=2, minutes=30))
    page = post_member(client, "preview", quiet_hours="daily = 22:00-06:00")
    said = preview_lines(page)
    assert "me on reddit: allow → Quiet hours for me" in said and "(until 07:00" in said, said
    assert "me: quiet hours every day 23:00–07:00 → every day 22:00–06:00 (every day 22:00–07:00 until" in said
    assert "Saved, what this tightens applies now. What it loosens (me: shorter quiet hours) waits 24 hours" in page
    post_member(client, quiet_hours="daily = 22:00-06:00")
    in_force = decide(load_rules(app.config["PATHS"].rules_file), "me", "reddit.com", NOW + timedelta(hours=2.5))
    assert "until 07:00" in in_force.reason


def test_the_preview_of_a_held_loosening_does_not_say_allowed_right_now(client: FlaskClient, app: Flask) -> None:
    """1h10m used of a 1h limit, raised to 2h: the preview said "limit reached → Allowed" on every site, though the
    save holds the raise for a day and the proxy keeps blocking."""
    seeder = Seeder(app.config["DATABASE"])
    seeder.minutes("me", "www.reddit.com", NOW.replace(hour=17), 70)
    seeder.close()
    page = post_member(client, "preview", daily_limit="2h")
    said = preview_lines(page)
    assert "Allowed" not in said, said
    assert "me: daily limit 1h → 2h (1h until the cooling-off delay is over)" in said
    assert "Saved, it takes effect after the cooling-off delay (24 hours)" in page


def test_keywords_added_from_the_form_sit_with_the_profiles_own_settings(client: FlaskClient, app: Flask) -> None:
    """They landed under the comment introducing [profiles.me.warnings], below the file's "Put a setting of the
    profile itself above this point" line."""
    rules_file = app.config["PATHS"].rules_file
    post_member(client, keywords="spoiler")
    assert changed_lines(FIRST_RUN, rules_file.read_text()) == ['+keywords = ["spoiler"]']
    lines = rules_file.read_text().splitlines()
    assert lines[lines.index('keywords = ["spoiler"]') - 1] == 'friction_delay = "10s"'


def test_quotes_typed_around_own_words_are_not_part_of_them(client: FlaskClient, app: Flask) -> None:
    """A user test typed `layoffs, "Jordan Pike",`: the file got "Jordan Pike" with its quotes as a word of its own,
    which no post contains, and the warning sentence then read (removing ""Jordan Pike"")."""
    rules_file = app.config["PATHS"].rules_file
    post_member(client, keywords='layoffs, "Jordan Pike", \u2018brexit\u2019,')
    assert load_rules(rules_file).profiles["me"].keywords == ("layoffs", "Jordan Pike", "brexit")
    post_member(client, topics='news: "layoffs", \u201claid off\u201d')
    assert load_rules(rules_file).profiles["me"].topics["news"] == ("layoffs", "laid off")


def test_a_hand_save_landing_while_the_page_writes_the_file_is_kept_and_the_page_says_so(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page checks the file, then writes its copy and waits for the disk: a save from the person's editor in
    that moment was replaced by the page's, which said "Saved"."""
    rules_file = app.config["PATHS"].rules_file
    form = member_form(client.get("/rules").get_data(as_text=True), "me")
    by_hand = FIRST_RUN.replace('break_after = "25m"', 'break_after = "15m"')
    real_fsync = os.fsync

    def editor_saves_while_the_disk_is_busy(descriptor: int) -> None:
        real_fsync(descriptor)
        if rules_file.read_text() != by_hand:
            rules_file.write_text(by_hand)

    monkeypatch.setattr(os, "fsync", editor_saves_while_the_disk_is_busy)
    response = client.post("/rules", data=form | {"daily_limit": "50m", "action": "save", "passphrase": PASSPHRASE})
    assert response.status_code == 409
    assert rules_file.read_text() == by_hand


def test_the_preview_of_a_limit_on_a_domain_counts_the_minutes_already_spent_there(
    client: FlaskClient, app: Flask, seed: Seeder
) -> None:
    """A limit keyed by a domain (docs/rules.md) closes the site at once after 20 minutes on old.reddit.com; the
    preview counted 0 minutes against it and said only that the setting changes."""
    seed.minutes("me", "old.reddit.com", NOW - timedelta(minutes=30), 20)
    seed.send()
    edited = FIRST_RUN.replace('# reddit = "30m"', '"reddit.com" = "10m"')
    page = client.post("/rules", data={"csrf_token": form_token(client, "/rules"), "text": edited, "action": "preview"})
    said = preview_lines(page.get_data(as_text=True))
    assert "me on reddit: allow → Daily limit for me on reddit.com: 20" in said, said


def test_a_daily_limit_of_25_hours_is_refused_on_the_page_with_the_reason(client: FlaskClient, app: Flask) -> None:
    """A user test set a child's limit to "25h" and was told it would take effect the next day."""
    rules_file = app.config["PATHS"].rules_file
    page = post_member(client, daily_limit="25h")
    assert '<code>profiles.me.daily_limit</code>: a day has 24 hours, so "25h" is never reached' in page, page
    assert "Saved" not in page
    assert rules_file.read_text() == FIRST_RUN


def test_an_emptied_daily_limit_is_not_saved_as_nothing_and_says_how_to_lift_it(
    client: FlaskClient, app: Flask
) -> None:
    """A user test cleared a child's daily limit, meaning "no limit", and read "Saved. The new rules apply now." over a
    form back at 1h: an empty field had been taken as "leave it"."""
    rules_file = app.config["PATHS"].rules_file
    page = post_member(client, daily_limit="")
    assert "Saved" not in page
    assert 'daily limit: the field is empty. Write "off" for no limit, or a duration like "1h"' in page, page
    assert rules_file.read_text() == FIRST_RUN
