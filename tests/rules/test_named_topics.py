"""Named own topics (``[profiles.NAME.topics]``): a user test found every own keyword's warning said "Breather: your
topic", so someone with two topics could neither tell which one a warning was about nor quiet one without the other.
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tomlkit

from breather.cli import main
from breather.rules.classify import KEYWORD_PREFIX, PLAIN_KEYWORDS, classify, screen
from breather.rules.cooling import apply_change
from breather.rules.decisions import decide
from breather.rules.errors import RulesError
from breather.rules.loader import parse_rules
from breather.rules.model import CATEGORIES, OWN_TOPIC_PREFIX
from breather.rules.render import profile_to_dict
from tests.rules.test_watcher import START, FakeClock, cooling_watcher, edit

TWO_TOPICS = """\
[household]
timezone = "UTC"

[sites.reddit]
domains = ["reddit.com"]

[profiles.me]
default = true
keywords = ["jeep"]

[profiles.me.topics]
pregnancy = ["pregnan*", "due date"]
"US politics" = ["election", "senat*"]

[profiles.kid]
inherits = "me"

[profiles.kid.topics]
pregnancy = []
games = ["speedrun*"]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    return [str(problem) for problem in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the rules file -------------------------------------------------------------------------------------------------


def test_a_rules_file_with_two_named_topics_loads_and_the_plain_keywords_stay_as_they_were() -> None:
    me = parse_rules(TWO_TOPICS).profiles["me"]
    assert me.topics == {"pregnancy": ("pregnan*", "due date"), "US politics": ("election", "senat*")}
    assert me.keywords == ("jeep",)
    assert me.warns


def test_topics_are_inherited_key_by_key_and_an_empty_list_drops_the_parents_topic() -> None:
    kid = parse_rules(TWO_TOPICS).profiles["kid"]
    assert kid.topics == {"pregnancy": (), "US politics": ("election", "senat*"), "games": ("speedrun*",)}
    assert kid.keywords == ("jeep",)


def test_a_profile_with_only_named_topics_still_has_its_posts_read() -> None:
    off = "warnings = { " + ", ".join(f"{category} = 'off'" for category in CATEGORIES) + " }"
    text = TWO_TOPICS.replace('keywords = ["jeep"]', off)
    assert parse_rules(text).profiles["me"].warns
    emptied = text.replace('pregnancy = ["pregnan*", "due date"]', "pregnancy = []").replace(
        '"US politics" = ["election", "senat*"]', '"US politics" = []'
    )
    assert not parse_rules(emptied).profiles["me"].warns


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ('"tv:shows" = ["television"]', "topic name \"tv:shows\" has ':': a topic name may hold only letters"),
        ('"" = ["television"]', "a topic name cannot be empty"),
        (f'{"t" * 41} = ["television"]', "is 41 characters long; a topic name may be at most 40"),
        ('" tv" = ["television"]', 'topic name " tv" starts or ends with a space'),
        ('tv = "television"', 'expected a list of strings, got "television"'),
        ("tv = { words = ['television'] }", "expected a list of strings, got a table"),
        ('tv = ["television", " "]', 'a phrase of topic "tv" cannot be empty'),
    ],
)
def test_a_bad_topic_name_or_value_is_a_located_error(written: str, message: str) -> None:
    text = TWO_TOPICS.replace('games = ["speedrun*"]', written)
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(f"rules.toml:{line_of(text, written)}:1: profiles.kid.topics")
    assert message in found[0]


def test_topics_written_as_keywords_say_where_named_topics_go() -> None:
    """The user test's first try: ``keywords = { tv = ["television"] }``."""
    text = TWO_TOPICS.replace('keywords = ["jeep"]', 'keywords = { tv = ["television"] }')
    assert problems(text) == [
        f"rules.toml:{line_of(text, 'tv = ')}:1: profiles.me.keywords: expected a list of strings, got a table "
        "(to name topics, use [profiles.me.topics])"
    ]


def test_a_topic_name_of_any_script_loads() -> None:
    text = TWO_TOPICS.replace(
        'games = ["speedrun*"]', 'Schwangerschaft_und_Geburt = ["schwanger*"]\n"fútbol" = ["gol"]'
    )
    assert set(parse_rules(text).profiles["kid"].topics) >= {"Schwangerschaft_und_Geburt", "fútbol"}


# --- the classifier call --------------------------------------------------------------------------------------------


def test_one_keywords_value_carries_the_plain_keywords_and_the_named_topics() -> None:
    keywords = {PLAIN_KEYWORDS: ("jeep",), "US politics": ("election",), "pregnancy": ("pregnan*",)}
    assert classify("My jeep broke down again", keywords=keywords).flagged == ("custom",)
    assert classify("Who won the election?", keywords=keywords).flagged == ("keyword:US politics",)
    assert classify("She is pregnant and the jeep is red", keywords=keywords).flagged == (
        "custom",
        "keyword:pregnancy",
    )
    assert screen("Who won the election?", keywords) and not screen("A recipe for bread", keywords)
    # the API as it was: a plain list is category custom, a mapping of topics is keyword:<topic>
    assert classify("My jeep broke down again", keywords=["jeep"]).flagged == ("custom",)
    assert classify("Who won the election?", keywords={"politics": ["election"]}).flagged == ("keyword:politics",)


def test_the_rules_name_a_topic_category_as_the_classifier_does() -> None:
    assert OWN_TOPIC_PREFIX == KEYWORD_PREFIX


# --- topic quiet hours ----------------------------------------------------------------------------------------------

QUIET_TOPIC = """
[profiles.me.topic_quiet_hours]
"keyword:US politics" = { daily = "18:00-23:00" }
"""


def test_topic_quiet_hours_take_a_named_topic_and_hide_only_that_topic() -> None:
    rules = parse_rules(TWO_TOPICS + QUIET_TOPIC)
    evening = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    for name in ("me", "kid"):  # the kid inherits the topic and its quiet hours
        decision = decide(rules, rules.profiles[name], "reddit.com", evening)
        assert decision.hidden_topics == frozenset({"keyword:US politics"})
    assert decide(rules, rules.profiles["me"], "reddit.com", evening - timedelta(hours=2)).hidden_topics == frozenset()


def test_topic_quiet_hours_for_a_topic_the_profile_lacks_is_a_located_error() -> None:
    text = TWO_TOPICS + QUIET_TOPIC.replace("keyword:US politics", "keyword:US politic")
    assert problems(text) == [
        f"rules.toml:{line_of(text, 'keyword:US politic')}:1: profiles.me.topic_quiet_hours.keyword:US politic: "
        'no topic named "US politic" (did you mean "US politics"?): name it under [profiles.me.topics]'
    ]


def test_a_topic_name_alone_in_topic_quiet_hours_says_how_to_write_it() -> None:
    text = TWO_TOPICS + '[profiles.me.topic_quiet_hours]\npregnancy = { daily = "18:00-23:00" }\n'
    (found,) = problems(text)
    assert 'unknown category "pregnancy"' in found and '"keyword:<topic>" for one of your own topics' in found


# --- rules show / explain -------------------------------------------------------------------------------------------


def test_rendering_shows_the_topics_and_reads_back_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = parse_rules(TWO_TOPICS + QUIET_TOPIC)
    data = profile_to_dict(rules.profiles["kid"])
    assert data["topics"] == {"pregnancy": [], "US politics": ["election", "senat*"], "games": ["speedrun*"]}
    del data["inherits"]  # read back on its own, as the profile is after inheritance
    again = parse_rules(tomlkit.dumps({"profiles": {"kid": data}})).profiles["kid"]
    assert (again.topics, again.topic_quiet_hours) == (
        rules.profiles["kid"].topics,
        rules.profiles["kid"].topic_quiet_hours,
    )
    path = tmp_path / "rules.toml"
    path.write_text(TWO_TOPICS + QUIET_TOPIC)
    assert main(["rules", "show", "--file", str(path), "--profile", "me"]) == 0
    shown = tomllib.loads(capsys.readouterr().out)["profiles"]["me"]
    assert shown["topics"] == {"pregnancy": ["pregnan*", "due date"], "US politics": ["election", "senat*"]}
    assert main(["rules", "show", "--file", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["topics"]["US politics"] == ["election", "senat*"]


def test_explain_names_a_named_topic_under_its_quiet_hours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(TWO_TOPICS + QUIET_TOPIC)
    at = ["--at", "2026-11-25T19:00", "--used", "0m"]
    assert main(["rules", "explain", "--file", str(path), "--site", "reddit.com", *at]) == 0
    assert "hidden now by topic quiet hours: US politics (your topic)" in capsys.readouterr().out


# --- cooling-off ----------------------------------------------------------------------------------------------------


def test_removing_a_topic_phrase_or_a_whole_topic_waits_and_adding_one_applies_at_once() -> None:
    old = parse_rules(TWO_TOPICS)
    asked = (
        TWO_TOPICS.replace('pregnancy = ["pregnan*", "due date"]', 'pregnancy = ["pregnan*", "baby shower"]')
        .replace('"US politics" = ["election", "senat*"]\n', "")
        .replace('games = ["speedrun*"]', 'games = ["speedrun*", "patch notes"]')
    )
    in_force, held = apply_change(old, parse_rules(asked), START)
    me = in_force.profiles["me"]
    assert me.topics["pregnancy"] == ("pregnan*", "baby shower", "due date")  # added now, removed held
    assert me.topics["US politics"] == ("election", "senat*")  # the whole topic, held
    assert in_force.profiles["kid"].topics["games"] == ("speedrun*", "patch notes")
    labels = [change.label() for change in held if change.profile == "me"]
    assert labels == [
        'me\'s topic pregnancy (removing "due date")',
        'me\'s topic US politics (removing "election")',
        'me\'s topic US politics (removing "senat*")',
    ]
    later, still = apply_change(old, parse_rules(asked), START + timedelta(hours=24), changed_at=START)
    assert still == () and "US politics" not in later.profiles["me"].topics


def test_a_topic_phrase_removed_by_hand_is_held_by_the_watcher_and_one_added_applies_at_once(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(TWO_TOPICS.replace("[household]", '[household]\ncooling_off = "24h"'))
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, '"US politics" = ["election", "senat*"]', '"US politics" = ["senat*", "ballot*"]')
    watcher.reload()
    assert watcher.current is not None
    politics = watcher.current.profile("me").topics["US politics"]
    assert set(politics) == {"senat*", "ballot*", "election"}  # "ballot*" at once; "election" still warned on
    assert [change.label() for change in watcher.held if change.profile == "me"] == [
        'me\'s topic US politics (removing "election")'
    ]
    assert watcher.held[0].takes_effect == START + timedelta(hours=24)
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    assert watcher.current.profile("me").topics["US politics"] == ("senat*", "ballot*")
