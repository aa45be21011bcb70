"""`breather run`: start the service if it is not running, wait until it answers, then open the window.

The service is started as a detached ``breather serve`` (its own session, its output in ``paths.log_file``), so
closing the window, or the terminal ``breather run`` was started from, never switches the boundaries off.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from breather.autostart import breather_argv
from breather.commands.open import show_dashboard
from breather.commands.other_code import other_code_note
from breather.commands.serve import SETTING_FLAGS, add_setting_arguments, setting_overrides
from breather.errors import CommandError
from breather.paths import Paths
from breather.probe import (
    RunningService,
    answered_by,
    fetch_health,
    find_running_service,
    pid_alive,
    read_service_file,
    running_code,
    service_lock_held,
)

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two simultaneous runs there may race
    fcntl = None  # type: ignore[assignment]

HELP = "start the service if it is not running and open the dashboard window"

NOT_AVAILABLE_EXIT = 2
POLL_INTERVAL_S = 0.2
LOG_KEEP_BYTES = 5 * 1024 * 1024
PORT_IN_USE = "already in use"  # both the dashboard's and mitmproxy's words for EADDRINUSE, lower-cased
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ [\w.]+: ")  # "2026-11-27 04:29:57,878 ERROR x.y: "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-window",
        action="store_true",
        help="only make sure the service is running; do not open the dashboard",
    )
    parser.add_argument(
        "--browser",
        action="store_true",
        help="open the dashboard in the web browser instead of a desktop window",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for a starting service to answer (default 60)",
    )
    add_setting_arguments(parser)  # passed on to the `breather serve` this starts: --proxy-port 0 --web-port 0 ...


def service_flags(args: argparse.Namespace) -> list[str]:
    """The ``serve`` flags given to ``run``, to pass on to the ``breather serve`` it starts."""
    given = setting_overrides(args)
    return [part for flag, name, *_ in SETTING_FLAGS if given[name] is not None for part in (flag, str(given[name]))]


def serve_command(home: str | None, flags: Sequence[str] = ()) -> list[str]:
    """``breather serve`` for the same home, run by this interpreter (works without the console script on PATH).

    Without ``--home`` the child inherits ``BREATHER_HOME`` (or its absence) from this process's environment, and
    the ``BREATHER_<NAME>`` settings too; ``flags`` (from ``service_flags``) win over those.
    """
    return breather_argv(["serve"], home, flags)


def start_service(paths: Paths, home: str | None, flags: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    paths.ensure()
    _set_aside_a_long_log(paths.log_file)
    with open(paths.log_file, "ab", opener=_private) as log:
        os.fchmod(log.fileno(), 0o600)  # a log an earlier version made readable to every account on the machine
        return subprocess.Popen(
            serve_command(home, flags),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def _set_aside_a_long_log(log_file: Path) -> None:
    """A log past LOG_KEEP_BYTES becomes ``breather.log.1`` (the one before it goes) as the service starts, so weeks of
    starts and stops never fill the disk; what the last run said stays readable."""
    try:
        if log_file.stat().st_size > LOG_KEEP_BYTES:
            log_file.replace(log_file.with_name(log_file.name + ".1"))
    except FileNotFoundError:
        pass


def _private(path: str, flags: int) -> int:
    """Open ``path`` readable by its owner only: the service log names members and sites."""
    return os.open(path, flags, 0o600)


def wait_until_ready(
    paths: Paths, process: subprocess.Popen[bytes], wait_s: float, log_start: int = 0
) -> RunningService:
    """Poll the service file and ``/healthz`` until the new service says ``ok``; explain any early exit from what
    it logged after ``log_start`` (the log file's size when it was started)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise _early_exit(paths, code, log_start)
        ready = _ready_service(paths, process.pid)
        if ready is not None:
            return ready
        time.sleep(POLL_INTERVAL_S)
    raise CommandError(
        f"the service (pid {process.pid}) did not answer within {wait_s:g} s; it is still starting or stuck: "
        f"see {paths.log_file}"
    )


def _ready_service(paths: Paths, pid: int) -> RunningService | None:
    try:
        info = read_service_file(paths)
    except ValueError:
        return None
    if info is None or info.pid != pid or not pid_alive(pid):
        return None
    health = fetch_health(info)
    if not answered_by(health, pid) or health.get("status") != "ok":
        return None
    return RunningService(info=info, health=health)


def _early_exit(paths: Paths, code: int, log_start: int = 0) -> CommandError:
    lines = _log_lines(paths.log_file, log_start)
    last = lines[-1] if lines else ""
    if code == NOT_AVAILABLE_EXIT and "not available yet" in last:
        return CommandError(
            "the service part is missing: `breather serve` is not available yet in this version, so nothing can "
            "run behind the window",
            NOT_AVAILABLE_EXIT,
        )
    in_use = [line for line in lines if PORT_IN_USE in line.lower()]
    if in_use:
        said = LOG_PREFIX.sub("", in_use[-1])
        return CommandError(
            f"`breather serve` stopped with exit code {code}: {said}; another program (your own Breather?) "
            f"has that port: choose others with --proxy-port and --web-port (0 picks a free one) "
            f"(full log: {paths.log_file})"
        )
    detail = f": {last}" if last else ""
    return CommandError(f"`breather serve` stopped with exit code {code}{detail} (full log: {paths.log_file})")


def _log_lines(log_file: Path, start: int) -> list[str]:
    """The non-blank lines the log file gained from byte ``start`` on."""
    try:
        with log_file.open("rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _log_size(log_file: Path) -> int:
    try:
        return log_file.stat().st_size
    except FileNotFoundError:
        return 0


@contextmanager
def start_lock(paths: Paths) -> Iterator[None]:
    """One ``breather run`` at a time decides whether to start the service, so two at once never start two."""
    paths.ensure()
    with (paths.state_dir / "run.lock").open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_service(
    paths: Paths, home: str | None, wait_s: float, flags: Sequence[str] = ()
) -> tuple[RunningService, bool]:
    """The running service, started first when needed (with ``flags``); the bool says whether this call started it.

    A ``breather serve`` still starting (the login entry, before it has written the service file) holds the service
    lock: then this waits for it rather than start a second one beside it."""
    with start_lock(paths):
        running = _running_or_starting(paths, wait_s)
        if running is not None:
            return running, False
        log_start = _log_size(paths.log_file)
        process = start_service(paths, home, flags)
        try:
            return wait_until_ready(paths, process, wait_s, log_start), True
        except CommandError:
            # Another `breather serve` took the lock after the look above (the login entry, started as this one
            # was): this one refused, and that one is the service.
            if process.poll() is None or not service_lock_held(paths):
                raise
            running = _running_or_starting(paths, wait_s)
            if running is None:
                raise
            return running, False


def _running_or_starting(paths: Paths, wait_s: float) -> RunningService | None:
    """The running service; while another process holds the service lock (a service still starting), wait for it
    to answer, up to ``wait_s``; None when none runs or starts (or the one holding the lock has gone)."""
    deadline = time.monotonic() + wait_s
    while True:
        running = find_running_service(paths)
        if running is not None:
            return running
        if not service_lock_held(paths):
            return None
        if time.monotonic() >= deadline:
            raise CommandError(
                f"Breather is starting for this home but did not answer within {wait_s:g} s; it is still starting "
                f"or stuck: see {paths.log_file}"
            )
        time.sleep(POLL_INTERVAL_S)


def run(args: argparse.Namespace, paths: Paths) -> int:
    flags = service_flags(args)
    service, started = ensure_service(paths, args.home, args.wait, flags)
    info = service.info
    verb = "Started" if started else "Already running:"
    proxy = f", proxy on {info.proxy_port}" if info.proxy_port else ""
    print(f"{verb} Breather (pid {info.pid}{proxy}), dashboard at {info.dashboard_url}", flush=True)
    note = None if started else other_code_note(*running_code(service), info.started_at, home=args.home)
    if note:
        print(note, flush=True)
    if flags and not started:
        print(f"note: {' '.join(flags)} only apply to a service `run` starts; this one keeps its own", file=sys.stderr)
    if args.no_window:
        return 0
    return show_dashboard(info.dashboard_url, prefer_browser=args.browser, browserless_ok=True)
