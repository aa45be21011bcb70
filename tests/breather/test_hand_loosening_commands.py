"""`breather status` and `breather rules explain` on a loosening made by hand while Breather was stopped: they say
what the service will do. A review found them promising "takes effect in 4 hours" (counted from the file's
modification time) for a wait the service, once started, counts whole from its start."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.rules.loader import default_rules_text

RULES = default_rules_text().replace('# timezone = "Europe/London"', 'timezone = "UTC"')
LOOSENED = RULES.replace('daily_limit = "1h"', 'daily_limit = "3h"')
WAITS = "me's daily limit (1h → 3h) waits 24 hours from when Breather next starts"


@pytest.fixture
def paths(breather_home: Path) -> Paths:
    """The service ran here once (its copy of the rules in force is kept), was stopped, and the daily limit was
    loosened by hand 20 hours ago."""
    paths = Paths.resolve(breather_home).ensure()
    paths.last_good_rules.write_text(RULES, encoding="utf-8")
    paths.rules_file.write_text(LOOSENED, encoding="utf-8")
    edited = (datetime.now(UTC) - timedelta(hours=20)).timestamp()
    os.utime(paths.rules_file, (edited, edited))
    return paths


@pytest.fixture
def service_runs(paths: Paths) -> Iterator[None]:
    from breather.probe import hold_service_lock

    lock = hold_service_lock(paths)
    assert lock is not None
    with lock:
        yield


def test_status_says_the_wait_starts_when_breather_next_starts(
    paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 3  # not running
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("  held for the cooling-off:")
    assert lines[at + 1] == f"    {WAITS}"
    main(["status", "--json"])
    (held,) = json.loads(capsys.readouterr().out)["rules"]["held"]
    assert held == {
        "setting": "profiles.me.daily_limit",
        "takes_effect": None,
        "waits_from_next_start": "24h",
        "text": WAITS,
    }


def test_rules_explain_says_the_wait_starts_when_breather_next_starts(
    paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "explain", "--site", "reddit.com"]) == 0
    out = capsys.readouterr().out
    assert f"Your edit loosening {WAITS} (cooling-off); until then the old setting is in force" in out


@pytest.mark.usefixtures("service_runs")
def test_while_the_service_runs_the_wait_counts_from_now_and_ends_at_a_time(
    paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    """A running service's watcher sees the edit within a second or two and holds it from then: a time can be told."""
    main(["status", "--json"])
    (held,) = json.loads(capsys.readouterr().out)["rules"]["held"]
    due = datetime.fromisoformat(held["takes_effect"])
    assert abs(due - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=2)
    assert held["text"].startswith("me's daily limit (1h → 3h) takes effect at ")
    assert "waits_from_next_start" not in held
