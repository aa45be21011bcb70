from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.rules.loader import default_rules_text, ensure_rules_file
from breather.rules.model import Rules
from breather.rules.watcher import RulesWatcher, read_in_force


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    # Some filesystems keep mtimes coarse; the hash still sees the edit, this only makes the test independent of it.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    ensure_rules_file(path)
    return path


def test_valid_edit_is_taken_in(rules_file: Path) -> None:
    watcher = RulesWatcher(rules_file)
    assert watcher.current is not None
    assert watcher.reload() is False
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "45m"')
    assert watcher.reload() is True
    assert watcher.current.profile("me").daily_limit == timedelta(minutes=45)
    assert watcher.last_error is None


def test_broken_edit_keeps_the_last_good_rules_and_says_where(
    rules_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = RulesWatcher(rules_file)
    good = watcher.current
    line = next(n for n, text in enumerate(rules_file.read_text().splitlines(), 1) if text.startswith("daily_limit"))
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "lots"')
    with caplog.at_level("ERROR", logger="breather.rules.watcher"):
        assert watcher.reload() is False
    assert watcher.current is good
    assert watcher.last_error == (
        f'rules.toml:{line}:1: profiles.me.daily_limit: expected a duration like "45m" or "1h30m", got "lots"'
    )
    assert "keeping the last good rules" in caplog.text
    edit(rules_file, 'daily_limit = "lots"', 'daily_limit = "2h"')
    assert watcher.reload() is True
    assert watcher.last_error is None
    assert watcher.current is not None
    assert watcher.current.profile("me").daily_limit == timedelta(hours=2)


def test_a_poll_takes_a_changed_version_once_it_has_stopped_changing(rules_file: Path) -> None:
    watcher = RulesWatcher(rules_file)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "45m"')
    assert watcher.poll_once() is False  # first seen: the save may still be going on
    assert watcher.current is not None
    assert watcher.current.profile("me").daily_limit == timedelta(hours=1)
    assert watcher.poll_once() is True  # read alike a poll later: taken
    assert watcher.current.profile("me").daily_limit == timedelta(minutes=45)


def test_a_save_caught_half_written_is_not_taken_for_the_rules(tmp_path: Path) -> None:
    """An editor writing in place in two writes (vim's backupcopy, a sync tool) caught between them: the first part
    is valid TOML without the person's always-allowed site. It must neither apply nor come back as a held
    loosening: the person saved their file unchanged."""
    path = tmp_path / "rules.toml"
    allowed = 'always_allowed = ["mastodon.social"]'
    text = default_rules_text().replace(f"# {allowed}", allowed)
    path.write_text(text, encoding="utf-8")
    watcher = RulesWatcher(path, last_good=tmp_path / "last-good.toml", cool_loosening=True)
    data = text.encode()
    cut = data.index(allowed.encode()) - 5  # inside the comment above it: the first part parses
    with path.open("r+b") as out:
        out.truncate(0)
        out.write(data[:cut])
        out.flush()
        watcher.poll_once()
        out.write(data[cut:])
    for _ in range(3):
        watcher.poll_once()
    assert watcher.current is not None
    assert watcher.current.profile("me").always_allowed == ("mastodon.social",)
    assert watcher.held == ()


def test_polling_thread_calls_listeners_on_change(rules_file: Path) -> None:
    watcher = RulesWatcher(rules_file, interval=0.05)
    seen: list[Rules] = []
    errors: list[str] = []
    changed = threading.Event()
    refused = threading.Event()
    watcher.add_listener(lambda rules: (seen.append(rules), changed.set()))
    watcher.add_error_listener(lambda message: (errors.append(message), refused.set()))
    watcher.start()
    try:
        edit(rules_file, 'break_after = "25m"', 'break_after = "20m"')
        assert changed.wait(10)
        assert seen[-1].profile("me").break_after == timedelta(minutes=20)
        edit(rules_file, 'break_after = "20m"', "break_after = 20")
        assert refused.wait(10)
        assert "profiles.me.break_after" in errors[-1]
        assert watcher.current is seen[-1]
    finally:
        watcher.stop()
    assert len(seen) == 1


def test_a_file_broken_from_the_start_has_no_rules_but_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(default_rules_text().replace("[household]", "[household"))
    watcher = RulesWatcher(path)
    assert watcher.current is None
    assert watcher.last_error is not None
    assert watcher.last_error.startswith("rules.toml:")
    assert "TOML syntax error" in watcher.last_error


def test_reachable_from_the_loader_as_the_contract_says() -> None:
    from breather.rules import loader

    assert loader.RulesWatcher is RulesWatcher


def test_a_service_started_on_a_broken_file_keeps_the_rules_last_in_force(
    rules_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """After a reboot with a half-finished edit in the file, the boundaries still hold: the last version taken in
    was copied aside and is what a new watcher starts with, while the file's problem is still reported."""
    copy = tmp_path / "data" / "rules.last-good.toml"
    first = RulesWatcher(rules_file, last_good=copy)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "20m"')
    assert first.reload() is True
    edit(rules_file, 'daily_limit = "20m"', 'daily_limit = "45 minutes"')
    assert first.reload() is False
    with caplog.at_level("WARNING", logger="breather.rules.watcher"):
        restarted = RulesWatcher(rules_file, last_good=copy)
    assert restarted.current is not None
    assert restarted.current.profile("me").daily_limit == timedelta(minutes=20)
    assert restarted.last_error is not None and '"45 minutes"' in restarted.last_error
    assert "using the last good rules" in caplog.text
    edit(rules_file, 'daily_limit = "45 minutes"', 'daily_limit = "30m"')
    assert restarted.reload() is True
    assert restarted.last_error is None
    assert RulesWatcher(rules_file, last_good=copy).current == restarted.current


def test_without_a_usable_copy_a_broken_file_gives_no_rules(rules_file: Path, tmp_path: Path) -> None:
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "lots"')
    assert RulesWatcher(rules_file, last_good=tmp_path / "never-written.toml").current is None
    broken_copy = tmp_path / "copy.toml"
    broken_copy.write_text("this is not [toml", encoding="utf-8")
    assert RulesWatcher(rules_file, last_good=broken_copy).current is None


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def cooling_watcher(rules_file: Path, copy: Path, clock: FakeClock, **options: object) -> RulesWatcher:
    return RulesWatcher(rules_file, last_good=copy, cool_loosening=True, clock=clock, **options)  # type: ignore[arg-type]


def test_a_hand_edit_that_loosens_waits_for_the_cooling_off_and_what_it_tightens_applies_now(
    rules_file: Path, tmp_path: Path
) -> None:
    """The default file promises a day's wait before a bigger limit; a text editor must not be a way around it."""
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    edit(rules_file, 'break_after = "25m"', 'break_after = "15m"')
    watcher.reload()
    assert watcher.current is not None
    me = watcher.current.profile("me")
    assert me.daily_limit == timedelta(hours=1)  # held
    assert me.break_after == timedelta(minutes=15)  # a tightening: at once
    assert [change.setting for change in watcher.held] == ["daily_limit"]
    assert watcher.held[0].takes_effect == START + timedelta(hours=24)
    clock.now = START + timedelta(hours=23, minutes=59)
    assert watcher.release_due() is False
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    assert watcher.current.profile("me").daily_limit == timedelta(hours=3)
    assert watcher.held == ()


def test_a_restart_does_not_reset_or_skip_the_wait(rules_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "data" / "copy.toml"
    clock = FakeClock(START)
    cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    clock.now = START + timedelta(hours=2)
    first = cooling_watcher(rules_file, copy, clock)  # a restart right after the edit
    assert first.current is not None and first.current.profile("me").daily_limit == timedelta(hours=1)
    clock.now = START + timedelta(hours=20)
    again = cooling_watcher(rules_file, copy, clock)  # and another, later: the wait counts from the first sight
    assert [change.takes_effect for change in again.held] == [START + timedelta(hours=26)]
    clock.now = START + timedelta(hours=26)
    assert cooling_watcher(rules_file, copy, clock).current.profile("me").daily_limit == timedelta(hours=3)  # type: ignore[union-attr]


def test_a_version_the_dashboard_already_held_is_not_held_twice(rules_file: Path, tmp_path: Path) -> None:
    clock = FakeClock(START)
    asked = START - timedelta(hours=25)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock, asked_at=lambda text, now: asked)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    assert watcher.reload() is True
    assert watcher.current is not None and watcher.current.profile("me").daily_limit == timedelta(hours=3)
    assert watcher.held == ()


def test_undoing_the_loosening_ends_the_wait(rules_file: Path, tmp_path: Path) -> None:
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    watcher.reload()
    assert watcher.held
    edit(rules_file, 'daily_limit = "3h"', 'daily_limit = "1h"')
    watcher.reload()
    assert watcher.held == ()
    assert not (tmp_path / "copy.toml.held.json").exists()


def held_times(watcher: RulesWatcher) -> list[tuple[str, datetime]]:
    return [(change.setting, change.takes_effect) for change in watcher.held]


def test_an_edit_elsewhere_leaves_the_wait_of_a_held_loosening_alone(rules_file: Path, tmp_path: Path) -> None:
    """A user test: break length loosened at 07:54 was held until 07:54 the next day, and a restart kept that; an
    unrelated tightening at 08:08 (calm = true) moved it to 08:08."""
    copy = tmp_path / "copy.toml"
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'break_length = "5m"', 'break_length = "1m"')
    watcher.reload()
    clock.now = START + timedelta(minutes=14)
    edit(rules_file, "# calm = false", "calm = true")
    watcher.reload()
    assert watcher.current is not None and watcher.current.profile("me").calm is True  # a tightening: at once
    asked = [("break_length", START + timedelta(hours=24))]
    assert held_times(watcher) == asked
    restarted = cooling_watcher(rules_file, copy, clock)
    assert held_times(restarted) == asked
    assert read_in_force(rules_file, copy, clock.now).held == restarted.held
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    assert watcher.current.profile("me").break_length == timedelta(minutes=1)
    assert watcher.held == ()


def test_each_loosening_waits_from_when_it_was_first_asked_for(rules_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.toml"
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    watcher.reload()
    clock.now = START + timedelta(hours=2)
    edit(rules_file, 'break_length = "5m"', 'break_length = "1m"')
    watcher.reload()
    assert held_times(watcher) == [
        ("daily_limit", START + timedelta(hours=24)),
        ("break_length", START + timedelta(hours=26)),
    ]
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    me = watcher.current.profile("me")  # type: ignore[union-attr]
    assert (me.daily_limit, me.break_length) == (timedelta(hours=3), timedelta(minutes=5))
    assert held_times(watcher) == [("break_length", START + timedelta(hours=26))]
    clock.now = START + timedelta(hours=25)  # a restart in between: the first is still in force, the second held
    restarted = cooling_watcher(rules_file, copy, clock)
    assert restarted.current == watcher.current and restarted.held == watcher.held
    assert read_in_force(rules_file, copy, clock.now) == (watcher.current, None, watcher.held)
    clock.now = START + timedelta(hours=26)
    assert watcher.release_due() is True
    assert watcher.current.profile("me").break_length == timedelta(minutes=1)  # type: ignore[union-attr]
    assert watcher.held == () and not (tmp_path / "copy.toml.held.json").exists()


def test_a_held_value_taken_partly_back_keeps_its_wait_and_loosened_further_starts_a_new_one(
    rules_file: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.toml"
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    watcher.reload()
    clock.now = START + timedelta(hours=1)
    edit(rules_file, 'daily_limit = "3h"', 'daily_limit = "2h"')  # less than asked for at 09:00: no new wait
    watcher.reload()
    assert held_times(watcher) == [("daily_limit", START + timedelta(hours=24))]
    assert held_times(cooling_watcher(rules_file, copy, clock)) == [("daily_limit", START + timedelta(hours=24))]
    clock.now = START + timedelta(hours=2)
    edit(rules_file, 'daily_limit = "2h"', 'daily_limit = "4h"')  # more than ever asked for: a wait of its own
    watcher.reload()
    assert held_times(watcher) == [("daily_limit", START + timedelta(hours=26))]
    assert read_in_force(rules_file, copy, clock.now).held == watcher.held


def test_the_note_of_an_earlier_version_is_still_read(rules_file: Path, tmp_path: Path) -> None:
    """Before each change kept its own time, the note named the held version by its hash and one first sighting."""
    copy = tmp_path / "copy.toml"
    clock = FakeClock(START)
    cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    digest = hashlib.sha256(rules_file.read_bytes()).hexdigest()
    seen = START - timedelta(hours=20)
    note = tmp_path / "copy.toml.held.json"
    note.write_text(json.dumps({"sha256": digest, "since": seen.isoformat()}), encoding="utf-8")
    assert read_in_force(rules_file, copy, clock.now).held[0].takes_effect == seen + timedelta(hours=24)
    watcher = cooling_watcher(rules_file, copy, clock)
    assert held_times(watcher) == [("daily_limit", seen + timedelta(hours=24))]
    clock.now = START + timedelta(minutes=5)
    edit(rules_file, 'break_after = "25m"', 'break_after = "15m"')
    watcher.reload()
    assert held_times(cooling_watcher(rules_file, copy, clock)) == [("daily_limit", seen + timedelta(hours=24))]


def test_a_note_of_another_version_in_the_earlier_form_is_ignored(rules_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.toml"
    clock = FakeClock(START)
    cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    note = tmp_path / "copy.toml.held.json"
    note.write_text(json.dumps({"sha256": "0" * 64, "since": (START - timedelta(hours=20)).isoformat()}))
    assert held_times(cooling_watcher(rules_file, copy, clock)) == [("daily_limit", START + timedelta(hours=24))]


def test_a_further_loosening_of_a_released_setting_waits_alone_and_the_released_value_stays(
    rules_file: Path, tmp_path: Path
) -> None:
    """A user test: a daily limit loosened and released while a break length was still held; 2h → 3h then said
    "(1h → 3h) is held" and put 1h back in force, and taking it back to 2h left 1h in force."""
    copy = tmp_path / "copy.toml"
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "2h"')
    watcher.reload()
    clock.now = START + timedelta(hours=1)
    edit(rules_file, 'break_length = "5m"', 'break_length = "3m"')
    watcher.reload()
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    assert held_times(watcher) == [("break_length", START + timedelta(hours=25))]
    restarted = cooling_watcher(rules_file, copy, clock)
    for seen in (watcher, restarted):
        edit(rules_file, 'daily_limit = "2h"', 'daily_limit = "3h"')
        seen.reload()
        assert seen.current is not None and seen.current.profile("me").daily_limit == timedelta(hours=2)
        assert [change.label() for change in seen.held] == ["me's daily limit (2h → 3h)", "me's break length (5m → 3m)"]
        assert held_times(seen) == [
            ("daily_limit", START + timedelta(hours=48)),
            ("break_length", START + timedelta(hours=25)),
        ]
        assert read_in_force(rules_file, copy, clock.now) == (seen.current, None, seen.held)
        edit(rules_file, 'daily_limit = "3h"', 'daily_limit = "2h"')
        seen.reload()
        assert seen.current.profile("me").daily_limit == timedelta(hours=2)
        assert held_times(seen) == [("break_length", START + timedelta(hours=25))]


def test_a_loosening_released_while_the_file_is_broken_comes_in_and_the_problem_is_still_reported(
    rules_file: Path, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, 'break_length = "5m"', 'break_length = "3m"')
    watcher.reload()
    edit(rules_file, 'violence = "medium"', 'violence = "meduim"')
    assert watcher.reload() is False
    problem = watcher.last_error
    assert problem is not None and "meduim" in problem
    clock.now = START + timedelta(hours=25)
    assert watcher.release_due() is True
    assert watcher.current is not None and watcher.current.profile("me").break_length == timedelta(minutes=3)
    assert watcher.held == ()
    assert watcher.last_error == problem


def test_what_is_in_force_while_a_loosening_is_held_survives_a_restart_on_a_broken_file(
    rules_file: Path, tmp_path: Path
) -> None:
    """A user test: a bigger daily limit held, a smaller reddit limit applied at once; the file then broken and the
    service restarted: reddit's limit was back to 10m."""
    edit(rules_file, "[profiles.me.limits]\n", '[profiles.me.limits]\nreddit = "10m"\n')
    copy = tmp_path / "data" / "copy.toml"
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "2h"')
    edit(rules_file, 'reddit = "10m"', 'reddit = "5m"')
    watcher.reload()
    in_force = watcher.current
    assert in_force is not None and in_force.profile("me").limits["reddit"] == timedelta(minutes=5)
    assert in_force.profile("me").daily_limit == timedelta(hours=1)
    edit(rules_file, 'daily_limit = "2h"', 'daily_limit = "lots"')
    watcher.reload()
    clock.now = START + timedelta(hours=2)
    restarted = cooling_watcher(rules_file, copy, clock)
    assert restarted.current is not None and restarted.current.profiles == in_force.profiles
    assert restarted.last_error is not None and '"lots"' in restarted.last_error
    described = read_in_force(rules_file, copy, clock.now).rules
    assert described is not None and described.profiles == in_force.profiles
    edit(rules_file, 'daily_limit = "lots"', 'daily_limit = "2h"')  # fixed: the loosening keeps its first sighting
    restarted.reload()
    assert restarted.current == in_force
    assert held_times(restarted) == [("daily_limit", START + timedelta(hours=24))]


def test_a_loosening_held_before_a_restart_on_a_broken_file_still_waits_and_then_comes_in(
    rules_file: Path, tmp_path: Path
) -> None:
    """A review: restarted while the file was broken, the service forgot the held loosening: nothing said held, and
    once its wait was over it never came in (a watcher that had not restarted let it in)."""
    copy = tmp_path / "data" / "copy.toml"
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "2h"')
    watcher.reload()
    edit(rules_file, 'violence = "medium"', 'violence = "meduim"')
    watcher.reload()
    clock.now = START + timedelta(hours=2)
    restarted = cooling_watcher(rules_file, copy, clock)
    assert restarted.last_error is not None and "meduim" in restarted.last_error
    assert held_times(restarted) == [("daily_limit", START + timedelta(hours=24))]
    assert restarted.current is not None and restarted.current.profile("me").daily_limit == timedelta(hours=1)
    clock.now = START + timedelta(hours=25)
    assert restarted.release_due() is True
    assert restarted.current is not None and restarted.current.profile("me").daily_limit == timedelta(hours=2)
    assert restarted.last_error is not None and "meduim" in restarted.last_error


def test_a_file_gone_a_moment_and_back_as_it_was_is_no_longer_reported_broken(rules_file: Path) -> None:
    """A sync tool moved the file away and back, byte for byte with its time: the "cannot read" stayed on every
    page until the next real edit."""
    watcher = RulesWatcher(rules_file)
    aside = rules_file.with_name("aside.toml")
    os.rename(rules_file, aside)
    watcher.reload()
    assert watcher.last_error is not None
    os.rename(aside, rules_file)
    watcher.reload()
    assert watcher.last_error is None


def test_without_a_note_the_wait_counts_from_when_a_watcher_first_sees_the_loosening(
    rules_file: Path, tmp_path: Path
) -> None:
    """A review: the commands counted a loosening no service had seen from the file's modification time, so a person
    who loosened their limit while Breather was stopped and waited 20 hours read "takes effect in 4 hours"; the
    service, started then, held it 24 hours from its start (it must: ``touch -d`` would skip the wait)."""
    copy = tmp_path / "copy.toml"
    cooling_watcher(rules_file, copy, FakeClock(START))
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "2h"')
    os.utime(rules_file, (START.timestamp(), START.timestamp()))
    later = START + timedelta(hours=20)
    (told,) = read_in_force(rules_file, copy, later).held
    assert told.unseen_wait == timedelta(hours=24)
    waits = "me's daily limit (1h → 2h) waits 24 hours from when Breather next starts"
    assert told.sentence(UTC, later, service_running=False) == waits
    assert (
        told.sentence(UTC, later) == "me's daily limit (1h → 2h) takes effect at 05:00 tomorrow"
    )  # a service sees it now
    (held,) = cooling_watcher(rules_file, copy, FakeClock(later)).held
    assert held.takes_effect == told.takes_effect == later + timedelta(hours=24)
    (noted,) = read_in_force(rules_file, copy, later + timedelta(hours=3)).held  # the service has noted it now
    assert noted == held and noted.unseen_wait is None


def test_a_restart_on_an_unchanged_file_asks_nothing_of_the_dashboard(rules_file: Path, tmp_path: Path) -> None:
    """A review found the last good copy never equal to the file (their ``source`` names differed), so every start
    went through the cooling-off comparison and opened the dashboard's store."""
    copy = tmp_path / "copy.toml"
    cooling_watcher(rules_file, copy, FakeClock(START))
    asked: list[str] = []
    restarted = cooling_watcher(rules_file, copy, FakeClock(START), asked_at=lambda text, now: asked.append(text))
    assert restarted.current is not None and restarted.held == ()
    assert asked == []


# --- Loosenings of the file as a whole, made by hand -----------------------------------------------------------------


def test_a_site_dropped_by_hand_is_still_looked_after_until_the_wait_ends(rules_file: Path, tmp_path: Path) -> None:
    """A user test: taking a site out of the rules by hand ended its limits and warnings at once (it was tunnelled
    untouched), although the README promises that loosening waits whether saved in the editor or in the file."""
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, 'domains = ["mastodon.social"]', "domains = []")
    edit(rules_file, 'domains = ["news.ycombinator.com"]', 'domains = ["news.ycombinator.com", "lobste.rs"]')
    watcher.reload()
    assert watcher.current is not None
    domains = watcher.current.intercepted_domains()
    assert "mastodon.social" in domains  # held: still read, still limited
    assert "lobste.rs" in domains  # a site added is looked after at once
    assert [change.label() for change in watcher.held] == ["looking after mastodon.social"]
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    assert "mastodon.social" not in watcher.current.intercepted_domains()
    assert watcher.held == ()


def test_a_member_removed_by_hand_keeps_their_boundaries_until_the_wait_ends(rules_file: Path, tmp_path: Path) -> None:
    edit(rules_file, "[profiles.me]\n", '[profiles.kid]\nuser = "kid"\ndaily_limit = "30m"\n\n[profiles.me]\n')
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    text = rules_file.read_text()
    rules_file.write_text(text.replace('[profiles.kid]\nuser = "kid"\ndaily_limit = "30m"\n\n', ""))
    os.utime(rules_file, ns=(rules_file.stat().st_atime_ns, rules_file.stat().st_mtime_ns + 1_000_000))
    watcher.reload()
    assert watcher.current is not None
    assert watcher.current.profile_for(user="kid").name == "kid"
    assert [change.label() for change in watcher.held] == ["removing kid from the household"]
    clock.now = START + timedelta(hours=24, minutes=1)
    assert watcher.release_due() is True
    assert "kid" not in watcher.current.profiles


def test_a_looser_default_member_waits(rules_file: Path, tmp_path: Path) -> None:
    """Everyone no user name or device picks out gets the default member: switching it to one with no limit is
    the same loosening as lifting the limit."""
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, "[profiles.me]\ndefault = true\n", "[profiles.free]\ndefault = true\n\n[profiles.me]\n")
    watcher.reload()
    assert watcher.current is not None and watcher.current.default_profile == "me"
    assert watcher.current.profile_for().daily_limit == timedelta(hours=1)
    assert [change.label() for change in watcher.held] == ["the default member (me → free)"]
    clock.now = START + timedelta(hours=24)
    assert watcher.release_due() is True
    assert watcher.current.default_profile == "free"


def test_a_stricter_default_member_applies_at_once(rules_file: Path, tmp_path: Path) -> None:
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", FakeClock(START))
    edit(
        rules_file,
        "[profiles.me]\ndefault = true\n",
        '[profiles.strict]\ndefault = true\ninherits = "me"\ndaily_limit = "30m"\n\n[profiles.me]\n',
    )
    watcher.reload()
    assert watcher.current is not None and watcher.current.default_profile == "strict"
    assert watcher.held == ()


def test_records_kept_longer_by_hand_wait(rules_file: Path, tmp_path: Path) -> None:
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, "retention_days = 90", "retention_days = 900")
    watcher.reload()
    assert watcher.current is not None and watcher.current.retention_days == 90
    assert [change.label() for change in watcher.held] == ["the household's records kept longer (90 → 900 days)"]


def test_a_restart_on_a_broken_file_keeps_a_dropped_site_looked_after(rules_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.toml"
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, copy, clock)
    edit(rules_file, 'domains = ["mastodon.social"]', "domains = []")
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "45m"')
    watcher.reload()
    in_force = watcher.current
    assert in_force is not None and in_force.profile("me").daily_limit == timedelta(minutes=45)
    edit(rules_file, 'daily_limit = "45m"', 'daily_limit = "lots"')
    restarted = cooling_watcher(rules_file, copy, clock)
    assert restarted.current == in_force


def test_a_loosening_taken_back_is_not_logged_as_in_force(
    rules_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A user test: a half-written file completed back to the old version logged "the held loosening ... is in
    force now", although nothing had loosened."""
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", FakeClock(START))
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    watcher.reload()
    edit(rules_file, 'daily_limit = "3h"', 'daily_limit = "1h"')
    with caplog.at_level("INFO", logger="breather.rules.watcher"):
        watcher.reload()
    assert "is in force now" not in caplog.text
    assert "no longer asks for the held loosening" in caplog.text
    assert watcher.held == ()


def write_in_two_parts(path: Path, text: str, cut_before: str) -> tuple[bytes, bytes]:
    """A save in place as a sync tool or a slow disk makes it, split just before ``cut_before``'s line."""
    data = text.encode()
    cut = data.index(cut_before.encode())
    return data[:cut], data[cut:]


def stalled_save(
    watcher: RulesWatcher,
    path: Path,
    text: str,
    cut_before: str,
    clock: FakeClock,
    while_stalled: Callable[[], None] = lambda: None,
) -> None:
    """The first part stays alone in the file for two polls (it is taken; ``while_stalled`` looks then), the rest
    comes three seconds later."""
    first, rest = write_in_two_parts(path, text, cut_before)
    with path.open("r+b") as out:
        out.truncate(0)
        out.write(first)
        out.flush()
        watcher.poll_once()
        watcher.poll_once()
        while_stalled()
        clock.now += timedelta(seconds=3)
        out.write(rest)
    watcher.poll_once()
    watcher.poll_once()


def test_a_save_that_stalls_midway_is_judged_whole_against_the_rules_before_it(tmp_path: Path) -> None:
    """A save that stalled for longer than a poll was taken half-written: the missing always-allowed site applied at
    once as a tightening, and the finished save brought it back as a loosening held for a day."""
    path, clock = tmp_path / "rules.toml", FakeClock(START)
    allowed = 'always_allowed = ["mastodon.social"]'
    text = default_rules_text().replace(f"# {allowed}", allowed)
    path.write_text(text, encoding="utf-8")
    watcher = cooling_watcher(path, tmp_path / "copy.toml", clock)

    def the_part_is_taken() -> None:
        assert watcher.current is not None and watcher.current.profile("me").always_allowed == ()

    stalled_save(watcher, path, text, allowed, clock, while_stalled=the_part_is_taken)
    assert watcher.current is not None and watcher.current.profile("me").always_allowed == ("mastodon.social",)
    assert watcher.held == ()


def test_a_held_loosening_a_stalled_save_carries_keeps_its_wait(rules_file: Path, tmp_path: Path) -> None:
    """The daily limit loosened at 09:00 waits until 09:00 tomorrow; an unrelated save at 11:00 that stalled
    before the limit's line made it wait from 11:00."""
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "3h"')
    watcher.reload()
    assert held_times(watcher) == [("daily_limit", START + timedelta(hours=24))]
    clock.now = START + timedelta(hours=2)
    text = rules_file.read_text().replace("# calm = false", "calm = true")
    stalled_save(watcher, rules_file, text, 'daily_limit = "3h"', clock)
    assert watcher.current is not None and watcher.current.profile("me").calm is True  # the save's tightening
    assert held_times(watcher) == [("daily_limit", START + timedelta(hours=24))]


def test_a_deliberate_tightening_changed_back_moments_later_still_waits(rules_file: Path, tmp_path: Path) -> None:
    """Judging a save against the rules before the version it extends is no way around the cooling-off: a limit
    lowered and put back up a second later is a loosening like any other."""
    clock = FakeClock(START)
    watcher = cooling_watcher(rules_file, tmp_path / "copy.toml", clock)
    edit(rules_file, 'daily_limit = "1h"', 'daily_limit = "45m"')
    watcher.reload()
    clock.now += timedelta(seconds=1)
    edit(rules_file, 'daily_limit = "45m"', 'daily_limit = "1h"')
    watcher.reload()
    assert watcher.current is not None and watcher.current.profile("me").daily_limit == timedelta(minutes=45)
    assert held_times(watcher) == [("daily_limit", START + timedelta(seconds=1) + timedelta(hours=24))]


def test_a_file_cut_short_on_purpose_and_completed_later_waits(tmp_path: Path) -> None:
    """Only a save caught moments ago counts as half-written: the always-allowed site taken out on purpose and put
    back a minute later is a loosening."""
    path, clock = tmp_path / "rules.toml", FakeClock(START)
    allowed = 'always_allowed = ["mastodon.social"]'
    text = default_rules_text().replace(f"# {allowed}", allowed)
    path.write_text(text, encoding="utf-8")
    watcher = cooling_watcher(path, tmp_path / "copy.toml", clock)
    first, _ = write_in_two_parts(path, text, allowed)
    path.write_bytes(first)
    watcher.reload()
    clock.now += timedelta(minutes=1)
    path.write_text(text, encoding="utf-8")
    watcher.reload()
    assert watcher.current is not None and watcher.current.profile("me").always_allowed == ()
    assert [change.setting for change in watcher.held] == ["always_allowed"]
