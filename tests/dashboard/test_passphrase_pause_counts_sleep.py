"""The pause after too many wrong household passphrases says "try again in N seconds": seconds of the clock on the
wall, so a pause begun just before the lid was closed is over after the laptop has slept longer than it."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.breather.suspend import sleep_through
from tests.dashboard.conftest import PASSPHRASE, form_token, set_passphrase


def test_the_passphrase_pause_runs_out_while_the_laptop_sleeps(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_passphrase(client)
    token = form_token(client, "/data")

    def retention(days: str, passphrase: str) -> int:
        form = {"csrf_token": token, "retention_days": days, "passphrase": passphrase}
        return client.post("/data/retention", data=form).status_code

    for _ in range(app.config["PASSPHRASE_ATTEMPTS"]):
        assert retention("30", "guess") == 403
    assert retention("30", PASSPHRASE) == 429

    sleep_through(monkeypatch, app.config["PASSPHRASE_WINDOW_S"] + 60)
    assert retention("30", PASSPHRASE) == 302  # taken: back to the Data page, with what became of the change
