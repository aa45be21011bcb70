"""A tab that becomes blocked while open, and the answer to an ask for more time, in a real Chromium.

Every request of the tab is answered as the proxy answers it: a page load by the real ``Boundaries`` (the site's page
with the overlay, or Breather's block page under its own CSP), a ``/__breather__/`` call by the real ``LocalApi``, on
a real runtime (its store, its rules); the parent answers on the real dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.boundaries import Boundaries
from breather.proxy.local_api import LocalApi
from breather.proxy.overlay import inject, overlay_markup
from breather.runtime import Runtime
from tests.proxy.conftest import rules_text, window_around_now
from tests.proxy.test_ask_answer import FAMILY, answer_the_ask, dashboard

pytestmark = pytest.mark.e2e

SITE_URL = "http://127.0.0.1:9/r/all"  # never contacted: every request of the tab is answered below
NONCE = "re1oadn0nce"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; connect-src 'self'"
PAGE = b"<!doctype html><html><head><title>feed</title></head><body><h1>the feed</h1></body></html>"


class Proxied:
    """The proxy in front of one tab on reddit.com. ``loads`` is what each page load got: "site" or the block page's
    kind. ``from_cache`` "site" shows the site at every page load whatever the proxy decides, "block page" the first
    block page again (pages a service worker or a cache serves), to see that no page reloads for ever."""

    def __init__(
        self, runtime: Runtime, from_cache: str | None = None, check_s: float | None = None, **overlay: float
    ) -> None:
        self.boundaries = Boundaries(runtime)
        self.api = LocalApi(runtime, decide=self.boundaries.decide)
        self.from_cache = from_cache
        self.check_s = check_s  # how often a block page asks whether the site is open again (None: as shipped)
        self.overlay = {"heartbeat_s": 0.2, "pause_s": 0.1, **overlay}
        self.block_page: Any = None
        self.loads: list[str] = []
        self.calls: list[tuple[str, str]] = []  # the tab's /__breather__/ calls: path and body

    def answer(self, route: Any) -> None:
        request = route.request
        flow = tflow.tflow()
        flow.request.host = "www.reddit.com"
        flow.request.method = request.method
        flow.request.path = "/" + request.url.split("/", 3)[3]
        flow.metadata[flows.SITE] = "reddit.com"
        flow.metadata[flows.PROFILE] = "me"
        if flows.is_local_api(flow):
            self.calls.append((flow.request.path, request.post_data or ""))
            flow.request.content = (request.post_data or "").encode()
            flow.request.headers["x-breather"] = request.headers.get("x-breather", "")
            self.api.request(flow)
            assert flow.response is not None
            route.fulfill(
                status=flow.response.status_code, headers=dict(flow.response.headers), body=flow.response.content
            )
            return
        flow.request.headers["sec-fetch-dest"] = "document"
        if self.from_cache == "block page" and self.block_page is not None:
            flow.response = self.block_page
        elif self.from_cache != "site":
            self.boundaries.request(flow)
        if flow.response is None:
            self.loads.append("site")
            page = inject(PAGE, overlay_markup(NONCE, self.overlay))
            route.fulfill(status=200, headers={"Content-Type": "text/html", "Content-Security-Policy": CSP}, body=page)
            return
        self.loads.append(flow.response.headers["x-breather"])
        self.block_page = flow.response
        # the block page asks every 15 s whether the ask was answered; here every half second
        body = flow.response.content.replace(b'data-poll-s="15"', b'data-poll-s="0.5"')
        if self.check_s is not None:  # every minute whether the site is open again
            body = body.replace(b'data-check-s="60"', f'data-check-s="{self.check_s}"'.encode())
        route.fulfill(status=flow.response.status_code, headers=dict(flow.response.headers), body=body)


@pytest.fixture
def open_tab(headless_chromium: Any) -> Iterator[Any]:
    tabs: list[Any] = []

    def open_page(proxied: Proxied, init_script: str | None = None) -> Any:
        tab = headless_chromium.new_page()
        tab.set_default_timeout(10_000)
        tabs.append(tab)
        if init_script is not None:
            tab.add_init_script(init_script)
        tab.route(re.compile(r"^http://127\.0\.0\.1:9/.*"), proxied.answer)
        tab.route(re.compile(r"^(?!http://127\.0\.0\.1:9/).*"), lambda route: route.abort())  # no internet
        tab.goto(SITE_URL, wait_until="load")
        return tab

    yield open_page
    for tab in tabs:
        tab.close()


def use_minutes(runtime: Runtime, minutes: float) -> None:
    """Active use on reddit.com, as the overlay's heartbeats report it."""
    api = LocalApi(runtime)
    for _ in range(int(minutes * 2)):
        api.heartbeat("me", "reddit.com", {"visible": True, "active": True}, datetime.now(UTC))


def test_an_open_tab_that_crosses_the_limit_reloads_into_the_block_page(make_runtime, open_tab) -> None:
    from playwright.sync_api import expect

    runtime = make_runtime()  # a 1-hour daily limit
    use_minutes(runtime, 59)
    proxied = Proxied(runtime)
    tab = open_tab(proxied)
    expect(tab.locator("body > h1")).to_have_text("the feed")  # the site's own, beside a break screen's

    # each heartbeat counts 30 s: two more and the hour is used up, with the tab open
    expect(tab.locator("#breather-block h1")).to_have_text("That's your time for today", timeout=10_000)
    tab.wait_for_timeout(1000)
    assert proxied.loads == ["site", "limit_reached"]


def test_quiet_hours_beginning_while_the_tab_is_open_reload_it_into_the_quiet_page(make_runtime, open_tab) -> None:
    from playwright.sync_api import expect

    runtime = make_runtime()
    proxied = Proxied(runtime)
    tab = open_tab(proxied)
    expect(tab.locator("body > h1")).to_have_text("the feed")  # the site's own, beside a break screen's

    text = rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}')
    runtime.paths.rules_file.write_text(text, encoding="utf-8")
    assert runtime.rules.reload()
    expect(tab.locator("#breather-block h1")).to_have_text("Quiet hours")
    assert proxied.loads == ["site", "quiet_hours"]


def test_a_tab_that_still_shows_the_site_after_the_reload_is_not_reloaded_again(make_runtime, open_tab) -> None:
    from playwright.sync_api import expect

    runtime = make_runtime()
    use_minutes(runtime, 61)
    proxied = Proxied(runtime, from_cache="site")
    tab = open_tab(proxied)
    expect(tab.locator("body > h1")).to_have_text("the feed")  # the site's own, beside a break screen's

    tab.wait_for_timeout(3000)  # fifteen heartbeats, each answered "blocked"
    assert proxied.loads == ["site", "site"], "one reload, then no loop"
    expect(tab.locator("body > h1")).to_have_text("the feed")  # the site's own, beside a break screen's


def test_a_page_the_back_button_brings_back_after_the_limit_becomes_the_block_page(
    make_runtime_at_midday, open_tab
) -> None:
    """The feed kept in Chromium's back/forward cache came back whole, its timers resumed, and stayed until the next
    heartbeat (30 s here, as in the overlay's default): the page asks as it comes back."""
    from playwright.sync_api import expect

    runtime = make_runtime_at_midday()  # a 1-hour daily limit
    use_minutes(runtime, 50)
    proxied = Proxied(runtime, heartbeat_s=30)
    tab = open_tab(proxied)
    expect(tab.locator("body > h1")).to_have_text("the feed")  # the site's own, beside a break screen's
    use_minutes(runtime, 11)  # on another device
    tab.goto(SITE_URL + "/comments", wait_until="commit")
    expect(tab.locator("#breather-block h1")).to_have_text("That's your time for today")

    tab.go_back(wait_until="commit")
    expect(tab.locator("#breather-block h1")).to_have_text("That's your time for today", timeout=5_000)
    assert ("/__breather__/heartbeat", '{"visible":true,"active":false}') in proxied.calls, "restored, then asked"
    assert proxied.loads == ["site", "limit_reached", "limit_reached"]


def test_a_tab_left_open_and_not_in_use_becomes_the_block_page_when_the_limit_is_reached(
    make_runtime_at_midday, open_tab
) -> None:
    """Only a heartbeat that counted use was answered: a feed left open on the table showed until someone came back
    and used it for a heartbeat's 30 s."""
    from playwright.sync_api import expect

    runtime = make_runtime_at_midday()
    use_minutes(runtime, 50)
    proxied = Proxied(runtime, idle_s=0.1)  # nobody touches the page: its heartbeats count no use
    tab = open_tab(proxied)
    expect(tab.locator("body > h1")).to_have_text("the feed")  # the site's own, beside a break screen's
    use_minutes(runtime, 11)  # on another device

    expect(tab.locator("#breather-block h1")).to_have_text("That's your time for today")
    assert proxied.loads == ["site", "limit_reached"]
    assert ("/__breather__/heartbeat", '{"visible":true,"active":true}') not in proxied.calls


# Playwright's Chromium reports every page visible: the test moves the tab out of view and back by hand, as a switch of
# tabs does (visibilityState changes, then "visibilitychange" fires).
MOVABLE_VIEW = """
(() => {
  let state = "visible";
  Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get() { return state; } });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get() { return state !== "visible"; } });
  window.breatherTestView = (next) => { state = next; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""


def test_a_tab_brought_to_the_front_after_the_limit_becomes_the_block_page_at_once(
    make_runtime_at_midday, open_tab
) -> None:
    """A feed left in a background tab while the hour ran out elsewhere showed whole when its tab was chosen again,
    until its next heartbeat (a background tab's timers run at most once a minute in Chromium): it asks as it comes
    into view."""
    from playwright.sync_api import expect

    runtime = make_runtime_at_midday()  # a 1-hour daily limit
    use_minutes(runtime, 50)
    proxied = Proxied(runtime, heartbeat_s=30)
    tab = open_tab(proxied, init_script=MOVABLE_VIEW)
    expect(tab.locator("body > h1")).to_have_text("the feed")  # the site's own, beside a break screen's
    tab.evaluate("breatherTestView('hidden')")
    use_minutes(runtime, 11)  # in another tab

    tab.evaluate("breatherTestView('visible')")
    expect(tab.locator("#breather-block h1")).to_have_text("That's your time for today", timeout=5_000)
    assert proxied.loads == ["site", "limit_reached"]


def asked_at_the_limit(make_runtime: Any, open_tab: Any, **proxied: Any) -> tuple[Runtime, Proxied, Any]:
    """A member an hour into a 1-hour limit, on the block page, who has just asked for more time (the ask stored)."""
    from playwright.sync_api import expect

    runtime = make_runtime(FAMILY)
    use_minutes(runtime, 61)
    through = Proxied(runtime, **proxied)
    tab = open_tab(through)
    tab.locator("button.breather-ask").click()
    expect(tab.locator(".breather-status")).to_contain_text("Asked")
    assert runtime.writer.flush(5)
    return runtime, through, tab


def test_the_block_page_hears_the_yes_while_open_and_reloads_into_the_site(make_runtime, open_tab) -> None:
    from playwright.sync_api import expect

    runtime, proxied, tab = asked_at_the_limit(make_runtime, open_tab)
    expect(tab.locator(".breather-status")).to_contain_text("No answer yet")

    client, now = dashboard(runtime)
    answer_the_ask(client, "approve", grant="60")
    until = (now + timedelta(hours=1)).strftime("%H:%M")
    expect(tab.locator(".breather-status")).to_have_text(f"Yes: more time until {until} — reloading")
    # the site is back; an hour of use without a pause also brings its break screen (breaks run in extra time)
    expect(tab.locator("h1", has_text="the feed")).to_have_count(1)
    assert proxied.loads == ["limit_reached", "site"]


def test_the_quiet_hours_page_turns_into_the_site_when_quiet_hours_end(make_runtime, open_tab) -> None:
    """A quiet-hours page left open said "The feeds rest until 07:00" all morning, until someone reloaded it."""
    from playwright.sync_api import expect

    quiet = rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}')
    runtime = make_runtime(quiet)
    proxied = Proxied(runtime, check_s=0.5)
    tab = open_tab(proxied)
    expect(tab.locator("#breather-block h1")).to_have_text("Quiet hours")
    tab.wait_for_timeout(1500)  # three checks, each answered "still blocked"
    assert proxied.loads == ["quiet_hours"]

    runtime.paths.rules_file.write_text(rules_text(), encoding="utf-8")  # the window over
    assert runtime.rules.reload()
    expect(tab.locator("h1", has_text="the feed")).to_have_count(1)
    assert proxied.loads == ["quiet_hours", "site"]


def test_a_block_page_kept_by_a_cache_is_reloaded_once_when_the_site_opens(make_runtime, open_tab) -> None:
    from playwright.sync_api import expect

    runtime = make_runtime(rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now()}" }}'))
    proxied = Proxied(runtime, from_cache="block page", check_s=0.5)
    tab = open_tab(proxied)
    expect(tab.locator("#breather-block h1")).to_have_text("Quiet hours")
    runtime.paths.rules_file.write_text(rules_text(), encoding="utf-8")
    assert runtime.rules.reload()

    tab.wait_for_timeout(3000)  # six checks, each answered "open"
    assert proxied.loads == ["quiet_hours", "quiet_hours"], "one reload, then no loop"


class OverlappingPolls(Proxied):
    """Answers the block page's polls for the ask's answer two at a time, the first one late: as a busy store answers,
    the next poll is sent before the first comes back."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.held: Any = None

    def answer(self, route: Any) -> None:
        if route.request.url.endswith("/__breather__/ask-status"):
            if self.held is None:
                self.held = route
                return
            held, self.held = self.held, None
            super().answer(held)
        super().answer(route)


# Every text the block page's status line shows, in order, on the console.
SAY_STATUS = """
document.addEventListener("DOMContentLoaded", () => {
  const status = document.querySelector("#breather-block .breather-status");
  if (status) {
    new MutationObserver(() => console.log("status: " + status.textContent))
      .observe(status, { childList: true, characterData: true, subtree: true });
  }
});
"""


def test_a_poll_answered_after_the_yes_does_not_take_back_reloading(make_runtime, open_tab) -> None:
    """Two polls crossing (a busy store) both brought the yes: the second put "Yes: more time until ..." back over
    "— reloading", so the page seemed to wait for nothing until it reloaded (a flaky test showed it)."""
    from playwright.sync_api import expect

    runtime = make_runtime(FAMILY)
    use_minutes(runtime, 61)
    proxied = OverlappingPolls(runtime)
    tab = open_tab(proxied, init_script=SAY_STATUS)
    said: list[str] = []
    tab.on("console", lambda message: said.append(message.text))
    tab.locator("button.breather-ask").click()
    expect(tab.locator(".breather-status")).to_contain_text("Asked")
    assert runtime.writer.flush(5)

    client, now = dashboard(runtime)
    answer_the_ask(client, "approve", grant="60")
    expect(tab.locator("h1", has_text="the feed")).to_have_count(1)
    until = (now + timedelta(hours=1)).strftime("%H:%M")
    shown = [text for text in said if text.startswith("status: Yes")]
    assert shown and shown[-1] == f"status: Yes: more time until {until} — reloading", said


def test_the_block_page_says_the_parents_no_and_why_when_it_opens(make_runtime, open_tab) -> None:
    from playwright.sync_api import expect

    runtime, proxied, tab = asked_at_the_limit(make_runtime, open_tab)
    client, now = dashboard(runtime)
    answer_the_ask(client, "decline", reason="homework first")

    tab.reload()
    expect(tab.locator(".breather-status")).to_have_text(f"No: homework first (from {now:%H:%M})")
    tab.wait_for_timeout(1500)
    assert proxied.loads == ["limit_reached", "limit_reached"], "a no does not reload the page"


@pytest.mark.parametrize("check_s", [None, 0.5], ids=["yes", "yes and the open check"])
def test_a_yes_that_still_shows_the_block_page_after_its_reload_does_not_reload_again(
    make_runtime, open_tab, check_s
) -> None:
    """With the open check asking often, it and the yes each reloaded the cached page once (three loads)."""
    from playwright.sync_api import expect

    runtime, proxied, tab = asked_at_the_limit(make_runtime, open_tab, from_cache="block page", check_s=check_s)
    client, now = dashboard(runtime)
    answer_the_ask(client, "approve", grant="60")

    until = (now + timedelta(hours=1)).strftime("%H:%M")
    expect(tab.locator(".breather-status")).to_have_text(f"Yes: more time until {until}", timeout=10_000)
    tab.wait_for_timeout(3000)
    assert proxied.loads == ["limit_reached", "limit_reached"], "one reload, then no loop"
    expect(tab.locator(".breather-status")).to_have_text(f"Yes: more time until {until}")
