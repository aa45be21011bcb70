"""The break screen goes once the proxy says no break is due, in a real Chromium answered by the real local API.

A review: the break screen up when the lid closed was still over the feed in the morning, the feed inert behind it,
although every heartbeat answered ``break_due: false`` (a night asleep is a break): the overlay acted only on
``break_due: true``. Its "5 more minutes" then counted a snooze of no break. The same after a break taken in the
extension's notification.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from breather.runtime import begin_break
from tests.proxy.conftest import Proxy, rules_text

pytestmark = pytest.mark.e2e

LAST_NIGHTS_BREAK = {
    "break_due": True,
    "reason": "25 minutes of scrolling since your last break. A pause of 5 minutes, until 22:30.",
    "break_kind": "cadence",
}


class Waking(Proxy):
    """The local API as the tab meets it across a night: heartbeats go unanswered (the machine asleep) until
    ``wake()``, so the test sees the screen as the lid left it before the first heartbeat of the morning."""

    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime)
        self.awake = False

    def wake(self) -> None:
        self.awake = True

    def answer(self, route: Any) -> None:
        if not self.awake and route.request.url.endswith("/heartbeat"):
            route.abort()
            return
        super().answer(route)


def move_the_mouse(tab: Any, seconds: float) -> None:
    """The person is back at the screen: the heartbeats count."""
    for _ in range(int(seconds / 0.3)):
        tab.mouse.move(10, 10)
        tab.mouse.move(50, 60)
        tab.wait_for_timeout(300)


def snoozes_logged(runtime: Any, events_of: Any) -> int:
    return [event["kind"] for event in events_of(runtime)].count("break_snoozed")


def test_last_nights_break_screen_goes_at_the_first_heartbeat_of_the_morning(
    open_overlay: Any, make_runtime: Any, events_of: Any
) -> None:
    from playwright.sync_api import expect

    runtime = make_runtime(rules_text())
    proxy = Waking(runtime)  # nothing used since: as after a night asleep, no break is due
    tab = open_overlay({**LAST_NIGHTS_BREAK, "heartbeat_s": 0.3}, proxy)
    expect(tab.locator("#breather-break")).to_be_visible()
    assert tab.locator("[inert]").count() == 1

    proxy.wake()
    move_the_mouse(tab, 1.5)
    assert any(name == "heartbeat" and status == 200 for name, _, status in proxy.calls)
    expect(tab.locator("#breather-break")).to_have_count(0)
    assert tab.locator("[inert]").count() == 0, "the feed is given back"
    expect(tab.locator(".breather-toast")).to_have_text("Your time away counted as a break.")
    tab.locator("a").focus()
    expect(tab.locator("a")).to_be_focused()
    assert snoozes_logged(runtime, events_of) == 0


def test_a_break_taken_in_the_extension_takes_the_screen_down_and_gives_focus_back(
    open_overlay: Any, make_runtime: Any
) -> None:
    from playwright.sync_api import expect

    runtime = make_runtime(rules_text())
    runtime.sessions.update("me", lambda session: setattr(session, "active_since_break_s", 26 * 60.0))
    proxy = Waking(runtime)
    tab = open_overlay({"heartbeat_s": 0.3}, proxy)
    tab.locator("a").focus()  # reading the feed, a link in focus, when a heartbeat brings the break
    proxy.wake()
    expect(tab.locator("#breather-break")).to_be_visible()
    expect(tab.locator("button.breather-done")).to_be_focused()

    # "Take a break" in the extension's notification, five minutes ago: back at the screen once it is over (back
    # before, the break is still owed and its screen stays: tests/proxy/test_local_api.py)
    taken = datetime.now(UTC) - timedelta(minutes=5, seconds=1)
    runtime.sessions.update("me", lambda session: begin_break(session, taken, timedelta(minutes=5)))
    move_the_mouse(tab, 1.5)
    expect(tab.locator("#breather-break")).to_have_count(0)
    assert tab.locator("[inert]").count() == 0
    expect(tab.locator("a")).to_be_focused()


def test_a_break_snoozed_in_another_tab_goes_here_too_and_says_when_it_comes_back(
    open_overlay: Any, make_runtime: Any, events_of: Any
) -> None:
    """Two tabs under one break, "3 more minutes" pressed in the other: this one's screen goes at its next heartbeat
    and says the snooze's time, not that time away counted as a break."""
    from playwright.sync_api import expect

    runtime = make_runtime(rules_text())
    snoozed_until = datetime.now(UTC) + timedelta(minutes=3)
    runtime.sessions.update("me", lambda session: setattr(session, "active_since_break_s", 26 * 60.0))
    runtime.sessions.update("me", lambda session: setattr(session, "snoozed_until", snoozed_until))
    tab = open_overlay({**LAST_NIGHTS_BREAK, "heartbeat_s": 0.3}, Proxy(runtime))

    move_the_mouse(tab, 1.5)
    expect(tab.locator("#breather-break")).to_have_count(0)
    expect(tab.locator(".breather-toast")).to_have_text("Next reminder in 3 minutes.")
    assert snoozes_logged(runtime, events_of) == 0


def test_five_more_minutes_on_a_break_no_longer_due_says_so_and_counts_no_snooze(
    open_overlay: Any, make_runtime: Any, events_of: Any
) -> None:
    """Pressed before a heartbeat has noticed (one every 30 s)."""
    from playwright.sync_api import expect

    runtime = make_runtime(rules_text())
    proxy = Proxy(runtime)
    tab = open_overlay({**LAST_NIGHTS_BREAK, "heartbeat_s": 600}, proxy)
    tab.locator("button.breather-snooze").click()

    expect(tab.locator("#breather-break")).to_have_count(0)
    assert tab.locator("[inert]").count() == 0
    expect(tab.locator(".breather-toast")).to_have_text("No break is due now.")
    assert ("snooze", {}, 200) in proxy.calls
    assert runtime.sessions.read("me").snoozes_in_row == 0
    assert snoozes_logged(runtime, events_of) == 0


def test_the_well_done_screen_stays_until_the_tab_is_closed_or_reloaded(open_overlay: Any, make_runtime: Any) -> None:
    """A break taken on the page is the person's choice: the heartbeats after it (no break due) leave it be."""
    from playwright.sync_api import expect

    runtime = make_runtime(rules_text())
    runtime.sessions.update("me", lambda session: setattr(session, "active_since_break_s", 26 * 60.0))
    proxy = Proxy(runtime)
    tab = open_overlay({"heartbeat_s": 0.3}, proxy)
    tab.locator("button.breather-done").click()
    expect(tab.locator("#breather-break-title")).to_have_text("Well done.")
    pressed = len(proxy.calls)

    move_the_mouse(tab, 1.5)
    expect(tab.locator("#breather-break-title")).to_have_text("Well done.")
    assert tab.locator("[inert]").count() == 1
    # Looking at "Well done." is no use of the site: scrolling again elsewhere before the pause is over brings the
    # break back (tests/proxy/test_local_api.py), moving the mouse over this screen must not.
    after = [body for name, body, _ in proxy.calls[pressed:] if name == "heartbeat"]
    assert after and all(body.get("active") is False for body in after), after
    assert runtime.sessions.read("me").break_owed_s == 0
