"""Four ways a review found past the cooling-off, each applying at once: a new site group taking a subdomain another
group covered (or a group's adapter changed), a user name given to a looser member nobody could reach, a tightening
of quiet hours made in the same edit as a loosening (the whole schedule waited, so tonight's added evening was not
quiet), and calm feeds or uplift switched off."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from breather.pending_rules import loosenings as page_words
from breather.rules.cooling import PendingChange, apply_change, held_sentence
from breather.rules.decisions import Usage, decide, hidden_topics
from breather.rules.loader import load_rules, parse_rules
from breather.rules.model import SiteGroup
from breather.rules.watcher import RulesWatcher, held_marker_path

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday, noon
DAY = timedelta(hours=24)
TONIGHT = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)
TOMORROW_EARLY = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)  # before the wait ends at noon
BASE = """
[household]
timezone = "UTC"
cooling_off = "24h"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com", "old.reddit.com"]

[sites.mastodon]
domains = ["mastodon.social"]

[profiles.me]
default = true
daily_limit = "3h"
[profiles.me.limits]
reddit = "30m"
[profiles.me.warnings]
self_harm = "high"
"""
# 45 minutes on reddit today: past the reddit limit, well inside the daily one
ON_REDDIT = Usage(minutes_today={"reddit": 45.0}, group_minutes={"reddit": 45.0}, total_minutes=45.0)
ESCAPE = '\n[sites.escape]\ndomains = ["new.reddit.com"]\n'


def sentence(held: tuple[PendingChange, ...]) -> str:
    return held_sentence(held, UTC, NOW)


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def write_by_hand(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def watching(tmp_path: Path, text: str, clock: FakeClock) -> tuple[RulesWatcher, Path, Path]:
    path, copy = tmp_path / "rules.toml", tmp_path / "data" / "rules.last-good.toml"
    path.write_text(text, encoding="utf-8")
    return RulesWatcher(path, last_good=copy, cool_loosening=True, clock=clock), path, copy


# --- 1. a subdomain taken by another group, a group's adapter ----------------------------------------------------


def test_a_new_group_taking_a_reddit_subdomain_waits_and_the_reddit_limit_still_applies_there() -> None:
    old, new = parse_rules(BASE), parse_rules(BASE + ESCAPE)
    in_force, held = apply_change(old, new, NOW)
    decision = decide(in_force, "me", "new.reddit.com", NOW, ON_REDDIT)
    assert (decision.group, decision.kind) == ("reddit", "limit_reached")
    assert sentence(held) == "looking after new.reddit.com (moved to escape) takes effect at 12:00 tomorrow"
    assert [change.path for change in held] == ["sites.escape.domains"]
    later, still = apply_change(old, new, NOW + DAY, changed_at=NOW)
    assert still == () and decide(later, "me", "new.reddit.com", NOW + DAY, ON_REDDIT).group == "escape"


def test_a_subdomain_listed_in_its_own_group_or_a_new_site_applies_at_once() -> None:
    own = BASE.replace('"old.reddit.com"]', '"old.reddit.com", "new.reddit.com"]')
    lemmy = own + '\n[sites.lemmy]\ndomains = ["lemmy.world"]\n'
    in_force, held = apply_change(parse_rules(BASE), parse_rules(lemmy), NOW)
    assert held == () and in_force.group_for_host("lemmy.world") is not None


def test_a_groups_other_adapter_waits_and_reddit_is_still_read_as_reddit() -> None:
    old, new = parse_rules(BASE), parse_rules(BASE.replace('adapter = "reddit"', 'adapter = "generic"'))
    in_force, held = apply_change(old, new, NOW)
    group = in_force.group_named("reddit")
    assert group is not None and group.adapter == "reddit"  # its feeds still read for warnings
    assert sentence(held) == "reading reddit with the generic adapter (was reddit) takes effect at 12:00 tomorrow"
    assert [change.path for change in held] == ["sites.reddit.adapter"]
    later, _ = apply_change(old, new, NOW + DAY, changed_at=NOW)
    assert later.group_named("reddit") == SiteGroup("reddit", "generic", group.domains)


def test_the_rules_page_words_a_taken_subdomain_and_another_adapter() -> None:
    assert page_words(parse_rules(BASE), parse_rules(BASE + ESCAPE)) == [
        "new.reddit.com moved to the site group escape"
    ]
    other = parse_rules(BASE.replace('adapter = "reddit"', 'adapter = "generic"'))
    assert page_words(parse_rules(BASE), other) == ["reddit read with another adapter (reddit → generic)"]


def test_the_service_holds_a_taken_subdomain_and_its_copy_keeps_the_limit_through_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    watcher, path, copy = watching(tmp_path, BASE, clock)
    write_by_hand(path, BASE + ESCAPE)
    watcher.reload()
    assert watcher.current is not None
    assert decide(watcher.current, "me", "new.reddit.com", NOW, ON_REDDIT).kind == "limit_reached"
    assert load_rules(copy) == watcher.current  # the last good copy is the rules in force
    write_by_hand(path, BASE + ESCAPE + "\nbroken = = \n")
    restarted = RulesWatcher(path, last_good=copy, cool_loosening=True, clock=clock)
    assert restarted.current is not None
    assert decide(restarted.current, "me", "new.reddit.com", NOW, ON_REDDIT).kind == "limit_reached"


def test_a_domain_moved_to_another_existing_group_writes_a_copy_of_the_rules_in_force(tmp_path: Path) -> None:
    """The copy could not be written for a move between two groups before (one group table went back, the other
    still listed the domain); a restart on a broken file then fell back to an older copy."""
    watcher, path, copy = watching(tmp_path, BASE, FakeClock())
    moved = BASE.replace('"www.reddit.com", "old.reddit.com"]', '"old.reddit.com"]').replace(
        '["mastodon.social"]', '["mastodon.social", "www.reddit.com"]'
    )
    write_by_hand(path, moved)
    watcher.reload()
    assert watcher.current is not None and watcher.current.group_named("reddit") == parse_rules(BASE).groups[0]
    assert load_rules(copy) == watcher.current


# --- 2. a user name for a looser member nobody could reach ------------------------------------------------------

WITH_BASE = BASE.replace(
    "[profiles.me]\ndefault = true\n",
    '[profiles.base]\ndaily_limit = "off"\n\n[profiles.teen]\nuser = "teen"\ndaily_limit = "1h"\n\n'
    "[profiles.me]\ndefault = true\n",
)
BASE_NAMED = WITH_BASE.replace('daily_limit = "off"', 'daily_limit = "off"\nuser = "base"')


def test_a_user_name_for_a_looser_member_nobody_could_reach_waits() -> None:
    """On this machine a user name alone picks its member: "base" (no limit at all) would be everyone's way out."""
    old, new = parse_rules(WITH_BASE), parse_rules(BASE_NAMED)
    in_force, held = apply_change(old, new, NOW)
    assert in_force.profile_for("base").name == "me"  # not a way in yet
    assert decide(in_force, in_force.profile_for("base").name, "reddit.com", NOW, ON_REDDIT).kind == "limit_reached"
    assert sentence(held) == "base's user name (none → base) takes effect at 12:00 tomorrow"
    assert page_words(old, new) == ["base's sign-in (user name or password) changed"]
    later, _ = apply_change(old, new, NOW + DAY, changed_at=NOW)
    assert later.profile_for("base").name == "base"


def test_first_credentials_for_a_member_no_looser_than_the_default_apply_at_once() -> None:
    strict = WITH_BASE.replace(
        '[profiles.base]\ndaily_limit = "off"', '[profiles.base]\ninherits = "me"\ndaily_limit = "1h"'
    )
    named = strict.replace('inherits = "me"\n', 'inherits = "me"\nuser = "base"\n')
    in_force, held = apply_change(parse_rules(strict), parse_rules(named), NOW)
    assert held == () and in_force.profile_for("base").name == "base"


def test_first_credentials_looser_than_a_member_a_device_address_picks_wait() -> None:
    """teen's laptop is listed under teen (no sign-in asked there): a sign-in to a looser sibling would be teen's
    way out, though the sibling is stricter than the default member."""
    laptop = WITH_BASE.replace('user = "teen"\ndaily_limit = "1h"', 'client_ips = ["192.0.2.7"]\ndaily_limit = "20m"')
    sibling = laptop.replace("[profiles.me]\n", '[profiles.sib]\ndaily_limit = "1h"\n\n[profiles.me]\n')
    named = sibling.replace('[profiles.sib]\ndaily_limit = "1h"', '[profiles.sib]\nuser = "sib"\ndaily_limit = "1h"')
    in_force, held = apply_change(parse_rules(sibling), parse_rules(named), NOW)
    assert in_force.profile_for("sib", "192.0.2.7").name == "teen"
    assert [(change.profile, change.setting) for change in held] == [("sib", "user")]


def test_the_service_holds_the_user_name_of_a_looser_member(tmp_path: Path) -> None:
    clock = FakeClock()
    watcher, path, _ = watching(tmp_path, WITH_BASE, clock)
    write_by_hand(path, BASE_NAMED)
    watcher.reload()
    assert watcher.current is not None and watcher.current.profile_for("base").name == "me"
    clock.now = NOW + DAY
    assert watcher.release_due() is True and watcher.current.profile_for("base").name == "base"


# --- 7. quiet hours tightened and loosened in one edit -----------------------------------------------------------

NIGHTS = BASE + '[profiles.me.quiet_hours]\ndaily = "23:00-07:00"\n'
EARLIER = NIGHTS.replace("23:00-07:00", "21:00-06:00")  # two hours more in the evening, one less in the morning


def test_quiet_hours_moved_earlier_are_quiet_tonight_from_the_new_start_and_until_the_old_end() -> None:
    old, new = parse_rules(NIGHTS), parse_rules(EARLIER)
    in_force, held = apply_change(old, new, NOW)
    assert decide(in_force, "me", "reddit.com", TONIGHT).kind == "quiet_hours"  # the added evening: at once
    assert decide(in_force, "me", "reddit.com", TOMORROW_EARLY).kind == "quiet_hours"  # the dropped hour: held
    assert sentence(held) == "me's quiet hours (some hours no longer covered) takes effect at 12:00 tomorrow"
    later, _ = apply_change(old, new, NOW + DAY, changed_at=NOW)
    assert decide(later, "me", "reddit.com", TOMORROW_EARLY + DAY).kind == "allow"


def test_a_quiet_hours_edit_that_only_shortens_keeps_the_old_windows_as_written() -> None:
    old = parse_rules(NIGHTS)
    in_force, _ = apply_change(old, parse_rules(NIGHTS.replace("23:00-07:00", "00:00-06:00")), NOW)
    assert in_force.profile("me").quiet_hours == old.profile("me").quiet_hours


def test_a_weekend_stretch_held_with_a_new_evening_stays_whole() -> None:
    """Windows that join become one stretch; one longer than a day is split at midnight, as a file can write it."""
    weekend = BASE + '[profiles.me.quiet_hours]\nweekend = "00:00-24:00"\nfri = "22:00-00:00"\n'
    asked = weekend.replace('fri = "22:00-00:00"', 'fri = "20:00-00:00"').replace("00:00-24:00", "08:00-20:00")
    in_force, held = apply_change(parse_rules(weekend), parse_rules(asked), NOW)
    assert [change.setting for change in held] == ["quiet_hours"]
    friday, sunday = datetime(2026, 11, 27, 20, 30, tzinfo=UTC), datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert decide(in_force, "me", "reddit.com", friday).kind == "quiet_hours"
    assert decide(in_force, "me", "reddit.com", sunday).kind == "quiet_hours"
    assert decide(in_force, "me", "reddit.com", friday - timedelta(hours=1)).kind == "allow"


def test_topic_quiet_hours_moved_earlier_collapse_tonights_added_evening() -> None:
    topic = BASE + '[profiles.me.topic_quiet_hours]\nviolence = { daily = "23:00-07:00" }\n'
    earlier = topic.replace("23:00-07:00", "21:00-06:00")
    in_force, held = apply_change(parse_rules(topic), parse_rules(earlier), NOW)
    assert [(change.setting, change.item) for change in held] == [("topic_quiet_hours", "violence")]
    assert "violence" in hidden_topics(in_force.profile("me"), TONIGHT)
    assert "violence" in hidden_topics(in_force.profile("me"), TOMORROW_EARLY)


def test_the_service_holds_the_dropped_hour_keeps_the_added_evening_and_its_copy_through_a_restart(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    watcher, path, copy = watching(tmp_path, NIGHTS, clock)
    write_by_hand(path, EARLIER)
    watcher.reload()
    assert watcher.current is not None and [change.setting for change in watcher.held] == ["quiet_hours"]
    assert decide(watcher.current, "me", "reddit.com", TONIGHT).kind == "quiet_hours"
    assert load_rules(copy) == watcher.current  # written as a file: the union of both schedules
    assert held_marker_path(copy).exists()
    write_by_hand(path, EARLIER + "\nbroken = = \n")
    restarted = RulesWatcher(path, last_good=copy, cool_loosening=True, clock=clock)
    assert restarted.current is not None
    assert decide(restarted.current, "me", "reddit.com", TONIGHT).kind == "quiet_hours"
    write_by_hand(path, EARLIER)
    restarted.reload()
    clock.now = NOW + DAY
    assert restarted.release_due() is True
    assert restarted.current.profile("me").quiet_hours == parse_rules(EARLIER).profile("me").quiet_hours


# --- 9. calm feeds and uplift ------------------------------------------------------------------------------------

CALM = BASE.replace("default = true\n", 'default = true\ncalm = true\nuplift = "strong"\n')


def test_calm_feeds_switched_off_wait() -> None:
    old, new = parse_rules(CALM), parse_rules(CALM.replace("calm = true", "calm = false"))
    in_force, held = apply_change(old, new, NOW)
    assert in_force.profile("me").calm is True  # counters still hidden in quiet hours and past a limit
    assert sentence(held) == "me's calm feeds (on → off) takes effect at 12:00 tomorrow"
    assert page_words(old, new) == ["me: calm feeds switched off"]


def test_less_uplift_waits_and_more_applies_at_once() -> None:
    old = parse_rules(CALM)
    gentle = parse_rules(CALM.replace('uplift = "strong"', 'uplift = "gentle"'))
    in_force, held = apply_change(old, gentle, NOW)
    assert in_force.profile("me").uplift == "strong"  # distressing posts still sink all the way
    assert sentence(held) == "me's feed uplift (strong → gentle) takes effect at 12:00 tomorrow"
    assert page_words(old, gentle) == ["me: less uplift in feeds"]
    _, none_held = apply_change(gentle, old, NOW)
    assert none_held == ()
    switched_on = CALM.replace("calm = true", "calm = false").replace('uplift = "strong"', 'uplift = "off"')
    _, none_held = apply_change(parse_rules(switched_on), old, NOW)
    assert none_held == ()
