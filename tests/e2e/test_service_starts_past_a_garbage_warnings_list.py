"""A damaged list of warned posts already shown (data/shown-warnings.json) is ignored like any unreadable file: a file
of deeply nested brackets raised RecursionError in the content-warning addon's start, and mitmproxy ended the service
at every start until someone found and deleted the file."""

from __future__ import annotations

from pathlib import Path

from breather.paths import Paths
from tests.e2e.conftest import ONE_MEMBER_RULES, Upstream, start_service


def test_the_service_starts_past_a_list_of_nested_brackets(tmp_path: Path, upstream: Upstream) -> None:
    home = tmp_path / "home"
    shown = Paths.resolve(home).ensure().shown_warnings
    shown.write_text("[" * 100_000, encoding="utf-8")
    service = start_service(home, ONE_MEMBER_RULES, upstream)  # fails with the service's log if it exits instead
    try:
        assert service.health()["status"] == "ok"
        assert "ignoring an unreadable list of warned posts" in service.log()
    finally:
        assert service.stop() == 0, service.log()[-2000:]
