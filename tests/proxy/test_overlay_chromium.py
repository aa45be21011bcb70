"""The break screen in a real Chromium, under a nonce-only CSP, answered by the real local API.

The overlay's calls go to the page's own origin; here a route hands them to ``LocalApi`` on a real runtime (its
store, its rules), the way the proxy answers them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from breather.proxy.overlay import inject, overlay_markup
from tests.proxy.conftest import CSP, NONCE, CspSite, Proxy, rules_text

pytestmark = pytest.mark.e2e


def snoozes_used_up(make_runtime: Any) -> Any:
    """A profile allowed one snooze in a row, that snooze taken and run out, and a break due again."""
    runtime = make_runtime(rules_text(extra_me="max_snoozes = 1"))
    runtime.sessions.update("me", lambda session: setattr(session, "active_since_break_s", 26 * 60.0))
    runtime.sessions.update("me", lambda session: setattr(session, "snoozes_in_row", 1))
    ended = datetime.now(UTC) - timedelta(minutes=1)
    runtime.sessions.update("me", lambda session: setattr(session, "snoozed_until", ended))
    return runtime


def test_a_refused_snooze_leaves_the_break_screen_up_and_says_why(open_overlay, make_runtime) -> None:
    """The page was loaded with a snooze button (another tab, an older page); the proxy refuses the snooze."""
    from playwright.sync_api import expect

    proxy = Proxy(snoozes_used_up(make_runtime))
    tab = open_overlay({"break_due": True, "reason": "26 minutes", "break_kind": "cadence"}, proxy)
    tab.locator("button.breather-snooze").click()

    expect(tab.locator("#breather-break .breather-refused")).to_have_text(
        "This break can't be snoozed: your snoozes in a row are used up. Time for a real pause."
    )
    assert ("snooze", {}, 409) in proxy.calls
    expect(tab.locator("#breather-break")).to_be_visible()
    expect(tab.locator("button.breather-snooze")).to_have_count(0)
    expect(tab.locator("button.breather-done")).to_be_focused()
    assert tab.locator("[inert]").count() == 1, "the feed stays behind the break screen"


def test_a_break_from_a_heartbeat_has_no_snooze_button_when_not_allowed_and_is_logged_as_its_kind(
    open_overlay, make_runtime, events_of
) -> None:
    from playwright.sync_api import expect

    runtime = snoozes_used_up(make_runtime)
    now = datetime.now(UTC)
    runtime.sessions.update("me", lambda session: session.recent_warnings.extend([now] * 5))
    runtime.sessions.update("me", lambda session: setattr(session, "active_since_break_s", 0.0))
    proxy = Proxy(runtime)
    tab = open_overlay({"heartbeat_s": 0.2}, proxy)  # no break at the page load: the heartbeat brings it

    expect(tab.locator("#breather-break .breather-reason")).to_have_text(
        "That was a lot of heavy posts in a short while. A pause might help."
    )
    expect(tab.locator("button.breather-done")).to_be_visible()
    expect(tab.locator("button.breather-snooze")).to_have_count(0)
    assert ("break-shown", {"reason": "heavy"}, 200) in proxy.calls
    shown = [json.loads(event["detail"]) for event in events_of(runtime) if event["kind"] == "break_shown"]
    assert [entry["reason"] for entry in shown] == ["heavy"]


def test_the_snooze_button_says_what_it_gives(open_overlay, make_runtime) -> None:
    """Each snooze in a row is shorter; the button said "5 more minutes" every time (an audit). After one snooze the
    next break, brought by a heartbeat, offers 3."""
    from playwright.sync_api import expect

    runtime = make_runtime(rules_text(extra_me="max_snoozes = 3"))
    runtime.sessions.update("me", lambda session: setattr(session, "active_since_break_s", 26 * 60.0))
    runtime.sessions.update("me", lambda session: setattr(session, "snoozes_in_row", 1))
    proxy = Proxy(runtime)
    tab = open_overlay({"heartbeat_s": 0.2}, proxy)
    expect(tab.locator("button.breather-snooze")).to_have_text("3 more minutes")
    tab.locator("button.breather-snooze").click()
    assert any(name == "snooze" and status == 200 for name, _, status in proxy.calls)


def _heartbeats(proxy: Proxy, counting: bool = True) -> int:
    """Heartbeats that count time (``counting``), or the ones that only say the overlay is there (out of sight or
    idle: the proxy then knows not to count the page's own traffic as use)."""
    return sum(1 for name, body, _ in proxy.calls if name == "heartbeat" and (body.get("active") is True) is counting)


@pytest.mark.parametrize("playing", [True, False])
def test_a_video_playing_keeps_the_time_counted_without_a_key_pressed(open_overlay, make_runtime, playing) -> None:
    """A user test: a YouTube video watched without touching anything stopped the heartbeats after a minute, so an
    hour counted one minute and the limit never came. Without media playing, an idle page still stops counting."""
    proxy = Proxy(make_runtime())
    tab = open_overlay({"heartbeat_s": 0.1, "idle_s": 0.3}, proxy)
    if playing:  # a playing video, as the page's own player would have it (no media can load under this CSP)
        tab.evaluate(
            """() => { const video = document.createElement("video");
                Object.defineProperty(video, "paused", { value: false });
                Object.defineProperty(video, "readyState", { value: 4 });
                document.body.appendChild(video); }"""
        )
    tab.wait_for_timeout(600)  # past the idle time: no input since the page loaded (and routes answered meanwhile)
    before = _heartbeats(proxy)
    tab.wait_for_timeout(600)
    assert (_heartbeats(proxy) > before) is playing
    assert (_heartbeats(proxy, counting=False) > 0) is not playing  # idle, it still says it is there


@pytest.mark.parametrize("playing", [False, True])
def test_a_window_left_behind_stops_counting_unless_it_plays_something(open_overlay, make_runtime, playing) -> None:
    """A user test: with a second window in front, the first (still visible beside it) kept counting for a minute
    while the person scrolled the other one; both were on Today, and the sites added up to more than the total."""
    proxy = Proxy(make_runtime())
    tab = open_overlay({"heartbeat_s": 0.1, "idle_s": 60}, proxy)
    tab.wait_for_timeout(400)
    assert _heartbeats(proxy) > 0, "in front and recently used: counted"
    script = "() => { document.hasFocus = () => false; }"  # another window has the focus now
    if playing:
        script = """() => { document.hasFocus = () => false; const video = document.createElement("video");
            Object.defineProperty(video, "paused", { value: false });
            Object.defineProperty(video, "readyState", { value: 4 });
            document.body.appendChild(video); }"""
    tab.evaluate(script)
    tab.wait_for_timeout(300)
    before = _heartbeats(proxy)
    tab.wait_for_timeout(600)
    assert (_heartbeats(proxy) > before) is playing


# A video that plays without a sound: a "GIF" post, muted and looping; or a player turned all the way down.
SILENT_VIDEO = {
    "muted": """() => { const video = document.createElement("video"); video.muted = true;
        Object.defineProperty(video, "paused", { value: false });
        Object.defineProperty(video, "readyState", { value: 4 });
        document.body.appendChild(video); }""",
    "volume 0": """() => { const video = document.createElement("video"); video.volume = 0;
        Object.defineProperty(video, "paused", { value: false });
        Object.defineProperty(video, "readyState", { value: 4 });
        document.body.appendChild(video); }""",
}


@pytest.mark.parametrize("silent", sorted(SILENT_VIDEO))
def test_a_video_nobody_can_hear_is_not_use_once_the_person_is_idle(open_overlay, make_runtime, silent) -> None:
    """A review: a muted GIF post looping in a feed left open counted as watched, minute after minute, while
    nobody was at the computer (the extension, which counts a tab only while it plays sound, said idle)."""
    proxy = Proxy(make_runtime())
    tab = open_overlay({"heartbeat_s": 0.1, "idle_s": 0.3}, proxy)
    tab.evaluate(SILENT_VIDEO[silent])
    tab.wait_for_timeout(600)  # past the idle time: no input since the page loaded
    before = _heartbeats(proxy)
    tab.wait_for_timeout(600)
    assert _heartbeats(proxy) == before
    assert _heartbeats(proxy, counting=False) > 0  # it still says it is there


@pytest.mark.parametrize("silent", sorted(SILENT_VIDEO))
def test_a_video_nobody_can_hear_in_a_window_left_behind_is_not_use(open_overlay, make_runtime, silent) -> None:
    """A review: the same muted loop in a window behind the one the person was working in counted as watched."""
    proxy = Proxy(make_runtime())
    tab = open_overlay({"heartbeat_s": 0.1, "idle_s": 60}, proxy)
    tab.evaluate(SILENT_VIDEO[silent])
    tab.wait_for_timeout(400)
    assert _heartbeats(proxy) > 0, "in front and recently used: counted"
    tab.evaluate("() => { document.hasFocus = () => false; }")  # another window has the focus now
    tab.wait_for_timeout(300)
    before = _heartbeats(proxy)
    tab.wait_for_timeout(600)
    assert _heartbeats(proxy) == before


# A site's own elements that happen to use the overlay's class names (a forum's "Take a breather" thread, say).
SITE_OWN_CLASSES = (
    b"<!doctype html><html><head><title>forum</title></head><body>"
    b"<div class=breather-break id=thread>Take a breather: our weekly thread</div>"
    b"<p class='breather-card breather-note' id=card>a card</p><button class=breather-button id=button>Reply</button>"
    b"<div class=breather-toast id=toast>Saved</div><p id=feed>the feed</p></body></html>"
)
LOOK = """() => Object.fromEntries(["thread", "card", "button", "toast"].map((id) => {
    const s = getComputedStyle(document.getElementById(id));
    return [id, [s.position, s.zIndex, s.display, s.backgroundColor, s.fontSize, s.padding, s.textAlign]];
}))"""
ON_TOP_OF_THE_FEED = """() => { const r = document.getElementById("feed").getBoundingClientRect();
    const top = document.elementFromPoint(r.left + 2, r.top + 2);
    return top.closest("#breather-break") ? "break" : top.id; }"""


def _shown(tab: Any, page: bytes) -> tuple[Any, Any]:
    site = CspSite(page, CSP)
    try:
        tab.goto(site.url, wait_until="load")
        return tab.evaluate(LOOK), tab.evaluate(ON_TOP_OF_THE_FEED)
    finally:
        site.close()


def test_the_sites_own_elements_with_breather_classes_keep_their_look(headless_chromium: Any) -> None:
    """The overlay's stylesheet used global class selectors: a site's own ``.breather-break`` became a fixed,
    opaque, full-window layer over its feed on every page, with no break due. The break screen still covers it."""
    tab = headless_chromium.new_page()
    tab.set_default_timeout(10_000)
    tab.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    try:
        plain = _shown(tab, SITE_OWN_CLASSES.replace(b"<title>", f"<style nonce={NONCE}></style><title>".encode()))
        overlaid = _shown(tab, inject(SITE_OWN_CLASSES, overlay_markup(NONCE, {"heartbeat_s": 60})))
        on_a_break = _shown(tab, inject(SITE_OWN_CLASSES, overlay_markup(NONCE, {"break_due": True, "pause_s": 60})))
    finally:
        tab.close()
    assert plain[1] == "feed"
    assert overlaid == plain
    assert on_a_break[1] == "break"
