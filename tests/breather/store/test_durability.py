"""A process killed with SIGKILL mid-logging leaves a sound file that lacks at most its last second."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

CHILD = r"""
import sys, time
from datetime import UTC, datetime, timedelta
from breather.store.model import Event, Heartbeat
from breather.store.writer import Writer

writer = Writer(sys.argv[1], flush_ms=250).start()
print("ready", flush=True)
base = datetime(2026, 1, 1, tzinfo=UTC)
seq = 0
while True:
    for _ in range(20):
        at = base + timedelta(seconds=seq)
        writer.event(Event("sam", "warning_shown", at, site="x.com", category="violence", detail={"seq": seq}))
        writer.heartbeat(Heartbeat("p%d" % (seq % 5), "site%d.com" % (seq % 7), at, duration_s=1.0))
        seq += 1
    # Everything below `seq` was handed to the writer by this (system-wide monotonic) time.
    print(time.monotonic(), seq, writer.backlog(), flush=True)
    time.sleep(0.005)
"""

RUN_FOR_S = 3.0
MAX_LOSS_S = 1.0


def test_sigkill_during_heavy_logging_loses_at_most_the_last_second(tmp_path: Path) -> None:
    database = tmp_path / "breather.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(database)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
    reports: list[tuple[float, int, int]] = []

    def read_reports() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            fields = line.split()
            if len(fields) == 3 and line.endswith("\n"):  # the kill may cut the last line short
                reports.append((float(fields[0]), int(fields[1]), int(fields[2])))

    reader = threading.Thread(target=read_reports)
    reader.start()
    time.sleep(RUN_FOR_S)
    os.kill(child.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    child.wait()
    reader.join()
    child.stdout.close()
    if child.stderr is not None:
        child.stderr.close()

    connection = sqlite3.connect(database)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = [json.loads(detail)["seq"] for (detail,) in connection.execute("SELECT detail FROM events ORDER BY id")]
    spans = connection.execute("SELECT COUNT(*), SUM(duration_s) FROM activity").fetchone()
    connection.close()

    assert child.returncode == -signal.SIGKILL
    assert stored == list(range(len(stored))), "the file holds a prefix of what was logged, with no holes"
    handed_over_a_second_before = max(seq for moment, seq, _ in reports if moment <= killed_at - MAX_LOSS_S)
    assert len(stored) >= handed_over_a_second_before, (
        f"lost more than {MAX_LOSS_S} s: {handed_over_a_second_before} events were queued a second before the kill, "
        f"{len(stored)} reached the file (last backlog reported: {reports[-1][2]})"
    )
    assert spans[0] > 0 and spans[1] > 0
