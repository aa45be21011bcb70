"""A `breather serve` that cannot start: the reason in the log, no tracebacks, and nothing done to the store."""

from __future__ import annotations

import socket
import subprocess
import sys
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
