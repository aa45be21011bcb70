"""Every kind of mistake is reported with its file:line:col, and all of them at once."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from breather.rules.errors import RulesError
from breather.rules.loader import parse_rules
from breather.rules.model import ADAPTERS, TopicWindow, Window

HEAD = """[sites.reddit]
domains = ["reddit.com"]

[profiles.me]
default = true
"""
# HEAD is five lines: the first line a test adds is line 6.


def problems(body: str, head: str = HEAD) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(head + body, "rules.toml")
    return [str(problem) for problem in caught.value.problems]


def test_toml_syntax_error() -> None:
    assert problems('daily_limit = "1h\n') == [
        "rules.toml:6:18: TOML syntax error: illegal character '\\n' "
        "(a quoted value is not closed on its line: add the closing quote)"
    ]


def test_arrays_nested_past_what_toml_can_read_are_a_located_problem_not_a_crash() -> None:
    nested = "keywords = " + "[" * 3000 + "]" * 3000 + "\n"
    assert problems(nested) == ["rules.toml:6:1: arrays or inline tables nested too deeply to read"]


def test_a_pasted_line_of_megabytes_is_refused_before_the_toml_reader_sees_it() -> None:
    dotted = ".".join(["a"] * 1_000_000) + " = 1\n"
    assert problems(dotted) == [
        "rules.toml:6:20001: line is 2,000,003 characters long; a rules line may be at most 20,000"
    ]


def test_unknown_key_suggests_the_closest() -> None:
    assert problems('daily_limt = "1h"\n') == [
        'rules.toml:6:1: profiles.me.daily_limt: unknown key "daily_limt" (did you mean "daily_limit"?)'
    ]


def test_unknown_top_level_and_household_keys() -> None:
    found = problems("", head="[houshold]\ncountry = 'GB'\n\n" + HEAD)
    assert found == ['rules.toml:1:1: houshold: unknown key "houshold" (did you mean "household"?)']
    found = problems("", head='[household]\ntimezon = "UTC"\n' + HEAD)
    assert found == ['rules.toml:2:1: household.timezon: unknown key "timezon" (did you mean "timezone"?)']


def test_wrong_types() -> None:
    assert problems('daily_limit = 45\ncalm = "yes"\nkeywords = "cats"\nmax_snoozes = -1\n') == [
        'rules.toml:6:1: profiles.me.daily_limit: expected a duration like "45m" or "1h30m", got 45 '
        '(did you mean "45m"?)',
        'rules.toml:7:1: profiles.me.calm: expected true or false, got "yes"',
        'rules.toml:8:1: profiles.me.keywords: expected a list of strings, got "cats"',
        "rules.toml:9:1: profiles.me.max_snoozes: expected a number of at least 0, got -1",
    ]


def test_impossible_time() -> None:
    assert problems('[profiles.me.quiet_hours]\nmon = "22:00-25:00"\n') == [
        'rules.toml:7:1: profiles.me.quiet_hours.mon: impossible time "25:00": hours go 00–23 and minutes 00–59'
    ]


def test_a_daily_limit_longer_than_a_day_is_a_problem_not_a_limit_never_reached() -> None:
    """A user test typed "25h" for a child's daily limit on the Rules page and was told it would take effect."""
    assert problems('daily_limit = "25h"\n[profiles.me.limits]\nreddit = "1d1m"\n') == [
        'rules.toml:6:1: profiles.me.daily_limit: a day has 24 hours, so "25h" is never reached (write "off" instead)',
        "rules.toml:8:1: profiles.me.limits.reddit: "
        'a day has 24 hours, so "1d1m" is never reached (write "off" instead)',
    ]
    assert parse_rules(HEAD + 'daily_limit = "24h"\n', "rules.toml").profile("me").daily_limit == timedelta(hours=24)


def test_empty_window() -> None:
    assert problems('[profiles.me.quiet_hours]\nmon = "22:00-22:00"\n') == [
        'rules.toml:7:1: profiles.me.quiet_hours.mon: empty window "22:00-22:00": the start and the end are the '
        'same time (a whole day is "00:00-24:00")'
    ]


def test_a_whole_day_is_00_00_to_24_00() -> None:
    """docs/rules.md says 24:00 may end a window; the whole day was refused as empty (a review)."""
    from datetime import UTC, datetime

    from breather.rules.decisions import quiet_hours_now
    from breather.rules.loader import parse_rules

    head = '[household]\ntimezone = "UTC"\n' + HEAD
    windows = (
        parse_rules(head + '[profiles.me.quiet_hours]\nsun = "00:00-24:00"\n', "rules.toml").profile("me").quiet_hours
    )
    for hour in (0, 9, 23):
        assert quiet_hours_now(windows, datetime(2026, 11, 29, hour, 30, tzinfo=UTC), UTC).quiet  # a Sunday
    assert not quiet_hours_now(windows, datetime(2026, 11, 30, 0, 30, tzinfo=UTC), UTC).quiet  # Monday
    assert windows[0].describe() == "Sun 00:00–24:00"


def test_overlapping_windows_on_the_same_day() -> None:
    assert problems('[profiles.me.quiet_hours]\nweekdays = "21:00-23:00"\nmon = ["08:00-09:00", "22:00-23:30"]\n') == [
        'rules.toml:8:1: profiles.me.quiet_hours.mon: windows overlap: Mon 21:00–23:00 (from "weekdays") and '
        'Mon 22:00–23:30 (from "mon")'
    ]


def test_window_past_midnight_overlapping_the_next_mornings_window() -> None:
    assert problems('[profiles.me.quiet_hours]\nfri = "23:00-06:00"\nsat = "05:00-08:00"\n') == [
        'rules.toml:8:1: profiles.me.quiet_hours.sat: windows overlap: Fri 23:00–06:00 (from "fri") and '
        'Sat 05:00–08:00 (from "sat")'
    ]


def test_unknown_category_in_warnings_and_topic_quiet_hours() -> None:
    body = (
        '[profiles.me.warnings]\nviolenc = "high"\n'
        '[profiles.me.topic_quiet_hours]\npolitics = { daily = "20:00-21:00" }\n'
    )
    known = "(categories: self_harm, eating_disorder, violence, harassment, substance"
    own = ', or "keyword:<topic>" for one of your own topics'  # a named topic may have topic quiet hours
    assert problems(body) == [
        f'rules.toml:7:1: profiles.me.warnings.violenc: unknown category "violenc" (did you mean "violence"?) {known})',
        f'rules.toml:9:1: profiles.me.topic_quiet_hours.politics: unknown category "politics" {known}{own})',
    ]


def test_inline_table_keys_are_located_exactly() -> None:
    body = '[profiles.me.topic_quiet_hours]\nviolence = { daily = "20:00-25:00" }\n'
    assert problems(body) == [
        'rules.toml:7:14: profiles.me.topic_quiet_hours.violence.daily: impossible time "25:00": hours go 00–23 '
        "and minutes 00–59"
    ]


def test_missing_parent_profile() -> None:
    assert problems('[profiles.kid]\ninherits = "parnet"\n') == [
        'rules.toml:7:1: profiles.kid.inherits: parent profile "parnet" does not exist'
    ]
    assert problems('[profiles.kid]\ninherits = "mee"\n') == [
        'rules.toml:7:1: profiles.kid.inherits: parent profile "mee" does not exist (did you mean "me"?)'
    ]


def test_circular_parent_profiles() -> None:
    found = problems('inherits = "b"\n[profiles.b]\ninherits = "me"\n')
    assert found == [
        "rules.toml:6:1: profiles.me.inherits: circular inheritance: me → b → me",
        "rules.toml:8:1: profiles.b.inherits: circular inheritance: b → me → b",
    ]


def test_a_profile_with_a_broken_parent_still_has_its_own_windows_checked_in_the_same_pass() -> None:
    """An audit fixed a circular `inherits` and only then met the overlapping windows below it: every problem is
    said at once, as the README promises."""
    found = problems(
        '[profiles.kid]\ninherits = "kid"\n[profiles.kid.quiet_hours]\nweekdays = "21:00-23:00"\nmon = "22:00-23:30"\n'
    )
    assert found == [
        "rules.toml:7:1: profiles.kid.inherits: circular inheritance: kid → kid",
        'rules.toml:10:1: profiles.kid.quiet_hours.mon: windows overlap: Mon 21:00–23:00 (from "weekdays") and '
        'Mon 22:00–23:30 (from "mon")',
    ]


def test_domain_in_two_groups() -> None:
    found = problems("", head='[sites.a]\ndomains = ["x.com"]\n[sites.b]\ndomains = ["y.com", "X.com"]\n' + HEAD)
    assert found == ['rules.toml:4:1: sites.b.domains[1]: domain "x.com" is already in site group "a"']


def test_bad_domain_and_adapter() -> None:
    found = problems("", head='[sites.a]\nadapter = "redit"\ndomains = ["https://x.com/"]\n' + HEAD)
    adapters = ", ".join(ADAPTERS)
    assert found == [
        f'rules.toml:2:1: sites.a.adapter: unknown adapter "redit" (did you mean "reddit"?) (one of: {adapters})',
        'rules.toml:3:1: sites.a.domains[0]: expected a domain like "reddit.com", got "https://x.com/"',
    ]


def test_bad_country_codes() -> None:
    assert problems('country = "XX"\n') == [
        'rules.toml:6:1: profiles.me.country: expected a two-letter ISO country code like "GB" or "US", got "XX"'
    ]
    assert problems('country = "UK"\n') == [
        'rules.toml:6:1: profiles.me.country: "UK" is not an ISO country code: use "GB" for the United Kingdom'
    ]


def test_bad_time_zone_name() -> None:
    found = problems("", head='[household]\ntimezone = "Europe/Londn"\n' + HEAD)
    assert found == [
        'rules.toml:2:1: household.timezone: unknown time zone "Europe/Londn": use an IANA name such as "Europe/London"'
    ]


def test_bad_ip_and_clashing_identities() -> None:
    body = 'user = "sam"\nclient_ips = ["192.168.1.300"]\n[profiles.b]\nuser = "SAM"\n'
    assert problems(body) == [
        'rules.toml:7:1: profiles.me.client_ips[0]: expected an IP address or network like "192.168.1.20", '
        'got "192.168.1.300"',
        'rules.toml:9:1: profiles.b.user: user "SAM" already names profile "me"',
    ]


def test_default_profile_must_be_one() -> None:
    assert problems("[profiles.b]\ndefault = true\n") == [
        'rules.toml:7:1: profiles.b.default: only one profile can be the default; "me" already is'
    ]
    head = '[sites.reddit]\ndomains = ["reddit.com"]\n[profiles.a]\n[profiles.b]\n'
    assert problems("", head=head) == ['rules.toml:3:1: profiles: no default profile: mark one with "default = true"']


def test_every_problem_is_reported_not_just_the_first() -> None:
    body = 'daily_limit = "lots"\nbreak_after = "soon"\nuplift = "max"\ncountry = "Mars"\n'
    found = problems(body)
    assert [line.split(": ")[1] for line in found] == [
        "profiles.me.daily_limit",
        "profiles.me.break_after",
        "profiles.me.uplift",
        "profiles.me.country",
    ]


# Every rule type parses into the model ------------------------------------------------------------------------

FULL = """
[household]
timezone = "America/New_York"
country = "gb"
retention_days = 30
cooling_off = "2d"
friction_delay = "15s"

[sites.reddit]
domains = ["reddit.com", "old.reddit.com"]

[sites.forum]
adapter = "generic"
domains = ["forum.example"]

[profiles.parent]
default = true
daily_limit = "2h"
break_after = "30m"
break_length = "10m"
keywords = ["spoiler"]
[profiles.parent.limits]
reddit = "1h"
"forum.example" = "20m"
[profiles.parent.quiet_hours]
weekdays = "22:00-06:30"
[profiles.parent.warnings]
violence = "low"
[profiles.parent.topic_quiet_hours]
violence = { daily = "20:00-21:00" }

[profiles.sam]
inherits = "parent"
user = "sam"
password = "secret"
client_ips = ["192.168.1.0/24", "192.168.1.20"]
daily_limit = "45m"
always_allowed = ["forum.example"]
country = "US"
uplift = "gentle"
calm = true
friction_delay = "1m"
[profiles.sam.limits]
reddit = "off"
[profiles.sam.quiet_hours]
weekend = ["07:00-09:00", "23:00-24:00"]
[profiles.sam.warnings]
self_harm = "high"
"""


def test_every_rule_type_reaches_the_model() -> None:
    rules = parse_rules(FULL)
    assert (rules.timezone, rules.retention_days, rules.cooling_off) == ("America/New_York", 30, timedelta(days=2))
    assert rules.group_named("forum") is not None
    parent, sam = rules.profile("parent"), rules.profile("sam")
    assert parent.country == "GB" and parent.friction_delay == timedelta(seconds=15)
    assert parent.limits == {"reddit": timedelta(hours=1), "forum.example": timedelta(minutes=20)}
    assert parent.topic_quiet_hours == tuple(TopicWindow("violence", Window(d, time(20), time(21))) for d in range(7))
    assert parent.keywords == ("spoiler",)
    # The child: own values win, tables merge key by key, identity is never inherited.
    assert sam.daily_limit == timedelta(minutes=45)
    assert sam.limits == {"forum.example": timedelta(minutes=20)}
    assert sam.break_after == timedelta(minutes=30) and sam.break_length == timedelta(minutes=10)
    assert sam.sensitivity["self_harm"] == "high" and sam.sensitivity["violence"] == "low"
    assert sam.sensitivity["substance"] == "medium"
    assert Window(0, time(22), time(6, 30)) in sam.quiet_hours
    assert Window(5, time(23), time(0)) in sam.quiet_hours
    assert len(sam.quiet_hours) == 5 + 4
    assert len(sam.topic_quiet_hours) == 7
    assert (sam.uplift, sam.calm, sam.country, sam.friction_delay) == ("gentle", True, "US", timedelta(minutes=1))
    assert sam.keywords == ("spoiler",)
    assert sam.is_default is False and parent.user is None


def test_profiles_are_found_by_user_then_ip_then_default() -> None:
    rules = parse_rules(
        FULL.replace('client_ips = ["192.168.1.0/24", "192.168.1.20"]', 'client_ips = ["192.168.1.0/24"]')
    )
    assert rules.profile_for("SAM", None).name == "sam"
    assert rules.profile_for(None, "192.168.1.77").name == "sam"
    assert rules.profile_for(None, "10.0.0.1").name == "parent"
    assert rules.profile_for("stranger", "not-an-ip").name == "parent"


def test_the_most_specific_network_wins() -> None:
    text = FULL.replace('client_ips = ["192.168.1.0/24", "192.168.1.20"]', 'client_ips = ["192.168.1.20"]')
    text += '[profiles.guest]\nclient_ips = ["192.168.1.0/24"]\n'
    rules = parse_rules(text)
    assert rules.profile_for(None, "192.168.1.20").name == "sam"
    assert rules.profile_for(None, "192.168.1.21").name == "guest"


def test_hosts_find_their_group_through_parent_domains() -> None:
    rules = parse_rules(FULL)
    assert rules.intercepted_domains() == ("reddit.com", "old.reddit.com", "forum.example")
    group = rules.group_for_host("i.old.reddit.com")
    assert group is not None and group.name == "reddit"
    assert rules.group_for_host("notreddit.com") is None
    assert rules.group_for_host("OLD.Reddit.com.") is not None
    assert rules.always_allowed("www.forum.example", "sam")
    assert not rules.always_allowed("www.forum.example", "parent")


def test_a_limit_on_a_domain_no_site_group_has_is_a_problem_not_a_silent_no_op() -> None:
    """A user test: a limit on "news.ycombinator.co" (a typo) or on a site in no group was accepted, shown on the
    dashboard as set, and never applied."""
    assert problems('[profiles.me.limits]\n"reddit.co" = "10m"\n"reddit.com" = "5m"\n') == [
        'rules.toml:7:1: profiles.me.limits."reddit.co": Breather does not look after "reddit.co" (did you mean '
        '"reddit.com"?): no site group under [sites] has it, so this limit would never apply; add the domain to a '
        "group, or fix its spelling"
    ]


def test_a_limit_on_part_of_a_site_counts_the_whole_site_and_says_so() -> None:
    """A review: `"old.reddit.com" = "5m"` loaded; the extension's status said the limit was reached, while the
    proxy, which counts and closes a visit under the whole site (reddit.com), never closed it. Refusing the key
    would stop a service whose file an older version ran with (an upgrade review): it counts the whole site."""
    head = HEAD.replace('domains = ["reddit.com"]', 'domains = ["reddit.com", "old.reddit.com"]')
    rules = parse_rules(head + '[profiles.me.limits]\n"old.reddit.com" = "5m"\n"i.Reddit.com" = "5m"\n')
    assert rules.limits_on_part_of_a_site() == (
        ("me", "old.reddit.com", "reddit.com"),
        ("me", "i.reddit.com", "reddit.com"),
    )
    assert parse_rules(head + '[profiles.me.limits]\n"Reddit.com" = "20m"\n').limits_on_part_of_a_site() == ()


def test_a_limit_on_a_domain_over_a_groups_hosts_loads() -> None:
    """Breather 0.1.0 ran a file with `"youtube.com" = "30m"` while the group lists www.youtube.com and
    m.youtube.com; refusing it stopped the service after the update (an upgrade review). The limit covers both."""
    head = HEAD.replace('domains = ["reddit.com"]', 'domains = ["www.youtube.com", "m.youtube.com"]')
    rules = parse_rules(head + '[profiles.me.limits]\n"youtube.com" = "30m"\n')
    assert rules.profile("me").limits == {"youtube.com": timedelta(minutes=30)}


def test_a_member_setting_below_a_sub_table_header_says_to_move_it_up() -> None:
    """A user test: `daily_limit` typed under [profiles.me.warnings] read as "unknown category", a trap the default
    file's own comment warns about: the file looks right to the eye."""
    (problem,) = problems('[profiles.me.warnings]\nviolence = "low"\ndaily_limit = "30m"\n')
    assert problem.startswith('rules.toml:8:1: profiles.me.warnings.daily_limit: unknown category "daily_limit"')
    assert problem.endswith(
        '; "daily_limit" is a member setting: every key after the [profiles.me.warnings] header belongs to that '
        "table, so move it above [profiles.me.warnings]"
    )


def test_a_whole_day_is_written_back_as_it_is_read() -> None:
    """`breather rules show` and the rules-in-force copy wrote a whole day as "00:00-00:00", which does not read."""
    from breather.rules.render import schedule_to_dict

    windows = parse_rules(HEAD + '[profiles.me.quiet_hours]\nsun = "00:00-24:00"\n').profile("me").quiet_hours
    assert schedule_to_dict(windows) == {"sun": ["00:00-24:00"]}


def test_an_unknown_key_with_nothing_close_lists_the_few_keys_its_table_takes() -> None:
    """A user test wrote `weeknights = ...` in quiet hours and was told only that the key was unknown."""
    found = problems('[profiles.me.quiet_hours]\nweeknights = "21:00-07:00"\n')
    assert len(found) == 1 and 'unknown key "weeknights"' in found[0]
    assert found[0].endswith("(one of: mon, tue, wed, thu, fri, sat, sun, weekdays, weekend, daily)"), found


def test_an_overlap_with_an_inherited_window_says_where_it_comes_from_and_how_to_replace_it() -> None:
    """A user test gave a child `weekdays` quiet hours under a parent's `daily` and met seven overlaps naming
    "daily", which the child's table did not have: nothing said it came from the parent."""
    found = problems(
        '[profiles.me.quiet_hours]\ndaily = "23:00-07:00"\n'
        '[profiles.mia]\ninherits = "me"\n[profiles.mia.quiet_hours]\nweekdays = "21:30-07:00"\n'
    )
    assert found and all("profiles.mia.quiet_hours.weekdays" in line for line in found), found
    assert found[0].endswith(
        '(from "weekdays"); "daily" comes from me: write daily = [] in mia\'s own quiet hours to leave it out'
    ), found[0]
