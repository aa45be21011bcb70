"""Shared test set-up.

* Every test gets its own ``BREATHER_HOME`` so nothing touches the real user directories.
* ``shared_fixtures`` finds ``../shared/fixtures`` (or ``BREATHER_FIXTURES``); a missing folder skips on a user's
  machine and fails in CI.
* In CI (``CI=true`` or ``BREATHER_REQUIRE_ALL=1``) any skipped test turns the run into a failure: a tier that
  silently did not run is a defect.
"""

from __future__ import annotations

import os

# Imported up front on purpose: pytest imports tracemalloc lazily inside its unraisable-exception hook, and when a
# garbage collection during that first import finds another leaked object, the nested hook meets a half-imported
# module and fails whichever test happens to be running (seen once in CI).
import tracemalloc  # noqa: F401
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def require_all() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("BREATHER_REQUIRE_ALL") == "1"


def fixtures_root() -> Path | None:
    explicit = os.environ.get("BREATHER_FIXTURES")
    candidate = Path(explicit) if explicit else PROJECT_ROOT.parent / "shared" / "fixtures"
    return candidate if candidate.is_dir() else None


def real_json_feeds(platforms: tuple[str, ...]) -> list[str]:
    """``platform/file.json`` for every recorded JSON feed of those platforms, for parametrising at collection time
    (before fixtures exist). Without the fixtures folder the list is empty: pytest skips, and CI fails on skips."""
    root = fixtures_root()
    if root is None:
        return []
    return [
        f"{platform}/{path.name}"
        for platform in platforms
        for path in sorted((root / "feeds" / platform).glob("*.json"))
        if not path.name.endswith(".meta.json")
    ]


@pytest.fixture(autouse=True)
def breather_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "breather-home"
    monkeypatch.setenv("BREATHER_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return home


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    root = fixtures_root()
    if root is None:
        message = "../shared/fixtures not found (set BREATHER_FIXTURES to its path)"
        if require_all():
            pytest.fail(message)
        pytest.skip(message)
    return root


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not require_all():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(f"FAILED: {len(skipped)} test(s) skipped, and nothing may be skipped in CI", red=True)
