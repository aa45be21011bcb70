"""Editing ``rules.toml`` by hand while Breather runs (or while it is stopped): what the commands promise about a
hand loosening is what the service does, and a long pasted keyword list does not make each edit slow."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from breather.rules.cooling import apply_change
from breather.rules.editing import set_value_in_text
from breather.rules.loader import default_rules_text, ensure_rules_file, load_rules, parse_rules
from breather.rules.model import Rules
from breather.rules.watcher import RulesWatcher, read_in_force

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_a_watcher_started_now_holds_a_hand_loosening_until_the_time_the_commands_promise(tmp_path: Path) -> None:
    """A review: the service ran once (its last good copy exists), was stopped, and the person loosened their daily
    limit by hand 20 hours ago. `breather status` and `rules explain` (``read_in_force``: "a watcher started now would
    come to the same") said it takes effect 4 hours from now, counting from the file's modification time; the
    service, started now, holds it 24 hours from now."""
    rules_file, copy = tmp_path / "rules.toml", tmp_path / "data" / "rules.last-good.toml"
    ensure_rules_file(rules_file)
    RulesWatcher(rules_file, last_good=copy, cool_loosening=True, clock=lambda: NOW - timedelta(days=2))
    rules_file.write_text(rules_file.read_text().replace('daily_limit = "1h"', 'daily_limit = "3h"'))
    edited = (NOW - timedelta(hours=20)).timestamp()
    os.utime(rules_file, (edited, edited))

    (promised,) = read_in_force(rules_file, copy, NOW).held
    service = RulesWatcher(rules_file, last_good=copy, cool_loosening=True, clock=lambda: NOW)
    (enforced,) = service.held
    assert enforced.takes_effect == promised.takes_effect == NOW + timedelta(hours=24)
    waits = "me's daily limit (1h → 3h) waits 24 hours from when Breather next starts"
    assert promised.sentence(UTC, NOW, service_running=False) == waits


class CountedWord(str):
    """A word that counts how often it is compared with another: the work of measuring an edit, without a clock."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountedWord.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _words(count: int) -> tuple[CountedWord, ...]:
    """Each call makes new objects, as two readings of the file do: no comparison is skipped as ``is``."""
    return tuple(CountedWord(f"word{index}.example") for index in range(count))


def _me_with(**settings: Any) -> Rules:
    rules = parse_rules(default_rules_text())
    me = dataclasses.replace(rules.profile("me"), **settings)
    return dataclasses.replace(rules, profiles={**rules.profiles, "me": me})


COUNT = 2000
Settings = dict[str, Any]
# each setting a pasted list may fill, before and after an edit that drops (or adds) one of its items
LONG_LISTS: dict[str, Callable[[], tuple[Settings, Settings]]] = {
    "keywords": lambda: ({"keywords": _words(COUNT)}, {"keywords": _words(COUNT)[1:]}),
    "topics": lambda: ({"topics": {"pasted": _words(COUNT)}}, {"topics": {"pasted": _words(COUNT)[1:]}}),
    "always_allowed": lambda: ({"always_allowed": _words(COUNT)[1:]}, {"always_allowed": _words(COUNT)}),
}


@pytest.mark.parametrize("setting", LONG_LISTS)
def test_measuring_an_edit_beside_a_long_pasted_list_compares_each_item_a_few_times_not_with_every_other(
    setting: str,
) -> None:
    """A review: the default file says "Breather re-reads it within a second or two of saving"; with 8,000 keywords a
    plain tightening (daily limit 1h -> 50m) took 4.5 s of the watcher's thread, and removing one keyword 30 s: the
    cooling-off looked each keyword (each topic phrase, each always-allowed site) up in the other version's tuple,
    comparing it with every other one, several times per edit."""
    before, after = LONG_LISTS[setting]()
    old = _me_with(**before)
    new = _me_with(**after, daily_limit=timedelta(minutes=50))
    CountedWord.comparisons = 0
    in_force, held = apply_change(old, new, NOW)
    assert [change.setting for change in held] == [setting]  # the one item dropped (or site added) waits
    assert in_force.profile("me").daily_limit == timedelta(minutes=50)  # the tightening applies at once
    assert CountedWord.comparisons < 10 * COUNT, f"{CountedWord.comparisons} comparisons for {COUNT} items"


def _with_keywords(count: int) -> str:
    words = "\n".join(f'  "word{index}",' for index in range(count))
    return default_rules_text().replace('# keywords = ["spoiler", "election"]', f"keywords = [\n{words}\n]", 1)


@pytest.mark.parametrize("replaced_by", ["", '  "another",\n'])
def test_a_keyword_removed_from_a_long_list_is_held_and_the_rules_in_force_are_still_kept(
    tmp_path: Path, replaced_by: str
) -> None:
    """With more than about 1,800 keywords, the copy of the rules in force (kept for a restart) could not be written:
    the list was written on one line, longer than a rules line may be, and the last good copy stayed the older
    version (it also took tomlkit half a minute to build, one re-indexing of the list per keyword)."""
    rules_file, copy = tmp_path / "rules.toml", tmp_path / "data" / "rules.last-good.toml"
    text = _with_keywords(2500)
    rules_file.write_text(text)
    watcher = RulesWatcher(rules_file, last_good=copy, cool_loosening=True, clock=lambda: NOW)
    rules_file.write_text(
        text.replace('  "word5",\n', replaced_by).replace('daily_limit = "1h"', 'daily_limit = "50m"')
    )
    watcher.reload()
    assert [change.item for change in watcher.held] == ["word5"]
    assert watcher.current is not None and watcher.current.profile("me").daily_limit == timedelta(minutes=50)
    assert load_rules(copy) == watcher.current


def test_a_long_list_is_written_one_item_to_a_line() -> None:
    """The Rules page's keyword field, and the rules in force written as a file, wrote a list on one line: 2,500
    pasted keywords made a line longer than a rules file may have, and the save was refused."""
    words = [f"word{index}" for index in range(2500)]
    text = set_value_in_text(default_rules_text(), ("profiles", "me", "keywords"), words)
    assert parse_rules(text).profile("me").keywords == tuple(words)
    assert '\n    "word7",\n' in text
    short = set_value_in_text(default_rules_text(), ("profiles", "me", "keywords"), ["spoiler", "election"])
    assert 'keywords = ["spoiler", "election"]\n' in short


def test_a_list_with_many_keywords_held_is_put_back_once_not_once_per_keyword(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty keywords removed from a pasted list of thousands: the rules in force were written by copying the whole
    list back once per held keyword (each held keyword names the list), ~15 s for 8,000 keywords."""
    from breather.rules import editing

    copies: list[list[str]] = []
    put_back = editing.put_back

    def counted(source: Any, document: Any, keys: list[str]) -> None:
        copies.append(keys)
        put_back(source, document, keys)

    monkeypatch.setattr(editing, "put_back", counted)
    rules_file, copy = tmp_path / "rules.toml", tmp_path / "data" / "rules.last-good.toml"
    text = _with_keywords(300)
    rules_file.write_text(text)
    watcher = RulesWatcher(rules_file, last_good=copy, cool_loosening=True, clock=lambda: NOW)
    edited = text
    for index in range(20):
        edited = edited.replace(f'  "word{index * 3}",\n', "")
    rules_file.write_text(edited)
    watcher.reload()
    assert len(watcher.held) == 20
    assert load_rules(copy) == watcher.current
    assert copies == [["profiles", "me", "keywords"]]
