"""Only the traffic a social site's own pages start is time on it (a reviewer: a homework page on example.org that
loads a pixel from www.reddit.com every 10 s put a minute on reddit, never opened, and its 1-minute limit closed
reddit). Browsers say who started a request in ``Sec-Fetch-Site``: another site's pixel, embedded post or video is
``cross-site``, and neither starts nor extends counted time; the site's own pages (``same-origin``, ``same-site``),
the member's own navigation (``none``, or a top-level page load from a link) and clients that do not say (an app,
a feed reader) count as before. Every request goes through the real addon chain, on real rules, a real runtime and
the real store; only the traffic addon's clock is moved, as in ``test_traffic_time``."""

from __future__ import annotations

from typing import Any

from tests.proxy.conftest import browser_request, rules_text, through_addons
from tests.proxy.test_traffic_time import LAPTOP, Member, activity

HOMEWORK = "https://example.org/homework/fractions"
BLUESKY = """
[sites.bluesky]
adapter = "bluesky"
domains = ["bsky.app", "public.api.bsky.app", "bsky.social"]
"""


def send(
    member: Member,
    host: str,
    path: str,
    dest: str,
    fetch_site: str,
    referer: str | None = None,
    origin: str | None = None,
) -> Any:
    """A request as Chromium sends it, with ``Sec-Fetch-Site`` and who started it (``Referer``, ``Origin``)."""
    flow = browser_request(host, path, dest=dest, device=LAPTOP)
    flow.request.headers["sec-fetch-site"] = fetch_site
    flow.request.headers["sec-fetch-mode"] = "navigate" if dest == "document" else "no-cors"
    if referer is not None:
        flow.request.headers["referer"] = referer
    if origin is not None:
        flow.request.headers["origin"] = origin
    return through_addons(member.addons, flow)


def pixel(member: Member, host: str = "www.reddit.com", path: str = "/pixel.gif") -> Any:
    """What another site's page loads from the social site in its background: a tracking pixel, an embed's image."""
    return send(member, host, path, "image", "cross-site", referer="https://example.org/")


def read_homework_with_a_pixel(member: Member, seconds: int, every: int = 10, **where: str) -> None:
    for _ in range(0, seconds, every):
        member.wait(every)
        pixel(member, **where)


def test_another_site_s_pixel_every_10_s_is_no_time_on_the_social_site(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    read_homework_with_a_pixel(member, 180)
    assert member.seconds_today() == 0
    assert member.seconds_today("www.reddit.com") == 0
    assert [row for row in activity(member.runtime) if row[1] == "traffic"] == []


def test_meta_s_pixel_and_a_youtube_embed_on_other_pages_put_nothing_on_facebook_or_youtube(
    make_runtime_at_midday,
) -> None:
    extra = """
[sites.facebook]
adapter = "facebook"
domains = ["facebook.com", "www.facebook.com"]

[sites.youtube]
adapter = "youtube"
domains = ["youtube.com", "www.youtube.com", "youtube-nocookie.com"]
"""
    member = Member(make_runtime_at_midday(rules_text(extra_profiles=extra)))
    send(member, "www.youtube-nocookie.com", "/embed/abc", "iframe", "cross-site", referer=HOMEWORK)
    for _ in range(18):
        member.wait(10)
        send(member, "www.facebook.com", "/tr/?id=1&ev=PageView", "image", "cross-site", referer=HOMEWORK)
        send(member, "www.youtube.com", "/iframe_api", "script", "cross-site", referer=HOMEWORK)
    seconds = member.runtime.sessions.read("me").seconds_today
    assert seconds == {}, f"{seconds} counted while the member only read {HOMEWORK}"


def test_a_pixel_never_brings_the_limit_of_a_site_the_member_never_opened(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday(rules_text(extra_me='limits = { reddit = "1m" }')))
    read_homework_with_a_pixel(member, 300)
    page = send(member, "www.reddit.com", "/", "document", "none")
    assert page.response is None, "the member's first visit of the day met the limit"


def test_a_pixel_does_not_extend_the_time_after_the_member_leaves_the_site(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    send(member, "www.reddit.com", "/r/aww/", "document", "none")
    for _ in range(6):  # a minute on reddit, its overlay blocked
        member.wait(10)
        send(member, "www.reddit.com", "/r/aww/.json", "empty", "same-origin")
    read_homework_with_a_pixel(member, 120)  # then the tab is closed; the homework page's pixel goes on
    assert member.seconds_today() == 60


def test_the_site_s_own_pages_are_counted_as_before(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    send(member, "www.reddit.com", "/r/aww/", "document", "none")
    for _ in range(18):
        member.wait(10)
        send(member, "www.reddit.com", "/r/aww/.json", "empty", "same-origin")
        send(member, "oauth.reddit.com", "/api/v1/me", "empty", "same-site")
    assert member.seconds_today() == 180


def test_a_top_level_page_load_from_another_site_s_link_is_the_member_on_the_site(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    send(member, "www.reddit.com", "/r/aww/", "document", "cross-site", referer="https://www.google.com/")
    for _ in range(12):
        member.wait(10)
        send(member, "www.reddit.com", "/r/aww/.json", "empty", "same-origin")
    assert member.seconds_today() == 120


def test_a_page_of_the_same_site_group_on_another_domain_is_the_site_s_own(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday(rules_text(extra_profiles=BLUESKY)))
    send(member, "bsky.app", "/", "document", "none")
    for _ in range(12):  # the app on bsky.app calls its server on bsky.social: cross-site, but the same group
        member.wait(10)
        send(member, "bsky.social", "/xrpc/app.bsky.feed.getTimeline", "empty", "cross-site", origin="https://bsky.app")
    # counted per site, from the first call to bsky.social on
    assert member.runtime.sessions.read("me").seconds_today == {"bsky.social": 110}


def test_a_cross_site_request_that_does_not_say_who_made_it_is_not_counted(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday(rules_text(extra_profiles=BLUESKY)))
    for _ in range(12):  # a page with a no-referrer policy, or a sandboxed frame (Origin: null)
        member.wait(10)
        send(member, "bsky.social", "/xrpc/com.atproto.server.describeServer", "empty", "cross-site", origin="null")
    assert member.runtime.sessions.read("me").seconds_today == {}


def test_an_app_or_a_feed_reader_that_sends_no_fetch_metadata_still_counts(make_runtime_at_midday) -> None:
    member = Member(make_runtime_at_midday())
    for _ in range(7):
        member.send("www.reddit.com", "/r/aww/.rss", None)  # no Sec-Fetch-* headers at all
        member.wait(30)
    assert member.seconds_today() == 6 * 30
