"""A loosening saved on the Rules page and held for its cooling-off is dropped ("superseded") when due only for a real
later version of rules.toml: one that reads as rules and has stopped changing. A typo fixed a moment later, or a save
caught half-way, at the due minute dropped the change for good."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from breather import pending_rules
from breather.dashboard.db import connect
from breather.rules.loader import load_rules, parse_rules
from tests.breather.saving import saved_in_two_writes
from tests.dashboard.conftest import FAMILY_RULES, NOW

LOOSER = FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "2h"')
DUE = NOW + timedelta(hours=25)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = connect(str(tmp_path / "breather.db"))
    yield database
    database.close()


@pytest.fixture
def rules_file(tmp_path: Path, db: Database) -> Path:
    """A file on which the Rules page saved a loosening of the teen's daily limit, waiting for its cooling-off."""
    path = tmp_path / "rules.toml"
    path.write_text(FAMILY_RULES, encoding="utf-8")
    said = pending_rules.save(
        db, path, FAMILY_RULES, LOOSER, parse_rules(FAMILY_RULES), parse_rules(LOOSER), writes(db), NOW
    )
    assert "waits 24 hours" in said
    saved_a_while_ago(path)
    return path


def writes(db: Database) -> Callable[[Callable[[Database], Any]], Any]:
    return lambda change: change(db)


def saved_a_while_ago(path: Path) -> None:
    """The file last written an hour ago: nobody is saving it now."""
    an_hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(path, ns=(an_hour_ago, an_hour_ago))


def teen_limit(path: Path) -> timedelta | None:
    return load_rules(path).profiles["teen"].daily_limit


def apply_due(db: Database, path: Path, at: Any = DUE) -> int:
    return pending_rules.apply_due_changes(db, path, writes(db), at)


def test_a_typo_at_the_due_minute_leaves_the_change_waiting_until_it_is_fixed(db: Database, rules_file: Path) -> None:
    rules_file.write_text(FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "45m'), encoding="utf-8")
    saved_a_while_ago(rules_file)

    assert apply_due(db, rules_file) == 0

    assert pending_rules.dropped_changes(db, DUE) == []
    assert [change.summary for change in pending_rules.pending_changes(db)] == ["teen: a bigger daily limit"]
    rules_file.write_text(FAMILY_RULES, encoding="utf-8")  # the typo fixed: the text the change was saved on
    saved_a_while_ago(rules_file)
    assert apply_due(db, rules_file, DUE + timedelta(minutes=1)) == 1
    assert teen_limit(rules_file) == timedelta(hours=2)
    assert pending_rules.pending_changes(db) == []


def test_a_save_caught_half_way_at_the_due_minute_does_not_drop_the_change(db: Database, rules_file: Path) -> None:
    """An editor or a sync tool writing the file in place, unchanged, in two writes: its first part reads as rules."""
    data = FAMILY_RULES.encode()
    cut = data.index(b"[profiles.teen.quiet_hours]")
    parse_rules(data[:cut].decode())  # the first part alone is valid rules, and another version
    with saved_in_two_writes(rules_file, data, cut):
        applied = apply_due(db, rules_file)

    assert rules_file.read_bytes() == data
    assert pending_rules.dropped_changes(db, DUE) == []
    if applied == 0:  # caught mid-save: waits for the next check
        assert apply_due(db, rules_file, DUE + timedelta(minutes=1)) == 1
    assert teen_limit(rules_file) == timedelta(hours=2)


def test_a_version_saved_elsewhere_still_drops_the_change_and_says_so(db: Database, rules_file: Path) -> None:
    rules_file.write_text(FAMILY_RULES.replace('daily_limit = "1h"', 'daily_limit = "50m"'), encoding="utf-8")

    assert apply_due(db, rules_file) == 0

    assert [change.outcome for change in pending_rules.dropped_changes(db, DUE)] == [pending_rules.SUPERSEDED]
    assert teen_limit(rules_file) == timedelta(minutes=45)
    assert load_rules(rules_file).profiles["parent"].daily_limit == timedelta(minutes=50)
