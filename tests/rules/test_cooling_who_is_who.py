"""Who a member is waits out the cooling-off too. A user test played a 15-year-old with the parent's OS account who,
by hand in ``rules.toml``: moved their user name and password onto their sibling's looser profile (loose at once, and
their use recorded as the sibling's); listed their laptop's address under the parent (a listed address skips sign-in,
so the laptop got the parent's boundaries); and set ``retention_days = 1`` (the next nightly prune would erase the
week's history the family reviews). Each took effect at once. Only what asks for a sign-in where none was asked (a
member's first credentials, a user name's first password) applies at once."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.pending_rules import loosenings as page_words
from breather.rules.cooling import apply_change, held_sentence
from breather.rules.loader import parse_rules
from breather.rules.model import Rules
from breather.rules.passwords import hash_password
from breather.rules.watcher import RulesWatcher, held_marker_path

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
SAM_HASH = hash_password("sams own secret")
ALEX_HASH = hash_password("alexs own secret")
HOUSEHOLD = f"""
[household]
timezone = "UTC"
retention_days = 30
cooling_off = "24h"

[sites.reddit]
domains = ["reddit.com"]

[profiles.me]
default = true
user = "dad"
password = "parents secret"
daily_limit = "2h"

[profiles.sam]
user = "sam"
password = "{SAM_HASH}"
daily_limit = "45m"
client_ips = ["192.0.2.9"]

[profiles.alex]
user = "alex"
password = "{ALEX_HASH}"
daily_limit = "2h"
"""
SAM_SIGN_IN = f'user = "sam"\npassword = "{SAM_HASH}"\ndaily_limit = "45m"'
ALEX_SIGN_IN = f'user = "alex"\npassword = "{ALEX_HASH}"\ndaily_limit = "2h"'


def rules(text: str = HOUSEHOLD) -> Rules:
    return parse_rules(text)


def edited(*replacements: tuple[str, str]) -> str:
    text = HOUSEHOLD
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    return text


SIGN_IN_MOVED = edited((SAM_SIGN_IN, 'daily_limit = "45m"'), (ALEX_SIGN_IN, SAM_SIGN_IN.replace("45m", "2h")))
ADDRESS_ADDED = edited(('password = "parents secret"\n', 'password = "parents secret"\nclient_ips = ["192.0.2.2"]\n'))


def sentence(held: tuple[object, ...] | list[object]) -> str:
    return held_sentence(held, UTC, START)  # type: ignore[arg-type]


# --- 1. a sign-in moved onto a looser member ------------------------------------------------------------------------


def test_a_sign_in_moved_onto_a_looser_member_waits_and_sam_signs_in_as_sam_meanwhile() -> None:
    in_force, held = apply_change(rules(), rules(SIGN_IN_MOVED), START)

    assert in_force.profile_for(user="sam").name == "sam"
    assert in_force.profile_for(user="sam").daily_limit == timedelta(minutes=45)
    assert in_force.profile_for(user="alex").name == "alex"
    assert sentence(held) == (
        "sam's user name (sam → none), removing sam's password, alex's user name (alex → sam) and a new password for "
        "alex take effect at 09:00 tomorrow"
    )
    later, still = apply_change(rules(), rules(SIGN_IN_MOVED), START + DAY, changed_at=START)
    assert still == () and later.profile_for(user="sam").name == "alex"


def test_no_sentence_or_machine_line_shows_a_password_or_its_hash() -> None:
    _, held = apply_change(rules(), rules(SIGN_IN_MOVED.replace("parents secret", "a new parents secret")), START)
    shown = [sentence(held), *(change.describe() for change in held), *page_words(rules(), rules(SIGN_IN_MOVED))]
    for secret in (SAM_HASH, ALEX_HASH, SAM_HASH.split("$")[-1], "parents secret"):
        assert not any(secret in line for line in shown)
    assert "a new password for me" in sentence(held)


def test_the_rules_page_words_a_moved_sign_in() -> None:
    assert page_words(rules(), rules(SIGN_IN_MOVED)) == [
        "sam's sign-in (user name or password) changed",
        "alex's sign-in (user name or password) changed",
    ]


def test_a_forgotten_password_reset_waits_and_the_old_one_still_signs_in() -> None:
    reset = hash_password("a brand new one")
    in_force, held = apply_change(rules(), rules(HOUSEHOLD.replace(SAM_HASH, reset)), START)
    assert in_force.profiles["sam"].password == SAM_HASH
    assert sentence(held) == "a new password for sam takes effect at 09:00 tomorrow"


def test_a_renamed_sign_in_waits() -> None:
    in_force, held = apply_change(rules(), rules(HOUSEHOLD.replace('user = "sam"', 'user = "samuel"')), START)
    assert in_force.profile_for(user="sam").name == "sam"
    assert sentence(held) == "sam's user name (sam → samuel) takes effect at 09:00 tomorrow"


def test_only_the_case_of_a_user_name_changed_is_no_change() -> None:
    _, held = apply_change(rules(), rules(HOUSEHOLD.replace('user = "sam"', 'user = "Sam"')), START)
    assert held == ()


# --- first credentials: a tightening -------------------------------------------------------------------------------


def test_a_user_names_first_password_applies_at_once() -> None:
    """On one machine a name alone picks its member; a password asks for more. A parent setting one must not wait."""
    before = HOUSEHOLD.replace(f'password = "{SAM_HASH}"\n', "")
    in_force, held = apply_change(rules(before), rules(HOUSEHOLD), START)
    assert held == () and in_force.profiles["sam"].password == SAM_HASH


def test_a_member_with_no_credentials_getting_them_applies_at_once() -> None:
    before = HOUSEHOLD.replace(SAM_SIGN_IN, 'daily_limit = "45m"')
    in_force, held = apply_change(rules(before), rules(HOUSEHOLD), START)
    assert held == () and in_force.profile_for(user="sam").name == "sam"


def test_another_members_user_name_given_to_a_member_without_credentials_waits() -> None:
    """Not first credentials: sam's own, moved."""
    before = HOUSEHOLD.replace(ALEX_SIGN_IN, 'daily_limit = "2h"')
    alex_as_sam = f'[profiles.alex]\nuser = "sam"\npassword = "{SAM_HASH}"\ndaily_limit = "2h"'
    after = before.replace(SAM_SIGN_IN, 'daily_limit = "45m"').replace(
        '[profiles.alex]\ndaily_limit = "2h"', alex_as_sam
    )
    in_force, held = apply_change(rules(before), rules(after), START)
    assert in_force.profile_for(user="sam").name == "sam"
    assert "alex's user name (none → sam)" in sentence(held)


def test_a_new_member_with_a_sign_in_or_an_address_waits() -> None:
    """A member added in the edit is a new way in: with a password of the editor's choosing it would be a loose
    profile for anyone who knows it, at once."""
    added = HOUSEHOLD + '\n[profiles.free]\nuser = "free"\npassword = "anything goes"\nclient_ips = ["192.0.2.2"]\n'
    in_force, held = apply_change(rules(), rules(added), START)
    assert in_force.profiles["free"].user is None and in_force.profiles["free"].password is None
    assert in_force.profile_for(user="free").name == "me"  # no member has that name yet
    assert in_force.profile_for(client_ip="192.0.2.2").client_ips == ()  # the address still signs in
    assert sentence(held) == (
        "a device address now going to free (192.0.2.2), free's user name (none → free) and a password for free "
        "take effect at 09:00 tomorrow"
    )


def test_a_new_member_no_looser_than_the_default_gets_their_sign_in_at_once() -> None:
    """Signing in as a new member no looser than anyone a person is without signing in (here sam's boundaries: sam
    is picked by a device address) gets no more than not signing in: first credentials, as for a member already
    there."""
    added = HOUSEHOLD + '\n[profiles.teo]\ninherits = "sam"\nuser = "teo"\npassword = "teo pass 99"\n'
    in_force, held = apply_change(rules(), rules(added), START)
    assert held == () and in_force.profile_for(user="teo").name == "teo"


LOOSE_NEW_MEMBER = '\n[profiles.free]\nuser = "free"\npassword = "anything goes"\n'


def test_a_new_members_held_sign_in_stays_held_through_an_unrelated_tightening(
    watched: tuple[Path, Path, FakeClock],
) -> None:
    """A user test: a new member's sign-in, held for the cooling-off, came into force at once with the next save
    that only tightened something else (the member was in force by then without credentials, so the held ones read
    as "first credentials"). Now a looser new member's sign-in waits its whole cooling-off, and a member no looser
    than the default is let in at once both times."""
    path, copy, clock = watched
    watcher = watcher_on(path, copy, clock)
    write(path, HOUSEHOLD + LOOSE_NEW_MEMBER)
    watcher.reload()
    assert watcher.current is not None and watcher.current.profile_for(user="free").name == "me"
    clock.now = START + timedelta(minutes=1)
    write(path, HOUSEHOLD.replace('daily_limit = "2h"', 'daily_limit = "90m"', 1) + LOOSE_NEW_MEMBER)
    watcher.reload()
    current = watcher.current
    assert current.profiles["me"].daily_limit == timedelta(minutes=90)  # the tightening applies
    assert current.profile_for(user="free").name == "me"  # the sign-in still waits
    assert (
        sentence(watcher.held) == "free's user name (none → free) and a password for free take effect at 09:00 tomorrow"
    )
    clock.now = START + DAY
    assert watcher.release_due() is True
    assert watcher.current.profile_for(user="free").name == "free"


# --- 2. a device address -------------------------------------------------------------------------------------------


def test_a_device_address_added_to_the_parent_waits_and_the_laptop_still_signs_in() -> None:
    in_force, held = apply_change(rules(), rules(ADDRESS_ADDED), START)
    assert in_force.profile_for(client_ip="192.0.2.2").client_ips == ()  # not listed: sign-in is still asked
    assert in_force.profile_for(user="sam", client_ip="192.0.2.2").name == "sam"
    assert sentence(held) == "a device address now going to me (192.0.2.2) takes effect at 09:00 tomorrow"
    assert page_words(rules(), rules(ADDRESS_ADDED)) == ["a device address now goes to me (192.0.2.2)"]


def test_a_device_address_moved_between_members_waits_on_both() -> None:
    moved = HOUSEHOLD.replace('client_ips = ["192.0.2.9"]\n', "").replace(
        'password = "parents secret"\n', 'password = "parents secret"\nclient_ips = ["192.0.2.9"]\n'
    )
    in_force, held = apply_change(rules(), rules(moved), START)
    assert in_force.profile_for(client_ip="192.0.2.9").name == "sam"
    assert sentence(held) == (
        "a device address now going to me (192.0.2.9) and a device address no longer going to sam (192.0.2.9) "
        "take effect at 09:00 tomorrow"
    )


# --- 3. retention ------------------------------------------------------------------------------------------------


def test_a_shorter_retention_waits_so_the_next_prune_keeps_the_weeks_history() -> None:
    in_force, held = apply_change(rules(), rules(HOUSEHOLD.replace("retention_days = 30", "retention_days = 1")), START)
    assert in_force.retention_days == 30
    assert sentence(held) == "deleting the records older than 1 day (kept 30 days now) takes effect at 09:00 tomorrow"
    assert page_words(rules(), rules(HOUSEHOLD.replace("retention_days = 30", "retention_days = 7"))) == [
        "deleting the records older than 7 days (kept 30 days now)"
    ]


# --- the service's watcher: hand edits ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def watched(tmp_path: Path) -> tuple[Path, Path, FakeClock]:
    path, copy = tmp_path / "rules.toml", tmp_path / "rules.last-good.toml"
    path.write_text(HOUSEHOLD, encoding="utf-8")
    return path, copy, FakeClock()


def watcher_on(path: Path, copy: Path, clock: FakeClock) -> RulesWatcher:
    return RulesWatcher(path, last_good=copy, cool_loosening=True, clock=clock)


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_the_three_hand_edits_of_the_user_test_wait_and_survive_a_restart(
    watched: tuple[Path, Path, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    path, copy, clock = watched
    watcher = watcher_on(path, copy, clock)
    with_address = 'password = "parents secret"\nclient_ips = ["192.0.2.2"]\n'
    all_three = SIGN_IN_MOVED.replace('password = "parents secret"\n', with_address)
    all_three = all_three.replace("retention_days = 30", "retention_days = 1")
    with caplog.at_level(logging.INFO, logger="breather.rules.watcher"):
        write(path, all_three)
        watcher.reload()
    current = watcher.current
    assert current is not None
    assert current.profile_for(user="sam").daily_limit == timedelta(minutes=45)
    assert current.profile_for(client_ip="192.0.2.2").client_ips == ()
    assert current.retention_days == 30
    assert {change.path for change in watcher.held} == {
        "profiles.sam.user",
        "profiles.sam.password",
        "profiles.alex.user",
        "profiles.alex.password",
        "profiles.me.client_ips",
        "household.retention_days",
    }
    logged = caplog.text
    assert "profiles.sam.password" in logged and SAM_HASH not in logged and SAM_HASH.split("$")[-1] not in logged
    note = json.loads(held_marker_path(copy).read_text())
    assert all(set(change) == {"profile", "setting", "item", "since"} for change in note["changes"])

    restarted = watcher_on(path, copy, clock)
    assert restarted.current is not None and restarted.current.profile_for(user="sam").name == "sam"
    clock.now = START + DAY
    assert restarted.release_due() is True
    assert restarted.current.profile_for(user="sam").name == "alex"
    assert restarted.current.retention_days == 1
