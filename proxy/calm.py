"""Calm mode: take the pull out of a feed during quiet hours and after a limit.

Pure: no mitmproxy, no I/O. In the JSON APIs the clients read, engagement counters (scores, likes, reposts, reply
counts, views) and unread / "new posts" badges are hidden, but only in ways each platform's clients already handle:
a field the platform's own schema marks optional is removed, a counter the client must have is set to zero, and
where the platform has its own "hide this" flag (Reddit's ``hide_score`` / ``score_hidden``) that flag is set.
Which field, per platform, and why its clients tolerate it is in ``docs/calm.md``. HTML pages get
``proxy/assets/calm.css`` instead. Nothing else in a body changes; a body with nothing to calm gives None (send the
original bytes), and a body that is not JSON gives None too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from breather.proxy.adapters.jsonadapter import walk_dicts
from breather.proxy.adapters.jsonbody import dump_json, parse_json
from breather.proxy.calm_edits import drop_keys, set_value, zero_counts
from breather.proxy.calm_youtube import calm_youtube

Calmer = Callable[[Any, str], bool]
"""Calm one parsed document in place for a request path; True when anything changed."""


def calm_body(body: bytes, adapter_name: str, path: str) -> bytes | None:
    """The body with counters and badges hidden, or None when there was nothing to hide (or it is not JSON)."""
    calmer = _CALMERS.get(adapter_name)
    if calmer is None:
        return None
    parsed = parse_json(body)
    if parsed is None:
        return None
    document, style = parsed
    if not calmer(document, path):
        return None
    return dump_json(document, style)


@cache
def calm_stylesheet() -> str:
    """The CSS that hides counters and badges on the HTML pages of the supported sites."""
    return resources.files("breather.proxy").joinpath("assets/calm.css").read_text(encoding="utf-8")


def _each(document: Any, calm_one: Callable[[dict[str, Any]], bool]) -> bool:
    changed = False
    for node in list(walk_dicts(document)):
        changed = calm_one(node) or changed
    return changed


# Reddit -------------------------------------------------------------------------------------------------------

REDDIT_LINK_COUNTERS = ("score", "ups", "downs", "num_comments", "num_crossposts", "total_awards_received")
REDDIT_COMMENT_COUNTERS = ("score", "ups", "downs")
REDDIT_UNREAD_FLAGS = ("has_mail", "has_mod_mail")


def calm_reddit(document: Any, _path: str) -> bool:
    return _each(document, _calm_reddit_node)


def _calm_reddit_node(node: dict[str, Any]) -> bool:
    data = node.get("data")
    kind = node.get("kind")
    if isinstance(data, dict) and kind == "t3":
        hidden = set_value(data, "hide_score", True)
        return zero_counts(data, REDDIT_LINK_COUNTERS) or hidden
    if isinstance(data, dict) and kind == "t1":
        hidden = set_value(data, "score_hidden", True)
        return zero_counts(data, REDDIT_COMMENT_COUNTERS) or hidden
    if "inbox_count" in node:  # /api/v1/me
        flags = [set_value(node, key, False) for key in REDDIT_UNREAD_FLAGS if key in node]
        return zero_counts(node, ("inbox_count",)) or any(flags)
    return False


# Mastodon -----------------------------------------------------------------------------------------------------

MASTODON_STATUS_COUNTERS = ("replies_count", "reblogs_count", "favourites_count", "quotes_count")


def calm_mastodon(document: Any, path: str) -> bool:
    endpoint = path.split("?", 1)[0].rstrip("/")
    if endpoint.endswith("/notifications/unread_count") and isinstance(document, dict):
        return zero_counts(document, ("count",))
    if endpoint.endswith("/api/v1/announcements") and isinstance(document, list):
        return any([_read_announcement(item) for item in document if isinstance(item, dict)])
    return _each(document, _calm_mastodon_node)


def _calm_mastodon_node(node: dict[str, Any]) -> bool:
    if isinstance(node.get("content"), str) and "account" in node and "id" in node and "spoiler_text" in node:
        return zero_counts(node, MASTODON_STATUS_COUNTERS)
    if node.get("unread") is True and "last_status" in node and "accounts" in node:  # a conversation
        return set_value(node, "unread", False)
    return False


def _read_announcement(announcement: dict[str, Any]) -> bool:
    """An unread server announcement arrives read, so the web client draws no unread dot on its megaphone."""
    if announcement.get("read") is not False or "published_at" not in announcement:
        return False
    return set_value(announcement, "read", True)


# X / Twitter --------------------------------------------------------------------------------------------------

TWEET_COUNTERS = ("favorite_count", "retweet_count", "reply_count", "quote_count", "bookmark_count")
X_BADGE_COUNTERS = ("ntab_unread_count", "dm_unread_count", "total_unread_count")
X_NEW_POSTS_INSTRUCTION = "TimelineShowAlert"


def calm_twitter(document: Any, _path: str) -> bool:
    return _each(document, _calm_twitter_node)


def _calm_twitter_node(node: dict[str, Any]) -> bool:
    changed = False
    if ("full_text" in node or "text" in node) and ("id_str" in node or "id" in node):
        changed = zero_counts(node, TWEET_COUNTERS)
    metrics = node.get("public_metrics")
    if isinstance(metrics, dict) and ("like_count" in metrics or "retweet_count" in metrics):
        changed = zero_counts(metrics, tuple(metrics)) or changed
    views = node.get("views")
    if isinstance(views, dict) and "count" in views:
        del views["count"]
        views["state"] = "Enabled"
        changed = True
    if any(key in node for key in X_BADGE_COUNTERS):
        changed = zero_counts(node, X_BADGE_COUNTERS) or changed
    instructions = node.get("instructions")
    if isinstance(instructions, list):
        kept = [item for item in instructions if not _is_new_posts_alert(item)]
        if len(kept) != len(instructions):
            node["instructions"] = kept
            changed = True
    return changed


def _is_new_posts_alert(instruction: Any) -> bool:
    return isinstance(instruction, dict) and instruction.get("type") == X_NEW_POSTS_INSTRUCTION


# Bluesky ------------------------------------------------------------------------------------------------------

BLUESKY_POST_COUNTERS = ("likeCount", "repostCount", "replyCount", "quoteCount", "bookmarkCount")


def calm_bluesky(document: Any, path: str) -> bool:
    if "app.bsky.notification.getUnreadCount" in path and isinstance(document, dict):
        return zero_counts(document, ("count",))
    return _each(document, _calm_bluesky_node)


def _calm_bluesky_node(node: dict[str, Any]) -> bool:
    uri = node.get("uri")
    if isinstance(uri, str) and "/app.bsky.feed.post/" in uri and "author" in node:
        return drop_keys(node, BLUESKY_POST_COUNTERS)
    if "unreadCount" in node and "members" in node:  # a chat conversation view
        return zero_counts(node, ("unreadCount",))
    return False


_CALMERS: dict[str, Calmer] = {
    "reddit": calm_reddit,
    "mastodon": calm_mastodon,
    "twitter": calm_twitter,
    "bluesky": calm_bluesky,
    "youtube": calm_youtube,
}
