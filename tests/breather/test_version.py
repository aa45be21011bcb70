"""Updating Breather must not leave old code running unnoticed (a user test: after `git pull` Chromium kept the
extension's old code because its version never changed, and `make run` opened the new window on the old service).

The extension's version is the project's, a change to its shipped files needs a new one (``extension/CODE_HASH``),
and `breather run` / `breather status` say when the running service is other code than theirs."""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import breather
from breather import version
from breather.cli import main
from breather.commands.other_code import other_code_note
from breather.paths import Paths
from tests.breather.healthz import HealthzServer

STALE_HASH = (
    f"the extension's code changed without a new version: {version.BUMP_FILES}, then run "
    f"`{version.RECORD_COMMAND}` to record the new hash in extension/CODE_HASH"
)


def _project_version(root: Path) -> str:
    return str(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def test_the_extension_and_the_package_carry_the_projects_version(project_root: Path) -> None:
    project = _project_version(project_root)
    manifest = json.loads((project_root / "extension" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == project, "extension/manifest.json's version must be pyproject.toml's"
    assert breather.__version__ == project, "breather/__init__.py's __version__ must be pyproject.toml's"
    code = (project_root / "extension" / "lib" / "version.js").read_text(encoding="utf-8")
    assert f'export const CODE_VERSION = "{project}";' in code, "extension/lib/version.js must say pyproject's version"


def test_the_extensions_code_changes_only_with_a_new_version(project_root: Path) -> None:
    folder = project_root / "extension"
    recorded = version.recorded_extension_code(folder)
    assert recorded is not None, f"extension/CODE_HASH is missing: run `{version.RECORD_COMMAND}`"
    recorded_version, recorded_hash = recorded
    if version.extension_code_hash(folder) == recorded_hash:
        assert recorded_version == version.extension_version(folder), (
            f"extension/CODE_HASH names {recorded_version}, the manifest another: run `{version.RECORD_COMMAND}`"
        )
        return
    if recorded_version == version.extension_version(folder):
        pytest.fail(STALE_HASH)
    pytest.fail(
        f"the extension has a new version ({version.extension_version(folder)}) but its hash was not recorded: run "
        f"`{version.RECORD_COMMAND}`"
    )


@pytest.fixture
def extension_copy(project_root: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "extension"
    shutil.copytree(project_root / "extension", folder, ignore=shutil.ignore_patterns("node_modules"))
    return folder


def test_a_change_to_a_shipped_file_changes_the_hash_and_tests_or_line_endings_do_not(extension_copy: Path) -> None:
    before = version.extension_code_hash(extension_copy)
    (extension_copy / "test" / "controller.test.js").write_text("// another test\n", encoding="utf-8")
    (extension_copy / "bench" / "more.bench.js").write_text("// another bench\n", encoding="utf-8")
    (extension_copy / "node_modules").mkdir()
    (extension_copy / "node_modules" / "x.js").write_text("1\n", encoding="utf-8")
    controller = extension_copy / "lib" / "controller.js"
    controller.write_bytes(controller.read_bytes().replace(b"\n", b"\r\n"))  # a Windows checkout
    assert version.extension_code_hash(extension_copy) == before

    controller.write_bytes(controller.read_bytes() + b"// the fix\r\n")
    assert version.extension_code_hash(extension_copy) != before


def test_recording_writes_the_manifests_version_and_the_hash(extension_copy: Path) -> None:
    (extension_copy / "popup" / "popup.js").write_text("// new popup\n", encoding="utf-8")
    line = version.record_extension_code(extension_copy)
    assert version.recorded_extension_code(extension_copy) == tuple(line.split())
    assert line.split() == [version.extension_version(extension_copy), version.extension_code_hash(extension_copy)]


def test_the_code_fingerprint_is_the_same_from_a_checkout_and_from_the_installed_link_tree(project_root: Path) -> None:
    """`breather run` from the repository root (``python -m breather``) and the service it starts compare notes."""
    import subprocess
    import sys

    ask = "from breather.version import code_fingerprint; print(code_fingerprint())"
    from_root = subprocess.run([sys.executable, "-c", ask], cwd=project_root, capture_output=True, text=True)
    elsewhere = subprocess.run([sys.executable, "-I", "-c", ask], cwd="/", capture_output=True, text=True)
    assert from_root.returncode == 0 and elsewhere.returncode == 0, from_root.stderr + elsewhere.stderr
    assert from_root.stdout.strip() == elsewhere.stdout.strip() == version.code_fingerprint()


# --- The running service says which code it is ------------------------------------------------------------------


def test_an_older_service_is_named_with_how_to_use_this_one() -> None:
    started = datetime(2026, 11, 27, 10, 2).astimezone()  # on this machine's clock: an hour on is the same day
    note = other_code_note("0.1.0", "0123456789abcdef", started.isoformat(), now=started + timedelta(hours=1))
    assert note == (
        f"Breather 0.1.0 is running from older code (started {started:%H:%M}; this is {version.version()}); stop "
        "it with `breather stop` and run `breather run` again to use this one."
    )


def test_a_service_from_before_versions_were_said_is_older_and_the_hint_keeps_the_home() -> None:
    note = other_code_note(None, None, None, home="/tmp/the home")
    assert note is not None
    assert note.startswith(f"Breather is running from older code (this is {version.version()});")
    assert "`breather stop --home '/tmp/the home'`" in note and "`breather run --home '/tmp/the home'`" in note


def test_the_same_version_with_changed_files_is_other_code_and_this_code_is_nothing_to_say() -> None:
    note = other_code_note(version.version(), "0123456789abcdef", None)
    assert note is not None and note.startswith(f"Breather {version.version()} is running from other code (its files")
    assert other_code_note(version.version(), version.code_fingerprint(), None) is None


class _OldService(HealthzServer):
    """What a Breather from before 0.2.0 answers: a service file and a /healthz without version or code."""

    def __init__(self, paths: Paths, health: dict[str, Any]) -> None:
        super().__init__(health)
        started = datetime.now(UTC).replace(hour=9, minute=2, second=0, microsecond=0)
        info = {"pid": os.getpid(), "web_port": self.port, "proxy_port": 18080}
        paths.ensure().service_file.write_text(json.dumps({**info, "started_at": started.isoformat()}), "utf-8")
        self.started_local = started.astimezone()


@pytest.fixture
def old_service(breather_home: Path) -> Iterator[_OldService]:
    service = _OldService(Paths.resolve(), {"status": "ok", "pid": os.getpid(), "proxy": {}, "rules": {}})
    yield service
    service.close()


def test_run_says_the_running_service_is_older_code_and_leaves_it_running(
    old_service: _OldService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--no-window"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"Already running: Breather (pid {os.getpid()}")
    when = old_service.started_local
    started = when.strftime("%H:%M") if when.date() == datetime.now().astimezone().date() else f"{when:%Y-%m-%d %H:%M}"
    assert lines[1] == (
        f"Breather is running from older code (started {started}; this is {version.version()}); stop it with "
        "`breather stop` and run `breather run` again to use this one."
    )
    assert Paths.resolve().service_file.exists()  # nothing was stopped


def test_status_says_it_too(old_service: _OldService, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Breather is running (pid ")
    assert out[1].startswith("  Breather is running from older code (started ")
    assert main(["status", "--json"]) == 0
    service = json.loads(capsys.readouterr().out)["service"]
    assert (service["version"], service["code"], service["same_code"]) == (None, None, False)


def test_a_service_of_this_very_code_gets_no_note(breather_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    health = {
        "status": "ok",
        "pid": os.getpid(),
        "version": version.version(),
        "code": version.code_fingerprint(),
        "proxy": {},
    }
    service = _OldService(Paths.resolve(), health)
    try:
        assert main(["run", "--no-window"]) == 0
        assert len(capsys.readouterr().out.splitlines()) == 1
        assert main(["status", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["service"]["same_code"] is True
    finally:
        service.close()
