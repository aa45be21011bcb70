"""A first run writes the machine's time zone into the new rules file. A user test's file said ``# timezone`` (left
out), so each process used its own ``TZ``: the dashboard said "Friday 27 November" and quiet hours until 07:00 New
York time while ``breather status`` in a shell without ``TZ`` said 2026-11-28 and 07:00 UTC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from breather.cli import main
from breather.commands.status import NOT_RUNNING_EXIT
from breather.paths import Paths
from breather.rules import timeparse
from breather.rules.loader import ensure_rules_file, first_run_rules_text, load_rules, parse_rules

LATE_ON_27_NOV_IN_NEW_YORK = "2026-11-28T03:00:00+00:00"


def machine_zone(monkeypatch: pytest.MonkeyPatch, zone: str | None) -> None:
    """The zone tzlocal reports for this process (it follows ``TZ``)."""
    monkeypatch.setattr(timeparse, "local_zone_name", lambda: zone)


def test_status_in_a_shell_without_tz_counts_the_day_of_the_zone_the_first_run_wrote(
    monkeypatch: pytest.MonkeyPatch, breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machine_zone(monkeypatch, "America/New_York")  # the service's first run, started with TZ=America/New_York
    assert ensure_rules_file(Paths.resolve().rules_file)
    machine_zone(monkeypatch, "UTC")  # a shell without TZ
    assert main(["status", "--json", "--at", LATE_ON_27_NOV_IN_NEW_YORK]) == NOT_RUNNING_EXIT
    assert json.loads(capsys.readouterr().out)["today"]["day"] == "2026-11-27"


def test_the_file_says_what_the_zone_is_for_and_which_machine_zone_it_was(tmp_path: Path) -> None:
    text = first_run_rules_text("Europe/Berlin", environ={})
    assert '\ntimezone = "Europe/Berlin"\n' in text
    assert "# Picked on the first run: this machine's zone (Europe/Berlin), written down so the service" in text
    assert parse_rules(text).timezone == "Europe/Berlin"


@pytest.mark.parametrize("unknown", [None, "Not/AZone"])
def test_a_zone_the_machine_cannot_name_is_left_out_and_the_file_still_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, unknown: str | None
) -> None:
    machine_zone(monkeypatch, unknown)
    path = tmp_path / "rules.toml"
    assert ensure_rules_file(path)
    assert load_rules(path).timezone is None
    assert '\n# timezone = "Europe/London"\n' in path.read_text(encoding="utf-8")


def test_an_existing_file_without_a_zone_is_not_rewritten(monkeypatch: pytest.MonkeyPatch, breather_home: Path) -> None:
    machine_zone(monkeypatch, "America/New_York")
    path = Paths.resolve().ensure().rules_file
    path.write_text(first_run_rules_text(None).replace('timezone = "America/New_York"', "# timezone"), "utf-8")
    before = path.read_text(encoding="utf-8")
    assert main(["status", "--at", LATE_ON_27_NOV_IN_NEW_YORK]) == NOT_RUNNING_EXIT
    assert not ensure_rules_file(path)
    assert path.read_text(encoding="utf-8") == before
