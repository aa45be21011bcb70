"""An ask for more time is stored once while it waits. A user test's teen disabled nothing: the block page's button
greys out after one ask, but ``fetch('/__breather__/more-time', ...)`` from the console was accepted 50 times (minutes
up to 240), and the Requests page had 53 cards to answer one by one with the passphrase. While an ask by that member
for that site waits for an answer (since the block on the page began), another is not stored: the answer says it was
asked already. A yes or a no leaves the member free to ask again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from breather.dashboard.db import connect
from breather.dashboard.pages import requests
from breather.proxy import asks
from breather.proxy.local_api import LocalApi
from breather.runtime import Runtime
from tests.proxy.test_ask_after_midnight import answer, block_page_shown
from tests.proxy.test_ask_answer import FAMILY, block_page, call

AT = datetime(2026, 11, 11, 17, 40, tzinfo=UTC)  # the household's zone is UTC


def cards_on_the_requests_page(runtime: Runtime, at: datetime) -> int:
    assert runtime.writer.flush(5)
    return len(requests.pending(connect(str(runtime.paths.database)), at))


def asks_stored(runtime: Runtime, events_of: Any) -> list[dict[str, Any]]:
    return [event for event in events_of(runtime) if event["kind"] == "more_time_asked"]


def limit_page_before(runtime: Runtime, at: datetime) -> dict[str, str]:
    """The token of the limit page the member asks on at ``at`` (shown a minute before), as the page sends it."""
    return {"token": block_page_shown(runtime, "limit_reached", at - timedelta(minutes=1))}


def test_fifty_asks_from_the_console_make_one_card(make_runtime: Any, events_of: Any) -> None:
    runtime = make_runtime(FAMILY)
    api = LocalApi(runtime)
    token = block_page(runtime, "me")
    status, first = call(api, "more-time", "me", {"token": token, "minutes": 15})
    assert (status, first["message"]) == (200, "Asked. Someone in your household can say yes in Breather's dashboard.")

    answers = [call(api, "more-time", "me", {"token": token, "minutes": 240}) for _ in range(50)]

    assert {status for status, _ in answers} == {200}
    said = answers[-1][1]["message"]
    assert said.startswith("You already asked at ") and "asking again sends nothing more" in said
    assert all(body.get("already_asked") is True for _, body in answers)
    assert [event["detail"] for event in asks_stored(runtime, events_of)] == ['{"minutes": 15}']
    assert cards_on_the_requests_page(runtime, datetime.now(UTC)) == 1


def test_a_restarted_proxy_still_sees_the_waiting_ask_in_the_store(make_runtime: Any, events_of: Any) -> None:
    runtime = make_runtime(FAMILY)
    page = limit_page_before(runtime, AT)
    LocalApi(runtime).more_time("me", "reddit.com", {**page, "minutes": 15}, AT)
    assert runtime.writer.flush(5)

    again = LocalApi(runtime).more_time("me", "reddit.com", {**page, "minutes": 30}, AT + timedelta(minutes=3))
    assert again["message"].startswith("You already asked at 17:40, and it is waiting for an answer")
    assert len(asks_stored(runtime, events_of)) == 1


def test_after_a_no_the_member_may_ask_again(make_runtime: Any, events_of: Any) -> None:
    runtime = make_runtime(FAMILY)
    api = LocalApi(runtime)
    page = limit_page_before(runtime, AT)
    api.more_time("me", "reddit.com", {**page, "minutes": 15}, AT)
    assert runtime.writer.flush(5)
    answer(runtime, AT + timedelta(minutes=5), "declined", reason="homework first")

    asked = api.more_time("me", "reddit.com", {**page, "minutes": 15}, AT + timedelta(minutes=30))
    assert asked["message"].startswith("Asked.")
    assert len(asks_stored(runtime, events_of)) == 2


def test_an_ask_left_waiting_yesterday_does_not_stop_one_today(make_runtime: Any, events_of: Any) -> None:
    runtime = make_runtime(FAMILY)
    api = LocalApi(runtime)
    yesterday = AT - timedelta(days=1)
    api.more_time("me", "reddit.com", {**limit_page_before(runtime, yesterday), "minutes": 15}, yesterday)
    assert runtime.writer.flush(5)
    today = {**limit_page_before(runtime, AT), "minutes": 15}
    assert api.more_time("me", "reddit.com", today, AT)["message"].startswith("Asked.")
    assert len(asks_stored(runtime, events_of)) == 2


def test_an_ask_at_the_block_before_midnight_still_counts_from_its_page_after_it(
    make_runtime: Any, events_of: Any
) -> None:
    runtime = make_runtime(FAMILY)
    api = LocalApi(runtime)
    shown = datetime(2026, 11, 11, 23, 54, tzinfo=UTC)
    token = block_page_shown(runtime, "limit_reached", shown)
    api.more_time("me", "reddit.com", {"token": token, "minutes": 15}, shown + timedelta(minutes=1))
    assert runtime.writer.flush(5)
    after_midnight = LocalApi(runtime).more_time("me", "reddit.com", {"token": token}, shown + timedelta(minutes=12))
    assert after_midnight.get("already_asked") is True
    assert len(asks_stored(runtime, events_of)) == 1


def test_a_slow_store_costs_the_event_loop_a_moment_at_most(
    make_runtime: Any, events_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is read on the asks' worker, waited on ``READ_WAIT_S`` at most; the proxy's own memory of the ask it
    stored still refuses a second one."""
    runtime = make_runtime(FAMILY)
    api = LocalApi(runtime)
    ask = {**limit_page_before(runtime, AT), "minutes": 15}
    store_answers = threading.Event()
    reads_done: list[bool] = []

    def stuck_read(*_: Any) -> None:
        reads_done.append(store_answers.wait(30))

    monkeypatch.setattr(asks.AskAnswers, "_read", stuck_read)
    try:
        assert api.more_time("me", "reddit.com", ask, AT)["message"].startswith("Asked.")
        assert api.more_time("me", "reddit.com", ask, AT).get("already_asked") is True
        assert reads_done == [], "the calls waited for the store to answer"
    finally:
        store_answers.set()
    assert len(asks_stored(runtime, events_of)) == 1
