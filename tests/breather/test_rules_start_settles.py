"""A service started while rules.toml is being saved waits for the save to finish, as its running watcher does
(a version is taken once two reads a poll apart agree): the first part of a save written in place is often valid
rules, and taken at the start its missing tail applied at once as a tightening, and the rest of the same save came
back as a loosening held for the cooling-off."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from breather.paths import Paths
from breather.rules import watcher
from breather.rules.loader import default_rules_text
from breather.service import load_rules_watcher
from tests.breather.saving import saved_in_two_writes

ALLOWED = 'always_allowed = ["mastodon.social"]'
WITH_A_SITE_ALLOWED = default_rules_text().replace(f"# {ALLOWED}", ALLOWED)


def home(tmp_path: Path) -> Paths:
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", state_dir=tmp_path / "state")
    paths.ensure()
    return paths


def ran_before_on(paths: Paths, text: str) -> None:
    """An earlier run had ``text`` in force (its watcher kept the copy), and the file was saved long ago."""
    paths.rules_file.write_text(text, encoding="utf-8")
    an_hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(paths.rules_file, ns=(an_hour_ago, an_hour_ago))
    load_rules_watcher(paths)


def test_a_start_during_a_save_takes_the_whole_save_not_its_first_part(tmp_path: Path) -> None:
    paths = home(tmp_path)
    ran_before_on(paths, WITH_A_SITE_ALLOWED)
    data = WITH_A_SITE_ALLOWED.encode()
    cut = data.index(ALLOWED.encode()) - 5  # inside the comment above it: the first part is valid rules
    with saved_in_two_writes(paths.rules_file, data, cut):  # the person saves the file again, unchanged, in two writes
        started = load_rules_watcher(paths)

    assert started.current is not None
    assert started.current.profile("me").always_allowed == ("mastodon.social",)
    assert started.held == ()
    assert started.poll_once() is False and started.poll_once() is False  # nothing comes back later either
    assert started.held == ()


def test_a_start_on_a_file_saved_long_ago_does_not_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = home(tmp_path)
    ran_before_on(paths, WITH_A_SITE_ALLOWED)
    waits: list[float] = []
    monkeypatch.setattr(watcher.time, "sleep", waits.append)
    started = load_rules_watcher(paths)
    assert waits == [], "the start waited for a file nobody has written for an hour"
    assert started.current is not None and started.current.profile("me").always_allowed == ("mastodon.social",)


def test_a_file_that_keeps_changing_is_taken_as_it_is_after_a_few_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(watcher, "START_SETTLE_LIMIT", 0.3)
    path = tmp_path / "rules.toml"
    path.write_text(WITH_A_SITE_ALLOWED, encoding="utf-8")
    stop = threading.Event()

    def keep_touching() -> None:  # a sync tool stuck rewriting it
        while not stop.wait(0.02):
            os.utime(path)

    toucher = threading.Thread(target=keep_touching)
    toucher.start()
    try:
        began = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="breather.rules.watcher"):
            started = watcher.RulesWatcher(path, interval=0.1)
        waited = time.monotonic() - began
    finally:
        stop.set()
        toucher.join()
    assert 0.3 <= waited < 2
    assert started.current is not None
    assert "kept changing" in caplog.text
