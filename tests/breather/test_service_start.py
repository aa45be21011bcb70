"""A `breather serve` that cannot start: the reason in the log, no tracebacks, and nothing done to the store."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from breather.paths import Paths
from breather.rules.loader import ensure_rules_file
from breather.store.db import open_database
from breather.store.model import Heartbeat
from breather.store.writer import Writer


def test_a_start_on_a_taken_proxy_port_leaves_a_clean_log_and_prunes_nothing(breather_home: Path) -> None:
    """A review: a failed start (the proxy's port taken) wrote ~400 lines of "Event loop is closed" tracebacks into
    the log (mitmproxy's log handler stayed on the root logger, its loop closed), and the scheduler, started before
    the proxy, had already run the start-up prune and the held rule changes for a service that never came up."""
    paths = Paths.resolve().ensure()
    ensure_rules_file(paths.rules_file)  # the default rules: 90 days kept
    writer = Writer(paths.database).start()
    writer.heartbeat(Heartbeat("me", "www.reddit.com", datetime.now(UTC) - timedelta(days=200), duration_s=600))
    writer.close()
    log = breather_home / "serve.log"
    with socket.create_server(("127.0.0.1", 0)) as taken, log.open("wb") as output:
        port = taken.getsockname()[1]
        code = subprocess.run(
            [sys.executable, "-m", "breather", "serve", "--proxy-port", str(port), "--web-port", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=120,
        ).returncode
    said = log.read_text(encoding="utf-8", errors="replace")
    assert code != 0, said
    assert "address already in use" in said.lower(), said
    assert "Traceback" not in said and "Event loop is closed" not in said, said[-3000:]
    assert "retention" not in said, said[-3000:]
    database = open_database(paths.database)
    try:
        assert database["activity"].count == 1, "a service that never came up pruned the store"
    finally:
        database.close()


def test_a_proxy_port_in_use_is_one_line_naming_breathers_own_option(breather_home: Path) -> None:
    """A review: the proxy's port taken gave mitmproxy's advice to use `--mode regular@PORT` (not an option of
    Breather's) and an empty error line, where the dashboard's port taken gave one clear line."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "breather", "serve", "--proxy-port", str(port), "--web-port", "0"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"breather serve: cannot listen on 127.0.0.1:{port} for the proxy: [Errno 98] Address already in use; another "
        "program has that port: choose another with --proxy-port PORT (0 picks a free one)"
    ]


def test_the_dashboards_port_in_use_or_shared_with_the_proxy_is_one_line_with_advice(breather_home: Path) -> None:
    """A robustness test: the dashboard's port taken gave no advice, and one port for both gave mitmproxy's advice
    about `--mode regular@PORT` and an empty error line."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        web = subprocess.run(
            [sys.executable, "-m", "breather", "serve", "--proxy-port", "0", "--web-port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert web.returncode == 1, web.stderr
    assert web.stderr.strip().endswith("choose another with --web-port PORT (0 picks a free one)"), web.stderr
    both = subprocess.run(
        [sys.executable, "-m", "breather", "serve", "--proxy-port", "18999", "--web-port", "18999"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (both.returncode, both.stderr.splitlines()) == (
        2,
        [
            "breather serve: --proxy-port and --web-port are both 18999: the proxy and the dashboard each need a "
            "port of their own"
        ],
    )


def test_a_sigterm_while_the_service_starts_stops_it_cleanly(breather_home: Path) -> None:
    """A review: SIGTERM in the first second (before mitmproxy's loop took the signals) ended the process at once,
    exit 143 and no clean-up, where the docs promise a clean stop with exit 0. The service lock file appears right
    after `serve` has taken the signals, so the signal is sent then, while the start is still going on."""
    paths = Paths.resolve()
    service = subprocess.Popen(
        [sys.executable, "-m", "breather", "serve", "--proxy-port", "0", "--web-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        while not paths.service_lock.exists() and service.poll() is None:
            time.sleep(0.005)
        service.send_signal(signal.SIGTERM)
        said, _ = service.communicate(timeout=60)
    finally:
        service.kill()
    assert service.returncode == 0, said
    assert "Traceback" not in said, said
    assert not paths.service_file.exists()


ERROR_FROM_ANOTHER_THREAD = '''
import logging
import threading


class LogsFromAnotherThread:
    """Logs an error the way the dashboard, the writer or the rules watcher does: from its own thread, while
    mitmproxy is still starting."""

    def running(self):
        def report():
            logging.getLogger("breather.store.writer").error("usage writer: a batch failed while the proxy started")

        thread = threading.Thread(target=report)
        thread.start()
        thread.join()


addons = [LogsFromAnotherThread()]
'''


def test_an_error_logged_by_another_thread_while_the_proxy_starts_does_not_stop_the_service(
    breather_home: Path, tmp_path: Path
) -> None:
    """mitmproxy's start-up check exited the whole service ("Error logged during startup, exiting...") on an ERROR
    logged by any thread until the proxy was up: Breather's own threads, already running, log their trouble and go
    on, so one of them logging at that moment switched the person's boundaries off."""
    said = _runs_on_past_its_start_with(tmp_path / "logs_from_another_thread.py", ERROR_FROM_ANOTHER_THREAD)
    assert "a batch failed while the proxy started" in said


DAMAGES_THE_STORE = '''
import os
from pathlib import Path


class DamagesTheStore:
    """Damages breather.db after the service opened it and before mitmproxy's `running` hook starts the scheduler:
    what a CI run's `breather stop` test did by chance."""

    def load(self, loader):
        database = Path(os.environ["BREATHER_HOME"]) / "data" / "breather.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        database.write_bytes(b"not a database " * 500)


addons = [DamagesTheStore()]
'''


def test_a_store_damaged_while_the_proxy_starts_does_not_stop_the_service(breather_home: Path, tmp_path: Path) -> None:
    """The scheduler's start logged the damaged store as an ERROR on the proxy's thread, and mitmproxy's start-up
    check ("Error logged during startup, exiting...") ended the service with exit 1: boundaries off."""
    said = _runs_on_past_its_start_with(tmp_path / "damages_the_store.py", DAMAGES_THE_STORE)
    assert "the scheduler could not prepare the usage store" in said
    assert "Traceback" not in said, said  # the jobs that met it say it in a line each


def test_an_unknown_set_option_still_stops_the_start_naming_it(breather_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "breather", "serve", "--proxy-port", "0", "--web-port", "0", "--set", "no_such=1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    assert "unknown mitmproxy option(s) given with --set: no_such" in done.stdout + done.stderr


def _runs_on_past_its_start_with(script: Path, addon: str) -> str:
    """`breather serve -s SCRIPT` (``addon`` written there): it must still run a second after it was up (mitmproxy's
    start-up check runs just after the ``running`` hooks) and stop cleanly on SIGTERM. Returns what it said."""
    script.write_text(addon, encoding="utf-8")
    service = _running_service(Paths.resolve(), "-s", str(script))
    try:
        time.sleep(1.0)
        still_running = service.poll() is None
        service.send_signal(signal.SIGTERM)
        said, _ = service.communicate(timeout=60)
    finally:
        service.kill()
    assert still_running, said
    assert service.returncode == 0, said
    return said


def _running_service(paths: Paths, *more: str, before: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """`breather serve` on free ports with ``more`` arguments, once it is up (``before``: a command it runs under,
    like ``nohup``)."""
    service = subprocess.Popen(
        [*before, sys.executable, "-m", "breather", "serve", "--proxy-port", "0", "--web-port", "0", *more],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not paths.service_file.exists() and service.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return service


def test_a_terminal_closing_stops_the_service_cleanly(breather_home: Path) -> None:
    """A robustness test: SIGHUP (the terminal `breather serve` ran in closed) ended the process at once, what it
    had not saved lost and its service file left behind."""
    paths = Paths.resolve()
    service = _running_service(paths)
    try:
        service.send_signal(signal.SIGHUP)
        said, _ = service.communicate(timeout=60)
    finally:
        service.kill()
    assert service.returncode == 0, said
    assert not paths.service_file.exists()


def test_more_sigterms_while_it_stops_do_not_cut_the_stop_short(breather_home: Path) -> None:
    """A robustness test's SIGTERMs 0.3 s apart ended a clean stop with exit 143: the default came back while the
    interpreter was exiting."""
    paths = Paths.resolve()
    service = _running_service(paths)
    try:
        for _ in range(8):
            service.send_signal(signal.SIGTERM)
            time.sleep(0.1)
            if service.poll() is not None:
                break
        said, _ = service.communicate(timeout=60)
    finally:
        service.kill()
    assert service.returncode == 0, said
    assert "Traceback" not in said, said


def test_nohup_keeps_the_service_running_when_the_terminal_closes(breather_home: Path) -> None:
    """A review: SIGHUP taken as a stop overrode `nohup breather serve &`, which asks for the opposite."""
    service = _running_service(Paths.resolve(), before=("nohup",))
    try:
        service.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert service.poll() is None, "nohup's SIGHUP stopped the service"
        service.send_signal(signal.SIGTERM)
        said, _ = service.communicate(timeout=60)
    finally:
        service.kill()
    assert service.returncode == 0, said
