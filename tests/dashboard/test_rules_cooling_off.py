"""The Rules page's cooling-off, as a user test met it: what an edit tightens applies at once and what it loosens
waits, whichever way it was saved, and no held edit is lost or undone without a word."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.paths import Paths
from breather.rules.loader import load_rules
from breather.runtime import Runtime
from tests.dashboard.conftest import (
    FAMILY_RULES,
    NOW,
    PASSPHRASE,
    TEST_SCRYPT,
    FormReader,
    flat,
    form_token,
    member_form,
    service_watcher,
    set_passphrase,
    write_by_hand,
)


def _save_text(client: FlaskClient, text: str, **extra: str) -> str:
    form = {"csrf_token": form_token(client, "/rules"), "text": text, "action": "save", "passphrase": PASSPHRASE}
    return flat(client.post("/rules", data=form | extra, follow_redirects=True).get_data(as_text=True))


def _later(app: Flask, hours: float) -> None:
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=hours)


# --- 1. An edit that tightens one thing and loosens another ---------------------------------------------------------


def test_what_a_save_tightens_applies_now_and_what_it_loosens_waits(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    asked = (
        rules_file.read_text()
        .replace('daily_limit = "45m"', 'daily_limit = "1h"')
        .replace('reddit = "30m"', 'reddit = "10m"')
    )
    page = _save_text(client, asked)
    assert "What it loosens (teen: a bigger daily limit) waits 24 hours" in page
    now = load_rules(rules_file)
    assert now.profiles["parent"].limits["reddit"] == timedelta(minutes=10)  # tightening: at once
    assert now.profiles["teen"].daily_limit == timedelta(minutes=45)  # loosening: held
    _later(app, 25)
    client.get("/rules")
    assert rules_file.read_text() == asked  # once due, the file is what was asked for


def test_saving_another_time_zone_says_it_waits_and_keeps_the_old_one(client: FlaskClient, app: Flask) -> None:
    """Moving the household's zone can end quiet hours at once, so it is held; the save said "apply now"."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    before = load_rules(rules_file).zone()
    text = rules_file.read_text()
    asked = text.replace(f'timezone = "{before}"', 'timezone = "Pacific/Kiritimati"')
    assert asked != text, "the test's rules name their zone"
    page = _save_text(client, asked)
    assert f"a different time zone ({before} → Pacific/Kiritimati)" in page and "waits 24 hours" in page
    assert str(load_rules(rules_file).zone()) == str(before)


def test_a_save_that_lengthens_the_cooling_off_makes_its_loosening_wait_the_longer_delay(
    client: FlaskClient, app: Flask
) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    text = rules_file.read_text()
    assert 'cooling_off = "24h"' in text
    asked = text.replace('cooling_off = "24h"', 'cooling_off = "48h"').replace(
        'daily_limit = "45m"', 'daily_limit = "1h"'
    )
    page = _save_text(client, asked)
    assert "What it loosens (teen: a bigger daily limit) waits 48 hours" in page  # as the service will count it
    _later(app, 25)
    client.get("/rules")
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(minutes=45)
    _later(app, 49)
    client.get("/rules")
    assert rules_file.read_text() == asked


class Served(NamedTuple):
    client: FlaskClient
    watcher: Any
    rules_file: Path
    clock: list[datetime]


@pytest.fixture
def served(breather_home: Path) -> Iterator[Served]:
    """The dashboard under a service whose rules watcher holds hand loosenings, on the clock ``clock[0]``."""

    clock = [NOW]
    paths = Paths.resolve(str(breather_home)).ensure()
    paths.rules_file.write_text(FAMILY_RULES)
    watcher = service_watcher(paths, clock)
    runtime = Runtime(paths=paths, settings={"listen_host": "127.0.0.1"}, rules=watcher)
    app = create_app(
        {"TESTING": True, "CLOCK": lambda: clock[0], "SCRYPT_COST": TEST_SCRYPT, "WRITER_FLUSH_MS": 10}, runtime=runtime
    )
    client = app.test_client()
    set_passphrase(client)
    yield Served(client, watcher, paths.rules_file, clock)
    context.close_own_writer(app)


def test_a_tightening_save_is_not_held_for_a_loosening_the_file_already_had(served: Served) -> None:
    """A hand loosening the service holds is still in the file; a form save that only tightens must not wait."""
    client, watcher, rules_file, _ = served
    write_by_hand(rules_file, rules_file.read_text().replace('daily_limit = "1h"', 'daily_limit = "2h"'))
    watcher.reload()
    assert watcher.held  # the parent's bigger limit waits
    form = {"profile": "teen", "daily_limit": "30m", "action": "save", "passphrase": PASSPHRASE}
    page = flat(
        client.post(
            "/rules", data={"csrf_token": form_token(client, "/rules"), **form}, follow_redirects=True
        ).get_data(as_text=True)
    )
    assert "Saved. The new rules apply now." in page
    watcher.reload()
    assert watcher.current.profiles["teen"].daily_limit == timedelta(minutes=30)
    assert watcher.current.profiles["parent"].daily_limit == timedelta(hours=1)  # still held, by the service
    assert load_rules(rules_file).profiles["parent"].daily_limit == timedelta(hours=2)


def test_the_preview_names_only_what_this_edit_loosens(served: Served) -> None:
    """A user test changed only a reddit limit and the preview said "This loosens: me: a bigger limit on reddit; me:
    shorter quiet hours": the quiet hours were a hand edit already waiting, not this edit's."""
    client, watcher, rules_file, _ = served
    write_by_hand(rules_file, rules_file.read_text().replace('daily_limit = "1h"', 'daily_limit = "2h"'))
    watcher.reload()
    assert watcher.held  # the parent's bigger limit waits
    form = member_form(client.get("/rules").get_data(as_text=True), "teen") | {"daily_limit": "1h"}
    page = flat(client.post("/rules", data=form | {"action": "preview"}).get_data(as_text=True))
    assert "This loosens: teen: a bigger daily limit." in page, page[page.find("preview-waits") - 20 :][:300]


# --- 2. Saving a member's form while a hand edit of theirs is held -------------------------------------------------


def test_saving_a_members_form_keeps_their_held_hand_edit(served: Served) -> None:
    client, watcher, rules_file, _ = served
    text = rules_file.read_text().replace('daily_limit = "45m"', 'daily_limit = "2h"\nbreak_length = "3m"')
    write_by_hand(rules_file, text)
    watcher.reload()
    page = client.get("/rules").get_data(as_text=True)
    assert "changes to 2h at 20:00 tomorrow (45m until then)" in flat(page)
    form = member_form(page, "teen")
    assert form["daily_limit"] == "2h" and form["break_length"] == "3m"  # what the file asks for
    form |= {"keywords": "diet", "action": "save", "passphrase": PASSPHRASE}
    client.post("/rules", data=form)
    saved = load_rules(rules_file).profiles["teen"]
    assert saved.keywords == ("diet",)
    assert (saved.daily_limit, saved.break_length) == (timedelta(hours=2), timedelta(minutes=3))  # still asked for
    watcher.reload()
    assert watcher.current.profiles["teen"].daily_limit == timedelta(minutes=45)  # and still held


def test_a_field_nobody_touched_is_not_written_over_a_hand_edit_made_meanwhile(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    form = member_form(client.get("/rules").get_data(as_text=True), "teen")
    write_by_hand(rules_file, rules_file.read_text().replace('daily_limit = "45m"', 'daily_limit = "30m"'))
    client.post("/rules", data=form | {"keywords": "diet", "action": "save", "passphrase": PASSPHRASE})
    saved = load_rules(rules_file).profiles["teen"]
    assert (saved.keywords, saved.daily_limit) == (("diet",), timedelta(minutes=30))


# --- 3. Two saves on the Rules page, one after the other ------------------------------------------------------------


def _save_form(client: FlaskClient, member: str, **fields: str) -> str:
    form = {"csrf_token": form_token(client, "/rules"), "profile": member, "action": "save", "passphrase": PASSPHRASE}
    return flat(client.post("/rules", data=form | fields, follow_redirects=True).get_data(as_text=True))


def test_a_second_save_builds_on_a_loosening_still_waiting(client: FlaskClient, app: Flask) -> None:
    """Two loosenings saved an hour apart each wait their own 24 hours, and the second neither undoes nor hurries
    the first."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    _save_form(client, "teen", daily_limit="2h")
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(minutes=45)  # held
    _later(app, 1)
    _save_form(client, "parent", break_after="40m")
    _later(app, 23)
    client.get("/rules")
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(minutes=45)  # still held before 24 h
    _later(app, 24.5)  # the first is due, the second not yet
    client.get("/rules")
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(hours=2)
    assert load_rules(rules_file).profiles["parent"].break_after == timedelta(minutes=25)
    _later(app, 25.5)
    page = flat(client.get("/rules").get_data(as_text=True))
    rules = load_rules(rules_file)
    assert rules.profiles["teen"].daily_limit == timedelta(hours=2)  # the first was not undone
    assert rules.profiles["parent"].break_after == timedelta(minutes=40)  # nor the second lost
    assert "Not applied" not in page


def test_a_later_save_of_the_same_setting_wins_and_says_what_it_dropped(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    _save_form(client, "teen", daily_limit="2h", break_after="30m")
    page = _save_form(client, "teen", daily_limit="40m")
    assert "This edit changes again what an earlier waiting change asked for (teen: a bigger daily limit)" in page
    _later(app, 25)
    client.get("/rules")
    rules = load_rules(rules_file)
    assert rules.profiles["teen"].daily_limit == timedelta(minutes=40)
    assert rules.profiles["teen"].break_after == timedelta(minutes=30)  # the rest of the first still applies


def test_a_later_loosening_of_the_same_setting_wins_over_one_still_waiting(client: FlaskClient, app: Flask) -> None:
    """A user test: two saves that both loosened the same setting (an own-words list, then a corrected one) both
    waited; the first came in when due and the second was dropped as "replaced" by it, the opposite of "the later
    edit wins". The page says so at the second save, and a setting the second left alone still comes in."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    first = _save_form(client, "teen", daily_limit="2h", break_after="30m")
    # said as every held change is said (a user test met "on Monday at 20:00", "20:00 tomorrow" and "Mon 30 Nov")
    assert "so it waits 24 hours and takes effect at 20:00 tomorrow." in first
    page = _save_form(client, "teen", daily_limit="1h")
    assert "This edit changes again what an earlier waiting change asked for (teen: a bigger daily limit)" in page
    _later(app, 25)
    page = flat(client.get("/rules").get_data(as_text=True))
    rules = load_rules(rules_file)
    assert rules.profiles["teen"].daily_limit == timedelta(hours=1)
    assert rules.profiles["teen"].break_after == timedelta(minutes=30)  # the rest of the first still applies
    assert "Not applied" not in page


# --- 4. A dashboard change applied long ago is not a pass for the same text put back by hand ------------------------


def test_only_a_change_still_waiting_counts_as_asked_for_on_the_rules_page(client: FlaskClient, app: Flask) -> None:
    from breather.dashboard.db import get_db
    from breather.pending_rules import asked_on_the_page

    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    _save_form(client, "teen", daily_limit="2h")
    with app.app_context():
        asked = get_db().execute("select text from pending_rule_changes").fetchone()[0]
        assert asked_on_the_page(get_db(), asked, NOW) == NOW  # waiting: the service must not hold it twice
    _later(app, 25)
    client.get("/rules")
    assert rules_file.read_text() == asked
    with app.app_context():
        assert asked_on_the_page(get_db(), asked, NOW + timedelta(hours=25)) == NOW  # just written: still the page's
        # applied a while ago: put back by hand later, it waits again
        assert asked_on_the_page(get_db(), asked, NOW + timedelta(hours=25, minutes=10)) is None


# --- 5. The raw editor and a hand edit made while the page was open ------------------------------------------------


def _editor(page: str) -> tuple[str, dict[str, str]]:
    reader = FormReader()
    reader.feed(page)
    form = next(form for form in reader.forms if "text" in form)
    return form["text"].removeprefix("\n"), form


def test_the_raw_editor_does_not_undo_a_hand_edit_made_while_it_was_open(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    text, form = _editor(client.get("/rules").get_data(as_text=True))
    by_hand = rules_file.read_text().replace('daily_limit = "45m"', 'daily_limit = "30m"')
    write_by_hand(rules_file, by_hand)
    typed = text.replace('break_after = "25m"', 'break_after = "20m"')
    response = client.post("/rules", data=form | {"text": typed, "action": "save", "passphrase": PASSPHRASE})
    assert response.status_code == 409
    assert rules_file.read_text() == by_hand
    page = response.get_data(as_text=True)
    assert "the rules file was changed after this page showed it" in flat(page)
    shown, again = _editor(page)
    assert shown == typed  # what was typed is kept
    client.post("/rules", data=again | {"action": "save", "passphrase": PASSPHRASE})  # saving again, knowingly
    assert load_rules(rules_file).profiles["parent"].break_after == timedelta(minutes=20)


def test_the_raw_editor_saves_when_the_file_is_as_it_showed(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    text, form = _editor(client.get("/rules").get_data(as_text=True))
    typed = text.replace('break_after = "25m"', 'break_after = "20m"')
    previewed = client.post("/rules", data=form | {"text": typed, "action": "preview"}).get_data(as_text=True)
    _, form = _editor(previewed)
    assert client.post("/rules", data=form | {"action": "save", "passphrase": PASSPHRASE}).status_code == 302
    assert load_rules(rules_file).profiles["parent"].break_after == timedelta(minutes=20)


# --- 6. A limit of 0m ------------------------------------------------------------------------------------------------


def test_a_zero_limit_reads_0m_and_can_be_turned_off(client: FlaskClient, app: Flask) -> None:
    """A limit of 0m is a tightening (at once) and shows as 0m, not as no limit; turning it off loosens, so the 0m
    holds for the whole cooling-off."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    _save_form(client, "teen", daily_limit="0m")
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(0)
    form = member_form(client.get("/rules").get_data(as_text=True), "teen")
    assert form["daily_limit"] == "0m"
    client.post("/rules", data=form | {"daily_limit": "off", "action": "save", "passphrase": PASSPHRASE})
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(0)  # held
    _later(app, 23)
    client.get("/rules")
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(0)  # still held before 24 h
    _later(app, 25)
    client.get("/rules")
    assert load_rules(rules_file).profiles["teen"].daily_limit is None


def test_the_preview_says_0m_not_none(client: FlaskClient, app: Flask) -> None:
    form = {"csrf_token": form_token(client, "/rules"), "profile": "teen", "daily_limit": "0m", "action": "preview"}
    page = flat(client.post("/rules", data=form).get_data(as_text=True))
    assert "teen: daily limit 45m → 0m" in page


# --- 7. Every page lists what the Rules page holds, on the household's clock ----------------------------------------


def test_every_page_lists_a_change_the_rules_page_holds(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    _save_form(client, "teen", daily_limit="2h")
    page = flat(client.get("/family").get_data(as_text=True))
    assert "teen's daily limit (45m → 2h) takes effect at 20:00 tomorrow" in page


def test_the_waiting_list_uses_the_households_clock(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    write_by_hand(rules_file, rules_file.read_text().replace('timezone = "UTC"', 'timezone = "Europe/Paris"'))
    _save_form(client, "teen", daily_limit="2h")
    page = flat(client.get("/rules").get_data(as_text=True))
    assert "Thu 5 Mar 21:00" in page and "UTC" not in page.split("Waiting to take effect")[1][:200]


def test_a_form_previewed_then_saved_from_the_preview_page_writes_the_change(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    form = member_form(client.get("/rules").get_data(as_text=True), "teen")
    previewed = client.post("/rules", data=form | {"daily_limit": "30m", "action": "preview"}).get_data(as_text=True)
    again = member_form(previewed, "teen")
    assert again["daily_limit"] == "30m"
    client.post("/rules", data=again | {"action": "save", "passphrase": PASSPHRASE})
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(minutes=30)


def test_breather_status_lists_what_the_rules_page_holds(client: FlaskClient, app: Flask) -> None:
    """A user test: a change the Rules page held showed nowhere but that page (not in `breather status`)."""
    from breather.commands.status import collect, render

    set_passphrase(client)
    _save_form(client, "teen", daily_limit="2h")
    paths = app.config["PATHS"]
    held = collect(paths, NOW + timedelta(hours=1))["rules"]["held"]
    assert [change["text"] for change in held] == ["teen's daily limit (45m → 2h) takes effect at 20:00 tomorrow"]
    assert "teen's daily limit (45m → 2h) takes effect at 20:00 tomorrow" in render(
        collect(paths, NOW + timedelta(hours=1))
    )


def test_a_change_applied_is_not_marked_superseded_by_a_second_reader_after_it(client: FlaskClient, app: Flask) -> None:
    """A review found the minute job and a Rules page request could both take a due change: the second found the
    file changed (by the first) and marked the applied change "superseded"."""
    from breather.dashboard.db import get_db
    from breather.pending_rules import _mark_done

    set_passphrase(client)
    _save_form(client, "teen", daily_limit="2h")
    with app.app_context():
        db = get_db()
        row_id = db.execute("select id from pending_rule_changes").fetchone()[0]
        _mark_done(row_id, "applied", "2026-03-05T20:00:00+00:00")(db)
        _mark_done(row_id, "superseded", "2026-03-05T20:00:01+00:00")(db)
        assert db.execute("select outcome from pending_rule_changes").fetchone()[0] == "applied"


def test_the_page_and_the_service_agree_on_what_loosens() -> None:
    """A review found the page's own reading calling the same minutes in two windows "shorter topic quiet hours"
    (the whole save then waited a day) while the service's saw nothing."""
    from breather.pending_rules import loosenings
    from breather.rules.loader import parse_rules

    topic = '\n[profiles.teen.topic_quiet_hours]\nviolence = { daily = "21:00-08:00" }\n'
    split = '\n[profiles.teen.topic_quiet_hours]\nviolence = { daily = ["21:00-23:00", "23:00-08:00"] }\n'
    assert loosenings(parse_rules(FAMILY_RULES + topic), parse_rules(FAMILY_RULES + split)) == []
    bigger = FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "2h"')
    assert loosenings(parse_rules(FAMILY_RULES), parse_rules(bigger)) == ["teen: a bigger daily limit"]


def test_a_waiting_longer_retention_survives_an_unrelated_save(client: FlaskClient, app: Flask) -> None:
    """A review: records kept longer (90 -> 180 days) waited whole; a later save of a tightening elsewhere marked it
    "replaced" and it never came."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    _save_text(client, rules_file.read_text().replace("retention_days = 90", "retention_days = 180"))
    assert load_rules(rules_file).retention_days == 90  # waiting
    _later(app, 1)
    page = _save_text(client, rules_file.read_text().replace('daily_limit = "45m"', 'daily_limit = "30m"'))
    assert "changes again" not in page
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(minutes=30)  # the tightening: at once
    _later(app, 25)
    client.get("/rules")
    rules = load_rules(rules_file)
    assert rules.retention_days == 180 and rules.profiles["teen"].daily_limit == timedelta(minutes=30)


def test_a_shorter_delay_typed_by_hand_does_not_shorten_a_saves_wait(served: Served) -> None:
    """A review: with `cooling_off = "1h"` typed by hand (held by the service), a save promised "waits 1h" while the
    service would hold it 24 h, by the delay in force."""
    client, watcher, rules_file, _ = served
    write_by_hand(rules_file, rules_file.read_text().replace('cooling_off = "24h"', 'cooling_off = "1h"'))
    watcher.reload()
    assert watcher.held  # a shorter delay is a loosening too
    form = {"profile": "teen", "daily_limit": "2h", "action": "save", "passphrase": PASSPHRASE}
    page = flat(
        client.post(
            "/rules", data={"csrf_token": form_token(client, "/rules"), **form}, follow_redirects=True
        ).get_data(as_text=True)
    )
    assert "waits 24 hours" in page and "waits 1 hour" not in page


def test_a_tightening_applies_now_beside_a_held_loosening_of_a_setting_that_was_inherited(
    client: FlaskClient, app: Flask
) -> None:
    """The teen inherits break_after from the parent. One save shortens the parent's (and so the teen's) and gives the
    teen a longer one of their own: the parent's applies now, the teen's waits at the value in force. The file's
    copy of the held setting could not be put back (it was inherited, and what it inherits changed), which made the
    whole save wait a day."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    inheriting = (
        rules_file.read_text()
        .replace("[profiles.teen]\n", '[profiles.teen]\ninherits = "parent"\n')
        .replace('daily_limit = "45m"\nbreak_after = "20m"\n', 'daily_limit = "45m"\n')
    )
    write_by_hand(rules_file, inheriting)
    assert load_rules(rules_file).profiles["teen"].break_after == timedelta(minutes=25)
    asked = inheriting.replace('break_after = "25m"', 'break_after = "20m"').replace(
        'daily_limit = "45m"\n', 'daily_limit = "45m"\nbreak_after = "40m"\n'
    )
    page = _save_text(client, asked)
    assert "Saved: what this tightens applies now." in page
    now = load_rules(rules_file)
    assert now.profiles["parent"].break_after == timedelta(minutes=20)  # tightening: at once
    assert now.profiles["teen"].break_after == timedelta(minutes=25)  # loosening: held at what was in force
    _later(app, 25)
    client.get("/rules")
    assert rules_file.read_text() == asked


def test_a_save_that_drops_a_site_and_tightens_a_limit_applies_the_tightening_now(
    client: FlaskClient, app: Flask
) -> None:
    """A site no longer looked after made the whole save wait a day (the page could not part it from the rest)."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    asked = (
        rules_file.read_text()
        .replace('domains = ["www.youtube.com"]', "domains = []")
        .replace('daily_limit = "45m"', 'daily_limit = "30m"')
    )
    page = _save_text(client, asked)
    assert "What it loosens (sites no longer looked after) waits 24 hours" in page
    now = load_rules(rules_file)
    assert now.profiles["teen"].daily_limit == timedelta(minutes=30)
    assert "www.youtube.com" in now.intercepted_domains()
    _later(app, 25)
    client.get("/rules")
    assert rules_file.read_text() == asked


def test_a_due_change_waits_while_the_file_does_not_read_and_applies_once_it_does(
    client: FlaskClient, app: Flask
) -> None:
    """The one-minute job raised every minute while rules.toml was missing; a byte-order mark put in by an editor
    made the file "edited elsewhere" and dropped the change."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    text = rules_file.read_text()
    asked = text.replace('daily_limit = "45m"', 'daily_limit = "1h"')
    _save_text(client, asked)
    paths = app.config["PATHS"]
    paths.last_good_rules.parent.mkdir(parents=True, exist_ok=True)
    paths.last_good_rules.write_text(text)  # as the service's watcher keeps it: rules were in force here
    rules_file.unlink()
    _later(app, 25)
    assert client.get("/").status_code == 200  # the due job ran: no error, nothing applied
    assert not rules_file.exists()
    rules_file.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    _later(app, 26)
    client.get("/rules")
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(hours=1)


def test_the_member_form_switches_open_anyway_off_at_once_and_back_on_after_the_wait(
    client: FlaskClient, app: Flask
) -> None:
    """A family test: a parent could not switch "open anyway" off for a 12-year-old; the setting came without a way to
    set it on the Rules page."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    page = client.get("/rules").get_data(as_text=True)
    assert 'name="open_anyway"' in page
    shown = {"shown_open_anyway": "on"}
    _save_form(client, "teen", open_anyway="off", **shown)
    assert load_rules(rules_file).profiles["teen"].open_anyway is False  # tightening: at once
    assert "open_anyway = false" in rules_file.read_text()
    said = _save_form(client, "teen", open_anyway="on", shown_open_anyway="off")
    assert "teen: opening sites anyway switched back on" in said
    assert load_rules(rules_file).profiles["teen"].open_anyway is False  # loosening: waits
    _later(app, 25)
    client.get("/rules")
    assert load_rules(rules_file).profiles["teen"].open_anyway is True
