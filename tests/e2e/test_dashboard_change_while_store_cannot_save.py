"""A dashboard change the store cannot save (another program holds its lock) is answered with a page that says so
and that nothing was changed, not Flask's generic 500 ("the server is overloaded or there is an error")."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx

from tests.e2e.conftest import ONE_MEMBER_RULES, Upstream, start_service


def test_making_a_pairing_code_while_another_program_holds_the_lock_says_so(tmp_path: Path, upstream: Upstream) -> None:
    service = start_service(tmp_path / "home", ONE_MEMBER_RULES, upstream)
    holder = sqlite3.connect(service.paths.database, isolation_level=None)
    try:
        with httpx.Client(base_url=service.web_url, timeout=60) as web:
            token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/setup").text)
            assert token is not None
            holder.execute("BEGIN EXCLUSIVE")  # a sqlite3 shell in BEGIN, DB Browser with unsaved edits
            answer = web.post(
                "/setup/pair", data={"member": "me", "csrf_token": token.group(1)}, headers={"Origin": service.web_url}
            )
            holder.execute("COMMIT")
    finally:
        holder.close()
        assert service.stop() == 0, service.log()[-2000:]
    assert answer.status_code == 503
    assert "Another program has the usage file locked" in answer.text and "nothing was changed" in answer.text
