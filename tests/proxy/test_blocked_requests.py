"""During a limit or quiet hours no request reaches the site, not only page loads (a user test: during quiet hours a
feed's fetch from the block page itself, a reddit ``<iframe>`` on another site, ``curl -H 'Accept: */*'``, a
WebSocket upgrade and a tab left open all got the site). Every request goes through the real addon chain, on real
rules and a real runtime."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.addon import make_addons
from breather.proxy.boundaries import Boundaries
from breather.runtime import Runtime, lift_block
from tests.proxy.conftest import browser_request, rules_text, through_addons, window_around_now
from tests.proxy.test_boundaries import spend

REFUSED = "requests_refused"  # its name in /healthz
QUIET_NOW = f'quiet_hours = {{ daily = "{window_around_now()}" }}'


def request(
    runtime: Runtime,
    host: str = "www.reddit.com",
    path: str = "/r/aww/.json",
    dest: str | None = "empty",
    accept: str = "*/*",
    call: dict[str, Any] | None = None,
) -> Any:
    """One request from the member's browser through every addon's request hooks, as mitmproxy runs them; the flow
    has a response when Breather answered it itself. ``call``: a POST with this JSON body, as Breather's own scripts
    make."""
    flow = browser_request(host, path, dest=dest, accept=accept, call=call)
    return through_addons(make_addons(runtime), flow)


def refused(flow: Any) -> bool:
    response = flow.response
    return response is not None and response.status_code == 403 and "x-breather" in response.headers


@pytest.mark.parametrize(
    ("dest", "accept", "what"),
    [
        ("empty", "application/json", "a feed's fetch"),
        ("script", "*/*", "a script"),
        ("image", "image/avif,image/webp,*/*", "an image"),
        ("websocket", "*/*", "a WebSocket upgrade"),
        (None, "*/*", "curl -H 'Accept: */*'"),
    ],
)
def test_in_quiet_hours_every_request_that_is_not_a_page_gets_a_short_refusal(
    make_runtime, events_of, dest: str | None, accept: str, what: str
) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    flow = request(runtime, dest=dest, accept=accept)
    assert refused(flow), f"{what} went to the site during quiet hours"
    response = flow.response
    assert response.headers["x-breather"] == "quiet_hours"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/plain")
    text = response.content.decode()
    assert "The feeds rest until" in text and "was not sent to reddit.com" in text, text
    assert runtime.counters.get(REFUSED) == 1
    assert events_of(runtime) == [], "a refused request is not a block in the weekly review"


@pytest.mark.parametrize("dest", ["iframe", "frame"])
def test_a_blocked_site_in_a_frame_of_another_page_gets_the_block_page(make_runtime, dest: str) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    flow = request(runtime, host="old.reddit.com", path="/r/aww/", dest=dest, accept="text/html")
    assert flow.response is not None and flow.response.status_code == 200
    assert flow.response.headers["x-breather"] == "quiet_hours"
    assert b"The feeds rest until" in flow.response.content


def test_after_the_limit_a_script_s_request_is_refused_and_says_so(make_runtime) -> None:
    runtime = make_runtime()  # a 1-hour daily limit
    spend(runtime, 61)
    flow = request(runtime)
    assert refused(flow) and flow.response.headers["x-breather"] == "limit_reached"
    assert "You have used" in flow.response.content.decode()


def test_many_refused_requests_are_counted_and_logged_once_by_the_page_only(make_runtime, events_of) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    make_addons(runtime)
    assert runtime.health()["proxy"][REFUSED] == 0, "/healthz lists the counter from the start"
    page = request(runtime, path="/", dest="document", accept="text/html")
    assert page.response is not None and page.response.headers["x-breather"] == "quiet_hours"
    for _ in range(25):
        assert refused(request(runtime))
    assert runtime.health()["proxy"][REFUSED] == 25
    assert runtime.counters.get("pages_served") == 1
    assert [event["kind"] for event in events_of(runtime)] == ["quiet_hours_blocked"]


def test_breather_s_own_calls_still_work_on_a_blocked_site(make_runtime) -> None:
    """The overlay's heartbeat, the block page's "ask" and "open anyway" (the local API) and the extension's CA
    check (``GET /__breather__/ping``, any answer from Breather)."""
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    beat = request(runtime, path="/__breather__/heartbeat", call={"visible": True, "active": True})
    assert beat.response is not None and beat.response.status_code == 200
    assert json.loads(beat.response.content)["blocked"] is True

    ping = request(runtime, path="/__breather__/ping", dest="empty")
    assert ping.response is not None and ping.response.headers["content-type"] == "application/json"
    assert "x-breather" not in ping.response.headers
    assert runtime.counters.get(REFUSED) == 0


def test_open_anyway_lets_every_request_through_and_its_end_stops_the_next_one_at_once(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    lift_block(runtime, "me", "www.reddit.com", "quiet_hours", datetime.now(UTC) + timedelta(minutes=15))
    assert request(runtime).response is None
    assert request(runtime, dest="document", accept="text/html").response is None

    ended = datetime.now(UTC) - timedelta(seconds=1)
    runtime.sessions.update(
        "me", lambda session: session.overrides_until.update(dict.fromkeys(session.overrides_until, ended))
    )
    assert refused(request(runtime)), "the feed's next fetch after the override ended"


def test_a_break_due_and_an_allowed_site_let_every_request_through(make_runtime) -> None:
    runtime = make_runtime()  # a break after 25 minutes
    spend(runtime, 26)
    assert Boundaries(runtime).decide("me", "reddit.com", datetime.now(UTC)).kind == "break_due"
    assert request(runtime).response is None
    assert request(runtime, host="bank.example").response is None


def test_a_site_opened_anyway_is_calmed_when_the_profile_has_calm(make_runtime) -> None:
    """Calm is for a site open past quiet hours or a limit (README: "for instance after continue anyway")."""
    runtime = make_runtime(rules_text(extra_me=f"calm = true\n{QUIET_NOW}"))
    lift_block(runtime, "me", "www.reddit.com", "quiet_hours", datetime.now(UTC) + timedelta(minutes=15))
    flow = request(runtime)
    assert flow.response is None
    assert flow.metadata[flows.CALM_WINDOW] is True


# -- connections opened before the block began ------------------------------------------------------------------


def live_socket(runtime: Runtime) -> Any:
    from breather.proxy.intercept import Intercept

    flow = tflow.twebsocketflow(messages=False)
    flow.request.host = "streaming.mastodon.social"
    Intercept(runtime).requestheaders(flow)
    flow.metadata[flows.PROFILE] = "me"
    return flow


def deliver(addons: list[Any], flow: Any, from_client: bool, text: str) -> Any:
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

    message = WebSocketMessage(Opcode.TEXT, from_client, text.encode())
    flow.websocket.messages.append(message)
    for addon in addons:
        if hasattr(addon, "websocket_message"):
            addon.websocket_message(flow)
    return message


def test_an_open_websocket_carries_nothing_while_the_block_holds(make_runtime, monkeypatch) -> None:
    from breather.proxy import boundaries

    clock = [1000.0]
    monkeypatch.setattr(boundaries.time, "monotonic", lambda: clock[0])
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    until = datetime.now(UTC) + timedelta(minutes=15)
    lift_block(runtime, "me", "mastodon.social", "quiet_hours", until)
    addons, flow = make_addons(runtime), live_socket(runtime)
    assert flow.metadata[flows.SITE] == "mastodon.social"
    assert not deliver(addons, flow, False, '{"event":"update"}').dropped, "open anyway: the stream flows"

    ended = datetime.now(UTC) - timedelta(seconds=1)
    runtime.sessions.update(
        "me", lambda session: session.overrides_until.update(dict.fromkeys(session.overrides_until, ended))
    )
    clock[0] += boundaries.STREAM_RECHECK_S + 0.1
    assert deliver(addons, flow, False, '{"event":"update"}').dropped, "the override ended: nothing from the site"
    assert deliver(addons, flow, True, '{"type":"subscribe"}').dropped, "...and nothing to it"

    lift_block(runtime, "me", "mastodon.social", "quiet_hours", until)
    clock[0] += boundaries.STREAM_RECHECK_S + 0.1
    assert not deliver(addons, flow, False, '{"event":"update"}').dropped, "a new override: it flows again"


def test_an_open_event_stream_sends_nothing_while_the_block_holds_and_resumes_at_a_whole_event() -> None:
    from breather.proxy.live_events import EventStreamEditor

    blocked = [False]
    editor = EventStreamEditor(lambda events: events, lambda: blocked[0])
    assert editor(b"event: update\ndata: 1\n\n") == [b"event: update\ndata: 1\n\n"]
    blocked[0] = True
    assert editor(b"event: update\ndata: 2\n\nevent: upd") == []
    assert editor(b":thump\n") == [], "not even keep-alives: the stream is quiet"
    blocked[0] = False
    assert editor(b"ate\ndata: 3\n\nevent: update\ndata: 4\n\n") == [b"event: update\ndata: 4\n\n"], (
        "the rest of an event held back in half is not sent"
    )
    assert editor(b"event: delete\ndata: 5\n\n") == [b"event: delete\ndata: 5\n\n"]


def test_an_event_stream_of_a_site_that_becomes_blocked_stops(make_runtime, monkeypatch) -> None:
    from mitmproxy import http

    from breather.proxy import boundaries
    from breather.proxy.feed_warnings import FeedWarnings
    from breather.proxy.live_events import LiveEvents

    clock = [1000.0]
    monkeypatch.setattr(boundaries.time, "monotonic", lambda: clock[0])
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    lift_block(runtime, "me", "mastodon.social", "quiet_hours", datetime.now(UTC) + timedelta(minutes=15))
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.path = "mastodon.social", "/api/v1/streaming/user"
    flow.metadata.update({flows.SITE: "mastodon.social", flows.ADAPTER: "mastodon", flows.PROFILE: "me"})
    flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
    LiveEvents(runtime, FeedWarnings(runtime)).responseheaders(flow)
    stream = flow.response.stream
    assert callable(stream)
    delete = b"event: delete\ndata: 1\n\n"
    assert stream(delete) == [delete]

    ended = datetime.now(UTC) - timedelta(seconds=1)
    runtime.sessions.update(
        "me", lambda session: session.overrides_until.update(dict.fromkeys(session.overrides_until, ended))
    )
    clock[0] += boundaries.STREAM_RECHECK_S + 0.1
    assert stream(delete) == []


# -- a trailing dot on the host name is the same site -------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["reddit.com.:443", "old.reddit.com.:443", "WWW.Reddit.COM.:443", "reddit.com.", "x.com.:443"]
)
def test_a_trailing_dot_on_the_host_is_decrypted_like_the_site(make_runtime, target: str) -> None:
    """What mitmproxy matches ``allow_hosts`` against (``host:port``, from CONNECT, SNI or Host): a host not matched
    is tunnelled untouched, so no boundary, no minute and no warning (a user test: ``https://reddit.com./``)."""
    import re

    from mitmproxy.test import taddons

    from breather.proxy.intercept import Intercept

    runtime = make_runtime(rules_text().replace('"news.ycombinator.com"', '"news.ycombinator.com", "x.com"'))
    addon = Intercept(runtime)
    with taddons.context(addon) as tctx:
        addon.apply_rules()
        assert any(re.search(pattern, target, re.IGNORECASE) for pattern in tctx.options.allow_hosts), target
        host, _, port = target.partition(":")
        assert addon.is_intercepted(host, int(port or 443))
        for other in ("reddit.com..:443", "notreddit.com.:443", "reddit.com.evil.example.:443"):
            assert not any(re.search(pattern, other, re.IGNORECASE) for pattern in tctx.options.allow_hosts), other


@pytest.mark.parametrize("host", ["reddit.com.", "old.reddit.com.", "WWW.Reddit.COM."])
def test_a_trailing_dot_or_upper_case_host_is_blocked_like_the_site(make_runtime, events_of, host: str) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    page = request(runtime, host=host, path="/", dest="document", accept="text/html")
    assert page.metadata[flows.SITE] == "reddit.com"
    assert page.response is not None and page.response.headers["x-breather"] == "quiet_hours"
    assert refused(request(runtime, host=host))
    assert [event["site"] for event in events_of(runtime)] == ["reddit.com"]


def test_a_host_with_a_port_and_a_trailing_dot_is_in_its_domain() -> None:
    from breather.rules.model import host_in_domain, site_domain

    assert host_in_domain("reddit.com.:443", "reddit.com")
    assert host_in_domain("Old.Reddit.COM.:8443", "reddit.com.")
    assert not host_in_domain("notreddit.com.:443", "reddit.com")
    assert site_domain("WWW.Reddit.com.", ["Reddit.COM.", "www.reddit.com"]) == "reddit.com"


def test_mitmproxy_s_tls_to_the_site_gets_its_name_without_the_trailing_dot() -> None:
    """OpenSSL refuses ``reddit.com.`` as the name to verify: mitmproxy's TLS set-up to the site failed and the page
    hung (the end-to-end test opens one)."""
    from mitmproxy.connection import Server

    from breather.proxy.intercept import sni_without_trailing_dot

    by_address = Server(address=("old.reddit.com.", 443))
    sni_without_trailing_dot(by_address, None)
    assert by_address.sni == "old.reddit.com"
    from_the_browser = Server(address=("127.0.0.1", 443))
    sni_without_trailing_dot(from_the_browser, "x.com.")
    assert from_the_browser.sni == "x.com"
    plain = Server(address=("bsky.app", 443))
    sni_without_trailing_dot(plain, None)
    assert plain.sni is None, "left to mitmproxy"


def large_upload(runtime: Runtime, path: str = "/api/submit", call: dict[str, Any] | None = None) -> Any:
    """A POST whose body is over the size cap, as mitmproxy marks it (``stream``) before the ``requestheaders`` hook:
    it would be streamed to the site as it arrives, and ``request`` would run only once it had all gone."""
    flow = browser_request("www.reddit.com", path, dest="empty", call=call or {"upload": "x"})
    flow.request.stream = True
    for addon in make_addons(runtime):
        if hasattr(addon, "requestheaders"):
            addon.requestheaders(flow)
    return flow


def killed(flow: Any) -> bool:
    return flow.error is not None and flow.error.msg == flow.error.KILLED_MESSAGE


def test_in_quiet_hours_an_upload_too_big_to_read_first_is_cut_off_before_it_reaches_the_site(make_runtime) -> None:
    """A review sent 5 MB during quiet hours: it reached the site and the site's answer came back."""
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    assert killed(large_upload(runtime))
    assert runtime.counters.get(REFUSED) == 1
    allowed = large_upload(make_runtime())
    assert not killed(allowed) and allowed.response is None  # outside a block it streams to the site as before


def test_a_breather_call_too_big_to_read_first_never_reaches_the_site(make_runtime) -> None:
    assert killed(large_upload(make_runtime(), path="/__breather__/heartbeat"))
