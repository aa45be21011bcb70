"""`breather run`: start the service if it is not running, wait until it answers, then open the window.

The service is started as a detached ``breather serve`` (its own session, its output in ``paths.log_file``), so
closing the window, or the terminal ``breather run`` was started from, never switches the boundaries off.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from breather.commands.open import show_dashboard
from breather.errors import CommandError
from breather.paths import Paths
from breather.probe import RunningService, fetch_health, find_running_service, pid_alive, read_service_file

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two simultaneous runs there may race
    fcntl = None  # type: ignore[assignment]

HELP = "start the service if it is not running and open the dashboard window"

NOT_AVAILABLE_EXIT = 2
POLL_INTERVAL_S = 0.2


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


def serve_command(home: str | None) -> list[str]:
    """``breather serve`` for the same home, run by this interpreter (works without the console script on PATH).

    Without ``--home`` the child inherits ``BREATHER_HOME`` (or its absence) from this process's environment.
    """
    home_args = ["--home", home] if home else []
    return [sys.executable, "-m", "breather", "serve", *home_args]


def start_service(paths: Paths, home: str | None) -> subprocess.Popen[bytes]:
    paths.ensure()
    with paths.log_file.open("ab") as log:
        return subprocess.Popen(
            serve_command(home),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def wait_until_ready(paths: Paths, process: subprocess.Popen[bytes], wait_s: float) -> RunningService:
    """Poll the service file and ``/healthz`` until the new service says ``ok``; explain any early exit."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise _early_exit(paths, code)
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
    if health is None or health.get("status") != "ok":
        return None
    return RunningService(info=info, health=health)


def _early_exit(paths: Paths, code: int) -> CommandError:
    last = _last_line(paths.log_file)
    if code == NOT_AVAILABLE_EXIT and "not available yet" in last:
        return CommandError(
            "the service part is missing: `breather serve` is not available yet in this version, so nothing can "
            "run behind the window",
            NOT_AVAILABLE_EXIT,
        )
    detail = f": {last}" if last else ""
    return CommandError(f"`breather serve` stopped with exit code {code}{detail} (full log: {paths.log_file})")


def _last_line(log_file: Path) -> str:
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except FileNotFoundError:
        return ""
    return lines[-1].strip() if lines else ""


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


def ensure_service(paths: Paths, home: str | None, wait_s: float) -> tuple[RunningService, bool]:
    """The running service, started first when needed; the flag says whether this call started it."""
    with start_lock(paths):
        running = find_running_service(paths)
        if running is not None:
            return running, False
        process = start_service(paths, home)
        return wait_until_ready(paths, process, wait_s), True


def run(args: argparse.Namespace, paths: Paths) -> int:
    service, started = ensure_service(paths, args.home, args.wait)
    info = service.info
    verb = "Started" if started else "Already running:"
    proxy = f", proxy on {info.proxy_port}" if info.proxy_port else ""
    print(f"{verb} Breather (pid {info.pid}{proxy}), dashboard at {info.dashboard_url}", flush=True)
    if args.no_window:
        return 0
    return show_dashboard(info.dashboard_url, prefer_browser=args.browser, browserless_ok=True)
