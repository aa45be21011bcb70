"""A tab already open when the site becomes blocked: the overlay's heartbeat answer says so, the way a page load of
the site would be answered (a user test: Alex's YouTube tab ran past her limit, heartbeats kept answering
``"break_due": false`` and nothing changed on the page; only a new page load got the block page)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mitmproxy.test import tflow

from breather.grants import let_through
from breather.proxy import flows
from breather.proxy.boundaries import Boundaries
from breather.proxy.local_api import LocalApi
from breather.runtime import Runtime
from tests.proxy.conftest import at_midday, block_token, rules_text, window_around_now

IN_USE = {"visible": True, "active": True}


def page_load(runtime: Runtime, profile: str = "me") -> Any:
    """A document request for reddit.com as Boundaries sees it; the flow has a response when Breather blocks."""
    flow = tflow.tflow()
    flow.request.host = "www.reddit.com"
    flow.request.path = "/"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.PROFILE] = profile
    Boundaries(runtime).request(flow)
    return flow


def heartbeat(api: LocalApi, profile: str = "me") -> dict[str, Any]:
    flow = tflow.tflow()
    flow.request.host = "www.reddit.com"
    flow.request.method = "POST"
    flow.request.path = "/__breather__/heartbeat"
    flow.request.headers["x-breather"] = "1"
    flow.request.content = json.dumps(IN_USE).encode()
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.PROFILE] = profile
    api.request(flow)
    assert flow.response is not None and flow.response.status_code == 200
    answer: dict[str, Any] = json.loads(flow.response.content)
    return answer


def use_for(api: LocalApi, minutes: int) -> dict[str, Any]:
    """Active use the way the overlay reports it; the last heartbeat's answer."""
    answer: dict[str, Any] = {}
    for _ in range(minutes * 2):
        answer = heartbeat(api)
    return answer


def test_the_heartbeat_that_crosses_the_limit_says_the_open_tab_is_blocked(make_runtime) -> None:
    runtime = make_runtime()  # a 1-hour daily limit
    api = LocalApi(runtime)

    before = use_for(api, 59)
    assert before["counted"] is True and before["blocked"] is False
    assert page_load(runtime).response is None

    after = use_for(api, 2)
    assert after["counted"] is True and after["blocked"] is True, after
    blocked_page = page_load(runtime).response
    assert blocked_page is not None and blocked_page.headers["x-breather"] == "limit_reached"


def test_quiet_hours_beginning_while_the_tab_is_open_block_it(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me='quiet_hours = { daily = "21:00-07:00" }'))
    api = LocalApi(runtime)
    evening = datetime.now(UTC).replace(hour=21, minute=0, second=0, microsecond=0)

    assert api.heartbeat("me", "reddit.com", IN_USE, evening - timedelta(seconds=30))["blocked"] is False
    assert api.heartbeat("me", "reddit.com", IN_USE, evening + timedelta(seconds=30))["blocked"] is True


def test_quiet_hours_now_block_the_open_tab_as_a_page_load(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}'))
    assert heartbeat(LocalApi(runtime))["blocked"] is True
    blocked_page = page_load(runtime).response
    assert blocked_page is not None and blocked_page.headers["x-breather"] == "quiet_hours"


def test_a_page_opened_anyway_is_not_reloaded_until_its_override_ends(make_runtime) -> None:
    runtime = make_runtime(at_midday(rules_text()))
    api = LocalApi(runtime)
    use_for(api, 61)
    token = block_token(page_load(runtime))
    after_the_friction_delay = datetime.now(UTC) + timedelta(seconds=11)
    assert api.override("me", "reddit.com", {"token": token}, after_the_friction_delay)["ok"] is True

    assert heartbeat(api)["blocked"] is False
    assert page_load(runtime).response is None, "the page load and the heartbeat say the same"
    ended = after_the_friction_delay + timedelta(minutes=16)
    assert api.heartbeat("me", "reddit.com", IN_USE, ended)["blocked"] is True


def test_a_parents_yes_keeps_the_open_tab_open(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_profiles='[profiles.sam]\ndaily_limit = "1h"\n'))
    api = LocalApi(runtime)
    use_for(api, 61)
    let_through(runtime, "me", "reddit.com", datetime.now(UTC) + timedelta(minutes=15))

    assert heartbeat(api)["blocked"] is False
    assert page_load(runtime).response is None


def test_a_parents_yes_to_an_ask_made_in_quiet_hours_opens_the_site(make_runtime) -> None:
    """A user test: a child asked from the quiet-hours page, a parent said yes, the page said "Yes: more time until
    12:43" and stayed shut."""
    runtime = make_runtime(rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}'))
    now = datetime.now(UTC)
    let_through(runtime, "me", "www.reddit.com", now + timedelta(minutes=15), asked_at=now - timedelta(minutes=2))

    assert heartbeat(LocalApi(runtime))["blocked"] is False
    assert page_load(runtime).response is None


def test_a_yes_to_an_ask_at_the_limit_does_not_open_quiet_hours(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}'))
    now = datetime.now(UTC)
    before_quiet_hours = now - timedelta(hours=3)  # window_around_now() began an hour ago
    let_through(runtime, "me", "reddit.com", now + timedelta(minutes=15), asked_at=before_quiet_hours)

    blocked_page = page_load(runtime).response
    assert blocked_page is not None and blocked_page.headers["x-breather"] == "quiet_hours"


def test_breaks_run_during_more_time_and_the_tab_and_a_page_load_agree(make_runtime) -> None:
    """A yes lifts the limit, not the break cadence: an hour without a pause brings its break on the open tab and on
    a page load alike (the extension's status counted down to a break the page never showed)."""
    runtime = make_runtime()  # a 1-hour daily limit, a break after 25 minutes, and a yes for more time
    api = LocalApi(runtime)
    use_for(api, 61)
    let_through(runtime, "me", "www.reddit.com", datetime.now(UTC) + timedelta(minutes=30))
    answer = heartbeat(api)
    assert answer["blocked"] is False and answer["break_due"] is True, answer
    loaded = page_load(runtime)
    assert loaded.response is None  # the site, past its limit by the yes
    assert loaded.metadata[flows.BREAK_DUE]["kind"] == "cadence"


def test_block_pages_shown_long_ago_are_forgotten(make_runtime) -> None:
    """Every block page's token stayed in memory for the service's life."""
    from breather.proxy.boundaries import BLOCK_TOKEN_LIFETIME
    from breather.runtime import PendingOverride

    runtime = make_runtime()
    api = LocalApi(runtime)
    use_for(api, 61)
    long_ago = datetime.now(UTC) - BLOCK_TOKEN_LIFETIME - timedelta(minutes=1)
    runtime.block_tokens["old"] = PendingOverride("old", "me", "reddit.com", "limit_reached", long_ago, timedelta(0))
    token = block_token(page_load(runtime))
    assert set(runtime.block_tokens) == {token}


def test_a_block_page_reloaded_for_hours_keeps_a_bounded_number_of_tokens(make_runtime) -> None:
    """A soak test: one token per block-page load, kept 12 hours (426 after 16 minutes of reloads)."""
    from breather.proxy.boundaries import MOST_BLOCK_TOKENS

    runtime = make_runtime()
    use_for(LocalApi(runtime), 61)  # past the 1-hour limit
    pages = [page_load(runtime) for _ in range(MOST_BLOCK_TOKENS + 20)]
    assert len(runtime.block_tokens) == MOST_BLOCK_TOKENS
    assert block_token(pages[-1]) in runtime.block_tokens  # the page on screen still works
    assert block_token(pages[0]) not in runtime.block_tokens


def test_a_heartbeat_that_counts_no_time_still_says_whether_the_tab_is_blocked(make_runtime) -> None:
    """A page restored by the Back button or a tab brought to the front asks at once, before any use is counted: a
    feed kept in the back/forward cache came back whole after the limit, for up to a heartbeat's 30 seconds."""
    runtime = make_runtime(at_midday(rules_text()))  # a 1-hour daily limit
    api = LocalApi(runtime)
    now = datetime.now(UTC)
    not_in_use = {"visible": True, "active": False}

    assert api.heartbeat("me", "reddit.com", not_in_use, now) == {"ok": True, "counted": False, "blocked": False}
    use_for(api, 61)
    assert api.heartbeat("me", "reddit.com", not_in_use, now) == {"ok": True, "counted": False, "blocked": True}
    hidden = {"visible": False, "active": False}
    assert api.heartbeat("me", "reddit.com", hidden, now)["blocked"] is True
