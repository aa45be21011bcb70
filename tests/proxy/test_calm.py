"""Calm mode: counters and unread badges hidden in the platforms' JSON, nothing else changed; then every real feed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.calm import calm_body, calm_stylesheet
from tests.conftest import real_json_feeds
from tests.proxy.conftest import window_around_now

# Every key calm may touch, and what it may become (a callable check on the new value, or "gone").
ALLOWED_CHANGES: dict[str, Any] = {
    **dict.fromkeys(
        [
            "score",
            "ups",
            "downs",
            "num_comments",
            "num_crossposts",
            "total_awards_received",
            "inbox_count",
            "replies_count",
            "reblogs_count",
            "favourites_count",
            "quotes_count",
            "favorite_count",
            "retweet_count",
            "reply_count",
            "quote_count",
            "bookmark_count",
            "like_count",
            "impression_count",
            "ntab_unread_count",
            "dm_unread_count",
            "total_unread_count",
            "unreadCount",
            "count",
        ],
        lambda value: value == 0,
    ),
    "hide_score": lambda value: value is True,
    "score_hidden": lambda value: value is True,
    "has_mail": lambda value: value is False,
    "has_mod_mail": lambda value: value is False,
    "unread": lambda value: value is False,
    "read": lambda value: value is True,
    "state": lambda value: value == "Enabled",
    **dict.fromkeys(["likeCount", "repostCount", "replyCount", "quoteCount", "bookmarkCount"], "gone"),
}


def changes(before: Any, after: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, new value or "gone") for every leaf that differs."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[tuple[str, Any]] = [(f"{path}.{key}", "gone") for key in before if key not in after]
        found += [(f"{path}.{key}", after[key]) for key in after if key not in before]
        for key in before:
            if key in after:
                found += changes(before[key], after[key], f"{path}.{key}")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            change
            for index, pair in enumerate(zip(before, after, strict=True))
            for change in changes(*pair, path + f"[{index}]")
        ]
    return [] if before == after else [(path, after)]


def assert_only_calm_fields_changed(before: Any, after: Any) -> list[tuple[str, Any]]:
    found = changes(before, after)
    for path, value in found:
        key = path.rsplit(".", 1)[-1]
        rule = ALLOWED_CHANGES.get(key)
        assert rule is not None, f"calm changed {path}"
        assert (value == "gone") if rule == "gone" else rule(value), f"{path} became {value!r}"
    return found


def calm_json(document: Any, adapter: str, path: str = "/") -> Any:
    out = calm_body(json.dumps(document).encode(), adapter, path)
    assert out is not None
    calmed = json.loads(out)
    assert_only_calm_fields_changed(document, calmed)
    return calmed


def test_reddit_links_hide_their_score_and_comment_count_with_reddits_own_flag() -> None:
    listing = {
        "kind": "Listing",
        "data": {
            "after": "t3_b",
            "children": [
                {"kind": "t3", "data": {"name": "t3_a", "title": "A", "score": 4312, "ups": 4312, "num_comments": 87}}
            ],
        },
    }
    link = calm_json(listing, "reddit")["data"]["children"][0]["data"]
    assert link["hide_score"] is True
    assert (link["score"], link["ups"], link["num_comments"]) == (0, 0, 0)
    assert link["title"] == "A"


def test_reddit_comments_get_score_hidden_and_the_inbox_badge_goes() -> None:
    comment = {"kind": "t1", "data": {"name": "t1_c", "body": "hi", "score": 12, "score_hidden": False}}
    calmed = calm_json(comment, "reddit")["data"]
    assert calmed["score_hidden"] is True and calmed["score"] == 0
    me = {"name": "someone", "inbox_count": 3, "has_mail": True, "has_mod_mail": False, "link_karma": 10}
    calmed_me = calm_json(me, "reddit", "/api/v1/me")
    assert (calmed_me["inbox_count"], calmed_me["has_mail"], calmed_me["link_karma"]) == (0, False, 10)


def test_mastodon_status_counters_conversations_and_unread_count() -> None:
    status = {
        "id": "1",
        "content": "<p>hello</p>",
        "spoiler_text": "",
        "account": {"id": "9", "followers_count": 5},
        "replies_count": 2,
        "reblogs_count": 7,
        "favourites_count": 31,
    }
    calmed = calm_json([status], "mastodon", "/api/v1/timelines/home")[0]
    assert (calmed["replies_count"], calmed["reblogs_count"], calmed["favourites_count"]) == (0, 0, 0)
    assert calmed["account"]["followers_count"] == 5
    conversation = {"id": "c", "unread": True, "accounts": [], "last_status": status}
    assert calm_json([conversation], "mastodon", "/api/v1/conversations")[0]["unread"] is False
    assert calm_json({"count": 4}, "mastodon", "/api/v2/notifications/unread_count") == {"count": 0}
    assert calm_body(b'{"count": 4}', "mastodon", "/api/v1/some/other/count") is None


def announcement(announcement_id: str, *, read: bool) -> dict[str, Any]:
    """A server announcement in the shape of Mastodon's ``GET /api/v1/announcements``."""
    return {
        "id": announcement_id,
        "content": "<p>The server restarts for an upgrade on Sunday morning.</p>",
        "starts_at": None,
        "ends_at": None,
        "all_day": False,
        "published_at": "2026-11-20T08:00:00.000Z",
        "updated_at": "2026-11-20T08:00:00.000Z",
        "read": read,
        "mentions": [],
        "statuses": [],
        "tags": [],
        "emojis": [],
        "reactions": [{"name": "\U0001f44d", "count": 12, "me": False}],
    }


def test_mastodon_announcements_arrive_read_and_are_otherwise_untouched() -> None:
    page = [announcement("1", read=False), announcement("2", read=True)]
    calmed = calm_json(page, "mastodon", "/api/v1/announcements")
    assert [item["read"] for item in calmed] == [True, True], "no unread dot on the announcements megaphone"
    assert calmed[0]["reactions"] == page[0]["reactions"]
    all_read = json.dumps([announcement("2", read=True)]).encode()
    assert calm_body(all_read, "mastodon", "/api/v1/announcements") is None, "nothing unread: the original bytes"
    unread = json.dumps([announcement("3", read=False)]).encode()
    assert calm_body(unread, "mastodon", "/api/v1/timelines/home") is None, "only the announcements endpoint"


def test_x_counters_views_badges_and_the_new_posts_pill() -> None:
    legacy = {"id_str": "1", "full_text": "hi", "favorite_count": 120, "retweet_count": 4, "reply_count": 9}
    timeline = {
        "instructions": [
            {"type": "TimelineAddEntries", "entries": []},
            {"type": "TimelineShowAlert", "alertType": "NewTweets", "usersResults": []},
        ],
        "tweet": {"legacy": legacy, "views": {"count": "52311", "state": "EnabledWithCount"}},
    }
    out = calm_body(json.dumps(timeline).encode(), "twitter", "/i/api/graphql/x/HomeTimeline")
    assert out is not None
    calmed = json.loads(out)
    assert [item["type"] for item in calmed["instructions"]] == ["TimelineAddEntries"]
    assert calmed["tweet"]["views"] == {"state": "Enabled"}
    assert calmed["tweet"]["legacy"] == {**legacy, "favorite_count": 0, "retweet_count": 0, "reply_count": 0}
    v2 = {"data": [{"id": "1", "text": "hi", "public_metrics": {"like_count": 5, "retweet_count": 1}}]}
    assert calm_json(v2, "twitter")["data"][0]["public_metrics"] == {"like_count": 0, "retweet_count": 0}
    badge = {"ntab_unread_count": 3, "dm_unread_count": 1, "total_unread_count": 4, "is_from_urt": True}
    assert calm_json(badge, "twitter", "/i/api/2/badge_count/badge_count.json")["total_unread_count"] == 0


def test_bluesky_drops_the_optional_counts_of_a_post_view_and_zeroes_unread() -> None:
    post = {
        "uri": "at://did:plc:a/app.bsky.feed.post/1",
        "cid": "c",
        "author": {"did": "did:plc:a", "followersCount": 3},
        "record": {"text": "hi"},
        "likeCount": 40,
        "repostCount": 2,
        "replyCount": 1,
        "indexedAt": "2025-01-01T00:00:00Z",
    }
    calmed = calm_json({"feed": [{"post": post}], "cursor": "x"}, "bluesky", "/xrpc/app.bsky.feed.getTimeline")
    assert set(calmed["feed"][0]["post"]) == {"uri", "cid", "author", "record", "indexedAt"}
    assert calmed["cursor"] == "x"
    unread = calm_json({"count": 12}, "bluesky", "/xrpc/app.bsky.notification.getUnreadCount")
    assert unread == {"count": 0}
    convo = {"convos": [{"id": "1", "members": [], "unreadCount": 2, "muted": False}]}
    assert calm_json(convo, "bluesky", "/xrpc/chat.bsky.convo.listConvos")["convos"][0]["unreadCount"] == 0


def test_nothing_to_calm_unknown_sites_and_bad_bodies_give_none() -> None:
    assert calm_body(b'{"kind": "Listing", "data": {"children": []}}', "reddit", "/") is None
    assert calm_body(b'{"score": 5}', "hackernews", "/") is None
    assert calm_body(b'{"data": {"score": 5', "reddit", "/") is None
    assert calm_body(b"\xff\xfe{}", "mastodon", "/") is None
    already_calm = {"kind": "t3", "data": {"score": 0, "hide_score": True}}
    assert calm_body(json.dumps(already_calm).encode(), "reddit", "/") is None


def test_the_stylesheet_hides_hacker_news_points_and_old_reddit_scores() -> None:
    css = calm_stylesheet()
    assert 'span[id^="score_"]' in css and ".midcol .score" in css
    assert "display: none" in css and ".message-count" in css


PLATFORMS = ("reddit", "mastodon", "twitter", "bluesky")


def real_feed_names() -> list[str]:
    return real_json_feeds(PLATFORMS)


COUNTERS = {
    "reddit": {"score", "ups", "num_comments"},
    "mastodon": {"favourites_count", "reblogs_count", "replies_count"},
    # v1.1 user objects carry their own favourites_count (likes given): a profile figure, not a post's counter
    "twitter": {"favorite_count", "retweet_count", "reply_count", "quote_count", "like_count"},
    "bluesky": {"likeCount", "repostCount", "replyCount", "quoteCount"},
}


def visible_counters(document: Any, counters: set[str]) -> list[str]:
    """Counter keys that still show a number (Reddit's own hide flags count as hidden)."""
    found: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            hidden = node.get("hide_score") is True or node.get("score_hidden") is True
            found += [k for k, v in node.items() if k in counters and isinstance(v, int) and v and not hidden]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@pytest.mark.fixtures
@pytest.mark.parametrize("name", real_feed_names())
def test_every_real_feed_loses_its_counters_and_nothing_else(shared_fixtures: Path, name: str) -> None:
    platform = name.split("/", 1)[0]
    body = (shared_fixtures / "feeds" / name).read_bytes()
    before = json.loads(body)
    out = calm_body(body, platform, "/")
    if out is None:
        assert visible_counters(before, COUNTERS[platform]) == [], "counters were left showing"
        return
    after = json.loads(out)
    assert assert_only_calm_fields_changed(before, after)
    assert visible_counters(after, COUNTERS[platform]) == []


# --- in the response pipeline (real rules, real Boundaries decision, real FeedWarnings) ---------------------------

PIPELINE_RULES = """\
[household]
timezone = "UTC"
country = "GB"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "oauth.reddit.com"]

[profiles.me]
default = true
daily_limit = "1h"
calm = {calm}
{quiet}
"""


def quiet_hours_now() -> str:
    """A profile line whose quiet hours are in force right now."""
    return f'quiet_hours = {{ daily = "{window_around_now()}" }}'


def opened_anyway(runtime: Any, site: str, profile: str = "me") -> None:
    """The member pressed "Open anyway" on the quiet-hours page, as the local API records it: the site is open past
    quiet hours for a while, which is when calm shows (while the block itself holds, no request reaches the site)."""
    from datetime import UTC, datetime, timedelta

    from breather.runtime import lift_block

    lift_block(runtime, profile, site, "quiet_hours", datetime.now(UTC) + timedelta(minutes=15))


def listing_flow(runtime: Any, encoding: str | None = None) -> Any:
    """A JSON listing request that went through the real Boundaries request hook, then got its response."""
    import gzip

    from mitmproxy import http
    from mitmproxy.test import tflow

    from breather.proxy import flows
    from breather.proxy.boundaries import Boundaries

    children = [{"kind": "t3", "data": {"name": "t3_a", "title": "A calm title", "score": 4312, "hide_score": False}}]
    body = json.dumps({"kind": "Listing", "data": {"after": "t3_z", "children": children}}).encode()
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.path = "oauth.reddit.com", "/hot"
    flow.request.headers["sec-fetch-dest"] = "empty"
    flow.metadata.update({flows.SITE: "reddit.com", flows.ADAPTER: "reddit", flows.PROFILE: "me"})
    flow.response = None
    opened_anyway(runtime, "reddit.com")
    Boundaries(runtime).request(flow)
    assert flow.response is None, "open past quiet hours: the request goes to the site"
    headers = {"content-type": "application/json; charset=utf-8"}
    if encoding == "gzip":
        headers["content-encoding"] = "gzip"
    flow.response = http.Response.make(200, b"", headers)
    flow.response.raw_content = gzip.compress(body) if encoding == "gzip" else body
    return flow


def through_pipeline(runtime: Any, flow: Any) -> Any:
    import asyncio

    from breather.proxy.feed_warnings import FeedWarnings

    asyncio.run(FeedWarnings(runtime).response(flow))
    return flow


def test_calm_in_quiet_hours_hides_the_score_in_the_served_page(make_runtime: Any) -> None:
    runtime = make_runtime(PIPELINE_RULES.format(calm="true", quiet=quiet_hours_now()))
    flow = through_pipeline(runtime, listing_flow(runtime, "gzip"))
    link = json.loads(flow.response.content)["data"]["children"][0]["data"]
    assert link["hide_score"] is True and link["score"] == 0
    assert "content-encoding" not in flow.response.headers


@pytest.mark.parametrize(("calm", "quiet"), [("false", True), ("true", False)])
def test_calm_off_or_outside_its_windows_leaves_the_bytes_identical(make_runtime: Any, calm: str, quiet: bool) -> None:
    runtime = make_runtime(PIPELINE_RULES.format(calm=calm, quiet=quiet_hours_now() if quiet else ""))
    flow = listing_flow(runtime, "gzip")
    raw, headers = flow.response.raw_content, flow.response.headers.copy()
    through_pipeline(runtime, flow)
    assert flow.response.raw_content == raw
    assert flow.response.headers == headers


@pytest.mark.parametrize(("calm", "expected"), [("true", True), ("false", False)])
def test_html_pages_get_the_calm_stylesheet_and_script_only_when_calm_applies(
    make_runtime: Any, calm: str, expected: bool
) -> None:
    from mitmproxy import http
    from mitmproxy.test import tflow

    from breather.proxy import flows
    from breather.proxy.boundaries import Boundaries
    from breather.proxy.overlay import Overlay

    runtime = make_runtime(PIPELINE_RULES.format(calm=calm, quiet=quiet_hours_now()))
    flow = tflow.tflow()
    flow.request.host, flow.request.path = "old.reddit.com", "/"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.metadata.update({flows.SITE: "reddit.com", flows.ADAPTER: "reddit", flows.PROFILE: "me"})
    opened_anyway(runtime, "reddit.com")
    Boundaries(runtime).request(flow)
    assert flow.response is None, "open past quiet hours: the page comes from the site"
    page = b"<html><head><title>r</title></head><body><span class='score'>12</span></body></html>"
    flow.response = http.Response.make(200, page, {"content-type": "text/html; charset=utf-8"})
    Overlay(runtime).response(flow)
    body = flow.response.content
    assert (b'id="breather-calm-style"' in body) is expected
    nonce = flow.metadata[flows.NONCE].encode()
    assert (b'<script nonce="' + nonce + b'" id="breather-calm-script">' in body) is expected
    assert body.count(b"<script") == 1 + expected, "the overlay's script, and calm's only in a calm window"
