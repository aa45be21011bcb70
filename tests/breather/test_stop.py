"""`breather stop`: a real `breather serve` stopped the way a person stops it."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from breather.cli import main
from breather.dashboard.db import connect
from breather.dashboard.security import PASSPHRASE_KEY, hash_passphrase
from breather.paths import Paths
from breather.probe import RunningService, find_running_service
from tests.dashboard.conftest import PASSPHRASE, TEST_SCRYPT
from tests.e2e.conftest import wait_for


@pytest.fixture
def service(breather_home: Path) -> Iterator[subprocess.Popen[bytes]]:
    paths = Paths.resolve().ensure()
    log = (breather_home / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "breather", "serve", "--proxy-port", "0", "--web-port", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    running: RunningService = wait_for(lambda: find_running_service(paths), 60, "breather serve to answer")
    assert running.info.pid == process.pid
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()
    log.close()


def test_stop_ends_the_service_cleanly_and_says_how_to_start_it_again(
    service: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stop"]) == 0
    assert service.wait(timeout=5) == 0  # a clean stop: systemd's Restart=on-failure and launchd leave it stopped
    said = capsys.readouterr().out
    assert f"Stopped Breather (pid {service.pid}). Your boundaries are off until it runs again." in said
    assert "Start it again with `breather run`." in said
    assert find_running_service(Paths.resolve()) is None

    assert main(["stop"]) == 0
    assert capsys.readouterr().out == "Breather is not running.\n"


def test_with_a_household_passphrase_stopping_needs_it(
    service: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = connect(str(Paths.resolve().database))
    db["household"].insert({"key": PASSPHRASE_KEY, "value": hash_passphrase(PASSPHRASE, TEST_SCRYPT)})
    db.close()

    monkeypatch.setattr(sys, "stdin", io.StringIO("a guess\n"))
    assert main(["stop", "--stdin"]) == 1
    assert "that is not the household passphrase; Breather keeps running" in capsys.readouterr().err
    assert service.poll() is None

    # From a script with no terminal (its own session, input from /dev/null): a clear line, not getpass's EOFError.
    scripted = subprocess.run(
        [sys.executable, "-m", "breather", "stop"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
    )
    assert scripted.returncode == 1 and "unexpected error" not in scripted.stderr
    assert "no terminal to ask for the household passphrase on; pipe it to --stdin" in scripted.stderr
    assert service.poll() is None

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSPHRASE}\n"))
    assert main(["stop", "--stdin"]) == 0
    assert service.wait(timeout=5) == 0
