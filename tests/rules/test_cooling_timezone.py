"""Moving the household's time zone waits for the cooling-off: a user test, in quiet hours 23:00-07:00 at 23:30 in
London, set "America/Los_Angeles" and the quiet hours ended at once (15:30 there), and "Pacific/Kiritimati" started a
new day with fresh limits. Writing down the zone already in effect moves nothing and applies at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breather.rules import timeparse
from breather.rules.cooling import apply_change, held_sentence
from breather.rules.decisions import Usage, decide
from breather.rules.loader import parse_rules
from breather.rules.model import Rules

AT_2330 = datetime(2026, 11, 11, 23, 30, tzinfo=UTC)  # 23:30 in London (on UTC in November)
HALF_USED = Usage(minutes_today={"reddit": 30.0}, group_minutes={"reddit": 30.0}, total_minutes=30.0)
RULES = """
[household]
{zone}
cooling_off = "24h"

[sites.reddit]
domains = ["reddit.com"]

[profiles.me]
default = true
daily_limit = "1h"
[profiles.me.quiet_hours]
daily = "23:00-07:00"
"""


def rules_in(zone: str | None) -> Rules:
    return parse_rules(RULES.format(zone=f'timezone = "{zone}"' if zone else "# timezone"))


@pytest.mark.parametrize("moved_to", ["America/Los_Angeles", "Pacific/Kiritimati"])
def test_a_new_household_zone_waits_and_the_old_clock_keeps_the_quiet_hours(moved_to: str) -> None:
    london = rules_in("Europe/London")
    in_force, held = apply_change(london, rules_in(moved_to), AT_2330)

    assert decide(in_force, "me", "reddit.com", AT_2330, HALF_USED).kind == "quiet_hours"
    assert held_sentence(held, in_force.zone(), AT_2330) == (
        f"the household's time zone (Europe/London → {moved_to}) takes effect at 23:30 tomorrow"
    )
    [change] = held
    assert change.path == "household.timezone"
    later, _ = apply_change(london, rules_in(moved_to), change.takes_effect, changed_at=AT_2330)
    assert later.timezone == moved_to


def test_writing_down_the_machines_own_zone_applies_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeparse, "local_zone_name", lambda: "Europe/London")
    in_force, held = apply_change(rules_in(None), rules_in("Europe/London"), AT_2330)
    assert (held, in_force.timezone) == ((), "Europe/London")


def test_leaving_the_machines_zone_for_another_waits_and_says_which_was_in_effect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(timeparse, "local_zone_name", lambda: "Europe/London")
    in_force, held = apply_change(rules_in(None), rules_in("America/New_York"), AT_2330)
    assert in_force.timezone is None
    assert held_sentence(held, in_force.zone(), AT_2330) == (
        "the household's time zone (this computer's, Europe/London → America/New_York) takes effect at 23:30 tomorrow"
    )
