"""`breather rules explain` finds a parent's yes whichever host of the site the ask named (a family user test: the
extension asked for www.reddit.com, and explain for reddit.com said limit_reached without a word of the yes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from breather.cli import main
from tests.breather.test_rules_command import RULES, approve_more_time_on_the_dashboard, home_in_force


@pytest.mark.parametrize("site", ["reddit.com", "www.reddit.com", "old.reddit.com"])
def test_explain_tells_of_a_yes_to_an_ask_the_extension_sent_with_the_tabs_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], site: str
) -> None:
    home, paths, _ = home_in_force(tmp_path, RULES)
    approve_more_time_on_the_dashboard(paths, "www.reddit.com")

    explain = ["rules", "explain", "--profile", "sam", "--site", site, "--used", "50m", "--home", home]
    assert main([*explain, "--at", "2026-03-04T20:10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("allow: ") and lines[0].endswith("extra time until 21:00")
    assert lines[1].startswith("more time on www.reddit.com until 21:00, approved on the dashboard at 20:00")


def test_explain_tells_of_a_yes_to_an_ask_that_named_no_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """0.1.0's extension asked with no site; a yes to it lifts the limits on every site, and explain says so."""
    home, paths, _ = home_in_force(tmp_path, RULES)
    approve_more_time_on_the_dashboard(paths, None)

    explain = ["rules", "explain", "--profile", "sam", "--site", "old.reddit.com", "--used", "50m", "--home", home]
    assert main([*explain, "--at", "2026-03-04T20:10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("allow: ") and lines[0].endswith("extra time until 21:00")
    assert lines[1].startswith("more time on every site until 21:00, approved on the dashboard at 20:00")
