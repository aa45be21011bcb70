"""Whether the desktop window can open: a display variable that is set is not yet a display that answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from breather.dashboard import window
from breather.dashboard.window import check_gui, display_problem


def _env_with_recording_browser(tmp_path: Path, home: Path, display: str) -> dict[str, str]:
    """As for `breather run` without a display (a browser that records what it was asked to open), with ``display``."""
    from tests.breather.test_run_open import _env_without_display

    return {**_env_without_display(tmp_path, home), "DISPLAY": display}


def _dead_x_display() -> str:
    """A display number no X server answers on here (neither its socket file nor its abstract socket)."""
    for number in range(190, 290):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        if display_problem({"DISPLAY": f":{number}"}) is not None:
            return f":{number}"
    raise RuntimeError("every display number from :190 to :289 is taken")


def test_a_display_that_does_not_answer_opens_the_browser_instead_of_crashing(
    tmp_path: Path, breather_home: Path
) -> None:
    """ssh with a dead X forward, or a DISPLAY a tmux session kept: Qt aborted the whole process (exit 134)."""
    url = "http://127.0.0.1:8765/today"
    display = _dead_x_display()
    env = _env_with_recording_browser(tmp_path, breather_home, display)
    result = subprocess.run(
        [sys.executable, "-m", "breather", "open", "--url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "opened.txt").read_text(encoding="utf-8") == url
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Opened the dashboard in your web browser (no desktop window: ")
    assert f"DISPLAY={display} does not answer" in lines[0]


@pytest.fixture
def socket_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder of our own for the X sockets (short: a socket's path has ~100 bytes at most)."""
    folder = Path(f"/tmp/breather-x11-{os.getpid()}-{time.monotonic_ns()}")
    folder.mkdir()
    monkeypatch.setattr(window, "X11_SOCKET_DIR", str(folder))
    yield folder
    for entry in folder.iterdir():
        entry.unlink()
    folder.rmdir()


@pytest.fixture
def listening() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def _listen_unix(path: Path, opened: list[socket.socket]) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    opened.append(server)


def test_an_x_display_counts_only_while_its_server_answers(socket_dir: Path, listening: list[socket.socket]) -> None:
    _listen_unix(socket_dir / "X7", listening)
    for name in (":7", ":7.0", "unix:7"):
        assert display_problem({"DISPLAY": name}) is None, name
    listening.pop().close()  # the server is gone; its socket file stays behind, as after a crash
    problem = display_problem({"DISPLAY": ":7"})
    assert problem is not None
    assert problem.startswith(f"DISPLAY=:7 does not answer ({socket_dir}/X7: ")
    assert display_problem({"DISPLAY": ":8"}) is not None  # no socket at all


def test_a_tcp_display_counts_only_while_something_listens(listening: list[socket.socket]) -> None:
    server = socket.create_server(("127.0.0.1", 26180))
    listening.append(server)
    display = f"127.0.0.1:{26180 - 6000}.0"
    assert display_problem({"DISPLAY": display}) is None
    listening.pop().close()
    assert display_problem({"DISPLAY": display}) == (
        f"DISPLAY={display} does not answer (127.0.0.1:26180: Connection refused)"
    )


def test_a_wayland_display_counts_only_while_its_socket_answers(
    socket_dir: Path, listening: list[socket.socket]
) -> None:
    env = {"WAYLAND_DISPLAY": "wayland-7", "XDG_RUNTIME_DIR": str(socket_dir)}
    assert display_problem(env) is not None
    _listen_unix(socket_dir / "wayland-7", listening)
    assert display_problem(env) is None
    assert display_problem({"WAYLAND_DISPLAY": str(socket_dir / "wayland-7")}) is None
    # a dead Wayland socket with an X display that answers: the window can still open
    listening.pop().close()
    _listen_unix(socket_dir / "X3", listening)
    assert display_problem({**env, "DISPLAY": ":3"}) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-7"}) == (
        "WAYLAND_DISPLAY=wayland-7 names no socket (XDG_RUNTIME_DIR is not set)"
    )


def test_a_display_that_does_not_answer_means_no_window(socket_dir: Path) -> None:
    check = check_gui({"DISPLAY": ":9"})
    assert not check.available
    assert check.reason.startswith("DISPLAY=:9 does not answer")
    assert not check_gui({"DISPLAY": "remote-desktop"}).available  # not a display name: Qt would abort on it too
