"""Overrides and snoozes survive a restart: they are read back from the event log (a user test lost both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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


@pytest.mark.parametrize("logged_ago", [timedelta(minutes=10), timedelta(minutes=45)])
def test_a_block_logged_before_a_restart_is_not_logged_again_after_it(make_runtime, events_of, logged_ago) -> None:
    """The proxy logs one event per block, not per reload; that memory was lost on restart, so Family and the weekly
    review counted one block twice when the service restarted within half an hour of it. A soak test then found the
    same after 45 minutes of a block page reloaded: each showing moves the block on, and that is not logged."""
    from mitmproxy.test import tflow

    from breather.proxy import flows
    from breather.proxy.boundaries import Boundaries
    from tests.proxy.conftest import rules_text, window_around_now

    now = datetime.now(UTC)
    quiet = rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}')
    before = make_runtime(quiet)
    before.log_event(Event("me", "quiet_hours_blocked", now - logged_ago, "reddit.com"))
    assert before.writer.flush(5)

    after = make_runtime(quiet)
    db = open_database(after.paths.database)
    try:
        restore_recent_choices(after, db, now)
    finally:
        db.close()
    flow = tflow.tflow()
    flow.request.host, flow.request.path = "www.reddit.com", "/"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.metadata[flows.SITE], flow.metadata[flows.PROFILE] = "reddit.com", "me"
    Boundaries(after).request(flow)
    assert flow.response is not None and flow.response.headers["x-breather"] == "quiet_hours"
    assert after.writer.flush(5)
    assert [event["kind"] for event in events_of(after)].count("quiet_hours_blocked") == 1
