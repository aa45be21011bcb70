"""Uplift mode on JSON feed pages: small pages written here in the platforms' formats, then every real feed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.adapters import adapter_for
from breather.proxy.uplift import default_scorer, feed_posts, score_post, textblob_polarity, uplift_body
from breather.rules.uplift import GENTLE_MAX_SHIFT
from tests.conftest import real_json_feeds

HAPPY = "What a lovely sunny morning, so grateful for my wonderful friends!"
SAD = "I want to kill myself, nothing matters anymore and I feel hopeless"
PLAIN = "The council meets on Tuesday to discuss the new bus timetable for the town."


def marker_scorer(text: str) -> float | None:
    """+1 for HAPPY, -1 for SAD, 0 otherwise: the ordering tests should not depend on the classifier's tuning."""
    if "lovely" in text:
        return 1.0
    if "kill myself" in text:
        return -1.0
    return 0.0


# --- Reddit ---------------------------------------------------------------------------------------------------


def reddit_link(name: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "t3", "data": {"name": name, "id": name[3:], "title": title, "selftext": "", "score": 5, **extra}}


def reddit_listing(children: list[dict[str, Any]]) -> bytes:
    page = {
        "kind": "Listing",
        "data": {"after": "t3_next", "before": None, "dist": len(children), "children": children},
    }
    return json.dumps(page).encode()


def names(body: bytes) -> list[str]:
    return [child["data"]["name"] for child in json.loads(body)["data"]["children"]]


def test_reddit_strong_moves_the_uplifting_post_up_and_the_distressing_one_down() -> None:
    body = reddit_listing([reddit_link("t3_sad", SAD), reddit_link("t3_plain", PLAIN), reddit_link("t3_happy", HAPPY)])
    out = uplift_body(body, "reddit", "/hot.json", "strong", marker_scorer)
    assert out is not None
    assert names(out) == ["t3_happy", "t3_plain", "t3_sad"]
    assert json.loads(out)["data"]["after"] == "t3_next"


def test_reddit_stickied_posts_stay_on_top() -> None:
    body = reddit_listing(
        [
            reddit_link("t3_rules", SAD, stickied=True),
            reddit_link("t3_sad", SAD),
            reddit_link("t3_happy", HAPPY),
        ]
    )
    out = uplift_body(body, "reddit", "/r/x/hot.json", "strong", marker_scorer)
    assert out is not None
    assert names(out) == ["t3_rules", "t3_happy", "t3_sad"]


def test_gentle_moves_an_item_at_most_three_places() -> None:
    children = [reddit_link(f"t3_p{index}", PLAIN) for index in range(8)] + [reddit_link("t3_happy", HAPPY)]
    out = uplift_body(reddit_listing(children), "reddit", "/", "gentle", marker_scorer)
    assert out is not None
    assert names(out).index("t3_happy") == 8 - GENTLE_MAX_SHIFT
    strong = uplift_body(reddit_listing(children), "reddit", "/", "strong", marker_scorer)
    assert strong is not None and names(strong)[0] == "t3_happy"


def test_a_page_already_in_order_is_sent_as_it_was() -> None:
    body = reddit_listing([reddit_link("t3_happy", HAPPY), reddit_link("t3_sad", SAD)])
    assert uplift_body(body, "reddit", "/", "strong", marker_scorer) is None


def test_off_unknown_shapes_and_bad_bodies_pass_through() -> None:
    body = reddit_listing([reddit_link("t3_sad", SAD), reddit_link("t3_happy", HAPPY)])
    assert uplift_body(body, "reddit", "/", "off", marker_scorer) is None
    assert uplift_body(b'{"children": [1, 2, 3]}', "reddit", "/", "strong", marker_scorer) is None
    assert uplift_body(body[:-5], "reddit", "/", "strong", marker_scorer) is None
    assert uplift_body(b"\xff\xfe", "reddit", "/", "strong", marker_scorer) is None
    assert uplift_body(body, "hackernews", "/", "strong", marker_scorer) is None
    with pytest.raises(ValueError, match="unknown uplift mode 'loud'"):
        uplift_body(body, "reddit", "/", "loud", marker_scorer)


# --- Mastodon -------------------------------------------------------------------------------------------------


def status(identifier: str, content: str, language: str | None = "en", **extra: Any) -> dict[str, Any]:
    return {
        "id": identifier,
        "content": f"<p>{content}</p>" if content else "",
        "spoiler_text": "",
        "language": language,
        "account": {"id": "1", "acct": "someone"},
        "media_attachments": [],
        "reblog": None,
        **extra,
    }


def ids(body: bytes) -> list[str]:
    return [item["id"] for item in json.loads(body)]


def test_mastodon_pinned_media_only_and_other_language_statuses_keep_their_places() -> None:
    timeline = [
        status("pinned", SAD, pinned=True),
        status("sad", SAD),
        status("photo", "", media_attachments=[{"type": "image", "description": "a lovely dog"}]),
        status("german", "Ich bin so glücklich, was für ein lovely Tag", language="de"),
        status("link", "https://example.org/lovely"),
        status("happy", HAPPY),
    ]
    out = uplift_body(json.dumps(timeline).encode(), "mastodon", "/api/v1/timelines/home", "strong", marker_scorer)
    assert out is not None
    assert ids(out) == ["pinned", "happy", "photo", "german", "link", "sad"]


def test_mastodon_boost_is_judged_by_the_boosted_status() -> None:
    boost = status("boost", "", reblog=status("inner", HAPPY))
    timeline = [status("sad", SAD), boost]
    out = uplift_body(json.dumps(timeline).encode(), "mastodon", "/api/v1/timelines/home", "strong", marker_scorer)
    assert out is not None and ids(out) == ["boost", "sad"]


def test_mastodon_notifications_are_not_reordered() -> None:
    notifications = [
        {"id": "1", "type": "mention", "account": {"id": "2"}, "status": status("a", SAD)},
        {"id": "2", "type": "mention", "account": {"id": "3"}, "status": status("b", HAPPY)},
    ]
    body = json.dumps(notifications).encode()
    assert uplift_body(body, "mastodon", "/api/v1/notifications", "strong", marker_scorer) is None


# --- X / Twitter ----------------------------------------------------------------------------------------------


def graphql_tweet(rest_id: str, text: str, sort_index: str, lang: str = "en", **item_extra: Any) -> dict[str, Any]:
    result = {"__typename": "Tweet", "rest_id": rest_id, "legacy": {"full_text": text, "lang": lang}}
    return {
        "entryId": f"tweet-{rest_id}",
        "sortIndex": sort_index,
        "content": {
            "entryType": "TimelineTimelineItem",
            "itemContent": {"itemType": "TimelineTweet", "tweet_results": {"result": result}, **item_extra},
        },
    }


def cursor(kind: str, sort_index: str) -> dict[str, Any]:
    return {
        "entryId": f"cursor-{kind}-1",
        "sortIndex": sort_index,
        "content": {"entryType": "TimelineTimelineCursor", "value": f"{kind}-cursor-value", "cursorType": kind},
    }


def graphql_timeline(entries: list[dict[str, Any]]) -> bytes:
    instructions = [{"type": "TimelineClearCache"}, {"type": "TimelineAddEntries", "entries": entries}]
    return json.dumps({"data": {"home": {"home_timeline_urt": {"instructions": instructions}}}}).encode()


def graphql_entries(body: bytes) -> list[dict[str, Any]]:
    document = json.loads(body)
    return list(document["data"]["home"]["home_timeline_urt"]["instructions"][1]["entries"])


def test_x_graphql_cursors_stay_put_and_each_position_keeps_its_sort_index() -> None:
    entries = [
        cursor("Top", "1900"),
        graphql_tweet("1", SAD, "1899"),
        graphql_tweet("2", PLAIN, "1898"),
        graphql_tweet("3", HAPPY, "1897"),
        graphql_tweet("4", "https://t.co/abc @someone", "1896"),
        cursor("Bottom", "1895"),
    ]
    out = uplift_body(graphql_timeline(entries), "twitter", "/i/api/graphql/x/HomeTimeline", "strong", marker_scorer)
    assert out is not None
    result = graphql_entries(out)
    assert [entry["entryId"] for entry in result] == [
        "cursor-Top-1",
        "tweet-3",
        "tweet-2",
        "tweet-1",
        "tweet-4",
        "cursor-Bottom-1",
    ]
    assert [entry["sortIndex"] for entry in result] == ["1900", "1899", "1898", "1897", "1896", "1895"]
    assert result[0]["content"] == entries[0]["content"] and result[-1]["content"] == entries[-1]["content"]


def test_x_pinned_tweet_and_media_only_codes_keep_their_places() -> None:
    entries = [
        graphql_tweet("pin", SAD, "9", socialContext={"type": "TimelineGeneralContext", "contextType": "Pin"}),
        graphql_tweet("sad", SAD, "8"),
        graphql_tweet("media", "lovely https://t.co/x", "7", lang="qme"),
        graphql_tweet("happy", HAPPY, "6"),
    ]
    out = uplift_body(graphql_timeline(entries), "twitter", "/graphql/UserTweets", "strong", marker_scorer)
    assert out is not None
    assert [entry["entryId"] for entry in graphql_entries(out)] == [
        "tweet-pin",
        "tweet-happy",
        "tweet-media",
        "tweet-sad",
    ]


def test_x_v2_data_is_reordered_and_meta_kept() -> None:
    page = {
        "data": [{"id": "1", "text": SAD, "lang": "en"}, {"id": "2", "text": HAPPY, "lang": "en"}],
        "meta": {"next_token": "abc", "result_count": 2},
    }
    out = uplift_body(json.dumps(page).encode(), "twitter", "/2/users/1/timelines", "strong", marker_scorer)
    assert out is not None
    document = json.loads(out)
    assert [tweet["id"] for tweet in document["data"]] == ["2", "1"]
    assert document["meta"] == page["meta"]


# --- Bluesky --------------------------------------------------------------------------------------------------


def bsky_item(rkey: str, text: str, **extra: Any) -> dict[str, Any]:
    uri = f"at://did:plc:abc/app.bsky.feed.post/{rkey}"
    record = {"$type": "app.bsky.feed.post", "text": text, "langs": ["en"], "createdAt": "2025-01-01T00:00:00Z"}
    return {"post": {"uri": uri, "cid": "c" + rkey, "author": {"did": "did:plc:abc"}, "record": record}, **extra}


def test_bluesky_pinned_post_stays_first_and_the_cursor_is_unchanged() -> None:
    feed = {
        "feed": [
            bsky_item("pin", SAD, reason={"$type": "app.bsky.feed.defs#reasonPin"}),
            bsky_item("sad", SAD),
            bsky_item("empty", ""),
            bsky_item("happy", HAPPY),
        ],
        "cursor": "2025-01-01T00:00:00Z::bafy",
    }
    out = uplift_body(json.dumps(feed).encode(), "bluesky", "/xrpc/app.bsky.feed.getTimeline", "strong", marker_scorer)
    assert out is not None
    document = json.loads(out)
    assert [item["post"]["uri"].rsplit("/", 1)[1] for item in document["feed"]] == ["pin", "happy", "empty", "sad"]
    assert document["cursor"] == feed["cursor"]


# --- the real scorer ------------------------------------------------------------------------------------------


def test_the_real_scorer_ranks_an_uplifting_post_above_a_distressing_one_and_skips_other_languages() -> None:
    score = default_scorer()
    happy, sad, plain = score(HAPPY), score(SAD), score(PLAIN)
    assert happy is not None and sad is not None and plain is not None
    assert happy > plain > sad
    assert score("Wie geht es dir heute? Ich bin sehr froh, dass wir uns morgen wiedersehen.") is None


# --- every real feed ------------------------------------------------------------------------------------------

PLATFORMS = ("reddit", "mastodon", "twitter", "bluesky")


def real_feed_names() -> list[str]:
    return real_json_feeds(PLATFORMS)


# The recorded pages uplift sends back as they came, and why: everything else must come out reordered, so a page that
# silently stopped being read as a feed shows up here.
NOTHING_TO_REORDER = {
    "reddit/comment_context_6wmniq_removed.json": "a comment page: its one post is the only feed item",
    "reddit/comments_3hahrw_full.json": "a comment page: its one post is the only feed item",
    "reddit/comments_3hahrw_limit10.json": "a comment page: its one post is the only feed item",
    "reddit/r_askreddit_comments_listing.json": "a listing of comments, not of posts: no feed list",
    "reddit/r_ferguson_hot_quarantine_403.json": "a 403 error body: no feed list",
    "mastodon/notifications_v1.json": "notifications are not posts: none is scored",
    "mastodon/notifications_v2_grouped.json": "notifications are not posts: none is scored",
    "mastodon/status_with_spoiler_text_public.json": "a single status: no feed list",
    "mastodon/tag_timeline_page1.json": "every toot is tagged Japanese: none is scored",
    "twitter/v2_search_recent.json": "the only tweets judged are one retweet, thrice: equal scores keep their order",
    "bluesky/impro_single_post_view.json": "a single post: no feed list",
    "bluesky/marshalx_post_record.json": "a single record: no feed list",
    "bluesky/marshalx_thread_view_post_with_embed_media.json": "a thread view: no feed list",
}


@pytest.fixture(scope="module")
def real_scorer() -> Any:
    return default_scorer()


def canonical(document: Any, lists: list[list[Any]]) -> Any:
    """The document with every feed list sorted: equal before and after uplift iff only the order changed."""
    for items in lists:
        items.sort(key=lambda item: json.dumps(item, sort_keys=True))
    return document


@pytest.mark.fixtures
@pytest.mark.parametrize("mode", ["gentle", "strong"])
@pytest.mark.parametrize("name", real_feed_names())
def test_every_real_feed_keeps_every_item_cursor_and_field(
    shared_fixtures: Path, real_scorer: Any, name: str, mode: str
) -> None:
    platform = name.split("/", 1)[0]
    body = (shared_fixtures / "feeds" / name).read_bytes()
    out = uplift_body(body, platform, "/", mode, real_scorer)
    if name in NOTHING_TO_REORDER:
        assert out is None, NOTHING_TO_REORDER[name]
        return
    assert out is not None, f"{name}: a real feed page came back as it was"
    before, after = json.loads(body), json.loads(out)
    adapter = adapter_for(platform, "/", "application/json")
    lists_before = adapter.feed_items(before)  # type: ignore[union-attr]
    lists_after = adapter.feed_items(after)  # type: ignore[union-attr]
    assert [len(items) for items in lists_after] == [len(items) for items in lists_before]
    for old, new in zip(lists_before, lists_after, strict=True):
        assert sorted(json.dumps(i, sort_keys=True) for i in new) == sorted(json.dumps(i, sort_keys=True) for i in old)
        for position, item in enumerate(old):
            if pinned(item):
                assert new[position] == item, f"{name}: a pinned item moved from place {position}"
        if mode == "gentle":
            assert_gentle(old, new, platform, before, real_scorer)
    assert canonical(after, lists_after) == canonical(before, lists_before)


def assert_gentle(old: list[Any], new: list[Any], platform: str, document: Any, scorer: Any) -> None:
    """Counted among the items that can move (unscored and pinned ones stay put and are jumped over)."""
    posts = feed_posts(old, platform, document)
    movable = [position for position, post in enumerate(posts) if score_post(post, scorer) is not None]
    keys = [json.dumps(old[position], sort_keys=True) for position in movable]
    moved = [json.dumps(new[position], sort_keys=True) for position in movable]
    assert sorted(moved) == sorted(keys), "an item moved into or out of a fixed place"
    for rank, key in enumerate(moved):
        assert abs(keys.index(key) - rank) <= GENTLE_MAX_SHIFT


def pinned(item: Any) -> bool:
    data = item.get("data", {}) if isinstance(item, dict) else {}
    reason = item.get("reason") if isinstance(item, dict) else None
    return bool(
        (isinstance(data, dict) and data.get("stickied"))
        or (isinstance(item, dict) and item.get("pinned") is True)
        or (isinstance(reason, dict) and str(reason.get("$type", "")).endswith("#reasonPin"))
    )


@pytest.mark.fixtures
def test_strong_uplift_lifts_the_top_of_a_real_reddit_front_page(shared_fixtures: Path, real_scorer: Any) -> None:
    body = (shared_fixtures / "feeds" / "reddit" / "front_hot.json").read_bytes()
    out = uplift_body(body, "reddit", "/hot.json", "strong", real_scorer)
    assert out is not None

    def top_ten_polarity(page: bytes) -> float:
        children = json.loads(page)["data"]["children"][:10]
        return sum(textblob_polarity(child["data"]["title"]) for child in children) / 10

    assert top_ten_polarity(out) > top_ten_polarity(body)


# --- in the response pipeline (real rules, real classifier and TextBlob, real FeedWarnings) ----------------------

PIPELINE_RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "oauth.reddit.com"]

[profiles.me]
default = true
uplift = "{uplift}"
"""


def served(runtime: Any, body: bytes) -> Any:
    import asyncio

    from mitmproxy import http
    from mitmproxy.test import tflow

    from breather.proxy import flows
    from breather.proxy.feed_warnings import FeedWarnings

    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.path = "oauth.reddit.com", "/r/all/hot"
    flow.metadata.update({flows.SITE: "reddit.com", flows.ADAPTER: "reddit", flows.PROFILE: "me"})
    flow.response = http.Response.make(200, b"", {"content-type": "application/json"})
    flow.response.raw_content = body
    asyncio.run(FeedWarnings(runtime).response(flow))
    return flow


PAGE = reddit_listing([reddit_link("t3_plain", PLAIN), reddit_link("t3_happy", HAPPY)])


def test_the_pipeline_serves_an_uplifted_page_to_a_strong_profile(make_runtime: Any) -> None:
    runtime = make_runtime(PIPELINE_RULES.format(uplift="strong"), classify_budget_ms=5000)
    flow = served(runtime, PAGE)
    assert names(flow.response.content) == ["t3_happy", "t3_plain"]


def test_uplift_off_sends_the_page_byte_for_byte(make_runtime: Any) -> None:
    runtime = make_runtime(PIPELINE_RULES.format(uplift="off"))
    assert served(runtime, PAGE).response.raw_content == PAGE


def test_a_failing_uplift_sends_the_page_as_it_was(make_runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from breather.proxy import feed_warnings

    def broken(*_args: Any) -> bytes:
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(feed_warnings, "soothe_body", broken)
    runtime = make_runtime(PIPELINE_RULES.format(uplift="strong"))
    flow = served(runtime, PAGE)
    assert flow.response.raw_content == PAGE
    assert runtime.counters.snapshot()["passed_after_error"] == 1


def test_the_budget_leaves_the_rest_of_a_page_unscored() -> None:
    from breather.proxy.feed_warnings import budgeted

    calls: list[str] = []

    def slow(text: str) -> float:
        calls.append(text)
        return 1.0

    ran_out: list[bool] = []
    scorer = budgeted(slow, -1.0, lambda: ran_out.append(True))  # already spent after the first post
    assert scorer("first") == 1.0
    assert scorer("second") is None and scorer("third") is None
    assert calls == ["first"] and ran_out == [True]


def test_a_page_uplift_ran_out_of_time_on_is_not_kept_as_read(
    make_runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posts past the budget stay in place: a copy the browser kept (its validator tagged as read under these rules)
    would keep that half-done order while the site answers 304, though a later reading would finish it."""
    import time

    from breather.proxy import flows
    from breather.proxy.feed_warnings import FeedWarnings

    runtime = make_runtime(PIPELINE_RULES.format(uplift="strong"), classify_budget_ms=50)
    served(runtime, PAGE)  # the warnings' verdicts cached: only uplift's scoring is slow below

    def slow(text: str) -> float:
        time.sleep(0.1)
        return 1.0 if text == HAPPY else 0.0

    monkeypatch.setattr(FeedWarnings, "scorer_for", lambda _self, _profile: slow)
    flow = served(runtime, PAGE)
    assert flow.metadata.get(flows.READ_IN_PART) is True
