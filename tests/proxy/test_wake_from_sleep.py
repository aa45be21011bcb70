"""A night asleep is a break. A user test: 24.9 minutes on reddit, the lid closed, and 8 hours later the first
heartbeat answered "25 minutes of scrolling since your last break" and the overlay showed the break screen. The
proxy's figure came from its last read of the store, whose 10 s wait stands still while the machine sleeps; the
store itself counts a 5-minute pause as a break."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from breather.proxy.boundaries import Boundaries
from breather.proxy.local_api import HEARTBEAT_S, LocalApi
from breather.runtime import Runtime, StoreUsage
from breather.store.db import open_database
from tests.proxy.conftest import rules_text

LID_CLOSED = datetime(2026, 11, 11, 22, 24, 30, tzinfo=UTC)


@pytest.fixture
def almost_due(make_runtime: Any) -> Iterator[tuple[Runtime, LocalApi]]:
    """Almost 25 minutes of scrolling (break after 25), the store read 25 s after the last heartbeat, as its thread
    does, and then nothing more: the machine sleeps."""
    runtime = make_runtime(rules_text())
    api, sync = LocalApi(runtime), StoreUsage(runtime)
    db = open_database(runtime.paths.database)
    for beat in range(50):
        at = LID_CLOSED - timedelta(seconds=HEARTBEAT_S * (49 - beat))
        assert api.heartbeat("me", "old.reddit.com", {}, at)["break_due"] is False
        if beat % 20 == 0:
            sync.refresh(db, now=at + timedelta(seconds=5))
    sync.refresh(db, now=LID_CLOSED + timedelta(seconds=25))
    assert 24.5 < runtime.sessions.read("me").stored_active_minutes < 25
    yield runtime, api
    db.close()


def test_the_first_heartbeat_after_a_night_asleep_shows_no_break(almost_due: tuple[Runtime, LocalApi]) -> None:
    _, api = almost_due
    woken = LID_CLOSED + timedelta(hours=8, seconds=5)
    assert api.heartbeat("me", "old.reddit.com", {}, woken)["break_due"] is False
    later = woken + timedelta(seconds=HEARTBEAT_S)
    assert api.heartbeat("me", "old.reddit.com", {}, later)["break_due"] is False


def test_the_first_page_load_after_a_night_asleep_is_not_a_break(almost_due: tuple[Runtime, LocalApi]) -> None:
    runtime, _ = almost_due
    decision = Boundaries(runtime).decide("me", "old.reddit.com", LID_CLOSED + timedelta(hours=8))
    assert decision.kind == "allow"
    assert decision.next_break_in == timedelta(minutes=25)


def test_a_pause_shorter_than_a_break_still_brings_the_break(almost_due: tuple[Runtime, LocalApi]) -> None:
    _, api = almost_due
    back = api.heartbeat("me", "old.reddit.com", {}, LID_CLOSED + timedelta(minutes=3))
    assert (back["break_due"], back["kind"]) == (True, "cadence")
