"""Quiet hours and breaks on the nights the clock changes, read as a person reads the clock on the wall: a window
starts when the clock first shows its start and ends when it first shows its end after that; a time the clock skips
is reached when it jumps past it; a time it shows twice is its first showing."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from breather.rules.decisions import Usage, decide
from breather.rules.loader import parse_rules
from breather.rules.model import Rules

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def rules_in(zone: ZoneInfo, quiet: str, profile: str = "") -> Rules:
    return parse_rules(
        f"""
[household]
timezone = "{zone.key}"

[sites.reddit]
domains = ["reddit.com"]

[profiles.me]
default = true
{textwrap.dedent(profile)}

[profiles.me.quiet_hours]
{quiet}
"""
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def quiet_minutes(rules: Rules, start: str, end: str) -> list[datetime]:
    """Every minute (UTC) from ``start`` to ``end`` at which the proxy answers with quiet hours."""
    moment, last, quiet = utc(start), utc(end), []
    while moment < last:
        if decide(rules, "me", "reddit.com", moment).kind == "quiet_hours":
            quiet.append(moment)
        moment += timedelta(minutes=1)
    return quiet


def minutes_between(start: str, end: str) -> list[datetime]:
    count = int((utc(end) - utc(start)).total_seconds() // 60)
    return [utc(start) + timedelta(minutes=n) for n in range(count)]


def test_a_time_the_clock_skips_is_reached_when_it_jumps_and_a_repeated_one_at_its_first_showing() -> None:
    from breather.rules.decisions import wall_clock_instant  # new: imported here so the other tests run without it

    # London: 01:00 GMT -> 02:00 BST on 28 Mar 2027, 02:00 BST -> 01:00 GMT on 25 Oct 2026.
    assert wall_clock_instant(date(2027, 3, 28), time(1, 30), LONDON) == utc("2027-03-28T01:00")
    assert wall_clock_instant(date(2026, 10, 25), time(1, 30), LONDON) == utc("2026-10-25T00:30")
    assert wall_clock_instant(date(2027, 3, 28), time(2, 30), LONDON) == utc("2027-03-28T01:30")
    # Lord Howe moves half an hour: 02:00 +10:30 -> 02:30 +11 (3 Oct 2026, 15:30 UTC).
    assert wall_clock_instant(date(2026, 10, 4), time(2, 10), LORD_HOWE) == utc("2026-10-03T15:30")


# London, spring forward: Sunday 28 March 2027, 01:00 GMT -> 02:00 BST (01:00 UTC) ----------------------------------


def test_windows_ending_or_starting_in_the_skipped_hour_follow_the_clock_as_it_jumps() -> None:
    rules = rules_in(LONDON, 'sat = "22:00-01:30"')
    evening = decide(rules, "me", "reddit.com", utc("2027-03-27T22:00"))
    assert evening.kind == "quiet_hours"
    assert evening.until == utc("2027-03-28T01:00")
    assert evening.message == "The feeds rest until 02:00 tomorrow (Sat 22:00–01:30)."
    after_midnight = decide(rules, "me", "reddit.com", utc("2027-03-28T00:59"))
    assert after_midnight.message == "The feeds rest until 02:00 (Sat 22:00–01:30)."
    assert quiet_minutes(rules, "2027-03-27T21:00", "2027-03-28T03:00") == minutes_between(
        "2027-03-27T22:00", "2027-03-28T01:00"
    )
    # The Saturday before, an ordinary night: exactly its clock times.
    assert quiet_minutes(rules, "2027-03-20T21:00", "2027-03-21T03:00") == minutes_between(
        "2027-03-20T22:00", "2027-03-21T01:30"
    )
    starts_in_gap = rules_in(LONDON, 'sun = "01:30-02:30"')
    assert quiet_minutes(starts_in_gap, "2027-03-27T23:00", "2027-03-28T03:00") == minutes_between(
        "2027-03-28T01:00", "2027-03-28T01:30"
    )
    assert decide(starts_in_gap, "me", "reddit.com", utc("2027-03-28T01:00")).message.startswith(
        "The feeds rest until 02:30 "
    )


# London, fall back: Sunday 25 October 2026, 02:00 BST -> 01:00 GMT (01:00 UTC) ----------------------------------


def test_a_window_over_the_repeated_hour_runs_unbroken_until_the_clock_shows_its_end() -> None:
    rules = rules_in(LONDON, 'sun = "01:30-02:30"')
    # 01:30 BST to 02:30 GMT: two hours, with no open half hour while the clock shows 01:00-01:30 again.
    assert quiet_minutes(rules, "2026-10-24T23:00", "2026-10-25T04:00") == minutes_between(
        "2026-10-25T00:30", "2026-10-25T02:30"
    )
    in_the_repeat = decide(rules, "me", "reddit.com", utc("2026-10-25T01:10"))
    assert in_the_repeat.until == utc("2026-10-25T02:30")
    assert in_the_repeat.message == "The feeds rest until 02:30 (Sun 01:30–02:30)."


def test_a_window_ending_in_the_repeated_hour_does_not_come_back_when_the_clock_goes_back() -> None:
    rules = rules_in(LONDON, 'sun = "00:30-01:30"')
    assert quiet_minutes(rules, "2026-10-24T22:00", "2026-10-25T03:00") == minutes_between(
        "2026-10-24T23:30", "2026-10-25T00:30"
    )


# New York and Lord Howe -------------------------------------------------------------------------------------------


def test_new_york_spring_forward_window_opens_when_the_clock_jumps_to_three() -> None:
    # Sunday 14 March 2027: 02:00 EST -> 03:00 EDT (07:00 UTC).
    rules = rules_in(NEW_YORK, 'sat = "22:00-02:30"')
    assert quiet_minutes(rules, "2027-03-14T02:00", "2027-03-14T09:00") == minutes_between(
        "2027-03-14T03:00", "2027-03-14T07:00"
    )
    assert decide(rules, "me", "reddit.com", utc("2027-03-14T06:00")).message.startswith("The feeds rest until 03:00 ")


def test_new_york_fall_back_window_ends_at_the_first_half_past_one() -> None:
    # Sunday 1 November 2026: 02:00 EDT -> 01:00 EST (06:00 UTC).
    rules = rules_in(NEW_YORK, 'sat = "23:00-01:30"')
    assert quiet_minutes(rules, "2026-11-01T02:00", "2026-11-01T08:00") == minutes_between(
        "2026-11-01T03:00", "2026-11-01T05:30"
    )


def test_lord_howe_half_hour_changes_leave_no_hole_and_no_quiet_at_the_wrong_time() -> None:
    # 5 April 2026: 02:00 +11 -> 01:30 +10:30 (15:00 UTC on the 4th); 4 October: 02:00 +10:30 -> 02:30 +11.
    back = rules_in(LORD_HOWE, 'sun = "01:45-02:15"')
    assert quiet_minutes(back, "2026-04-04T13:00", "2026-04-04T17:00") == minutes_between(
        "2026-04-04T14:45", "2026-04-04T15:45"
    )
    # The clock never shows 02:00-02:20 that night: no quiet hours, not 02:30-02:50 instead.
    skipped = rules_in(LORD_HOWE, 'sun = "02:00-02:20"')
    assert quiet_minutes(skipped, "2026-10-03T13:00", "2026-10-03T18:00") == []
    starts_in_gap = rules_in(LORD_HOWE, 'sun = "02:15-03:00"')
    assert quiet_minutes(starts_in_gap, "2026-10-03T13:00", "2026-10-03T18:00") == minutes_between(
        "2026-10-03T15:30", "2026-10-03T16:00"
    )


# A break is real time -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "now", "says", "ends"),
    [
        (LONDON, "2027-03-28T00:55", "until 02:05.", "2027-03-28T01:05"),  # 00:55 GMT + 10 min = 02:05 BST
        (LONDON, "2026-10-25T00:55", "until 01:05.", "2026-10-25T01:05"),  # 01:55 BST + 10 min = 01:05 GMT
        (NEW_YORK, "2027-03-14T06:55", "until 03:05.", "2027-03-14T07:05"),  # 01:55 EST + 10 min = 03:05 EDT
        (LORD_HOWE, "2026-04-04T14:55", "until 01:35.", "2026-04-04T15:05"),  # 01:55 +11 + 10 min = 01:35 +10:30
    ],
)
def test_a_break_across_the_clock_change_lasts_its_minutes_and_says_the_time_the_clock_will_show(
    zone: ZoneInfo, now: str, says: str, ends: str
) -> None:
    rules = rules_in(zone, 'daily = "09:00-10:00"', profile='break_after = "25m"\nbreak_length = "10m"')
    decision = decide(rules, "me", "reddit.com", utc(now), Usage(active_since_break=timedelta(minutes=30)))
    assert decision.kind == "break_due"
    assert decision.until == utc(ends)
    assert decision.message.endswith(f"A pause of 10 minutes, {says}")
    assert decision.reason.endswith(f"(a 10m break, {says[:-1]})")
