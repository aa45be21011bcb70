"""The login entries of `breather autostart`, read the way each system reads them at login.

- XDG autostart: GLib's ``gio launch`` starts the ``.desktop`` file as a desktop session does (its Exec quoting,
  field codes and escapes), and Breather must come up on the home and ports the entry names.
- launchd: its ``ProgramArguments`` are run as launchd runs them (an argument list, no shell), same check.
- systemd: ``systemd-analyze verify`` reads the unit with systemd's own parser (there is no user manager here to
  start it).

The home has the characters each format treats specially (space, %, $, quotes, backslash), so a quoting slip shows
up as a service on the wrong home or no service at all.
"""

from __future__ import annotations

import os
import plistlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from breather import autostart
from breather.paths import Paths
from breather.probe import RunningService, find_running_service
from tests.e2e.conftest import free_port, wait_for

AWKWARD = 'My Files/100% "calm" $HOME `x` it\'s\\here'


@pytest.fixture
def awkward_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / AWKWARD
    yield home
    running = find_running_service(Paths.resolve(home))
    if running is not None:
        os.kill(running.info.pid, signal.SIGTERM)


def _ports() -> list[str]:
    return ["--proxy-port", str(free_port()), "--web-port", str(free_port())]


def _comes_up(home: Path, flags: list[str], timeout: float = 60) -> RunningService:
    service: RunningService = wait_for(
        lambda: find_running_service(Paths.resolve(home)), timeout, f"Breather on {home} started from its login entry"
    )
    assert service.health["status"] == "ok"
    assert [str(service.info.proxy_port), str(service.info.web_port)] == [flags[1], flags[3]]
    return service


def test_a_desktop_session_starts_breather_from_its_autostart_entry(awkward_home: Path, tmp_path: Path) -> None:
    flags = _ports()
    entry = autostart.entry_for("xdg", home=str(awkward_home), flags=flags, log_file=tmp_path / "unused.log")
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    entry.path.write_text(entry.text, encoding="utf-8")

    subprocess.run(["gio", "launch", str(entry.path)], check=True, timeout=30, cwd=tmp_path)

    _comes_up(awkward_home, flags)
    assert (awkward_home / "config" / "rules.toml").exists()  # the home named, not a mangled one beside it


def test_launchd_starts_breather_from_its_agents_arguments(awkward_home: Path, tmp_path: Path) -> None:
    flags = _ports()
    log_file = Paths.resolve(awkward_home).ensure().log_file
    entry = autostart.entry_for("launchd", home=str(awkward_home), flags=flags, log_file=log_file)
    agent = plistlib.loads(entry.text.encode("utf-8"))

    with open(agent["StandardErrorPath"], "ab") as log:
        process = subprocess.Popen(agent["ProgramArguments"], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        service = _comes_up(awkward_home, flags)
        assert service.info.pid == process.pid  # launchd supervises the service itself
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0  # a clean stop, which KeepAlive does not restart
    assert f"proxy listening at 127.0.0.1:{flags[1]}" in log_file.read_text(encoding="utf-8", errors="replace")


def test_systemd_reads_the_unit_without_complaint(awkward_home: Path, tmp_path: Path) -> None:
    entry = autostart.entry_for("systemd", home=str(awkward_home), flags=_ports(), log_file=tmp_path / "unused.log")
    unit = tmp_path / autostart.UNIT_NAME
    unit.write_text(entry.text, encoding="utf-8")

    checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == ""
    assert entry.argv[0] == sys.executable
