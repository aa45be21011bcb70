"""What a member's name may be, one check for the rules and the usage store: the rules took "zoë" while the store
refused every record under it, so none of her time ever counted (tests/dashboard/test_member_names.py and
tests/proxy/test_member_names.py follow her minutes). A name the store cannot keep is now refused where the rules
are read, at its line, as any other mistake in the file is."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breather.cli import main
from breather.errors import CommandError
from breather.paths import Paths
from breather.rules.errors import RulesError
from breather.rules.loader import parse_rules
from breather.rules.names import member_name_problem
from breather.rules.watcher import RulesWatcher
from breather.service import load_rules_watcher
from breather.store.model import Event, Heartbeat

RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
domains = ["reddit.com"]

[profiles.parent]
default = true
daily_limit = "2h"

[profiles.{key}]
daily_limit = "45m"
"""
ALLOWED = "a name may hold letters and digits (any script), single spaces between words and _ . : ' -"
PEOPLE = [
    "zoë",
    "jürgen",
    "søren",
    "Zoë Ann",
    "José María",
    "O'Brien",
    "D’Angelo",  # the apostrophe a phone types
    "Anne-Marie",
    "Mr. Kim",
    "kid:2",
    "sam_2",
    "山田",
    "Владимир",
    "प्रिया",  # vowel signs and a virama: marks, not letters
    "zoe\u0308",  # "zoë" as a Mac may write it: "e" and a combining diaeresis
    "x" * 64,
]


def rules_with(name: str) -> str:
    return RULES.format(key=json.dumps(name, ensure_ascii=False))


def store_keeps(name: str) -> bool:
    try:
        Heartbeat(name, "reddit.com", datetime.now(UTC))
    except ValueError:
        return False
    return True


def rules_take(name: str) -> bool:
    try:
        parse_rules(rules_with(name))
    except RulesError:
        return False
    return True


@pytest.mark.parametrize("name", PEOPLE)
def test_names_people_call_each_other_are_taken_by_the_rules_and_kept_by_the_store(name: str) -> None:
    rules = parse_rules(rules_with(name))
    assert name in rules.profiles
    now = datetime.now(UTC)
    assert Heartbeat(name, "reddit.com", now).profile == name
    assert Event(name, "break_taken", now).profile == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "a member's name cannot be empty"),
        ("   ", "a member's name cannot be empty"),
        (" zoë", 'member name " zoë" starts or ends with a space'),
        ("zoë ", 'member name "zoë " starts or ends with a space'),
        ("zoë/ann", 'member name "zoë/ann" has "/"'),
        ("..", 'member name ".." needs a letter or digit'),
        ("zoë\\ann", 'member name "zoë\\ann" has "\\"'),
        ("zoë\nann", 'member name "zoë\\nann" has U+000A'),
        ("zoë\tann", 'member name "zoë\\tann" has U+0009'),
        ("zoë\u202eann", "has U+202E (right-to-left override)"),
        ("zoë\u200bann", "has U+200B (zero width space)"),
        ("Zoë  Ann", 'member name "Zoë  Ann" has two spaces in a row'),
        ("<b>zoë</b>", 'member name "<b>zoë</b>" has "<"'),
        ("https://x", 'member name "https://x" has "/"'),
        ("zoë&ann", 'member name "zoë&ann" has "&"'),
        ('zoë"', 'member name "zoë"" has """'),
        ("-zoë", 'member name "-zoë" starts with "-"'),
        ("\u0308zoe", "starts with U+0308 (combining diaeresis)"),
        ("x" * 65, "is 65 characters long; a name may be at most 64"),
    ],
)
def test_a_name_the_store_cannot_keep_is_refused_saying_what_a_name_may_hold(name: str, why: str) -> None:
    problem = member_name_problem(name)
    assert problem is not None and why in problem, problem
    if "at most 64" not in why and "cannot be empty" not in why:
        assert ALLOWED in problem
    with pytest.raises(ValueError, match="profile"):
        Heartbeat(name, "reddit.com", datetime.now(UTC))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70).filter(lambda name: name != "parent"))
def test_the_rules_and_the_store_never_disagree_about_a_name(name: str) -> None:
    assert rules_take(name) == store_keeps(name), name


def test_the_loader_refuses_the_name_at_its_line_naming_the_member_with_the_other_problems() -> None:
    text = rules_with("zoë/ann").replace('daily_limit = "2h"', 'daily_limit = "lots"')
    with pytest.raises(RulesError) as refused:
        parse_rules(text, "rules.toml")
    assert [str(problem) for problem in refused.value.problems] == [
        'rules.toml:9:1: profiles.parent.daily_limit: expected a duration like "45m" or "1h30m", got "lots"',
        f'rules.toml:11:1: profiles.zoë/ann: member name "zoë/ann" has "/"; {ALLOWED} (not first), at most 64 '
        "characters",
    ]


def test_a_name_with_a_space_at_its_end_is_quoted_in_the_problem_as_toml_writes_it() -> None:
    with pytest.raises(RulesError) as refused:
        parse_rules(rules_with("zoë "))
    assert str(refused.value).startswith('rules.toml:11:1: profiles."zoë ": member name "zoë " starts or ends with')


def test_rules_check_lists_the_name_at_its_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES.format(key='"Zoë\tAnn"'), encoding="utf-8")  # a tab typed between the names
    assert main(["rules", "check", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f'rules.toml:11:1: profiles."Zoë\\tAnn": member name "Zoë\\tAnn" has U+0009 (a control character); {ALLOWED} '
        "(not first), at most 64 characters"
    ]


def test_an_edit_to_a_name_the_store_cannot_keep_keeps_the_last_good_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(rules_with("Zoë Ann"), encoding="utf-8")
    watcher = RulesWatcher(path)
    good = watcher.current
    assert good is not None and "Zoë Ann" in good.profiles
    path.write_text(rules_with("Zoë/Ann"), encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(stamp, stamp))
    assert watcher.reload() is False
    assert watcher.current is good
    assert watcher.last_error is not None
    assert watcher.last_error.startswith('rules.toml:11:1: profiles.Zoë/Ann: member name "Zoë/Ann" has "/"')


def test_the_service_starts_on_the_last_good_rules_and_without_them_says_where_the_name_is(tmp_path: Path) -> None:
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", state_dir=tmp_path / "state").ensure()
    paths.rules_file.write_text(rules_with("zoë/ann"), encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape('rules.toml:11:1: profiles.zoë/ann: member name "zoë/ann" has')):
        load_rules_watcher(paths)

    paths.rules_file.write_text(rules_with("zoë"), encoding="utf-8")
    assert "zoë" in load_rules_watcher(paths).current.profiles  # a start that saves the last good copy
    paths.rules_file.write_text(rules_with("zoë/ann"), encoding="utf-8")
    watcher = load_rules_watcher(paths)
    assert "zoë" in watcher.current.profiles
    assert watcher.last_error is not None and 'member name "zoë/ann" has "/"' in watcher.last_error
