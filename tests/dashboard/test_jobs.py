from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard.jobs import JOB_HELD_RULE_CHANGES, register, run_held_rule_changes
from breather.rules.loader import load_rules
from breather.store.writer import Writer
from tests.dashboard.conftest import NOW, PASSPHRASE, form_token, set_passphrase


def test_a_held_loosening_takes_effect_without_anyone_opening_the_rules_page(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    paths = app.config["PATHS"]
    token = form_token(client, "/rules")
    form = {"csrf_token": token, "profile": "teen", "daily_limit": "2h", "action": "save", "passphrase": PASSPHRASE}
    client.post("/rules", data=form)
    assert load_rules(paths.rules_file).profiles["teen"].daily_limit == timedelta(minutes=45)

    writer = Writer(paths.database).start()
    try:
        runtime = SimpleNamespace(paths=paths, writer=writer)
        assert run_held_rule_changes(runtime, clock=lambda: NOW + timedelta(hours=23)) == 0
        assert load_rules(paths.rules_file).profiles["teen"].daily_limit == timedelta(minutes=45)
        assert run_held_rule_changes(runtime, clock=lambda: NOW + timedelta(hours=25)) == 1
    finally:
        writer.close()
    assert load_rules(paths.rules_file).profiles["teen"].daily_limit == timedelta(hours=2)


def test_the_job_is_registered_once_with_its_id() -> None:
    scheduler = BackgroundScheduler()
    scheduler.start(paused=True)
    try:
        runtime = SimpleNamespace()
        register(scheduler, runtime)
        register(scheduler, runtime)
        assert [job.id for job in scheduler.get_jobs()] == [JOB_HELD_RULE_CHANGES]
    finally:
        scheduler.shutdown(wait=False)
