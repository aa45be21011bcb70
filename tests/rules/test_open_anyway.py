"""A member setting ``open_anyway`` (a family user test: a parent could not switch "open anyway" off for a 12-year-old,
only lengthen ``friction_delay``). Switching it off is a tightening and applies at once; switching it back on is a
loosening and waits for the cooling-off."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from breather.rules.errors import RulesError
from breather.rules.loader import default_rules_text, ensure_rules_file, parse_rules
from breather.rules.render import profile_to_dict
from tests.rules.test_watcher import START, FakeClock, cooling_watcher, edit

HOUSEHOLD = """\
[household]
timezone = "UTC"

[sites.reddit]
domains = ["reddit.com"]

[profiles.parent]
default = true
open_anyway = false

[profiles.kid]
inherits = "parent"
{kid}
"""


def test_open_anyway_is_on_unless_a_member_switches_it_off() -> None:
    rules = parse_rules(default_rules_text())
    assert rules.profile("me").open_anyway is True
    assert profile_to_dict(rules.profile("me"))["open_anyway"] is True


def test_a_child_inherits_open_anyway_off_and_may_switch_it_on() -> None:
    inherited = parse_rules(HOUSEHOLD.format(kid=""))
    assert inherited.profile("kid").open_anyway is False
    assert profile_to_dict(inherited.profile("kid"))["open_anyway"] is False
    own = parse_rules(HOUSEHOLD.format(kid="open_anyway = true"))
    assert own.profile("kid").open_anyway is True


def test_open_anyway_that_is_not_true_or_false_is_named_at_its_line() -> None:
    with pytest.raises(RulesError) as raised:
        parse_rules(HOUSEHOLD.format(kid='open_anyway = "no"'))
    assert [str(problem) for problem in raised.value.problems] == [
        'rules.toml:13:1: profiles.kid.open_anyway: expected true or false, got "no"'
    ]


def test_switching_open_anyway_off_applies_at_once_and_back_on_waits(rules_file: Path, tmp_path: Path) -> None:
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, "max_snoozes = 2\n", "max_snoozes = 2\nopen_anyway = false\n")
    watcher.reload()
    assert watcher.current is not None and watcher.current.profile("me").open_anyway is False
    assert watcher.held == ()

    edit(rules_file, "max_snoozes = 2\nopen_anyway = false", "max_snoozes = 2\nopen_anyway = true")
    watcher.reload()
    assert watcher.current.profile("me").open_anyway is False  # held
    assert [change.label() for change in watcher.held] == ["me's open anyway (off → on)"]
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    assert watcher.current.profile("me").open_anyway is True


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    ensure_rules_file(path)
    return path
