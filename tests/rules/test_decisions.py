from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from breather.rules.decisions import Usage, decide
from breather.rules.loader import parse_rules
from breather.rules.model import Rules

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def make_rules(profile_body: str, timezone: str = "Europe/London") -> Rules:
    text = f"""
[household]
timezone = "{timezone}"

[sites.reddit]
domains = ["reddit.com", "old.reddit.com"]

[sites.hackernews]
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
""" + textwrap.dedent(profile_body)
    return parse_rules(text)


def at(text: str, zone: ZoneInfo = LONDON) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# Quiet hours ---------------------------------------------------------------------------------------------------


def test_friday_night_window_is_in_force_early_saturday_and_named_as_fridays() -> None:
    rules = make_rules('[profiles.me.quiet_hours]\nfri = "23:00-06:00"\n')
    # 2026-11-27 is a Friday.
    decision = decide(rules, "me", "old.reddit.com", at("2026-11-28T01:00"))
    assert decision.kind == "quiet_hours"
    assert decision.reason == "Quiet hours for me: Fri 23:00–06:00 (until 06:00)"
    assert decision.message == "The feeds rest until 06:00 (Fri 23:00–06:00)."
    assert decision.until == at("2026-11-28T06:00")
    assert decide(rules, "me", "old.reddit.com", at("2026-11-27T23:00")).reason.endswith("(until 06:00 tomorrow)")
    assert decide(rules, "me", "old.reddit.com", at("2026-11-28T06:00")).kind == "allow"
    assert decide(rules, "me", "old.reddit.com", at("2026-11-27T22:59")).kind == "allow"
    # Saturday night has no window: the Friday one does not repeat a day later.
    assert decide(rules, "me", "old.reddit.com", at("2026-11-29T01:00")).kind == "allow"


def test_weekday_quiet_hours_block_a_wednesday_evening_and_say_they_end_tomorrow_morning() -> None:
    rules = make_rules('[profiles.me.quiet_hours]\nweekdays = "21:00-07:00"\n')
    decision = decide(rules, "me", "reddit.com", at("2026-11-25T21:30"))
    assert decision.kind == "quiet_hours"
    assert decision.reason == "Quiet hours for me: Wed 21:00–07:00 (until 07:00 tomorrow)"


def test_windows_that_join_give_the_end_of_the_whole_stretch() -> None:
    rules = make_rules('[profiles.me.quiet_hours]\nfri = ["22:00-24:00"]\nsat = "00:00-09:00"\n')
    decision = decide(rules, "me", "reddit.com", at("2026-11-27T22:30"))
    assert decision.until == at("2026-11-28T09:00")
    assert decision.reason == "Quiet hours for me: Fri 22:00–00:00 (until 09:00 tomorrow)"


def test_windows_are_read_in_the_household_zone_not_utc() -> None:
    rules = make_rules('[profiles.me.quiet_hours]\ndaily = "22:00-07:00"\n', timezone="America/New_York")
    # 03:30 UTC on 25 Nov is 22:30 the evening before in New York.
    decision = decide(rules, "me", "reddit.com", datetime(2026, 11, 26, 3, 30, tzinfo=UTC))
    assert decision.kind == "quiet_hours"
    assert decision.until == at("2026-11-26T07:00", NEW_YORK)
    assert decision.reason.startswith("Quiet hours for me: Wed 22:00–07:00")


def test_spring_forward_night_is_an_hour_shorter_in_london() -> None:
    rules = make_rules('[profiles.me.quiet_hours]\nsat = "23:00-07:00"\n')
    # Clocks go 01:00 GMT → 02:00 BST on Sunday 29 March 2026.
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    decision = decide(rules, "me", "reddit.com", start)
    assert decision.kind == "quiet_hours"
    assert decision.until is not None
    assert decision.until - start == timedelta(hours=7)  # wall clock 8 hours, one of them skipped
    assert decision.until.astimezone(UTC) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # 06:30 BST = 05:30 UTC: still quiet; 07:00 BST = 06:00 UTC: open.
    assert decide(rules, "me", "reddit.com", datetime(2026, 3, 29, 5, 30, tzinfo=UTC)).kind == "quiet_hours"
    assert decide(rules, "me", "reddit.com", datetime(2026, 3, 29, 6, 0, tzinfo=UTC)).kind == "allow"


def test_fall_back_night_is_an_hour_longer_in_new_york() -> None:
    rules = make_rules('[profiles.me.quiet_hours]\nsat = "23:00-07:00"\n', timezone="America/New_York")
    # Clocks go 02:00 EDT → 01:00 EST on Sunday 1 November 2026.
    start = at("2026-10-31T23:00", NEW_YORK)
    decision = decide(rules, "me", "reddit.com", start)
    assert decision.until is not None
    assert decision.until.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=9)
    # 06:30 EST is 11:30 UTC: quiet; 12:00 UTC is 07:00 EST: open.
    assert decide(rules, "me", "reddit.com", datetime(2026, 11, 1, 11, 30, tzinfo=UTC)).kind == "quiet_hours"
    assert decide(rules, "me", "reddit.com", datetime(2026, 11, 1, 12, 0, tzinfo=UTC)).kind == "allow"


def test_a_naive_moment_is_refused() -> None:
    rules = make_rules("")
    with pytest.raises(ValueError, match="time-zone-aware"):
        decide(rules, "me", "reddit.com", datetime(2026, 11, 25, 12, 0))


# Limits --------------------------------------------------------------------------------------------------------


def test_daily_limit_counts_every_social_site_together() -> None:
    rules = make_rules('daily_limit = "1h"\n')
    usage = Usage({"old.reddit.com": 40, "news.ycombinator.com": 20})
    decision = decide(rules, "me", "news.ycombinator.com", at("2026-11-25T12:00"), usage)
    assert decision.kind == "limit_reached"
    assert decision.reason == "Daily limit for me on all sites: 1h used of 1h (resets at 00:00 tomorrow)"
    assert (
        decision.message
        == "You have used 1 hour of your 1 hour on all sites today. Your time starts again at midnight."
    )
    assert decision.until == at("2026-11-26T00:00")
    assert decision.friction_delay == timedelta(seconds=10)
    assert decide(rules, "me", "reddit.com", at("2026-11-25T12:00"), Usage({"reddit.com": 59})).kind == "allow"


def test_group_limit_applies_only_to_that_group() -> None:
    rules = make_rules('[profiles.me.limits]\nreddit = "30m"\n')
    usage = Usage({"old.reddit.com": 25, "reddit.com": 5, "news.ycombinator.com": 90})
    assert decide(rules, "me", "old.reddit.com", at("2026-11-25T12:00"), usage).kind == "limit_reached"
    other = decide(rules, "me", "news.ycombinator.com", at("2026-11-25T12:00"), usage)
    assert other.kind == "allow"
    assert other.reason == "Allowed for me: no daily limit"
    assert other.message == "No limit today."


def test_group_limit_also_reads_usage_keyed_by_group_name() -> None:
    rules = make_rules('[profiles.me.limits]\nreddit = "30m"\n')
    decision = decide(rules, "me", "reddit.com", at("2026-11-25T12:00"), Usage({"reddit": 31}))
    assert decision.kind == "limit_reached"
    assert decision.reason.startswith("Daily limit for me on reddit: 31m used of 30m")


def test_store_totals_count_overlapping_tabs_once() -> None:
    rules = make_rules('daily_limit = "1h"\n[profiles.me.limits]\nreddit = "30m"\n')
    # Two reddit tabs open side by side for 25 minutes: 50 site-minutes, 25 minutes of the person's time.
    usage = Usage({"old.reddit.com": 25, "reddit.com": 25}, group_minutes={"reddit": 25}, total_minutes=25)
    decision = decide(rules, "me", "reddit.com", at("2026-11-25T12:00"), usage)
    assert decision.kind == "allow"
    assert decision.minutes_used == 25


def test_domain_limit_covers_its_site_only() -> None:
    rules = parse_rules(
        '[sites.twitter]\ndomains = ["x.com", "api.x.com", "twitter.com"]\n'
        '[profiles.me]\ndefault = true\n[profiles.me.limits]\n"x.com" = "10m"\n'
    )
    usage = Usage({"x.com": 4, "api.x.com": 6, "twitter.com": 50})
    assert decide(rules, "me", "api.x.com", at("2026-11-25T12:00"), usage).kind == "limit_reached"
    assert decide(rules, "me", "twitter.com", at("2026-11-25T12:00"), usage).kind == "allow"


def test_a_domain_limit_counts_what_the_store_counts_for_it_not_each_report_again() -> None:
    """A review: one tab on old.reddit.com for 12.5 minutes, reported by the overlay as reddit.com and by the
    extension as old.reddit.com, closed a 20-minute limit on "reddit.com": "25 minutes of your 20"."""
    rules = make_rules('[profiles.me.limits]\n"reddit.com" = "20m"\n')
    usage = Usage(
        {"reddit.com": 12.5, "old.reddit.com": 12.5},
        group_minutes={"reddit": 12.5, "reddit.com": 12.5, "old.reddit.com": 12.5},
        total_minutes=12.5,
    )
    decision = decide(rules, "me", "old.reddit.com", at("2026-11-25T12:00"), usage)
    assert decision.kind == "allow"
    assert decision.message == "You have used 12 minutes of your 20 minutes on reddit.com today."


@pytest.mark.parametrize("host", ["reddit.com", "old.reddit.com", "www.reddit.com"])
def test_a_limit_on_part_of_a_site_closes_the_whole_site_for_the_proxy_and_the_extension_alike(host: str) -> None:
    """A review: `"old.reddit.com" = "5m"` closed nothing in the proxy (it decides on reddit.com) while the
    extension's status (deciding on the tab's old.reddit.com) said the limit was reached. It counts and closes the
    whole site now, whichever host is asked about."""
    rules = make_rules('[profiles.me.limits]\n"old.reddit.com" = "5m"\n')
    usage = Usage({"reddit.com": 8}, group_minutes={"reddit": 8, "reddit.com": 8}, total_minutes=8)
    decision = decide(rules, "me", host, at("2026-11-25T12:00"), usage)
    assert decision.kind == "limit_reached"
    assert "8 minutes of your 5 minutes on reddit.com today" in decision.message


def test_a_limit_on_a_domain_over_a_groups_hosts_closes_them() -> None:
    """`"youtube.com" = "30m"` over a group of www.youtube.com and m.youtube.com (0.1.0 ran such files)."""
    rules = parse_rules(
        '[sites.youtube]\ndomains = ["www.youtube.com", "m.youtube.com"]\n'
        '[profiles.me]\ndefault = true\n[profiles.me.limits]\n"youtube.com" = "30m"\n'
    )
    usage = Usage({"www.youtube.com": 20, "m.youtube.com": 15}, group_minutes={"youtube": 35, "youtube.com": 35})
    for host in ("www.youtube.com", "m.youtube.com"):
        assert decide(rules, "me", host, at("2026-11-25T12:00"), usage).kind == "limit_reached"


def test_granted_extra_time_lets_through_until_it_ends() -> None:
    rules = make_rules('daily_limit = "30m"\n')
    usage = Usage({"reddit.com": 45}, extra_time_until=at("2026-11-25T12:15"))
    decision = decide(rules, "me", "reddit.com", at("2026-11-25T12:00"), usage)
    assert decision.kind == "allow"
    assert "extra time until 12:15" in decision.reason
    assert decide(rules, "me", "reddit.com", at("2026-11-25T12:15"), usage).kind == "limit_reached"


def test_allow_reports_the_tightest_limit() -> None:
    rules = make_rules('daily_limit = "2h"\nbreak_after = "25m"\n[profiles.me.limits]\nreddit = "30m"\n')
    usage = Usage({"reddit.com": 20}, active_since_break=timedelta(minutes=15))
    decision = decide(rules, "me", "reddit.com", at("2026-11-25T12:00"), usage)
    assert decision.reason == "Allowed for me: 20m of 30m used today on reddit; next break in 10m"
    assert decision.message == "You have used 20 minutes of your 30 minutes on reddit today; next break in 10 minutes."
    assert decision.limit == timedelta(minutes=30)
    assert decision.next_break_in == timedelta(minutes=10)


def test_a_fresh_day_says_the_little_time_is_used_not_left() -> None:
    """Today's "Right now" card read "Under a minute of your 1 hour on all sites today" with nothing used: it could
    be taken for under a minute left."""
    rules = make_rules('daily_limit = "1h"\n')
    decision = decide(rules, "me", "reddit.com", at("2026-11-25T12:00"), Usage({}))
    assert decision.message == "You have used under a minute of your 1 hour on all sites today."


# Breaks --------------------------------------------------------------------------------------------------------


def test_break_is_due_after_the_active_minutes_and_snoozes_run_out() -> None:
    rules = make_rules('break_after = "25m"\nbreak_length = "5m"\nmax_snoozes = 2\n')
    now = at("2026-11-25T12:00")
    due = decide(rules, "me", "reddit.com", now, Usage(active_since_break=timedelta(minutes=25)))
    assert due.kind == "break_due"
    assert due.until == now + timedelta(minutes=5)
    assert due.reason == "Time for a break, me: 25m of active use (a 5m break, until 12:05)"
    assert due.message == "25 minutes of scrolling since your last break. A pause of 5 minutes, until 12:05."
    assert due.snooze_allowed is True
    tired = decide(rules, "me", "reddit.com", now, Usage(active_since_break=timedelta(minutes=40), snoozes_in_a_row=2))
    assert tired.snooze_allowed is False


def test_a_snooze_postpones_the_break() -> None:
    rules = make_rules('break_after = "25m"\n')
    now = at("2026-11-25T12:00")
    usage = Usage(active_since_break=timedelta(minutes=30), snoozed_until=now + timedelta(minutes=5))
    decision = decide(rules, "me", "reddit.com", now, usage)
    assert decision.kind == "allow"
    assert decision.next_break_in == timedelta(minutes=5)


# Always allowed, topics, unknown sites --------------------------------------------------------------------------


def test_always_allowed_sites_pass_quiet_hours_and_limits() -> None:
    rules = make_rules(
        'daily_limit = "10m"\nalways_allowed = ["news.ycombinator.com"]\n'
        '[profiles.me.quiet_hours]\ndaily = "00:00-23:59"\n'
    )
    decision = decide(rules, "me", "news.ycombinator.com", at("2026-11-25T12:00"), Usage({"reddit.com": 99}))
    assert decision.kind == "allow"
    assert decision.reason == "news.ycombinator.com is always allowed for me"
    assert rules.always_allowed("news.ycombinator.com", "me")
    assert decide(rules, "me", "reddit.com", at("2026-11-25T12:00")).kind == "quiet_hours"


def test_topic_quiet_hours_hide_a_category_only_in_its_window() -> None:
    rules = make_rules('[profiles.me.topic_quiet_hours]\nviolence = { daily = "21:00-08:00" }\n')
    evening = decide(rules, "me", "reddit.com", at("2026-11-25T21:30"))
    assert evening.kind == "allow"
    assert evening.hidden_topics == frozenset({"violence"})
    assert decide(rules, "me", "reddit.com", at("2026-11-25T12:00")).hidden_topics == frozenset()


def test_sites_outside_every_group_are_never_blocked() -> None:
    rules = make_rules('daily_limit = "1m"\n[profiles.me.quiet_hours]\ndaily = "00:00-23:59"\n')
    decision = decide(rules, "me", "bank.example", at("2026-11-25T12:00"), Usage({"reddit.com": 500}))
    assert decision.kind == "allow"
    assert decision.reason == "bank.example is not one of the sites Breather looks after"


def test_decision_serialises_for_the_api() -> None:
    rules = make_rules('daily_limit = "1h"\n')
    data = decide(rules, "me", "reddit.com", at("2026-11-25T12:00"), Usage({"reddit.com": 61})).to_dict()
    assert data["kind"] == "limit_reached"
    assert data["limit_minutes"] == 60
    assert data["until"] == "2026-11-26T00:00:00+00:00"


def test_a_limit_on_a_site_group_named_with_capitals_applies() -> None:
    """`[sites.Reddit]` with `Reddit = "30m"` was accepted and never applied: the limit was kept as "reddit" (a
    review allowed five hours on a 30-minute limit)."""
    from breather.rules.decisions import Usage, decide
    from breather.rules.loader import parse_rules

    rules = parse_rules(
        '[household]\ntimezone = "UTC"\n[sites.Reddit]\nadapter = "reddit"\ndomains = ["reddit.com"]\n'
        '[profiles.me]\ndefault = true\n[profiles.me.limits]\nReddit = "30m"\n'
    )
    used = Usage(minutes_today={"Reddit": 300.0}, group_minutes={"Reddit": 300.0}, total_minutes=300.0)
    decision = decide(rules, "me", "reddit.com", datetime(2026, 11, 25, 12, 0, tzinfo=UTC), used)
    assert decision.kind == "limit_reached"
