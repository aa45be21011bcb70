"""Writing down the zone already in use, under another of its names, applies at once. The check compared names, so
on a machine in "Etc/UTC" the line ``timezone = "UTC"`` was held for the cooling-off ("the household's time zone
(this computer's, Etc/UTC → UTC) takes effect at … tomorrow"), and so was "Asia/Kolkata" for "Asia/Calcutta": a
change that moves no window and no midnight. Two names are one zone when their clocks agree (offset and every
change of it); a real move, even one with today's offset, still waits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breather.rules import timeparse
from breather.rules.cooling import apply_change, held_sentence, same_clock
from breather.rules.loader import parse_rules
from breather.rules.model import Rules

NOVEMBER_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # London and Abidjan both on UTC+0 today


def rules_in(zone: str | None) -> Rules:
    return parse_rules(('[household]\ntimezone = "' + zone + '"\n' if zone else "") + "[profiles.me]\n")


@pytest.fixture(autouse=True)
def machine_in_etc_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeparse, "local_zone_name", lambda: "Etc/UTC")


@pytest.mark.parametrize(
    ("was", "wants"),
    [
        (None, "UTC"),  # the machine's zone, as the first run writes it on a machine whose TZ is Etc/UTC
        ("Etc/UTC", "UTC"),
        ("UTC", "Etc/UTC"),
        ("Asia/Calcutta", "Asia/Kolkata"),  # docs/rules.md's own example of an old name
        ("Europe/Kiev", "Europe/Kyiv"),
        ("US/Pacific", "America/Los_Angeles"),
        ("Europe/London", "Europe/Lisbon"),  # another place on the very same clock: no window or midnight moves
    ],
)
def test_the_zone_in_use_under_another_name_applies_at_once(was: str | None, wants: str) -> None:
    in_force, held = apply_change(rules_in(was), rules_in(wants), NOVEMBER_NOON)
    assert held == ()
    assert in_force.timezone == wants


@pytest.mark.parametrize(
    ("was", "wants"),
    [
        ("Europe/London", "Africa/Abidjan"),  # the same offset today, no summer time in Abidjan
        ("Europe/Bucharest", "Europe/Chisinau"),  # the same offsets, clocks changed an hour apart
        ("Australia/Sydney", "Australia/Lord_Howe"),  # summer time of half an hour
        ("Asia/Kolkata", "Asia/Kathmandu"),
    ],
)
def test_a_real_move_still_waits(was: str | None, wants: str) -> None:
    old = rules_in(was)
    in_force, held = apply_change(old, rules_in(wants), NOVEMBER_NOON)
    assert [change.path for change in held] == ["household.timezone"]
    assert in_force.timezone == was
    assert "time zone" in held_sentence(held, in_force.zone(), NOVEMBER_NOON)


def test_same_clock_says_which_names_are_one_zone() -> None:
    assert same_clock("Asia/Calcutta", "Asia/Kolkata")
    assert same_clock("Europe/London", "Europe/London")
    assert not same_clock("Europe/London", "Africa/Abidjan")
    assert not same_clock("Nowhere/Special", "UTC")  # a name zoneinfo does not know is no other zone
    assert not same_clock("Nowhere/Special", "Nowhere/Else")
