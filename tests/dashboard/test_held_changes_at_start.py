"""A Rules-page change that became due while the service was down waited for the minute job after a restart, and
meanwhile neither ``breather status`` nor /healthz mentioned it: the service runs the job once as it starts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.paths import Paths
from breather.rules.loader import load_rules
from breather.rules.watcher import RulesWatcher
from breather.runtime import Runtime
from breather.service import dashboard_asked_at, start_scheduler, start_writer
from tests.dashboard.conftest import FAMILY_RULES, PASSPHRASE, TEST_SCRYPT, form_token, set_passphrase


def _save_a_loosening_days_ago(paths: Paths) -> None:
    """The teen's bigger limit, saved on the Rules page three days ago (24 hours' cooling-off): due since."""
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    app = create_app({"TESTING": True, "CLOCK": lambda: three_days_ago, "SCRYPT_COST": TEST_SCRYPT})
    client = app.test_client()
    try:
        set_passphrase(client)
        form = {"profile": "teen", "daily_limit": "2h", "action": "save", "passphrase": PASSPHRASE}
        saved = client.post("/rules", data={"csrf_token": form_token(client, "/rules"), **form})
        assert saved.status_code == 302
    finally:
        context.close_own_writer(app)


def test_a_change_due_while_the_service_was_down_applies_as_it_starts(breather_home: Path) -> None:
    paths = Paths.resolve(str(breather_home)).ensure()
    paths.rules_file.write_text(FAMILY_RULES, encoding="utf-8")
    _save_a_loosening_days_ago(paths)
    assert load_rules(paths.rules_file).profiles["teen"].daily_limit == timedelta(minutes=45)  # still waiting

    watcher = RulesWatcher(
        paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True, asked_at=dashboard_asked_at(paths)
    )
    writer = start_writer(paths, {"writer_flush_ms": 10})
    runtime = Runtime(paths=paths, settings={"listen_host": "127.0.0.1"}, rules=watcher, writer=writer)
    scheduler = start_scheduler(runtime)
    try:
        deadline = time.monotonic() + 20  # well before the minute job's first run
        while load_rules(paths.rules_file).profiles["teen"].daily_limit != timedelta(hours=2):
            assert time.monotonic() < deadline, "the due change was not applied as the service started"
            time.sleep(0.05)
        watcher.reload()
    finally:
        scheduler.shutdown(wait=True)
        writer.close()
    assert watcher.current.profiles["teen"].daily_limit == timedelta(hours=2)
    assert runtime.health()["rules"]["held"] == []  # the page's change is in force, not held again by the service
