"""While another program holds the usage file's lock, minutes wait in the writer: the pages must not read "nothing
recorded yet" as if nothing had happened (a review of the store's bad days), and say so once it can save again."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard.conftest import NOW, flat, pair


def test_every_page_says_the_store_cannot_save_while_another_program_holds_its_lock(
    client: FlaskClient, app: Flask
) -> None:
    token = pair(client, "teen")
    headers = {"Authorization": f"Bearer {token}"}
    holder = sqlite3.connect(Path(app.config["DATABASE"]), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a sqlite3 shell, DB Browser with unsaved changes
    try:
        beat = {"site": "reddit.com", "visible": True, "focused": True, "idle": "active", "at": NOW.isoformat()}
        assert client.post("/api/v1/heartbeat", json=beat, headers=headers).status_code == 200
        deadline = time.monotonic() + 20
        while app.extensions["breather.writer"].trouble is None and time.monotonic() < deadline:
            time.sleep(0.1)
        today = flat(client.get("/?member=teen").get_data(as_text=True))
        assert "Breather cannot save to its usage file right now: another program holds the store's write lock" in today
        assert "wait to be saved and are not in the figures below yet; nothing is lost while it waits." in today
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert app.extensions["breather.writer"].flush(10)
    assert "cannot save" not in flat(client.get("/?member=teen").get_data(as_text=True))
