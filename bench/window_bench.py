"""Service and window: how long a person waits, and what the background jobs cost.

* ``breather demo``: seeding 30 days and a year for the household of four.
* The scheduler's jobs on that year: the 15-minute rollup (yesterday + today), the weekly snapshot, retention
  pruning (nothing to delete and 30 days to delete), the quiet-hours check.
* ``breather run --no-window`` on a fresh home: from the command to ``/healthz`` "ok" (cold start).
* ``breather open``: from start to the dashboard loaded in the window (only when Xvfb is installed).

Printed as numbers; docs/window.md records them. Bounded loops, loopback only, temp homes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from breather import scheduler
from breather.demo import seed_demo
from breather.paths import Paths
from breather.probe import pid_alive, read_service_file
from breather.rules.loader import load_rules
from breather.store.db import open_database

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def _timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Median milliseconds of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _seed(root: Path, days: int) -> tuple[Paths, float]:
    paths = Paths.resolve(root / f"demo-{days}")
    started = time.perf_counter()
    summary = seed_demo(paths, days=days, seed=1, now=NOW)
    elapsed = time.perf_counter() - started
    print(f"demo {days:>3} days: {elapsed:6.2f} s  ({summary.describe()})")
    return paths, elapsed


def _jobs(paths: Paths) -> None:
    rules = load_rules(paths.rules_file)
    zone = rules.zone()
    open_database(paths.database, extra=[scheduler.SCHEDULER_MIGRATIONS]).close()
    db = open_database(paths.database)
    size_mb = sum(p.stat().st_size for p in paths.data_dir.glob("breather.db*")) / 1e6
    print(f"database for the year: {size_mb:.1f} MB")
    with db.conn:
        rollup_ms, _ = _timed(lambda: scheduler.rollup_recent_days(db, NOW, zone))
    monday = scheduler.week_start(NOW.astimezone(zone).date()) - timedelta(days=7)
    with db.conn:
        weekly_ms, _ = _timed(lambda: scheduler.snapshot_week(db, rules, monday, NOW))
    quiet_ms, _ = _timed(lambda: scheduler.quiet_hours_states(rules, NOW), repeat=50)
    with db.conn:
        keep_ms, _ = _timed(lambda: scheduler.prune_old_data(db, NOW, 400, zone))
    with db.conn:
        started = time.perf_counter()
        removed = scheduler.prune_old_data(db, NOW, 335, zone)
        prune_ms = (time.perf_counter() - started) * 1000
    print(f"rollup job (yesterday + today): {rollup_ms:7.1f} ms median")
    print(f"weekly review snapshot:         {weekly_ms:7.1f} ms median")
    print(f"quiet-hours check (4 profiles): {quiet_ms:7.2f} ms median")
    print(f"retention, nothing to delete:   {keep_ms:7.1f} ms median")
    print(f"retention, 30 days to delete:   {prune_ms:7.1f} ms ({removed})")
    db.close()


def _cold_start(root: Path) -> None:
    home = root / "fresh"
    env = {**os.environ, "BREATHER_HOME": str(home), "BREATHER_PROXY_PORT": "0", "BREATHER_WEB_PORT": "0"}
    env.pop("DISPLAY", None)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "breather", "run", "--no-window", "--wait", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(f"breather run failed: {result.stderr.strip()}")
        return
    print(f"breather run --no-window, fresh home, to /healthz ok: {elapsed:.1f} s")
    warm_started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "breather", "run", "--no-window"], env=env, capture_output=True, timeout=60, check=False
    )
    print(f"breather run when already running:                    {time.perf_counter() - warm_started:.2f} s")
    if shutil.which("Xvfb"):
        _window(env)
    _stop(Paths.resolve(home))


def _window(env: dict[str, str]) -> None:
    display = ":187"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1)
        runtime_dir = tempfile.mkdtemp(prefix="breather-xdg-")
        window_env = {**env, "DISPLAY": display, "XDG_RUNTIME_DIR": runtime_dir}
        started = time.perf_counter()
        window = subprocess.Popen(
            [sys.executable, "-m", "breather", "open", "--self-test"],
            env=window_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert window.stdout is not None and window.stdin is not None
        report = json.loads(window.stdout.readline() or "{}")
        elapsed = time.perf_counter() - started
        window.stdin.close()
        window.wait(60)
        print(f"breather open to the dashboard loaded ({report.get('title', '?')}): {elapsed:.1f} s")
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def _stop(paths: Paths) -> None:
    info = read_service_file(paths)
    if info is None:
        return
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pid_alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.2)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="breather-window-bench-") as folder:
        root = Path(folder)
        _seed(root, 30)
        year, _ = _seed(root, 365)
        _jobs(year)
        _cold_start(root)


if __name__ == "__main__":
    main()
