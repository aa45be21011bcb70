"""The rules a service starts with: the commented default only on a first run, never over a person's own rules."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from breather.errors import CommandError
from breather.paths import Paths
from breather.rules.loader import default_rules_text, first_run_rules_text
from breather.service import load_rules_watcher


def home(tmp_path: Path) -> Paths:
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", state_dir=tmp_path / "state")
    paths.ensure()
    return paths


def test_a_first_start_writes_the_commented_default(tmp_path: Path) -> None:
    paths = home(tmp_path)
    watcher = load_rules_watcher(paths)
    assert paths.rules_file.read_text(encoding="utf-8") == first_run_rules_text()
    assert watcher.current is not None


def test_a_start_while_the_file_is_away_keeps_the_rules_last_in_force(tmp_path: Path) -> None:
    """A sync folder not mounted yet at login: the default's 1 h limit must not replace the person's 3 h, nor their
    own file, once back, be held as a loosening."""
    paths = home(tmp_path)
    paths.rules_file.write_text(default_rules_text().replace('daily_limit = "1h"', 'daily_limit = "3h"'))
    load_rules_watcher(paths)  # an earlier run: the last good copy exists
    away = tmp_path / "synced-copy.toml"
    os.rename(paths.rules_file, away)

    watcher = load_rules_watcher(paths)

    assert not paths.rules_file.exists()
    assert watcher.current is not None
    assert watcher.current.profile("me").daily_limit == timedelta(hours=3)
    assert watcher.last_error is not None and "rules.toml" in watcher.last_error
    os.replace(away, paths.rules_file)
    assert watcher.reload() is False  # the same rules as in force
    assert watcher.current.profile("me").daily_limit == timedelta(hours=3)
    assert watcher.held == ()
    assert watcher.last_error is None


def test_a_first_start_on_a_broken_file_of_ones_own_exits_2_saying_where_and_what_to_do(tmp_path: Path) -> None:
    """A robustness test: a broken rules file in a new home exited 1, as a crash does; `breather rules check` on
    the same file exits 2."""
    paths = home(tmp_path)
    paths.rules_file.write_text('[household]\ntimezone = "Mars/Base"\n', encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        load_rules_watcher(paths)
    assert refused.value.exit_code == 2
    said = str(refused.value)
    assert said.startswith(f"the rules file {paths.rules_file} cannot be used and there are no earlier good rules")
    assert f"`breather rules check --home {tmp_path}` says what is wrong again" in said
    assert 'household.timezone: unknown time zone "Mars/Base"' in said
