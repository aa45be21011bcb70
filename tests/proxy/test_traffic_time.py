"""Minutes come from a site's own traffic when the overlay's heartbeats never arrive (a user test blocked
``/__breather__/`` with a content-blocker rule and had 3+ minutes of YouTube against a 2-minute limit, and the
parent's dashboard showed none). Every request goes through the real addon chain, on real rules, a real runtime and
the real store; only the traffic addon's clock is moved by the test, so three minutes take no time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from breather.proxy.addon import make_addons
from breather.runtime import Runtime, group_name
from breather.store.db import open_database
from breather.store.model import Heartbeat
from breather.store.queries import minutes_today
from tests.proxy.conftest import browser_request, rules_text, through_addons, window_around_now, zone_at_midday

SITE = "reddit.com"
LAPTOP, PHONE = "192.168.1.20", "192.168.1.31"


class Member:
    """One member's browser (or app) through every addon, as mitmproxy runs the hooks: each hook on every addon in
    order, whether or not an earlier one answered. ``now`` is the traffic addon's clock, started 5 minutes ago so
    that everything it counts is in the past, as the store's readers expect."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.addons = make_addons(runtime)
        self.traffic = next(addon for addon in self.addons if type(addon).__name__ == "TrafficTime")
        self.now = datetime.now(UTC) - timedelta(minutes=5)
        self.traffic.clock = lambda: self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def send(
        self, host: str, path: str, dest: str | None, call: dict[str, Any] | None = None, device: str = LAPTOP
    ) -> Any:
        return through_addons(self.addons, browser_request(host, path, dest=dest, call=call, device=device))

    def load_page(self, host: str = "www.reddit.com") -> Any:
        return self.send(host, "/r/aww/", "document")

    def fetch_feed(self, host: str = "www.reddit.com") -> Any:
        return self.send(host, "/r/aww/.json", "empty")

    def overlay_heartbeat(self, visible: bool = True) -> Any:
        return self.send("www.reddit.com", "/__breather__/heartbeat", "empty", {"visible": visible, "active": True})

    def scroll(self, seconds: int, every: int = 10, heartbeats: int | None = None, visible: bool = True) -> None:
        """The page's feed fetched every ``every`` seconds for ``seconds``; the overlay's heartbeat every
        ``heartbeats`` seconds (a working overlay), else none (a blocked one)."""
        for elapsed in range(every, seconds + 1, every):
            self.wait(every)
            self.fetch_feed()
            if heartbeats is not None and elapsed % heartbeats == 0:
                self.overlay_heartbeat(visible)

    def seconds_today(self, site: str = SITE) -> float:
        return float(self.runtime.sessions.read("me").seconds_today.get(site, 0.0))


def stored_minutes(runtime: Runtime) -> Any:
    """Today's minutes as the dashboard and the limits read them from the store (a moment counted once)."""
    assert runtime.writer.flush(5)
    db = open_database(runtime.paths.database)
    try:
        rules = runtime.current_rules()
        return minutes_today(db, "me", datetime.now(UTC), rules.zone(), group_of=partial(group_name, rules))
    finally:
        db.close()


def activity(runtime: Runtime) -> list[tuple[str, str, float]]:
    """(site, source, seconds) of every span in the store, as the dashboard reads them."""
    assert runtime.writer.flush(5)
    with sqlite3.connect(runtime.paths.database) as connection:
        rows = connection.execute("select site, source, duration_s from activity order by start").fetchall()
    return [(site, source, round(seconds)) for site, source, seconds in rows]


def test_with_the_overlay_blocked_the_feed_s_traffic_counts_the_minutes_in_the_session_and_the_store(
    make_runtime_at_midday,
) -> None:
    member = Member(make_runtime_at_midday())
    member.load_page()
    member.scroll(180)  # three minutes, and not one heartbeat reaches Breather
    assert member.seconds_today() == 180
    assert round(stored_minutes(member.runtime).by_group["reddit"] * 60) == 180
    assert {source for _, source, seconds in activity(member.runtime) if seconds} == {"traffic"}


def test_with_the_overlay_working_the_traffic_adds_nothing_in_front_or_in_a_background_tab(
    make_runtime_at_midday,
) -> None:
    member = Member(make_runtime_at_midday())
    member.load_page()
    member.scroll(180, heartbeats=30)  # in front: six heartbeats
    # then left in the background, still polling its feed, its overlay saying it is there (a heartbeat with visible
    # false, which LocalApi takes and counts nothing for; overlay.js does not send one yet): Chromium wakes a hidden
    # tab's timers once a minute
    member.scroll(300, heartbeats=60, visible=False)
    assert member.seconds_today() == 6 * 30, "only the overlay's own heartbeats count"
    assert "traffic" not in {source for _, source, _ in activity(member.runtime)}


def test_a_fresh_page_s_first_half_minute_before_its_overlay_speaks_is_not_counted_twice(
    make_runtime_at_midday,
) -> None:
    member = Member(make_runtime_at_midday())
    member.load_page()
    member.scroll(30, every=5)  # the page loads its feed; the overlay's first heartbeat comes 30 s in
    member.overlay_heartbeat()
    member.scroll(25, every=5)
    assert member.seconds_today() == 30


def test_once_the_overlay_falls_silent_the_traffic_takes_over_where_its_last_heartbeat_ended(
    make_runtime_at_midday,
) -> None:
    member = Member(make_runtime_at_midday())
    member.load_page()
    member.scroll(60, heartbeats=30)  # two heartbeats, the last one 60 s in: the overlay counts 60 s
    member.scroll(240)  # the member turns on the blocker rule and keeps scrolling for four minutes
    assert member.seconds_today() == 60 + 210  # from the end of the last heartbeat's 30 s to the last fetch


def test_reloading_the_page_again_and_again_does_not_keep_the_time_uncounted(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    for _ in range(6):
        member.load_page()
        member.scroll(40)  # a reload every 40 s, each before its overlay's first heartbeat would be due
    assert member.seconds_today() == 6 * 40  # the first page's wait for its overlay ended; the reloads did not


def test_an_app_with_no_overlay_at_all_is_counted_from_its_second_request(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    for _ in range(7):
        member.send("oauth.reddit.com", "/api/v1/me/feed", None)  # a phone app: JSON only, no page, no overlay
        member.wait(30)
    assert member.seconds_today() == 6 * 30


def test_an_overlay_working_on_the_laptop_does_not_hide_the_phone_app_s_minutes(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    member.load_page()  # reddit in a laptop tab with a working overlay
    for elapsed in range(15, 181, 15):
        member.wait(15)
        member.send("oauth.reddit.com", "/api/v1/me/feed", None, device=PHONE)  # meanwhile the app on the phone
        member.fetch_feed()
        if elapsed % 30 == 0:
            member.overlay_heartbeat()
    assert member.seconds_today() >= 6 * 30 + 165, "the laptop's six heartbeats and the phone's 165 s"


def test_a_pause_longer_than_a_minute_between_requests_is_not_counted(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    member.fetch_feed()
    member.scroll(20)
    member.wait(10 * 60)  # a tab left alone that does not poll: ten minutes away
    member.fetch_feed()
    member.scroll(20)
    assert member.seconds_today() == 40


def test_the_limit_comes_from_traffic_time_and_then_every_request_is_refused(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday(rules_text(extra_me='limits = { reddit = "2m" }')))
    member.load_page()
    member.scroll(110)
    assert member.fetch_feed().response is None, "under the limit the feed still reaches the site"
    member.scroll(20)
    feed = member.fetch_feed()
    assert feed.response is not None and feed.response.status_code == 403, "the limit never came"
    assert feed.response.headers["x-breather"] == "limit_reached"
    page = member.load_page()
    assert page.response is not None and b"limit" in page.response.content.lower()


def test_requests_breather_refused_are_not_time_on_the_site(make_runtime_at_midday) -> None:
    member = Member(
        make_runtime_at_midday(
            rules_text(extra_me=f'quiet_hours = {{ daily = "{window_around_now(zone=zone_at_midday())}" }}')
        )
    )
    member.load_page()
    member.scroll(180)  # the block page's scripts keep asking; each gets Breather's refusal
    assert member.seconds_today() == 0
    assert [source for _, source, _ in activity(member.runtime)] == []


def test_the_extension_reporting_the_same_minutes_does_not_make_them_count_twice(make_runtime_at_midday) -> None:
    runtime = make_runtime_at_midday()
    member = Member(runtime)
    member.load_page()
    for _ in range(6):  # three minutes of scrolling; the extension reports the tab every 30 s as it does
        runtime.log_heartbeat(Heartbeat("me", "old.reddit.com", member.now, 0.0, "extension"))
        member.scroll(30)
    runtime.log_heartbeat(Heartbeat("me", "old.reddit.com", member.now, 0.0, "extension"))
    assert member.seconds_today() == 180
    assert ("old.reddit.com", "extension", 180) in activity(runtime), "the extension reported the three minutes too"
    today = stored_minutes(runtime)
    assert round(today.total * 60) == 180 and round(today.by_group["reddit"] * 60) == 180


def test_memory_is_kept_only_for_members_online_lately(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    member.load_page()
    member.overlay_heartbeat()
    member.scroll(30)
    member.wait(30 * 60)
    member.send("mastodon.social", "/api/v1/timelines/home", "empty")
    assert [(who, site) for who, _, site in member.traffic.stretches] == [("me", "mastodon.social")]
    assert member.traffic.overlay_heard == {}
