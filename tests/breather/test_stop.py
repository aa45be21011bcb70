"""`breather stop`: a real `breather serve` stopped the way a person stops it."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from breather.cli import main
from breather.dashboard.db import connect
from breather.dashboard.security import PASSPHRASE_KEY, hash_passphrase
from breather.paths import Paths
from breather.probe import RunningService, find_running_service
from tests.breather.healthz import HealthzServer
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


def ends_cleanly(service: subprocess.Popen[bytes], timeout: float) -> None:
    """A clean stop exits 0 (systemd's Restart=on-failure and launchd then leave it stopped); when not, the
    failure shows the service's own log, the only place that says why."""
    code = service.wait(timeout=timeout)
    assert code == 0, (Path(os.environ["BREATHER_HOME"]) / "serve.log").read_text(errors="replace")[-6000:]


def test_stop_ends_the_service_cleanly_and_says_how_to_start_it_again(
    service: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stop"]) == 0
    ends_cleanly(service, timeout=5)
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
    assert scripted.stderr == (
        "breather stop: there is no terminal to ask for the household passphrase on; pipe it to --stdin instead; "
        "Breather keeps running\n"
    )  # one line, as the README says: no getpass warning and prompt before it
    assert service.poll() is None

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSPHRASE}\n"))
    assert main(["stop", "--stdin"]) == 0
    ends_cleanly(service, timeout=5)


def test_a_damaged_store_does_not_keep_breather_from_stopping(
    service: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    """A robustness test damaged breather.db: `breather stop` read the passphrase from it, failed with the store's
    error and left the service running, though stopping it is how the file is moved aside."""
    database = Paths.resolve().database
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(b"not a database " * 500)
    assert main(["stop"]) == 0
    ends_cleanly(service, timeout=10)
    said = capsys.readouterr().err
    assert "the household passphrase cannot be checked; stopping anyway." in said


def test_stop_returns_promptly_while_a_dashboard_tab_keeps_its_connection_open(
    service: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    """A review: with a dashboard tab's keep-alive connection open, waitress kept its loop after ``close()`` and the
    stop waited out the web thread's whole join timeout (5 s more than without the tab)."""
    running = find_running_service(Paths.resolve())
    assert running is not None
    port = running.info.web_port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as tab:
        tab.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert _whole_response(tab).startswith(b"HTTP/1.1 200 ")  # answered, and the connection stays open
        started = time.monotonic()
        assert main(["stop"]) == 0
        took = time.monotonic() - started
        ends_cleanly(service, timeout=5)
        assert took < 3, f"`breather stop` took {took:.1f} s with a dashboard tab open"
        assert tab.recv(1) == b""  # the service closed the tab's connection as it stopped
    assert "Stopped Breather" in capsys.readouterr().out


def _whole_response(sock: socket.socket) -> bytes:
    """One HTTP response read to the end of its body (a ``recv`` may return only the headers)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    "health",
    [{"status": "ok", "pid": os.getpid(), "version": "0.2.2"}, {"status": "ok"}],
    ids=["another-breather", "no-pid"],
)
def test_stop_never_signals_the_program_that_now_has_a_stale_files_pid(
    breather_home: Path, capsys: pytest.CaptureFixture[str], health: dict[str, Any]
) -> None:
    """A review: after a power cut the service file's pid belonged to another program, and another Breather answered
    on its port; `breather stop` checked each separately and sent that program SIGTERM."""
    from breather.commands.run import _ready_service

    paths = Paths.resolve().ensure()
    stranger = subprocess.Popen(["sleep", "300"])
    other = HealthzServer(health)  # another home's Breather, started after a power cut
    paths.service_file.write_text(
        json.dumps({"pid": stranger.pid, "web_port": other.port, "proxy_port": 8080, "version": "0.2.2"}), "utf-8"
    )
    try:
        assert main(["status"]) == 3
        assert capsys.readouterr().out.startswith("Breather is not running")
        assert main(["stop"]) == 0
        assert capsys.readouterr().out == "Breather is not running.\n"
        assert _ready_service(paths, stranger.pid) is None  # nor does `run` take that answer for its new service
        time.sleep(0.3)
        assert stranger.poll() is None, "`breather stop` signalled an unrelated program"
    finally:
        other.close()
        stranger.kill()
        stranger.wait()


def test_a_stop_while_the_store_cannot_save_says_what_may_be_lost() -> None:
    """A robustness test stopped Breather while another program held the store's lock: 65 records were lost and the
    command said a plain "Stopped"."""
    from breather.commands.stop import _waiting_unsaved

    locked = {"store": {"saving": False, "trouble": "locked", "held": 65}}
    assert _waiting_unsaved(locked) == (
        "The usage store could not save as Breather stopped (another program holds the store's write lock): up to 65 "
        "record(s) of usage may be lost (the log says how many)."
    )
    assert _waiting_unsaved({"store": {"saving": True, "held": 3}}) == ""
    assert _waiting_unsaved({}) == ""
