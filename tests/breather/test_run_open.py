"""`breather open` / `breather run` / the running-service probe, without a display."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from breather.cli import main
from breather.dashboard.window import SANDBOX_ENV, allow_root_sandboxless, check_gui
from breather.paths import Paths
from breather.probe import find_running_service, hold_service_lock, parse_service_file
from tests.e2e.conftest import wait_for


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _env_without_display(tmp_path: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    env["BREATHER_HOME"] = str(home)
    recorder = tmp_path / "browser.py"
    recorder.write_text(
        f"import pathlib, sys\npathlib.Path({str(tmp_path / 'opened.txt')!r}).write_text(sys.argv[1])\n",
        encoding="utf-8",
    )
    env["BROWSER"] = f"{sys.executable} {recorder} %s"
    return env


def test_open_without_a_running_service_says_how_to_start_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["open"]) == 1
    assert "not running: start it with `breather run`" in capsys.readouterr().err


def test_a_stale_service_file_is_not_a_running_service(breather_home: Path) -> None:
    paths = Paths.resolve().ensure()
    paths.service_file.write_text(json.dumps({"pid": _dead_pid(), "web_port": 1, "proxy_port": 2}), encoding="utf-8")
    assert find_running_service(paths) is None


def test_a_live_pid_without_healthz_is_not_a_running_service(breather_home: Path) -> None:
    paths = Paths.resolve().ensure()
    # Our own pid is alive, but nothing answers /healthz on a port nobody listens on.
    paths.service_file.write_text(json.dumps({"pid": os.getpid(), "web_port": 9, "proxy_port": 2}), encoding="utf-8")
    assert find_running_service(paths) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "service.json:1:2: not JSON"),
        ('{"pid": "12", "web_port": 8765}', "service.json: pid: expected a positive integer, got '12'"),
        ('{"pid": 12}', "service.json: web_port: expected a positive integer, got None"),
        ("[1, 2]", "service.json: expected a JSON object, got list"),
    ],
)
def test_a_malformed_service_file_gets_a_located_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        parse_service_file(text)


def test_no_display_means_no_window_and_says_why() -> None:
    check = check_gui({})
    assert not check.available
    assert "DISPLAY" in check.reason


def test_open_without_a_display_opens_the_system_browser_and_says_so(tmp_path: Path, breather_home: Path) -> None:
    url = "http://127.0.0.1:8765/today"
    result = subprocess.run(
        [sys.executable, "-m", "breather", "open", "--url", url],
        env=_env_without_display(tmp_path, breather_home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "web browser" in lines[0]
    assert "no display" in lines[0]
    assert url in lines[0]
    assert (tmp_path / "opened.txt").read_text(encoding="utf-8") == url


def test_the_window_self_test_refuses_to_fall_back_to_a_browser(tmp_path: Path, breather_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "breather", "open", "--url", "http://127.0.0.1:1/", "--self-test"],
        env=_env_without_display(tmp_path, breather_home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot run the window self-test: no display" in result.stderr
    assert not (tmp_path / "opened.txt").exists()


def test_webengine_sandbox_is_switched_off_only_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    env: dict[str, str] = {SANDBOX_ENV: "--disable-gpu"}
    allow_root_sandboxless(env)
    allow_root_sandboxless(env)
    assert env[SANDBOX_ENV] == "--disable-gpu --no-sandbox"

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    user_env: dict[str, str] = {}
    allow_root_sandboxless(user_env)
    assert SANDBOX_ENV not in user_env


def test_status_names_every_rules_problem_with_its_place(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths.resolve().ensure()
    paths.rules_file.write_text('[profiles.me]\ndefault = true\ndaily_limit = "lots"\nbreak_after = 5\n', "utf-8")
    assert main(["status"]) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Breather is not running (start it with `breather run`)."
    assert f"Rules: {paths.rules_file} has 2 problem(s):" in out
    problems = [line.strip() for line in out if line.strip().startswith("rules.toml:")]
    assert len(problems) == 2
    assert problems[0].startswith("rules.toml:3:")
    assert "profiles.me.daily_limit" in problems[0]
    assert "lots" in problems[0]


def test_status_shows_todays_minutes_per_site_for_each_profile(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from breather.rules.loader import ensure_rules_file
    from breather.store.model import Heartbeat
    from breather.store.writer import Writer

    paths = Paths.resolve().ensure()
    ensure_rules_file(paths.rules_file)
    now = datetime.now(UTC)
    writer = Writer(paths.database).start()
    # Within today whatever the zone: the last minutes before now (or just after midnight, a few seconds).
    start = max(now - timedelta(minutes=12), now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0))
    minutes = (now - start).total_seconds() / 60
    writer.heartbeat(Heartbeat("me", "www.reddit.com", start, duration_s=(now - start).total_seconds()))
    writer.close()

    assert main(["status"]) == 3
    out = capsys.readouterr().out
    assert f"  me: {round(minutes)} min (reddit {round(minutes)} min)" in out  # site groups, as the dashboard
    assert f"Rules: {paths.rules_file} is valid (1 profile)" in out


def test_open_without_a_display_or_a_browser_prints_the_url(tmp_path: Path, breather_home: Path) -> None:
    env = _env_without_display(tmp_path, breather_home)
    env["BROWSER"] = str(tmp_path / "no-such-browser") + " %s"
    result = subprocess.run(
        [sys.executable, "-m", "breather", "open", "--url", "http://127.0.0.1:8765/"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "breather open: no desktop window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), "
        "and no web browser could be started; open http://127.0.0.1:8765/ yourself"
    )


def test_status_says_whose_quiet_hours_are_in_force(breather_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = Paths.resolve().ensure()
    paths.rules_file.write_text(
        '[household]\ntimezone = "Europe/London"\n\n'
        '[profiles.me]\ndefault = true\n\n[profiles.me.quiet_hours]\ndaily = "23:00-07:00"\n\n'
        '[profiles.teen]\nuser = "teen"\n\n[profiles.teen.quiet_hours]\ndaily = "21:30-07:15"\n',
        encoding="utf-8",
    )
    assert main(["status", "--at", "2026-11-25T22:00+00:00"]) == 3
    out = capsys.readouterr().out.splitlines()
    assert "  me: nothing yet" in out
    assert "  teen: nothing yet; quiet hours until 07:15" in out
    assert not paths.database.exists()


def test_hints_to_start_the_service_keep_the_home_given_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "demo home"
    quoted = f"'{home}'"
    assert main(["status", "--home", str(home)]) == 3
    assert capsys.readouterr().out.splitlines()[0] == (
        f"Breather is not running (start it with `breather run --home {quoted}`)."
    )
    assert main(["open", "--home", str(home)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"breather open: Breather is not running: start it with `breather run --home {quoted}` "
        f"(or `breather serve --home {quoted}`)"
    )


def test_run_passes_its_port_flags_to_the_service_it_starts() -> None:
    from breather.cli import build_parser
    from breather.commands.run import serve_command, service_flags

    args = build_parser().parse_args(["run", "--proxy-port", "0", "--web-port", "0", "--home", "/tmp/demo"])
    assert args.proxy_port == 0 and args.web_port == 0
    command = serve_command(args.home, service_flags(args))
    assert command[1:] == ["-m", "breather", "serve", "--home", "/tmp/demo", "--proxy-port", "0", "--web-port", "0"]
    plain = build_parser().parse_args(["run"])
    assert serve_command(plain.home, service_flags(plain))[1:] == ["-m", "breather", "serve"]


def test_a_port_in_use_says_how_to_pick_others(tmp_path: Path) -> None:
    from breather.commands.run import _early_exit

    paths = Paths.resolve(tmp_path / "h").ensure()
    paths.log_file.write_text(
        "old run: fine\n"
        "breather serve: cannot listen on 127.0.0.1:8765 for the dashboard: [Errno 98] Address already in use\n",
        encoding="utf-8",
    )
    message = str(_early_exit(paths, 1))
    assert "cannot listen on 127.0.0.1:8765 for the dashboard: [Errno 98] Address already in use" in message
    assert "--proxy-port" in message and "--web-port" in message
    assert str(paths.log_file) in message


def test_status_lists_what_the_service_holds_for_the_cooling_off() -> None:
    from breather.commands.status import render

    held = "profiles.me.daily_limit loosens; it takes effect at 2026-11-28T09:00+00:00"
    report = {
        "running": True,
        "service": {
            "pid": 7,
            "web_port": 8765,
            "proxy_port": 8080,
            "dashboard": "http://127.0.0.1:8765/",
            "health": {"rules": {"last_error": None, "held": [held]}},
        },
        "today": {"day": "2026-11-27", "profiles": {"me": {}}, "quiet_hours_until": {}},
        "rules": {"file": "rules.toml", "ok": True, "profiles": ["me"], "errors": []},
    }
    lines = render(report).splitlines()
    at = lines.index("  held for the cooling-off:")
    assert lines[at + 1] == f"    {held}"


def test_status_on_a_broken_file_still_shows_todays_members_from_the_last_good_rules(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from breather.rules.watcher import RulesWatcher

    paths = Paths.resolve().ensure()
    paths.rules_file.write_text('[profiles.sam]\ndefault = true\n\n[profiles.kim]\nuser = "kim"\n', "utf-8")
    RulesWatcher(paths.rules_file, last_good=paths.last_good_rules)  # what the service keeps
    paths.rules_file.write_text('[profiles.sam]\ndefault = true\ndaily_limit = "lots"\n', "utf-8")
    main(["status"])
    out = capsys.readouterr().out.splitlines()
    assert "  sam: nothing yet" in out and "  kim: nothing yet" in out
    assert "  no profiles yet" not in out
    assert any("has 1 problem(s)" in line for line in out)


def test_the_service_log_is_readable_by_its_owner_only(breather_home: Path) -> None:
    """The log names members and sites; a privacy test read it from another account (it was created 0644)."""
    from breather.commands.run import start_service

    paths = Paths.resolve().ensure()
    paths.log_file.write_text("an earlier version's log\n", encoding="utf-8")
    paths.log_file.chmod(0o644)
    process = start_service(paths, None, ["--proxy-port", "0", "--web-port", "0"])
    process.terminate()
    process.wait(timeout=30)
    assert paths.log_file.stat().st_mode & 0o777 == 0o600
    assert paths.log_file.read_text(encoding="utf-8").startswith("an earlier version's log\n")


def test_a_long_log_is_set_aside_when_the_service_starts(breather_home: Path) -> None:
    """A soak test: the log was never rotated (it grows only at starts and stops, but without end)."""
    from breather.commands.run import LOG_KEEP_BYTES, start_service

    paths = Paths.resolve().ensure()
    paths.log_file.write_bytes(b"x" * (LOG_KEEP_BYTES + 1))
    process = start_service(paths, None, ["--proxy-port", "0", "--web-port", "0"])
    process.terminate()
    process.wait(timeout=30)
    kept = paths.log_file.with_name(paths.log_file.name + ".1")
    assert kept.stat().st_size == LOG_KEEP_BYTES + 1
    assert paths.log_file.stat().st_size < LOG_KEEP_BYTES


def test_on_windows_asking_whether_the_service_runs_never_signals_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.kill(pid, 0) terminates the process on Windows (any signal but Ctrl-C/Ctrl-Break does): `breather status`
    or `run` asking "is it running?" would have stopped the service."""
    from breather import probe

    def no_signals(pid: int, sig: int) -> None:
        raise AssertionError(f"signal {sig} sent to {pid}")

    asked: list[int] = []
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "kill", no_signals)
    monkeypatch.setattr(probe, "_windows_process_running", lambda pid: asked.append(pid) or True)
    assert probe.pid_alive(4242) is True
    assert asked == [4242]


# -- one service per home, even while it starts ------------------------------------------------------------------------


def _serve_processes(home: Path) -> list[int]:
    """The live `breather serve` processes for ``home``, found by the ``BREATHER_HOME`` in their environment (only
    the ones these tests started: the home is the test's own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"serve" in argv and f"BREATHER_HOME={home}".encode() in environ and state != "Z":
            found.append(int(entry.name))
    return sorted(found)


@pytest.fixture
def free_ports_home(breather_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Services on free ports (``0``, as the demo suggests); any `breather serve` left for this home is killed."""
    if not Path("/proc/self/environ").exists():
        pytest.skip("finds the services through /proc (Linux)")
    monkeypatch.setenv("BREATHER_PROXY_PORT", "0")
    monkeypatch.setenv("BREATHER_WEB_PORT", "0")
    yield breather_home
    for pid in _serve_processes(breather_home):
        os.kill(pid, signal.SIGKILL)


def test_a_launcher_click_while_the_login_service_starts_finds_it_and_stop_stops_it(
    free_ports_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review: the login entry (systemd/launchd run `breather serve` itself) was still starting when the person
    clicked the launcher; `run` saw no service file and started a second service. With free ports both ran,
    `breather stop` stopped one and said so, `status` then said "not running", and the other kept proxying."""
    paths = Paths.resolve()
    login = subprocess.Popen(
        [sys.executable, "-m", "breather", "serve"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(lambda: paths.state_dir.is_dir(), 30, "the login service to begin starting")
    assert not paths.service_file.exists()
    clicked = subprocess.run(
        [sys.executable, "-m", "breather", "run", "--no-window"], capture_output=True, text=True, timeout=120
    )
    assert clicked.returncode == 0, clicked.stderr
    assert clicked.stdout.startswith(f"Already running: Breather (pid {login.pid}, "), clicked.stdout
    assert _serve_processes(free_ports_home) == [login.pid]

    capsys.readouterr()
    assert main(["stop"]) == 0
    assert capsys.readouterr().out.startswith(f"Stopped Breather (pid {login.pid}).")
    assert login.wait(timeout=10) == 0
    assert _serve_processes(free_ports_home) == []  # nothing left proxying while `status` says "not running"


def test_while_a_service_starts_a_second_serve_refuses_and_run_waits_for_the_first(free_ports_home: Path) -> None:
    paths = Paths.resolve()
    starting = hold_service_lock(paths)  # what a `breather serve` holds from its first moment, before it listens
    assert starting is not None
    with starting:
        second = subprocess.Popen(
            [sys.executable, "-m", "breather", "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _out, err = second.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            pytest.fail("a second `breather serve` ran beside the one starting for the same home")
        assert second.returncode == 3  # not a failure for the login unit to restart (RestartPreventExitStatus)
        assert err.strip() == (
            "breather serve: Breather is already running or starting for this home (another `breather serve` holds "
            f"{paths.service_lock}); `breather status` shows it and `breather stop` stops it"
        )

        clicked = subprocess.run(
            [sys.executable, "-m", "breather", "run", "--no-window", "--wait", "2"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert clicked.returncode == 1
        assert "Breather is starting for this home but did not answer within 2 s" in clicked.stderr
        assert _serve_processes(free_ports_home) == []


def test_run_that_loses_the_race_to_the_login_service_waits_for_it(
    free_ports_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login entry takes the lock between `run`'s look and the start of its own service: that service refuses,
    and `run` waits for the login one (here: this test, answering once the refusal is in the log) instead of
    reporting the refusal as a failed start."""
    from breather.commands import run
    from breather.probe import service_lock_held
    from tests.breather.test_version import _OldService

    looks: list[bool] = []

    def first_look_sees_nothing(paths: Paths) -> bool:
        looks.append(service_lock_held(paths))
        return len(looks) > 1 and looks[-1]

    def refused() -> bool:
        return paths.log_file.exists() and "another `breather serve` holds" in paths.log_file.read_text("utf-8")

    answering: list[_OldService] = []

    def login_comes_up() -> None:
        wait_for(refused, 60, "the service `run` started to refuse")
        answering.append(_OldService(paths, {"status": "ok", "pid": os.getpid()}))

    monkeypatch.setattr(run, "service_lock_held", first_look_sees_nothing)
    paths = Paths.resolve()
    login = hold_service_lock(paths)
    assert login is not None
    coming_up = threading.Thread(target=login_comes_up, daemon=True)
    try:
        with login:
            coming_up.start()
            found, started = run.ensure_service(paths, None, 60)
    finally:
        coming_up.join(timeout=70)
        for service in answering:
            service.close()
    assert (found.info.pid, started) == (os.getpid(), False)
    assert _serve_processes(free_ports_home) == []
