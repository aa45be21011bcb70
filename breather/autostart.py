"""Starting Breather when the person logs in: one entry in the place their system reads at login.

A boundary that only holds on the days someone remembers to start Breather is not much of one, and a browser whose
extension routes the social sites to a proxy that is not running shows an error instead of the feed. So the service
can be started at login, the way each system expects a user program to be:

- Linux with a systemd user session: a user unit (``~/.config/systemd/user/breather.service``) running
  ``breather serve``; systemd restarts it if it crashes and keeps its log in the journal.
- Any other Linux desktop: an XDG autostart entry (``~/.config/autostart/breather.desktop``, read by GNOME, KDE,
  Xfce, ...) running ``breather run --no-window``, which starts the service detached with its log in the usual file.
- macOS: a launchd agent (``~/Library/LaunchAgents/local.breather.plist``) running ``breather serve``, restarted
  after a crash, its output in the usual log file.
- Windows: a command file in the Startup folder running ``breather run --no-window`` with ``pythonw``.

Each entry runs this interpreter (``python -m breather``, so no console script has to be on PATH) with the home and
setting flags given when it was made. Only the file is written here; ``breather.commands.autostart`` also tells
systemd about it.
"""

from __future__ import annotations

import os
import plistlib
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breather.errors import EXIT_ALREADY_RUNNING
from breather.paths import Paths

UNIT_NAME = "breather.service"
LAUNCHD_LABEL = "local.breather"
METHODS = ("systemd", "xdg", "launchd", "windows")
RESTART_DELAY_S = 5


@dataclass(frozen=True)
class Entry:
    """One way of starting at login: where its file goes and what the file says."""

    method: str
    path: Path
    text: str
    argv: tuple[str, ...]


def breather_argv(
    action: Sequence[str], home: str | None, flags: Sequence[str], python: str | None = None
) -> list[str]:
    """``python -m breather ACTION [--home DIR] FLAGS`` for this interpreter."""
    home_args = ["--home", home] if home else []
    return [python or sys.executable, "-m", "breather", *action, *home_args, *flags]


def entry_for(
    method: str,
    *,
    home: str | None,
    flags: Sequence[str] = (),
    log_file: Path,
    env: Mapping[str, str] | None = None,
    python: str | None = None,
) -> Entry:
    """The login entry of ``method`` for a service on ``home`` (None: the platform's own folders) with ``flags``."""
    path = entry_path(method, env)
    if method in ("systemd", "launchd"):  # supervised: the service itself, restarted after a crash
        argv = breather_argv(["serve"], home, flags, python)
    elif method == "xdg":
        argv = breather_argv(["run", "--no-window"], home, flags, python)
    else:
        argv = breather_argv(["run", "--no-window"], home, flags, python or windowless_python())
    return Entry(method, path, entry_text(method, argv, log_file), tuple(argv))


def entry_text(method: str, argv: Sequence[str], log_file: Path) -> str:
    """What an entry of ``method`` running ``argv`` says, as this version of Breather writes it."""
    if method == "systemd":
        return systemd_unit(argv)
    if method == "xdg":
        return xdg_desktop_entry(argv)
    if method == "launchd":
        return launchd_plist(argv, log_file)
    return windows_startup_command(argv)


def written_by_older_version(path: Path, text: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether an entry ``breather autostart enable`` made is not what this version would write for the same command:
    an older Breather's (a systemd unit of 0.2.0-0.2.2 restarted a service refused for its home every 5 s, with no
    ``RestartPreventExitStatus``), or one edited since. A file Breather did not make is the person's own: never."""
    argv = made_to_run(text)
    method = next((name for name in METHODS if entry_path(name, env) == path), None)
    if argv is None or method is None:
        return False
    log_file = Path(plistlib.loads(text.encode("utf-8")).get("StandardOutPath", "")) if method == "launchd" else Path()
    return text != entry_text(method, argv, log_file)


def outdated_entries(env: Mapping[str, str] | None = None) -> list[Path]:
    """The login entries that are not what this Breather writes (:func:`written_by_older_version`)."""
    return [
        path
        for path in installed(env)
        if written_by_older_version(path, path.read_text("utf-8", errors="replace"), env)
    ]


def entry_path(method: str, env: Mapping[str, str] | None = None) -> Path:
    """Where the login entry of ``method`` lives for this user."""
    env = os.environ if env is None else env
    if method == "systemd":
        return _config_home(env) / "systemd" / "user" / UNIT_NAME
    if method == "xdg":
        return _config_home(env) / "autostart" / "breather.desktop"
    if method == "launchd":
        return _user_home(env) / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    if method == "windows":
        appdata = env.get("APPDATA") or str(_user_home(env) / "AppData" / "Roaming")
        return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / "breather.cmd"
    raise ValueError(f"unknown way of starting at login: {method!r} (choose one of {', '.join(METHODS)})")


# Every entry says what it was made to run in a comment (a plist in its ProgramArguments), so `status` can tell the
# person, and see whether that Python is still there, without reading four quoting schemes back.
_MADE_TO_RUN = re.compile(r"^(?:#|rem) Made by `breather autostart enable` to run: (.*?)\r?$", re.MULTILINE)


def _made_to_run_line(comment: str, argv: Sequence[str]) -> str:
    return f"{comment} Made by `breather autostart enable` to run: {shlex.join(argv)}"


def made_to_run(text: str) -> list[str] | None:
    """The command an entry made here runs (None for a file this module did not write)."""
    if text.lstrip().startswith("<?xml"):
        try:
            arguments = plistlib.loads(text.encode("utf-8")).get("ProgramArguments")
        except (plistlib.InvalidFileException, ValueError, AttributeError):
            return None
        return [str(word) for word in arguments] if isinstance(arguments, list) else None
    found = _MADE_TO_RUN.search(text)
    if found is None:
        return None
    try:
        return shlex.split(found.group(1))
    except ValueError:
        return None


def installed(env: Mapping[str, str] | None = None) -> list[Path]:
    """The login entries this user has, of every kind."""
    return [path for path in (entry_path(method, env) for method in METHODS) if path.exists()]


def chosen_home(paths: Paths) -> str | None:
    """The folder given as ``--home``/``BREATHER_HOME`` for these paths, None for the platform's own folders."""
    root = paths.config_dir.parent
    laid_out = (paths.config_dir, paths.data_dir, paths.state_dir) == (root / "config", root / "data", root / "state")
    return str(root) if laid_out else None


# The service settings a suggested login entry repeats when the running service does not use their defaults: without
# them a proxy shared with the household's other devices would come back after a restart on loopback only (a user
# test), or on another port than the browsers were set to.
SERVICE_FLAGS = {"listen_host": "--listen-host", "proxy_port": "--proxy-port", "web_port": "--web-port"}


def enable_command(paths: Paths, service_settings: Mapping[str, Any] | None = None) -> str:
    """``breather autostart enable`` as the person types it for the home in use and the running service's settings
    (a port chosen at random, 0, is left to be chosen again)."""
    from breather.settings import setting

    home = chosen_home(paths)
    words = ["breather", "autostart", "enable", *(["--home", home] if home else [])]
    for name, flag in SERVICE_FLAGS.items():
        value = (service_settings or {}).get(name)
        if value is not None and value not in (setting(name).default, 0):
            words += [flag, str(value)]
    return shlex.join(words)


def _config_home(env: Mapping[str, str]) -> Path:
    given = env.get("XDG_CONFIG_HOME", "")
    return Path(given) if os.path.isabs(given) else _user_home(env) / ".config"


def _user_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def windowless_python() -> str:
    """``pythonw.exe`` beside this interpreter on Windows (no console window at login), else this interpreter."""
    beside = Path(sys.executable).with_name("pythonw.exe")
    return str(beside) if beside.exists() else sys.executable


# systemd: each word in double quotes, with backslash escapes, and "%" doubled (a specifier otherwise); "$" doubled
# so no variable is substituted (systemd.service(5), "Command lines").
def systemd_word(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def systemd_unit(argv: Sequence[str]) -> str:
    return "\n".join(
        [
            _made_to_run_line("#", argv),
            "# `breather autostart disable` removes this file.",
            "[Unit]",
            "Description=Breather, a local well-being proxy for social media",
            "",
            "[Service]",
            "Type=simple",
            "ExecStart=" + " ".join(systemd_word(word) for word in argv),
            "Restart=on-failure",
            f"RestartSec={RESTART_DELAY_S}",
            f"RestartPreventExitStatus={EXIT_ALREADY_RUNNING}",  # another service for the home runs: nothing to do
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
    )


# Desktop entries: an argument with a reserved character goes in double quotes, inside which '"', '`', '$' and '\'
# take a backslash; '%' is a field code and is written '%%'. The file format then escapes '\' once more.
_DESKTOP_RESERVED = re.compile(r"""[\s"'\\><~|&;$*?#()`%]""")


def desktop_word(word: str) -> str:
    word = word.replace("%", "%%")
    if word and not _DESKTOP_RESERVED.search(word):
        return word
    quoted = re.sub(r'(["`$\\])', r"\\\1", word)
    return f'"{quoted}"'


def xdg_desktop_entry(argv: Sequence[str]) -> str:
    exec_line = " ".join(desktop_word(word) for word in argv).replace("\\", "\\\\")
    return "\n".join(
        [
            _made_to_run_line("#", argv),
            "# `breather autostart disable` removes this file.",
            "[Desktop Entry]",
            "Type=Application",
            "Name=Breather",
            "Comment=Start Breather, a local well-being proxy for social media, at login",
            f"Exec={exec_line}",
            "Terminal=false",
            "NoDisplay=true",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def launchd_plist(argv: Sequence[str], log_file: Path) -> str:
    agent = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # restarted after a crash, not after a clean stop
        "ThrottleInterval": RESTART_DELAY_S,
        "StandardOutPath": str(log_file),
        "StandardErrorPath": str(log_file),
    }
    return plistlib.dumps(agent).decode("utf-8")


def windows_startup_command(argv: Sequence[str]) -> str:
    # cmd.exe: each word in double quotes ('"' cannot appear in a Windows path); "%" doubled in a batch file.
    words = " ".join('"' + word.replace("%", "%%") + '"' for word in argv)
    lines = [
        "@echo off",
        _made_to_run_line("rem", argv),
        "rem `breather autostart disable` removes this file.",
        f'start "" {words}',
    ]
    return "\r\n".join(lines) + "\r\n"
