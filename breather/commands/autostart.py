"""`breather autostart enable/disable/status`: start Breather when you log in (``breather.autostart``)."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys

from breather import autostart
from breather.commands import command_hint, common_options
from breather.commands.serve import SETTING_FLAGS, add_setting_arguments
from breather.errors import CommandError
from breather.paths import HOME_ENV, Paths

HELP = "start Breather when you log in (enable, disable, status)"

SYSTEMCTL_TIMEOUT_S = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    enable = actions.add_parser(
        "enable",
        parents=[common_options(nested=True)],
        help="start the service at every login, with these settings",
        description="Start the service at every login. The home and the flags given here are the ones it will use.",
    )
    add_setting_arguments(enable)
    _add_method(enable)
    # disable and status read every kind of entry, whichever way it was made
    for name, text in (("disable", "no longer start at login"), ("status", "say whether it starts at login, and how")):
        actions.add_parser(name, parents=[common_options(nested=True)], help=text, description=text)


def _add_method(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method",
        choices=autostart.METHODS,
        default=None,
        help="how (default: this system's own: a systemd user unit where systemd runs the session, else an XDG "
        "autostart entry on Linux, launchd on macOS, the Startup folder on Windows)",
    )


def run(args: argparse.Namespace, paths: Paths) -> int:
    if args.action == "enable":
        return _enable(args, paths, args.method or default_method())
    if args.action == "disable":
        return _disable()
    return _status(args)


def default_method() -> str:
    if sys.platform == "darwin":
        return "launchd"
    if sys.platform == "win32":
        return "windows"
    return "systemd" if systemd_user_session() else "xdg"


def systemd_user_session() -> bool:
    """True when a systemd user manager answers for this login (``systemctl --user`` works)."""
    if shutil.which("systemctl") is None:
        return False
    return _systemctl("show-environment") is None


def _systemctl(*words: str) -> str | None:
    """Run ``systemctl --user WORDS``: None when it worked, else what it said."""
    try:
        done = subprocess.run(
            ["systemctl", "--user", *words], capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    return (done.stderr or done.stdout).strip() or f"exit code {done.returncode}"


def _home(args: argparse.Namespace) -> str | None:
    """The home the entry must name: a login has no BREATHER_HOME, so a chosen home is written out in full."""
    chosen = getattr(args, "home", None) or os.environ.get(HOME_ENV) or None
    return os.path.abspath(os.path.expanduser(chosen)) if chosen else None


def _entry(args: argparse.Namespace, paths: Paths, method: str) -> autostart.Entry:
    flags = _login_flags(args) if args.action == "enable" else []
    return autostart.entry_for(method, home=_home(args), flags=flags, log_file=paths.log_file)


def _login_flags(args: argparse.Namespace) -> list[str]:
    """The listen host and ports given here, else this shell's ``BREATHER_LISTEN_HOST`` / ``_PROXY_PORT`` /
    ``_WEB_PORT``, written out as flags: a login has none of these variables (an audit found the home kept and the
    ports lost, so the browser, the PAC file and the extension pointed at ports nothing listened on)."""
    from breather import settings

    flags = []
    for flag, name, *_ in SETTING_FLAGS:
        value = getattr(args, name, None)
        raw = os.environ.get(settings.setting(name).env_var)
        if value is None and raw:
            try:
                value = settings.setting(name).parse(raw)
            except ValueError as exc:
                raise CommandError(f"{settings.setting(name).env_var}: {exc}; nothing was set up") from None
        if value is not None:
            flags += [flag, str(value)]
    return flags


def _enable(args: argparse.Namespace, paths: Paths, method: str) -> int:
    entry = _entry(args, paths, method)
    replaced = entry.path.exists()
    paths.ensure()  # the log file's folder, which launchd writes to before Breather runs
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    entry.path.write_text(entry.text, encoding="utf-8", newline="")
    if method == "systemd":
        for words in (("daemon-reload",), ("enable", autostart.UNIT_NAME)):
            problem = _systemctl(*words)
            if problem is not None:
                entry.path.unlink()  # half made is worse than not made: it would look set up in `status`
                raise CommandError(
                    f"`systemctl --user {' '.join(words)}` failed: {problem}; nothing was set up. Without a "
                    f"systemd user session, {command_hint('autostart', 'enable', '--method', 'xdg')} starts "
                    "Breather from your desktop instead"
                )
    print(f"{'Updated' if replaced else 'Made'} {entry.path}.")
    print(f"Breather will start when you log in: {shlex.join(entry.argv)}")
    print(_started_how(method))
    print(f"To stop that: {command_hint('autostart', 'disable', home=_home(args))}")
    return 0


def _started_how(method: str) -> str:
    return {
        "systemd": "systemd restarts it if it stops by accident; its log: journalctl --user -u breather",
        "xdg": "Your desktop starts it at login (GNOME, KDE, Xfce and others read that folder).",
        "launchd": "launchd restarts it if it stops by accident.",
        "windows": "Windows starts it from your Startup folder at sign-in.",
    }[method]


def _disable() -> int:
    removed = autostart.installed()
    tell_systemd = any(path.name == autostart.UNIT_NAME for path in removed) and systemd_user_session()
    if tell_systemd:
        _systemctl("disable", autostart.UNIT_NAME)  # its file goes next either way
    for path in removed:
        path.unlink()
    if tell_systemd:
        _systemctl("daemon-reload")
    if not removed:
        print("Breather was not set to start at login.")
        return 0
    for path in removed:
        print(f"Removed {path}.")
    print("Breather will no longer start when you log in. A service running now keeps running until you stop it.")
    return 0


def _status(args: argparse.Namespace) -> int:
    found = autostart.installed()
    for path in found:
        print(f"Starts at login: {path}")
        text = path.read_text(encoding="utf-8", errors="replace")
        runs = autostart.made_to_run(text)
        if runs is None:
            print("  (not a file `breather autostart enable` made: it runs what it says)")
            continue
        print(f"  runs: {shlex.join(runs)}")
        again = command_hint("autostart", "enable", *_login_flags(args), home=_home(args))
        if not os.path.exists(runs[0]):
            print(f"  but {runs[0]} is gone, so nothing starts: run {again} again")
        elif autostart.written_by_older_version(path, text):
            print(
                "  not what this Breather writes (an older version made it, or it was edited): "
                f"run {again} again to bring it up to date"
            )
    if not found:
        making = command_hint("autostart", "enable", *_login_flags(args), home=_home(args))
        print(f"Breather does not start at login. To make it: {making}")
    return 0
