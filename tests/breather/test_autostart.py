"""`breather autostart`: the login entries' files, and the command that makes, reports and removes them.

What each entry does when the system reads it at login is in tests/e2e/test_autostart.py (a desktop launcher and
launchd's argument list run for real, systemd's own checker on the unit).
"""

from __future__ import annotations

import plistlib
import shlex
import sys
from pathlib import Path

import pytest

from breather import autostart
from breather.cli import main
from breather.paths import Paths

# A home a person might really have, with the characters each format treats specially.
AWKWARD_HOME = '/home/sam/My Files/100% "calm" $HOME `x` it\'s\\here'


def _entry(method: str, tmp_path: Path, **kwargs: object) -> autostart.Entry:
    env = {"HOME": str(tmp_path / "user"), "XDG_CONFIG_HOME": str(tmp_path / "config"), "APPDATA": str(tmp_path)}
    return autostart.entry_for(
        method, home=AWKWARD_HOME, flags=["--proxy-port", "18080"], log_file=tmp_path / "b.log", env=env, **kwargs
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("method", autostart.METHODS)
def test_every_entry_says_what_it_runs_word_for_word(method: str, tmp_path: Path) -> None:
    entry = _entry(method, tmp_path)
    assert autostart.made_to_run(entry.text) == list(entry.argv)
    assert entry.argv[entry.argv.index("--home") + 1] == AWKWARD_HOME
    assert entry.argv[-2:] == ("--proxy-port", "18080")


def test_supervised_entries_run_the_service_and_the_others_start_it_detached(tmp_path: Path) -> None:
    action = {method: _entry(method, tmp_path).argv[3:5] for method in autostart.METHODS}
    assert action["systemd"][0] == action["launchd"][0] == "serve"  # systemd and launchd restart it after a crash
    assert action["xdg"] == action["windows"] == ("run", "--no-window")


def test_the_systemd_unit_does_not_restart_a_second_service_refused_for_the_home(tmp_path: Path) -> None:
    """A `breather serve` refused because the home's service already runs (a `breather run` won the start) exits
    with its own code: restarted "on failure", it would be started again every few seconds."""
    from breather.errors import EXIT_ALREADY_RUNNING

    unit = _entry("systemd", tmp_path).text.splitlines()
    assert "Restart=on-failure" in unit and f"RestartPreventExitStatus={EXIT_ALREADY_RUNNING}" in unit


def test_each_entry_goes_where_its_system_reads_it(tmp_path: Path) -> None:
    paths = {method: _entry(method, tmp_path).path for method in autostart.METHODS}
    assert paths["systemd"] == tmp_path / "config/systemd/user/breather.service"
    assert paths["xdg"] == tmp_path / "config/autostart/breather.desktop"
    assert paths["launchd"] == tmp_path / "user/Library/LaunchAgents/local.breather.plist"
    assert paths["windows"] == tmp_path / "Microsoft/Windows/Start Menu/Programs/Startup/breather.cmd"


def test_the_launchd_agent_restarts_after_a_crash_only_and_logs_to_breathers_file(tmp_path: Path) -> None:
    agent = plistlib.loads(_entry("launchd", tmp_path).text.encode("utf-8"))
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["StandardErrorPath"] == agent["StandardOutPath"] == str(tmp_path / "b.log")


def test_the_windows_command_quotes_every_word_and_doubles_percent_signs(tmp_path: Path) -> None:
    text = _entry("windows", tmp_path, python="C:\\Python312\\pythonw.exe").text
    start = next(line for line in text.split("\r\n") if line.startswith("start "))
    assert start.startswith('start "" "C:\\Python312\\pythonw.exe" "-m" "breather" "run" "--no-window" "--home"')
    assert "100%% " in start
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")


def test_enable_status_and_disable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["autostart", "status"]) == 0
    assert "does not start at login" in capsys.readouterr().out
    main(["status"])
    assert "Does not start at login (`breather autostart enable` makes it)." in capsys.readouterr().out

    assert main(["autostart", "enable", "--method", "xdg", "--web-port", "18765"]) == 0
    said = capsys.readouterr().out
    desktop = tmp_path / "xdg-config" / "autostart" / "breather.desktop"
    assert f"Made {desktop}." in said
    home = str(Paths.resolve().config_dir.parent)  # BREATHER_HOME, written out: a login does not have it set
    command = shlex.join(
        [sys.executable, "-m", "breather", "run", "--no-window", "--home", home, "--web-port", "18765"]
    )
    assert f"Breather will start when you log in: {command}" in said

    assert main(["autostart", "status"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"Starts at login: {desktop}", f"  runs: {command}"]
    main(["status"])
    assert f"Starts at login: {desktop}" in capsys.readouterr().out.splitlines()

    assert main(["autostart", "disable"]) == 0
    assert f"Removed {desktop}." in capsys.readouterr().out
    assert not desktop.exists()
    assert main(["autostart", "disable"]) == 0
    assert "was not set to start at login" in capsys.readouterr().out


def test_the_ports_and_listen_host_of_this_shell_go_into_the_entry_as_the_home_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login has no BREATHER_* variables: an audit's entry kept the home and lost the ports, so the service came
    up on 8080/8765 while the browser, the PAC file and the extension pointed at the person's own ports."""
    monkeypatch.setenv("BREATHER_PROXY_PORT", "18180")
    monkeypatch.setenv("BREATHER_WEB_PORT", "18865")
    assert main(["autostart", "status"]) == 0
    assert "enable --proxy-port 18180 --web-port 18865" in capsys.readouterr().out
    assert main(["autostart", "enable", "--method", "xdg", "--web-port", "19000"]) == 0  # a flag wins
    runs = autostart.made_to_run((tmp_path / "xdg-config" / "autostart" / "breather.desktop").read_text())
    assert runs is not None and runs[-4:] == ["--proxy-port", "18180", "--web-port", "19000"]
    monkeypatch.setenv("BREATHER_PROXY_PORT", "eighty")
    assert main(["autostart", "enable", "--method", "xdg"]) == 1
    assert "BREATHER_PROXY_PORT" in capsys.readouterr().err


def test_status_says_when_the_python_it_names_is_gone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gone = str(tmp_path / "old-venv" / "bin" / "python")
    entry = autostart.entry_for("xdg", home=None, log_file=tmp_path / "b.log", python=gone)
    entry.path.parent.mkdir(parents=True)
    entry.path.write_text(entry.text, encoding="utf-8")
    assert main(["autostart", "status"]) == 0
    assert f"but {gone} is gone, so nothing starts: run breather autostart enable" in capsys.readouterr().out


def test_without_a_systemd_user_session_nothing_is_half_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No user bus here: systemctl --user fails the way it does on a machine without a systemd session.
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-runtime"))
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    assert main(["autostart", "enable", "--method", "systemd"]) == 1
    said = capsys.readouterr().err
    assert "`systemctl --user daemon-reload` failed" in said
    assert "nothing was set up" in said and "breather autostart enable --method xdg" in said
    assert not (tmp_path / "xdg-config" / "systemd" / "user" / "breather.service").exists()


def test_the_default_is_this_systems_own_way(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from breather.commands import autostart as command

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-runtime"))
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    assert command.default_method() == "xdg"  # Linux without a systemd user session
    monkeypatch.setattr(sys, "platform", "darwin")
    assert command.default_method() == "launchd"
    monkeypatch.setattr(sys, "platform", "win32")
    assert command.default_method() == "windows"


# The unit `breather autostart enable` wrote in 0.2.0-0.2.2: no RestartPreventExitStatus, so a login start that found
# another service for the home (exit 3) was started again every 5 seconds, for good.
UNIT_OF_0_2_0 = """\
# Made by `breather autostart enable` to run: {command}
# `breather autostart disable` removes this file.
[Unit]
Description=Breather, a local well-being proxy for social media

[Service]
Type=simple
ExecStart={exec_words}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=default.target
"""


def test_status_says_when_an_older_breather_wrote_the_login_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [sys.executable, "-m", "breather", "serve"]
    unit = autostart.entry_path("systemd")
    unit.parent.mkdir(parents=True)
    unit.write_text(
        UNIT_OF_0_2_0.format(
            command=shlex.join(argv), exec_words=" ".join(autostart.systemd_word(word) for word in argv)
        ),
        encoding="utf-8",
    )
    assert main(["autostart", "status"]) == 0
    said = capsys.readouterr().out
    assert (
        "not what this Breather writes (an older version made it, or it was edited): run breather autostart enable"
        in (said)
    )
    main(["status"])
    assert "(not what this Breather writes: `breather autostart status` says more)" in capsys.readouterr().out

    current = autostart.entry_for("systemd", home=None, log_file=tmp_path / "b.log")
    unit.write_text(current.text, encoding="utf-8")
    assert main(["autostart", "status"]) == 0
    assert "not what this Breather writes" not in capsys.readouterr().out
    unit.write_text(current.text.replace("RestartSec=5", "RestartSec=30"), encoding="utf-8")  # edited by hand
    assert main(["autostart", "status"]) == 0
    assert "not what this Breather writes" in capsys.readouterr().out
