from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from breather.rules.cooling import apply_change
from breather.rules.loader import parse_rules
from breather.rules.model import Rules, Window

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BASE = """
[household]
timezone = "UTC"
cooling_off = "24h"

[sites.reddit]
domains = ["reddit.com"]

[profiles.me]
default = true
daily_limit = "1h"
break_after = "25m"
friction_delay = "10s"
keywords = ["spoiler", "exam"]
[profiles.me.limits]
reddit = "30m"
[profiles.me.quiet_hours]
daily = "22:00-07:00"
[profiles.me.warnings]
violence = "medium"
"""


def edited(old: str, new: str) -> Rules:
    assert old in BASE
    return parse_rules(BASE.replace(old, new))


def test_loosened_limit_waits_for_the_cooling_off_and_then_applies() -> None:
    old, new = parse_rules(BASE), edited('daily_limit = "1h"', 'daily_limit = "2h"')
    effective, pending = apply_change(old, new, NOW)
    assert effective.profile("me").daily_limit == timedelta(hours=1)
    assert [(p.profile, p.setting, p.takes_effect) for p in pending] == [("me", "daily_limit", NOW + timedelta(days=1))]
    assert pending[0].describe() == "profiles.me.daily_limit loosens; it takes effect at 2026-11-26T12:00+00:00"
    later, still = apply_change(old, new, NOW + timedelta(days=1), changed_at=NOW)
    assert later.profile("me").daily_limit == timedelta(hours=2)
    assert still == ()


def test_tightening_applies_at_once() -> None:
    old = parse_rules(BASE)
    new = parse_rules(
        BASE.replace('daily_limit = "1h"', 'daily_limit = "30m"')
        .replace('violence = "medium"', 'violence = "high"')
        .replace('daily = "22:00-07:00"', 'daily = "21:00-07:00"')
    )
    effective, pending = apply_change(old, new, NOW)
    assert pending == ()
    assert effective == new


def test_removing_a_limit_or_a_group_limit_is_loosening() -> None:
    old = parse_rules(BASE)
    new = parse_rules(BASE.replace('daily_limit = "1h"', 'daily_limit = "off"').replace('reddit = "30m"', ""))
    effective, pending = apply_change(old, new, NOW)
    me = effective.profile("me")
    assert me.daily_limit == timedelta(hours=1)
    assert me.limits == {"reddit": timedelta(minutes=30)}
    assert {p.setting for p in pending} == {"daily_limit", "limits"}


def test_shorter_quiet_hours_wait_but_the_rest_of_the_edit_applies() -> None:
    old = parse_rules(BASE)
    new = parse_rules(
        BASE.replace('daily = "22:00-07:00"', 'daily = "23:00-07:00"').replace(
            'break_after = "25m"', 'break_after = "20m"'
        )
    )
    effective, pending = apply_change(old, new, NOW)
    me = effective.profile("me")
    assert Window(0, time(22), time(7)) in me.quiet_hours
    assert me.break_after == timedelta(minutes=20)
    assert [p.setting for p in pending] == ["quiet_hours"]


def test_lower_sensitivity_category_off_and_removed_keyword_wait() -> None:
    old = parse_rules(BASE)
    new = parse_rules(
        BASE.replace('violence = "medium"', 'violence = "off"').replace('"spoiler", "exam"', '"exam", "x"')
    )
    effective, pending = apply_change(old, new, NOW)
    me = effective.profile("me")
    assert me.sensitivity["violence"] == "medium"
    assert set(me.keywords) == {"exam", "x", "spoiler"}
    assert {p.setting for p in pending} == {"sensitivity", "keywords"}


def test_always_allowed_and_shorter_delays_wait() -> None:
    old = parse_rules(BASE)
    new = parse_rules(
        BASE.replace('friction_delay = "10s"', 'friction_delay = "0s"\nalways_allowed = ["reddit.com"]').replace(
            'cooling_off = "24h"', 'cooling_off = "0s"'
        )
    )
    effective, pending = apply_change(old, new, NOW)
    me = effective.profile("me")
    assert me.always_allowed == ()
    assert me.friction_delay == timedelta(seconds=10)
    assert effective.cooling_off == timedelta(hours=24)
    assert {(p.profile, p.setting) for p in pending} == {
        ("me", "friction_delay"),
        ("me", "always_allowed"),
        (None, "cooling_off"),
    }


def test_the_old_delay_counts_even_when_the_edit_shortens_it() -> None:
    old = parse_rules(BASE)
    new = parse_rules(BASE.replace('cooling_off = "24h"', 'cooling_off = "1m"').replace('"1h"', '"3h"'))
    effective, _ = apply_change(old, new, NOW + timedelta(hours=1), changed_at=NOW)
    assert effective.profile("me").daily_limit == timedelta(hours=1)
