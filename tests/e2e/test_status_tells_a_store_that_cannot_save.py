"""While the store cannot save (here: another program holds its write lock), `/healthz` and `breather status` say so,
and why, instead of looking healthy while nothing reaches the file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.e2e.conftest import ONE_MEMBER_RULES, Upstream, pairing_code, start_service, wait_for


def test_status_says_the_store_is_not_being_saved_while_it_is_locked(tmp_path: Path, upstream: Upstream) -> None:
    service = start_service(tmp_path / "home", ONE_MEMBER_RULES, upstream)
    holder = sqlite3.connect(service.paths.database, isolation_level=None)
    try:
        paired = httpx.post(f"{service.web_url}/api/v1/pair", json={"code": pairing_code(service.paths, "me")})
        headers = {"Authorization": f"Bearer {paired.json()['token']}"}
        holder.execute("BEGIN EXCLUSIVE")  # a sqlite3 shell in BEGIN, DB Browser with unsaved edits
        beat = {"site": "old.reddit.com", "at": datetime.now(UTC).isoformat(), "routed": True}
        httpx.post(f"{service.web_url}/api/v1/heartbeat", headers=headers, json=beat).raise_for_status()
        store = wait_for(
            lambda: (lambda store: store if not store["saving"] else None)(service.health()["store"]),
            30,
            "/healthz to say the store is not saving",
            service,
        )
        status = subprocess.run(
            [sys.executable, "-m", "breather", "status"],
            env={**os.environ, "BREATHER_HOME": str(service.home)},
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        holder.execute("COMMIT")
        time.sleep(3)
        after = service.health()["store"]
    finally:
        holder.close()
        assert service.stop() == 0, service.log()[-2000:]
    assert store["trouble"] == "locked" and store["held"] >= 1
    assert "the usage store is not being saved" in status and "another program holds" in status, status
    assert after["saving"] is True and after["held"] == 0
