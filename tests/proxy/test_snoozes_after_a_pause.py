"""A pause long enough to be a break (a night asleep, a lid closed) ends the run of snoozes, as a break taken does.

A review: break_after 25m, max_snoozes 2. In the evening the break came, "5 more minutes", "3 more minutes", and the
lid closed. Nine hours later, 25 minutes of scrolling brought the break again with no snooze button, and the snooze
was refused (409, "your snoozes in a row are used up"): the run that began the night before never ended. And a
"5 more minutes" pressed on a break screen left up overnight, when no break was due, was counted and logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from breather.proxy.local_api import HEARTBEAT_S, LocalApi
from breather.proxy.restore import restore_recent_choices
from breather.runtime import Runtime, StoreUsage
from breather.store.db import open_database
from tests.proxy.conftest import rules_text

EVENING = datetime(2026, 11, 11, 21, 0, tzinfo=UTC)
SITE = "old.reddit.com"
RULES = rules_text(extra_me="max_snoozes = 2").replace('daily_limit = "1h"', 'daily_limit = "3h"')


class Browsing:
    """The overlay's heartbeats every 30 s and the store's read every ~10 s (here every third heartbeat), as
    ``breather serve`` runs them, at chosen moments."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.api = LocalApi(runtime)
        self.sync = StoreUsage(runtime)
        self.db = open_database(runtime.paths.database)
        self.beats = 0

    def scroll(self, start: datetime, minutes: float) -> tuple[datetime, dict[str, Any]]:
        """Heartbeats for ``minutes`` after ``start``: the moment of the last one, and its answer."""
        answer: dict[str, Any] = {}
        at = start
        for _ in range(int(minutes * 60 / HEARTBEAT_S)):
            at += timedelta(seconds=HEARTBEAT_S)
            answer = self.api.heartbeat("me", SITE, {}, at)
            self.beats += 1
            if self.beats % 3 == 0:
                self.read_the_store(at + timedelta(seconds=5))
        return at, answer

    def read_the_store(self, at: datetime) -> None:
        self.sync.refresh(self.db, now=at)

    def snooze(self, at: datetime) -> dict[str, Any]:
        return self.api.snooze("me", SITE, {}, at)

    def snoozes_logged(self) -> int:
        assert self.runtime.writer.flush(5)
        return self.db.execute("select count(*) from events where kind = 'break_snoozed'").fetchone()[0]

    def evening_with_two_snoozes(self) -> datetime:
        """25 minutes, the break, "5 more minutes", the break again, "3 more minutes": the moment of the second."""
        at, answer = self.scroll(EVENING, 26)
        assert (answer["break_due"], answer["snooze_minutes"]) == (True, 5)
        assert self.snooze(at)["snoozed_for_s"] == 300
        at, answer = self.scroll(at, 5.5)
        assert (answer["break_due"], answer["snooze_minutes"]) == (True, 3)
        assert self.snooze(at)["snoozed_for_s"] == 180
        return at


@pytest.fixture
def browsing(make_runtime: Any) -> Iterator[Browsing]:
    browsing = Browsing(make_runtime(RULES))
    yield browsing
    browsing.db.close()


def test_the_first_break_after_a_night_asleep_offers_its_snooze(browsing: Browsing) -> None:
    """The store's first read on waking finds the night's pause (the store path)."""
    lid_closed = browsing.evening_with_two_snoozes()
    morning = lid_closed + timedelta(hours=9)
    browsing.read_the_store(morning + timedelta(seconds=3))

    at, answer = browsing.scroll(morning, 26)
    assert answer["break_due"] is True
    assert (answer["snooze_allowed"], answer["snooze_minutes"]) == (True, 5), answer
    assert browsing.snooze(at)["snoozed_for_s"] == 300


def test_the_snooze_after_a_night_asleep_is_not_refused(browsing: Browsing) -> None:
    """The first heartbeat on waking comes before the store's read (the live path)."""
    lid_closed = browsing.evening_with_two_snoozes()

    at, answer = browsing.scroll(lid_closed + timedelta(hours=9), 26)
    assert (answer["break_due"], answer["snooze_allowed"], answer["snooze_minutes"]) == (True, True, 5), answer
    assert browsing.snooze(at)["snoozed_for_s"] == 300
    assert browsing.runtime.sessions.read("me").snoozes_in_row == 1


def test_ten_minutes_away_after_a_snooze_end_its_run_too(browsing: Browsing) -> None:
    """Not only a night: the store's break is a pause of five minutes, with the machine awake and read as usual."""
    snoozed = browsing.evening_with_two_snoozes()
    for seconds in range(10, 600, 10):  # away from the screen, the store read every 10 s
        browsing.read_the_store(snoozed + timedelta(seconds=seconds))

    _, answer = browsing.scroll(snoozed + timedelta(minutes=10), 26)
    assert (answer["break_due"], answer["snooze_allowed"], answer["snooze_minutes"]) == (True, True, 5), answer


def test_a_short_pause_keeps_the_run_of_snoozes(browsing: Browsing) -> None:
    """Two minutes away is no break: the next break of the run still offers no more snoozes than the rules allow."""
    snoozed = browsing.evening_with_two_snoozes()
    browsing.read_the_store(snoozed + timedelta(minutes=2))

    _, answer = browsing.scroll(snoozed + timedelta(minutes=2), 3.5)
    assert (answer["break_due"], answer["snooze_allowed"]) == (True, False), answer


def test_a_snooze_pressed_when_no_break_is_due_is_not_counted_or_logged(browsing: Browsing) -> None:
    """The break screen left up overnight and its "5 more minutes" pressed in the morning: a counted snooze began a
    run of snoozes and the weekly review counted a break snoozed."""
    at, answer = browsing.scroll(EVENING, 26)
    assert answer["break_due"] is True
    morning = at + timedelta(hours=9)
    assert browsing.api.heartbeat("me", SITE, {}, morning)["break_due"] is False

    assert browsing.snooze(morning + timedelta(seconds=5)) == {"ok": True, "break_due": False}
    assert browsing.runtime.sessions.read("me").snoozes_in_row == 0
    assert browsing.snoozes_logged() == 0


def test_a_restart_after_a_pause_does_not_bring_back_the_run_of_snoozes(browsing: Browsing, make_runtime: Any) -> None:
    """A restart replays the last two hours' snoozes; a pause of a break's length after them ends their run there as
    it does live."""
    snoozed = browsing.evening_with_two_snoozes()
    assert browsing.snoozes_logged() == 2

    restarted = make_runtime(RULES)
    db = open_database(restarted.paths.database)
    try:
        restore_recent_choices(restarted, db, snoozed + timedelta(minutes=40))
    finally:
        db.close()
    assert restarted.sessions.read("me").snoozes_in_row == 0
    after = Browsing(restarted)
    try:
        _, answer = after.scroll(snoozed + timedelta(minutes=40), 26)
    finally:
        after.db.close()
    assert (answer["break_due"], answer["snooze_allowed"], answer["snooze_minutes"]) == (True, True, 5), answer


def extension_snooze(browsing: Browsing, at: datetime) -> Any:
    """The extension's "5 more minutes" as ``POST /api/v1/events`` applies it: told to the service, then logged."""
    from breather.dashboard.pages.extension import BrowserEvent, apply_break_event, record_event

    runtime = browsing.runtime
    event = BrowserEvent("break_snoozed", SITE, None)
    applied = apply_break_event(runtime, runtime.current_rules(), "me", event, at)
    if applied is not None:
        record_event(runtime.writer, browsing.db, "me", applied, at)
    return applied


def test_the_extensions_snooze_when_no_break_is_due_is_refused_and_not_logged(browsing: Browsing) -> None:
    from breather.dashboard.errors import ApiError

    at, answer = browsing.scroll(EVENING, 26)
    assert answer["break_due"] is True
    morning = at + timedelta(hours=9)
    assert browsing.api.heartbeat("me", SITE, {}, morning)["break_due"] is False

    with pytest.raises(ApiError) as refused:
        extension_snooze(browsing, morning + timedelta(seconds=5))
    assert (refused.value.status, refused.value.kind) == (409, "NoBreakDue")
    assert browsing.runtime.sessions.read("me").snoozes_in_row == 0
    assert browsing.snoozes_logged() == 0


def test_the_extensions_first_snooze_after_a_night_asleep_is_five_minutes(browsing: Browsing) -> None:
    lid_closed = browsing.evening_with_two_snoozes()
    at, _ = browsing.scroll(lid_closed + timedelta(hours=9), 26)
    applied = extension_snooze(browsing, at)
    assert applied is not None and applied.minutes == 5
