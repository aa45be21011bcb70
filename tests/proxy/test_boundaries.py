"""Limits, quiet hours and breaks on real rules, with usage fed the way the overlay feeds it."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.addon import make_addons
from breather.proxy.boundaries import Boundaries
from breather.proxy.local_api import LocalApi
from breather.runtime import Runtime
from tests.proxy.conftest import rules_text, window_around_now


def document(host: str = "www.reddit.com", profile: str = "me", dest: str = "document") -> Any:
    flow = tflow.tflow()
    flow.request.host = host
    flow.request.path = "/"
    flow.request.headers["sec-fetch-dest"] = dest
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.PROFILE] = profile
    return flow


def local_call(name: str, body: dict[str, Any], profile: str = "me") -> Any:
    flow = document(profile=profile)
    flow.request.method = "POST"
    flow.request.path = f"/__breather__/{name}"
    flow.request.headers["x-breather"] = "1"
    flow.request.headers["sec-fetch-dest"] = "empty"
    flow.request.content = json.dumps(body).encode()
    return flow


def spend(runtime: Runtime, minutes: float, profile: str = "me") -> None:
    """Active use the way the overlay reports it: heartbeats through the local API."""
    api = LocalApi(runtime)
    for _ in range(int(minutes * 2)):
        api.request(local_call("heartbeat", {"visible": True, "active": True}, profile))


def let_the_snooze_run_out(runtime: Runtime, profile: str = "me") -> None:
    """What the clock does a few minutes after a snooze (the test does not wait for them)."""
    ended = datetime.now(UTC) - timedelta(seconds=1)
    runtime.sessions.update(profile, lambda session: setattr(session, "snoozed_until", ended))


def heavy_posts_just_now(runtime: Runtime, profile: str = "me") -> None:
    """Five warnings in a row: what the content-warning step records for a heavy run."""
    now = datetime.now(UTC)
    runtime.sessions.update(profile, lambda session: session.recent_warnings.extend([now] * 5))


def test_quiet_hours_answer_the_page_with_breather_and_never_contact_the_site(make_runtime, events_of) -> None:
    runtime = make_runtime(rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}'))
    flow = document()
    Boundaries(runtime).request(flow)
    assert flow.response is not None
    assert flow.response.status_code == 200
    assert flow.response.headers["x-breather"] == "quiet_hours"
    assert flow.response.headers["cache-control"] == "no-store"
    page = flow.response.content.decode()
    assert "The feeds rest until" in page and "for me" not in page  # the person's own screen: no profile name
    assert [e["kind"] for e in events_of(runtime)] == ["quiet_hours_blocked"]


def test_after_the_daily_limit_the_page_is_a_limit_page_with_a_friction_delay(make_runtime, events_of) -> None:
    runtime = make_runtime()
    spend(runtime, 61)
    flow = document()
    Boundaries(runtime).request(flow)
    assert flow.response is not None and flow.response.headers["x-breather"] == "limit_reached"
    assert b'data-delay="10"' in flow.response.content
    assert "You have used 1 hour 1 minute of your 1 hour on all sites today." in flow.response.content.decode()
    assert "limit_reached" in [e["kind"] for e in events_of(runtime)]


def test_an_override_is_refused_before_the_friction_delay_and_lets_the_site_through_after(make_runtime) -> None:
    runtime = make_runtime()
    spend(runtime, 61)
    boundaries, api = Boundaries(runtime), LocalApi(runtime)
    blocked = document()
    boundaries.request(blocked)
    token = next(iter(runtime.block_tokens))

    early = local_call("override", {"token": token})
    api.request(early)
    assert json.loads(early.response.content)["ok"] is False

    pending = runtime.block_tokens[token]
    runtime.block_tokens[token] = type(pending)(
        **{**pending.__dict__, "issued_at": pending.issued_at - timedelta(seconds=11)}
    )
    late = local_call("override", {"token": token})
    api.request(late)
    assert json.loads(late.response.content)["ok"] is True

    again = document()
    boundaries.request(again)
    assert again.response is None


def test_a_break_that_is_due_is_marked_for_the_overlay(make_runtime) -> None:
    runtime = make_runtime()
    spend(runtime, 26)
    flow = document()
    Boundaries(runtime).request(flow)
    assert flow.response is None
    assert flow.metadata[flows.BREAK_DUE]["kind"] == "cadence"


def test_each_snooze_in_a_row_is_shorter(make_runtime, events_of) -> None:
    runtime = make_runtime(rules_text(extra_me="max_snoozes = 3"))
    spend(runtime, 26)
    api = LocalApi(runtime)
    lengths = []
    for _ in range(3):
        let_the_snooze_run_out(runtime)
        flow = local_call("snooze", {})
        api.request(flow)
        lengths.append(json.loads(flow.response.content)["snoozed_for_s"])
    assert lengths == [300, 180, 120]
    during = document()
    Boundaries(runtime).request(during)
    assert flows.BREAK_DUE not in during.metadata
    assert [e["kind"] for e in events_of(runtime)].count("break_snoozed") == 3


def test_taking_a_break_resets_the_cadence(make_runtime, events_of) -> None:
    runtime = make_runtime()
    spend(runtime, 26)
    api = LocalApi(runtime)
    api.request(local_call("break", {}))
    flow = document()
    Boundaries(runtime).request(flow)
    assert flows.BREAK_DUE not in flow.metadata
    assert "break_taken" in [e["kind"] for e in events_of(runtime)]


def test_a_heavy_run_of_warnings_prompts_a_break(make_runtime) -> None:
    runtime = make_runtime()
    heavy_posts_just_now(runtime)
    flow = document()
    Boundaries(runtime).request(flow)
    assert flow.metadata[flows.BREAK_DUE]["kind"] == "heavy"


def test_the_whole_chain_blocks_a_signed_in_member_by_their_own_rules(make_runtime) -> None:
    family = f'[profiles.sam]\nuser = "sam"\npassword = "pw"\nquiet_hours = {{ daily = "{window_around_now()}" }}\n'
    runtime = make_runtime(rules_text(extra_profiles=family))
    chain = make_addons(runtime)
    flow = tflow.tflow()
    flow.request.host = "old.reddit.com"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.request.headers["proxy-authorization"] = "Basic c2FtOnB3"
    for addon in chain:
        for hook in ("requestheaders", "request"):
            if flow.response is None and hasattr(addon, hook):
                getattr(addon, hook)(flow)
    assert flow.metadata[flows.PROFILE] == "sam"
    assert flow.response is not None and flow.response.headers["x-breather"] == "quiet_hours"


def zone_at_least_minutes_past_midnight(minutes: int) -> str:
    """A household time zone whose "today" already holds ``minutes``, so usage from the last hour is all today's
    whenever the test runs (UTC's today is only minutes old just after midnight)."""
    for zone in ("UTC", "Etc/GMT-6", "Etc/GMT+6"):  # Etc/GMT-6 is UTC+6
        local = datetime.now(ZoneInfo(zone))
        if local.hour * 60 + local.minute >= minutes:
            return zone
    raise AssertionError("unreachable: one of three zones six hours apart is past its first 75 minutes")


def refresh_from_store(runtime: Runtime) -> None:
    """What the service does every few seconds: read today's minutes from the store into the sessions."""
    from breather.runtime import StoreUsage
    from breather.store.db import open_database

    db = open_database(runtime.paths.database)
    try:
        StoreUsage(runtime).refresh(db)
    finally:
        db.close()


def test_a_limit_survives_a_restart_because_usage_comes_from_the_store(make_runtime) -> None:
    from breather.store.model import Heartbeat

    rules = rules_text().replace('timezone = "UTC"', f'timezone = "{zone_at_least_minutes_past_midnight(75)}"')
    runtime = make_runtime(rules)
    start = datetime.now(UTC) - timedelta(minutes=70)
    for minute in range(0, 65, 1):
        runtime.log_heartbeat(Heartbeat("me", "reddit.com", start + timedelta(minutes=minute), 60.0, "extension"))
    assert runtime.writer.flush(5)

    fresh = make_runtime(rules)  # a new service on the same home: nothing in memory
    flow = document()
    Boundaries(fresh).request(flow)
    assert flow.response is None

    refresh_from_store(fresh)
    blocked = document()
    Boundaries(fresh).request(blocked)
    assert blocked.response is not None and blocked.response.headers["x-breather"] == "limit_reached"


def test_one_tab_reported_by_the_overlay_and_the_extension_counts_once_toward_the_limit(make_runtime) -> None:
    """The overlay records reddit.com, the extension the tab's old.reddit.com: 40 minutes of one tab were 80 against
    the limit, and the page was blocked at half the time."""
    from breather.store.model import Heartbeat

    rules = rules_text().replace('timezone = "UTC"', f'timezone = "{zone_at_least_minutes_past_midnight(75)}"')
    runtime = make_runtime(rules)
    start = datetime.now(UTC) - timedelta(minutes=45)
    for minute in range(40):
        at = start + timedelta(minutes=minute)
        runtime.log_heartbeat(Heartbeat("me", "reddit.com", at, 60.0, "overlay"))
        runtime.log_heartbeat(Heartbeat("me", "old.reddit.com", at, 60.0, "extension"))
    assert runtime.writer.flush(5)
    refresh_from_store(runtime)
    flow = document()
    Boundaries(runtime).request(flow)
    assert flow.response is None, "40 minutes online is under the 1 h limit"
    decision = Boundaries(runtime).decide("me", "reddit.com", datetime.now(UTC))
    assert decision.kind != "limit_reached"


def test_a_limit_on_a_domain_counts_one_tab_once_though_the_overlay_and_the_extension_name_it_apart(
    make_runtime,
) -> None:
    """A review: with ``"reddit.com" = "20m"``, 12.5 minutes on old.reddit.com (the overlay's reddit.com, the
    extension's old.reddit.com) closed reddit.com: "25 minutes of your 20"."""
    from breather.store.model import Heartbeat

    limits = '[profiles.me.limits]\n"reddit.com" = "20m"\n'
    rules = rules_text(extra_profiles=limits).replace(
        'timezone = "UTC"', f'timezone = "{zone_at_least_minutes_past_midnight(75)}"'
    )
    runtime = make_runtime(rules)
    start = datetime.now(UTC) - timedelta(minutes=15)
    for beat in range(25):
        at = start + timedelta(seconds=30 * beat)
        runtime.log_heartbeat(Heartbeat("me", "reddit.com", at, 30.0, "overlay"))
        runtime.log_heartbeat(Heartbeat("me", "old.reddit.com", at, 30.0, "extension"))
    assert runtime.writer.flush(5)
    refresh_from_store(runtime)
    flow = document("old.reddit.com")
    Boundaries(runtime).request(flow)
    assert flow.response is None, "12.5 minutes on reddit.com is under its 20-minute limit"
    decision = Boundaries(runtime).decide("me", "reddit.com", datetime.now(UTC))
    assert decision.message.startswith("You have used 12 minutes of your 20 minutes on reddit.com today")


def test_reloading_a_block_page_is_one_block_and_no_time_on_the_site(make_runtime, events_of) -> None:
    """A user test reloaded the limit page four times in a minute: the site's time grew by 48 s and 'limit_reached'
    was logged five times. Time in front of Breather's own page is not time on the site, and a block is one event."""
    runtime = make_runtime(rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}'))
    boundaries = Boundaries(runtime)
    for _ in range(5):
        flow = document()
        boundaries.request(flow)
        assert flow.response is not None and flow.response.headers["x-breather"] == "quiet_hours"
    kinds = [e["kind"] for e in events_of(runtime)]
    assert kinds == ["quiet_hours_blocked"]
    assert runtime.writer.flush(5)
    with sqlite3.connect(runtime.paths.database) as connection:
        spans = connection.execute("select count(*) from activity").fetchone()[0]
    assert spans == 0


@pytest.mark.parametrize("page_asks_by", ["a page load", "a heartbeat"])
def test_a_break_taken_in_the_extension_makes_the_next_break_a_new_one(make_runtime, events_of, page_asks_by) -> None:
    """A break screen reloaded is one break (logged once); but a break taken where the proxy does not see it (the
    extension's "Take a break now" reaches it through the store) ends it, so the next break due is logged again."""
    from breather.store.model import Event

    runtime = make_runtime()
    boundaries = Boundaries(runtime)
    api = LocalApi(runtime, decide=boundaries.decide)

    def break_due_now() -> bool:
        if page_asks_by == "a page load":
            flow = document()
            boundaries.request(flow)
            return flows.BREAK_DUE in flow.metadata
        call = local_call("heartbeat", {"visible": True, "active": True})
        api.request(call)
        return bool(json.loads(call.response.content)["break_due"])

    spend(runtime, 26)
    assert break_due_now()
    for _ in range(3):
        api.request(local_call("break-shown", {"reason": "cadence"}))
    runtime.log_event(Event("me", "break_taken", datetime.now(UTC)))  # what the dashboard's /api/v1/events does
    refresh_from_store(runtime)
    assert not break_due_now()
    spend(runtime, 26)
    assert break_due_now()
    api.request(local_call("break-shown", {"reason": "cadence"}))
    assert [event["kind"] for event in events_of(runtime)].count("break_shown") == 2


@pytest.mark.parametrize(
    ("scrolled_minutes", "break_on_screen"),
    [(26, "cadence"), (0, "heavy")],
    ids=["a break due and heavy posts", "heavy posts alone"],
)
def test_a_page_load_and_a_heartbeat_show_the_same_break_and_the_same_snooze_button(
    make_runtime, scrolled_minutes, break_on_screen
) -> None:
    """A user test: with the one snooze allowed used, a break due and a run of heavy posts, a page load said "26
    minutes of scrolling…" with no snooze button and the next heartbeat "That was a lot of heavy posts…" with one.
    A heavy run alone, after the snoozes are used, offered a snooze on both."""
    runtime = make_runtime(rules_text(extra_me="max_snoozes = 1"))
    boundaries = Boundaries(runtime)
    api = LocalApi(runtime, decide=boundaries.decide)
    spend(runtime, scrolled_minutes)
    heavy_posts_just_now(runtime)
    first = local_call("snooze", {})
    api.request(first)
    assert first.response.status_code == 200
    let_the_snooze_run_out(runtime)
    heavy_posts_just_now(runtime)

    heartbeat = local_call("heartbeat", {"visible": True, "active": True})
    api.request(heartbeat)
    page = document()
    boundaries.request(page)

    told_by_heartbeat = json.loads(heartbeat.response.content)
    told_by_page = page.metadata[flows.BREAK_DUE]
    assert told_by_heartbeat["break_due"] is True
    assert {key: told_by_heartbeat[key] for key in ("kind", "reason", "snooze_allowed", "snooze_minutes")} == (
        told_by_page
    )
    assert (told_by_page["kind"], told_by_page["snooze_allowed"]) == (break_on_screen, False)
