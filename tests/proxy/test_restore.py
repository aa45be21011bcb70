"""Overrides and snoozes survive a restart: they are read back from the event log (a user test lost both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breather.proxy.restore import restore_recent_choices
from breather.runtime import Override
from breather.store.db import open_database
from breather.store.model import Event


def test_a_running_override_and_snooze_come_back_and_finished_ones_do_not(make_runtime) -> None:
    now = datetime.now(UTC)
    before = make_runtime()
    for event in (
        Event("me", "limit_overridden", now - timedelta(minutes=5), "news.ycombinator.com", detail={"kind": "limit"}),
        Event("me", "limit_overridden", now - timedelta(minutes=40), "reddit.com", detail={"kind": "limit"}),
        Event("me", "break_snoozed", now - timedelta(minutes=9), "reddit.com", detail={"minutes": 5}),
        Event("me", "break_snoozed", now - timedelta(minutes=2), "reddit.com", detail={"minutes": 3}),
        Event("kid", "break_snoozed", now - timedelta(minutes=3), "reddit.com", detail={"minutes": 5}),
        Event("kid", "break_taken", now - timedelta(minutes=1), "reddit.com"),
    ):
        before.log_event(event)
    assert before.writer.flush(5)

    after = make_runtime()  # a new service on the same home: nothing in memory
    db = open_database(after.paths.database)
    try:
        assert restore_recent_choices(after, db, now) == 2
    finally:
        db.close()
    me = after.sessions.read("me")
    assert me.overrides_until == {Override("news.ycombinator.com", "limit_reached"): now + timedelta(minutes=10)}
    assert me.snoozed_until == now + timedelta(minutes=1)
    assert me.snoozes_in_row == 2, "the next snooze in the run is shorter still"
    kid = after.sessions.read("kid")
    assert kid.snoozed_until is None and kid.snoozes_in_row == 0, "a break taken ended the snooze"
