"""The service and the window as a person meets them: `breather run` starts a detached service once, `breather open`
shows its dashboard in a real pywebview (Qt WebEngine) window under Xvfb, and closing the window leaves the service
running.

The window's self-test mode reads ``document.title`` and the page's background colour through ``evaluate_js`` and
then stays open until its stdin closes; meanwhile the test takes a real screenshot of the X display and checks it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from breather.paths import Paths
from breather.probe import find_running_service, pid_alive, read_service_file
from tests.conftest import require_all

pytestmark = pytest.mark.e2e

SCREEN = (1280, 900)
SCREENSHOT_DIR_ENV = "BREATHER_SCREENSHOTS"  # keep the screenshots somewhere to look at them


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed (apt: see .ci/run)"
        if require_all():
            pytest.fail(message)
        pytest.skip(message)
    return found


def _breather(*args: str) -> list[str]:
    return [sys.executable, "-m", "breather", *args]


def _env(home: Path, tmp_path: Path, display: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BREATHER_HOME=str(home),
        BREATHER_PROXY_PORT="0",
        BREATHER_WEB_PORT="0",
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_RUNTIME_DIR=str(tmp_path / "xdg-runtime"),
    )
    (tmp_path / "xdg-runtime").mkdir(mode=0o700, exist_ok=True)
    env.pop("WAYLAND_DISPLAY", None)
    if display is None:
        env.pop("DISPLAY", None)
    else:
        env["DISPLAY"] = display
    return env


# -- fixtures --------------------------------------------------------------------------------------------------------


def _free_display() -> int:
    for number in range(90, 190):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number between :90 and :189")


@pytest.fixture
def xvfb() -> Iterator[str]:
    binary = _require("Xvfb")
    for _attempt in range(3):
        number = _free_display()
        width, height = SCREEN
        server = subprocess.Popen(
            [binary, f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and server.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.1)
        if server.poll() is None:
            break
    else:
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def _stop_service(paths: Paths) -> None:
    try:
        info = read_service_file(paths)
    except ValueError:
        return
    if info is None or not pid_alive(info.pid):
        return
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pid_alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)


@pytest.fixture
def demo_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "household"
    seeded = subprocess.run(
        _breather("demo", "--home", str(home), "--days", "14"), capture_output=True, text=True, timeout=120, check=False
    )
    assert seeded.returncode == 0, seeded.stderr
    yield home
    _stop_service(Paths.resolve(home))


def _run_no_window(home: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _breather("run", "--no-window", "--wait", "90"),
        env=_env(home, tmp_path),
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )


# -- breather run ----------------------------------------------------------------------------------------------------


def test_run_starts_one_detached_service_and_reuses_it(demo_home: Path, tmp_path: Path) -> None:
    first = _run_no_window(demo_home, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Started Breather (pid ")
    paths = Paths.resolve(demo_home)
    running = find_running_service(paths)
    assert running is not None
    # `breather run` has exited; the service it started lives on in its own session.
    assert os.getsid(running.info.pid) != os.getsid(0)
    assert running.health["status"] == "ok"

    second = _run_no_window(demo_home, tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith(f"Already running: Breather (pid {running.info.pid}")

    status = subprocess.run(
        _breather("status", "--json"), env=_env(demo_home, tmp_path), capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["service"]["pid"] == running.info.pid
    assert set(report["today"]["profiles"]) == {"alex", "jordan", "maya", "leo"}
    assert report["rules"]["ok"] is True
    assert "proxy listening" in paths.log_file.read_text(encoding="utf-8")
    assert set(_published_quiet_hours(paths)) == {"alex", "jordan", "maya", "leo"}


def _published_quiet_hours(paths: Paths) -> dict[str, Any]:
    """The running service's scheduler publishes every profile's quiet-hours state in the store right after start."""
    from breather.scheduler import QUIET_HOURS_META_KEY
    from breather.store.db import open_database
    from breather.store.queries import get_meta

    deadline = time.monotonic() + 30
    while True:
        db = open_database(paths.database)
        try:
            raw = get_meta(db, QUIET_HOURS_META_KEY)
        finally:
            db.close()
        if raw is not None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert raw is not None, "the scheduler did not publish the quiet-hours state"
    states: dict[str, Any] = json.loads(raw)
    return states


def test_run_on_a_fresh_home_without_display_or_browser_starts_the_service_and_prints_its_url(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    env = _env(home, tmp_path)
    env["BROWSER"] = str(tmp_path / "no-such-browser") + " %s"
    try:
        result = subprocess.run(
            _breather("run", "--wait", "90"), env=env, capture_output=True, text=True, timeout=150, check=False
        )
        assert result.returncode == 0, result.stderr
        paths = Paths.resolve(home)
        running = find_running_service(paths)
        assert running is not None
        started, fallback = result.stdout.strip().splitlines()
        assert started.startswith("Started Breather")
        assert fallback == (
            "No desktop window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), and no web browser could "
            f"be started; open {running.info.dashboard_url} yourself"
        )
        # The embedded defaults: the commented default rules and the SQLite file in the home's folders.
        assert "# Breather boundary rules" in paths.rules_file.read_text(encoding="utf-8")
        assert paths.database.exists()
    finally:
        _stop_service(Paths.resolve(home))


def test_two_runs_at_once_start_one_service(tmp_path: Path) -> None:
    home = tmp_path / "twice"
    env = _env(home, tmp_path)
    command = _breather("run", "--no-window", "--wait", "90")
    try:
        runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = sorted(run.communicate(timeout=150)[0] for run in runs)
        assert [run.returncode for run in runs] == [0, 0]
        assert outputs[0].startswith("Already running: Breather (pid ")
        assert outputs[1].startswith("Started Breather (pid ")
        running = find_running_service(Paths.resolve(home))
        assert running is not None
        assert all(f"(pid {running.info.pid}," in output for output in outputs)
    finally:
        _stop_service(Paths.resolve(home))


def test_run_takes_the_port_flags_of_serve_when_the_usual_ports_are_taken(demo_home: Path, tmp_path: Path) -> None:
    """The README's demo step while the person's own Breather holds the ports: `run` says how to pick others, and
    `--proxy-port 0 --web-port 0` reach the service it starts."""
    held = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    try:
        env = _env(demo_home, tmp_path)
        env["BREATHER_PROXY_PORT"], env["BREATHER_WEB_PORT"] = (str(s.getsockname()[1]) for s in held)
        refused = subprocess.run(
            _breather("run", "--no-window", "--wait", "90"), env=env, capture_output=True, text=True, timeout=150
        )
        assert refused.returncode == 1
        assert "already in use" in refused.stderr.lower()
        assert "--proxy-port" in refused.stderr and "--web-port" in refused.stderr
        started = subprocess.run(
            _breather("run", "--no-window", "--wait", "90", "--proxy-port", "0", "--web-port", "0"),
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
        )
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("Started Breather (pid ")
        running = find_running_service(Paths.resolve(demo_home))
        assert running is not None
        assert running.info.web_port not in {s.getsockname()[1] for s in held}
    finally:
        for server in held:
            server.close()


def test_run_explains_why_the_service_did_not_start(tmp_path: Path) -> None:
    home = tmp_path / "broken"
    paths = Paths.resolve(home).ensure()
    paths.rules_file.write_text('[profiles.me]\ndefault = true\ndaily_limit = "lots"\n', encoding="utf-8")
    result = _run_no_window(home, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "`breather serve` stopped with exit code" in lines[0]
    assert "daily_limit" in lines[0]
    assert str(paths.log_file) in lines[0]
    assert find_running_service(paths) is None


def test_status_says_when_the_service_is_not_running(tmp_path: Path) -> None:
    home = tmp_path / "idle"
    result = subprocess.run(
        _breather("status"), env=_env(home, tmp_path), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 3
    assert result.stdout.splitlines()[0] == "Breather is not running (start it with `breather run`)."
    assert "does not exist yet" in result.stdout
    assert not Paths.resolve(home).rules_file.exists()
    assert not Paths.resolve(home).database.exists()


# -- the window ------------------------------------------------------------------------------------------------------


def _read_line(stream: object, timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)  # type: ignore[attr-defined]
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


def _screenshot(display: str, target: Path) -> tuple[int, int, bytes]:
    """The whole X screen as (width, height, RGB bytes), also saved as PNG at ``target``."""
    importer = _require("import")
    env = {**os.environ, "DISPLAY": display}
    raw = subprocess.run(
        [importer, "-window", "root", "-depth", "8", "ppm:-"], env=env, capture_output=True, timeout=60, check=True
    ).stdout
    subprocess.run([importer, "-window", "root", str(target)], env=env, capture_output=True, timeout=60, check=True)
    return _parse_ppm(raw)


def _parse_ppm(raw: bytes) -> tuple[int, int, bytes]:
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while raw[position : position + 1].isspace():
            position += 1
        end = position
        while not raw[end : end + 1].isspace():
            end += 1
        fields.append(raw[position:end])
        position = end
    assert fields[0] == b"P6" and fields[3] == b"255", fields
    width, height = int(fields[1]), int(fields[2])
    pixels = raw[position + 1 : position + 1 + width * height * 3]
    assert len(pixels) == width * height * 3
    return width, height, pixels


def _rgb(css: str) -> tuple[int, int, int]:
    inside = css[css.index("(") + 1 : css.index(")")]
    red, green, blue = (int(float(part)) for part in inside.split(",")[:3])
    return red, green, blue


def _share_of_colour(pixels: bytes, colour: tuple[int, int, int], tolerance: int = 8) -> float:
    total = len(pixels) // 3
    near = 0
    for index in range(0, len(pixels), 3 * 7):  # every 7th pixel is plenty
        if all(abs(pixels[index + channel] - colour[channel]) <= tolerance for channel in range(3)):
            near += 1
    return near / (total / 7)


def _distinct_colours(pixels: bytes) -> int:
    return len({pixels[index : index + 3] for index in range(0, len(pixels), 3 * 5)})


def _wait_or_kill(process: subprocess.Popen[str], timeout: float) -> int | None:
    """The exit code, or None when the process had to be killed."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        return None


def test_the_window_shows_the_dashboard_and_closing_it_keeps_the_service(
    xvfb: str, demo_home: Path, tmp_path: Path
) -> None:
    started = _run_no_window(demo_home, tmp_path)
    assert started.returncode == 0, started.stderr
    paths = Paths.resolve(demo_home)
    service = find_running_service(paths)
    assert service is not None

    window_log = tmp_path / "window.log"
    with window_log.open("w") as log:
        window = subprocess.Popen(
            _breather("open", "--self-test"),
            env=_env(demo_home, tmp_path, display=xvfb),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        line = _read_line(window.stdout, timeout=120)
        assert line, f"the window reported nothing; its log ends: {window_log.read_text()[-2000:]}"
        report = json.loads(line)
        assert "error" not in report, report
        assert report["window_title"] == "Breather"
        assert report["url"] == service.info.dashboard_url
        assert "Breather" in report["title"]
        assert report["userSelect"] != "none", "a person cannot select (and copy) the dashboard's text"
        background = _rgb(report["background"])

        shots = Path(os.environ.get(SCREENSHOT_DIR_ENV, tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        # The title is read once the page has loaded; painting can trail it by seconds on a loaded machine (an
        # unpainted window is black, which can pass for a dark background), so look until the page's background
        # fills a good part of the screen AND there is text on it, or give up and let the asserts say what is seen.
        deadline = time.monotonic() + 60
        while True:
            width, height, pixels = _screenshot(xvfb, shots / "window.png")
            share = _share_of_colour(pixels, background)
            if (share >= 0.3 and _distinct_colours(pixels) >= 20) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert (width, height) == SCREEN
        assert share >= 0.3, f"the page background {background} covers only {share:.0%} of the screen"
        assert _distinct_colours(pixels) >= 20, "the screen shows too few colours to hold any text or chart"
    finally:
        assert window.stdin is not None
        window.stdin.close()
        code = _wait_or_kill(window, 60)
        if window.stdout is not None:
            window.stdout.close()
    assert code == 0, window_log.read_text()[-2000:]
    refused = [line for line in window_log.read_text().splitlines() if "Content Security Policy" in line]
    assert not refused, f"the dashboard's own policy refused something in the window: {refused}"

    still = find_running_service(paths)
    assert still is not None, "closing the window stopped the service"
    assert still.info.pid == service.info.pid
