"""``/__breather__/…`` is answered by the proxy itself, checked, and logged to the real store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.local_api import LocalApi
from tests.proxy.conftest import rules_text
from tests.proxy.test_ask_answer import block_page


def call(path: str, body: bytes = b"{}", method: str = "POST", header: bool = True) -> Any:
    flow = tflow.tflow()
    flow.request.host = "old.reddit.com"
    flow.request.method = method
    flow.request.path = path
    flow.request.content = body
    if header:
        flow.request.headers["x-breather"] = "1"
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.PROFILE] = "me"
    return flow


def answer(runtime: Any, flow: Any) -> tuple[int, dict[str, Any]]:
    LocalApi(runtime).request(flow)
    assert flow.response is not None, "the local API must answer itself, never forward"
    return flow.response.status_code, json.loads(flow.response.content)


def test_a_heartbeat_is_answered_locally_and_stored_as_overlay_time(make_runtime) -> None:
    runtime = make_runtime()
    status, body = answer(runtime, call("/__breather__/heartbeat", b'{"visible": true, "active": true}'))
    assert status == 200 and body["counted"] is True and body["break_due"] is False
    assert runtime.writer.flush(5)
    with sqlite3.connect(runtime.paths.database) as connection:
        rows = connection.execute("select profile, site, source, duration_s from activity").fetchall()
    assert rows == [("me", "reddit.com", "overlay", 30.0)]


def test_a_hidden_page_does_not_count(make_runtime) -> None:
    runtime = make_runtime()
    status, body = answer(runtime, call("/__breather__/heartbeat", b'{"visible": false}'))
    assert (status, body["counted"]) == (200, False)
    assert runtime.sessions.read("me").active_since_break_s == 0


def test_reveal_and_more_time_are_logged_with_the_category_only(make_runtime, events_of) -> None:
    runtime = make_runtime()
    assert answer(runtime, call("/__breather__/reveal", b'{"category": "self_harm"}'))[0] == 200
    ask = {"token": block_page(runtime, "me"), "minutes": 20}
    assert answer(runtime, call("/__breather__/more-time", json.dumps(ask).encode()))[0] == 200
    logged = [(e["kind"], e["category"], e["detail"]) for e in events_of(runtime) if e["kind"] != "limit_reached"]
    assert logged == [("warning_revealed", "self_harm", None), ("more_time_asked", None, '{"minutes": 20}')]


@pytest.mark.parametrize(
    ("path", "body", "method", "header", "status", "message"),
    [
        ("/__breather__/nope", b"{}", "POST", True, 404, "no such Breather call: 'nope'"),
        ("/__breather__/reveal", b"{}", "GET", True, 403, "POSTs with the X-Breather header"),
        ("/__breather__/reveal", b"{}", "POST", False, 403, "POSTs with the X-Breather header"),
        ("/__breather__/reveal", b"{not json", "POST", True, 400, "body is not JSON"),
        ("/__breather__/reveal", b"[1]", "POST", True, 400, "must be a JSON object"),
        ("/__breather__/reveal", b"[" * 4000, "POST", True, 400, "nested too deeply"),
        ("/__breather__/reveal", b"{}", "POST", True, 400, "reveal needs"),
        ("/__breather__/more-time", b'{"minutes": 999}', "POST", True, 403, "out of date"),
        ("/__breather__/override", b'{"token": "forged"}', "POST", True, 403, "out of date"),
    ],
)
def test_bad_calls_get_a_clear_error(make_runtime, path, body, method, header, status, message) -> None:
    got_status, got = answer(make_runtime(), call(path, body, method, header))
    assert got_status == status
    assert message in got["message"]


def test_a_bug_in_a_call_is_answered_with_500_and_still_never_forwarded(make_runtime, monkeypatch) -> None:
    runtime = make_runtime()
    api = LocalApi(runtime)

    def broken(*_: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    api.routes["reveal"] = broken
    flow = call("/__breather__/reveal", b'{"category": "violence"}')
    api.request(flow)
    assert flow.response is not None and flow.response.status_code == 500
    assert runtime.counters.get("passed_after_error") == 1


def show_break(runtime: Any, reason: str = "cadence") -> str:
    """The overlay putting its break screen up (on each page load while a break is due); the exercise it is given."""
    status, body = answer(runtime, call("/__breather__/break-shown", json.dumps({"reason": reason}).encode()))
    assert status == 200
    return str(body["exercise"]["id"])


def test_a_break_screen_reloaded_is_one_break_with_one_exercise(make_runtime, events_of) -> None:
    """A user test (break_after 1m) loaded pages for 4 minutes under one break: 16 'break_shown', and the weekly
    review said 'took 0 of the 16 breaks suggested'; each reload also offered another exercise."""
    runtime = make_runtime()
    offered = {show_break(runtime) for _ in range(16)}
    assert len(offered) == 1, "the same break keeps its exercise"
    shown = [event for event in events_of(runtime) if event["kind"] == "break_shown"]
    assert len(shown) == 1
    assert json.loads(shown[0]["detail"])["exercise"] in offered


def test_a_new_reason_a_snooze_or_a_break_taken_makes_the_next_break_screen_a_new_break(
    make_runtime, events_of
) -> None:
    runtime = make_runtime()
    first = show_break(runtime)
    heavy = show_break(runtime, "heavy")
    assert show_break(runtime, "heavy") == heavy
    answer(runtime, call("/__breather__/snooze"))
    after_snooze = show_break(runtime)
    answer(runtime, call("/__breather__/break"))
    after_break = show_break(runtime)
    assert show_break(runtime) == after_break
    assert len({first, heavy, after_snooze, after_break}) == 4, "each new break offers another exercise"
    reasons = [json.loads(e["detail"])["reason"] for e in events_of(runtime) if e["kind"] == "break_shown"]
    assert reasons == ["cadence", "heavy", "cadence", "cadence"]


SNOOZES_USED_UP = "This break can't be snoozed: your snoozes in a row are used up. Time for a real pause."


def use(runtime: Any, minutes: int) -> None:
    """Active use the way the overlay reports it: a heartbeat every 30 seconds."""
    for _ in range(minutes * 2):
        answer(runtime, call("/__breather__/heartbeat", b'{"visible": true, "active": true}'))


def let_the_snooze_run_out(runtime: Any) -> None:
    """What the clock does a few minutes after a snooze (the test does not wait for them)."""
    ended = datetime.now(UTC) - timedelta(seconds=1)
    runtime.sessions.update("me", lambda session: setattr(session, "snoozed_until", ended))


def heavy_posts_just_now(runtime: Any) -> None:
    now = datetime.now(UTC)
    runtime.sessions.update("me", lambda session: session.recent_warnings.extend([now] * 5))


@pytest.mark.parametrize("why", ["a break due", "heavy posts"])
def test_a_snooze_past_the_rules_limit_is_refused_and_the_break_stays(make_runtime, events_of, why) -> None:
    """A POST to /__breather__/snooze always snoozed: the profile's max_snoozes held only as long as the overlay
    hid its button."""
    runtime = make_runtime(rules_text(extra_me="max_snoozes = 1"))
    use(runtime, 26 if why == "a break due" else 0)
    heavy_posts_just_now(runtime)
    assert answer(runtime, call("/__breather__/snooze"))[0] == 200
    let_the_snooze_run_out(runtime)
    heavy_posts_just_now(runtime)

    status, refused = answer(runtime, call("/__breather__/snooze"))
    assert status == 409
    assert refused == {"error": "ApiError", "message": SNOOZES_USED_UP}
    _, heartbeat = answer(runtime, call("/__breather__/heartbeat", b'{"visible": true, "active": true}'))
    assert (heartbeat["break_due"], heartbeat["snooze_allowed"]) == (True, False)
    assert [event["kind"] for event in events_of(runtime)].count("break_snoozed") == 1


def test_a_second_tab_snoozing_the_same_break_does_not_use_up_another_snooze(make_runtime, events_of) -> None:
    """Two tabs under one break: the second tab's "5 more minutes" is the snooze already running."""
    runtime = make_runtime(rules_text(extra_me="max_snoozes = 2"))
    use(runtime, 26)
    _, first = answer(runtime, call("/__breather__/snooze"))
    _, second = answer(runtime, call("/__breather__/snooze"))
    assert first["snoozed_for_s"] == 300
    assert 290 <= second["snoozed_for_s"] <= 300
    let_the_snooze_run_out(runtime)
    _, heartbeat = answer(runtime, call("/__breather__/heartbeat", b'{"visible": true, "active": true}'))
    assert (heartbeat["break_due"], heartbeat["snooze_allowed"]) == (True, True)
    assert [event["kind"] for event in events_of(runtime)].count("break_snoozed") == 1


def pressed_done_a_minute_ago(runtime: Any, pause_left: timedelta) -> None:
    """What the clock does after "I'm done for now" (the test does not wait): pressed a minute ago, with
    ``pause_left`` of the break still to run (negative: over)."""
    now = datetime.now(UTC)
    runtime.sessions.update("me", lambda session: setattr(session, "break_began", now - timedelta(minutes=1)))
    runtime.sessions.update("me", lambda session: setattr(session, "break_until", now + pause_left))


HEARTBEAT = b'{"visible": true, "active": true}'


def test_scrolling_again_before_the_break_is_over_brings_the_break_back(make_runtime, events_of) -> None:
    """A user test pressed "I'm done for now" on "A pause of 5 minutes, until 15:07", opened the site again 13 s
    later and scrolled on: no break screen came, and the review counted the break as taken. Now the break is still
    owed: the next counted use brings its screen back, saying how long since the last real break."""
    runtime = make_runtime()
    use(runtime, 26)
    answer(runtime, call("/__breather__/break"))
    pressed_done_a_minute_ago(runtime, pause_left=timedelta(minutes=4))
    _, came_back = answer(runtime, call("/__breather__/heartbeat", HEARTBEAT))
    assert came_back["break_due"] is True
    assert came_back["reason"].startswith("26 minutes of scrolling since your last break"), came_back["reason"]
    assert [event["kind"] for event in events_of(runtime)].count("break_taken") == 1


def test_a_break_whose_pause_was_kept_is_over(make_runtime) -> None:
    runtime = make_runtime()
    use(runtime, 26)
    answer(runtime, call("/__breather__/break"))
    pressed_done_a_minute_ago(runtime, pause_left=-timedelta(seconds=1))
    _, later = answer(runtime, call("/__breather__/heartbeat", HEARTBEAT))
    assert later["break_due"] is False


def test_the_break_screen_offers_the_snooze_it_will_give(make_runtime) -> None:
    """Each snooze in a row is shorter (5, 3, 2, then 1 minute), but the button always said "5 more minutes" (an
    audit): the break due says the next snooze's length, and the snooze gives exactly that."""
    runtime = make_runtime(rules_text(extra_me="max_snoozes = 5"))
    use(runtime, 26)
    offered = []
    for _ in range(5):
        _, heartbeat = answer(runtime, call("/__breather__/heartbeat", b'{"visible": true, "active": true}'))
        assert heartbeat["break_due"] is True
        _, snoozed = answer(runtime, call("/__breather__/snooze"))
        assert snoozed["snoozed_for_s"] == heartbeat["snooze_minutes"] * 60
        offered.append(heartbeat["snooze_minutes"])
        let_the_snooze_run_out(runtime)
    assert offered == [5, 3, 2, 1, 1]
