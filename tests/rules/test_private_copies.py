"""The service's copies of the rules are as private as ``rules.toml`` itself.

A privacy user test found ``rules.toml`` at 0600 but ``rules.last-good.toml`` and ``rules.last-good.toml.held.json``
at 0644 under the usual umask: both hold the whole rules (members' password hashes, the topics a person asked to be
warned about), so anyone on the machine could read them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from breather.rules.loader import ensure_rules_file
from breather.rules.watcher import RulesWatcher, held_marker_path

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SECRET_TOPIC = 'keywords = ["my pregnancy"]'


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """Most desktops start programs with umask 022: new files are readable by everyone unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "rules.toml"
    ensure_rules_file(path)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    stamp = path.stat().st_mtime_ns + 1_000_000  # coarse mtimes: the watcher must see the edit
    os.utime(path, ns=(stamp, stamp))


def watching(rules_file: Path, copy: Path) -> RulesWatcher:
    return RulesWatcher(rules_file, last_good=copy, cool_loosening=True, clock=lambda: START)


def test_the_last_good_copy_and_the_held_note_are_readable_by_their_owner_only(
    rules_file: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "data" / "rules.last-good.toml"
    watcher = watching(rules_file, copy)
    assert mode(rules_file) == 0o600
    assert copy.exists() and mode(copy) == 0o600

    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')  # a loosening: held, and noted beside the copy
    edit(rules_file, "[profiles.me]", f"[profiles.me]\n{SECRET_TOPIC}")  # a tightening: in force, so copied
    assert watcher.reload() is True
    note = held_marker_path(copy)
    assert note.exists() and mode(note) == 0o600
    assert "my pregnancy" in copy.read_text() and mode(copy) == 0o600
    assert sorted(path.name for path in copy.parent.iterdir()) == [copy.name, note.name]  # no readable leftovers


def test_copies_an_earlier_version_left_readable_are_made_private(rules_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "data" / "rules.last-good.toml"
    watching(rules_file, copy)
    copy.chmod(0o644)  # as the earlier version wrote it
    watching(rules_file, copy)  # a restart on the same rules: the copy's text does not change
    assert mode(copy) == 0o600
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "45m"')
    copy.chmod(0o644)
    watching(rules_file, copy)
    assert mode(copy) == 0o600 and 'daily_limit = "45m"' in copy.read_text()
