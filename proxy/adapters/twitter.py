"""X/Twitter JSON: API v2 (``data`` as a list or one tweet, ``includes.tweets``), v1.1 (timelines as arrays,
search's ``statuses``, ``retweeted_status``/``quoted_status``) and x.com GraphQL timelines
(``...tweet_results.result.legacy``).

A flagged tweet gets ``possibly_sensitive: true``, which X's clients draw as a "this post may contain sensitive
content" interstitial over its media only: a text-only post would show nothing, so its text also starts with
``⚠ Breather: self-harm — `` (after the reply's hidden @-names), every entity after that point moved along so that
links, mentions and hashtags stay where they were. Topic quiet hours use the same marks (X has no collapsed state),
recorded as collapsed.
"""

from __future__ import annotations

from typing import Any

from breather.proxy.adapters.base import (
    AdapterContext,
    Finding,
    Marked,
    has_title_warning,
    is_collapsed,
    judge_text,
    title_warning,
)
from breather.proxy.adapters.jsonadapter import JsonAdapter, find_posts, text_id, walk_dicts
from breather.proxy.adapters.textutil import join_texts


def is_tweet(node: dict[str, Any]) -> bool:
    has_text = isinstance(node.get("full_text"), str) or isinstance(node.get("text"), str)
    has_id = "id_str" in node or "id" in node
    return has_text and has_id and "indices" not in node


# A tweet's parts that never hold a tweet (hashtags, mentions, urls, media): the rest is searched, because
# retweets, quotes and GraphQL's *_result wrappers nest tweets under many different keys.
NO_TWEETS_INSIDE = frozenset({"entities", "extended_entities"})


def searched_parts(tweet: dict[str, Any]) -> list[Any]:
    return [value for key, value in tweet.items() if key not in NO_TWEETS_INSIDE]


def tweet_text(tweet: dict[str, Any]) -> str:
    note = tweet.get("note_tweet")
    long_text = note.get("text") if isinstance(note, dict) else None
    main = tweet.get("full_text") if isinstance(tweet.get("full_text"), str) else tweet.get("text")
    return long_text if isinstance(long_text, str) and long_text.strip() else join_texts(main)


def text_key(tweet: dict[str, Any]) -> str | None:
    for key in ("full_text", "text"):
        if isinstance(tweet.get(key), str):
            return key
    return None


def already_warned(tweet: dict[str, Any]) -> bool:
    """A tweet Breather prefixed before (a response seen twice): not judged again."""
    key = text_key(tweet)
    return key is not None and has_title_warning(str(tweet[key])[display_start(tweet) :])


def display_start(tweet: dict[str, Any]) -> int:
    """Where the shown text begins: v1.1 and GraphQL hide a reply's leading @-names before ``display_text_range``."""
    shown = tweet.get("display_text_range")
    if isinstance(shown, list) and len(shown) == 2 and all(isinstance(i, int) for i in shown):
        return max(0, shown[0])
    return 0


def prefix_text(holder: dict[str, Any], key: str, prefix: str) -> None:
    """Insert ``prefix`` where the text is shown and move every offset at or after it. X counts offsets in code
    points; the prefix has none outside the Basic Multilingual Plane, so UTF-16 counting moves by the same amount."""
    text = str(holder[key])
    at = min(display_start(holder), len(text))
    holder[key] = text[:at] + prefix + text[at:]
    shown = holder.get("display_text_range")
    if isinstance(shown, list) and len(shown) == 2 and isinstance(shown[1], int):
        holder["display_text_range"] = [shown[0], shown[1] + len(prefix)]
    for entities_key in ("entities", "extended_entities"):
        shift_entities(holder.get(entities_key), at, len(prefix))


def shift_entities(entities: Any, at: int, by: int) -> None:
    """v1.1/GraphQL entities carry ``indices: [start, end]``, v2 ``start``/``end``."""
    if not isinstance(entities, dict):
        return
    for items in entities.values():
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict):
                continue
            indices = item.get("indices")
            if isinstance(indices, list) and len(indices) == 2 and all(isinstance(i, int) for i in indices):
                if indices[0] >= at:
                    item["indices"] = [indices[0] + by, indices[1] + by]
            elif isinstance(item.get("start"), int) and isinstance(item.get("end"), int) and item["start"] >= at:
                item["start"], item["end"] = item["start"] + by, item["end"] + by


def mark_tweet(tweet: dict[str, Any], finding: Finding) -> None:
    """``possibly_sensitive`` and the text warning, on the tweet and on the long forms a client shows instead (v2's
    ``note_tweet``, v1.1's ``extended_tweet``)."""
    tweet["possibly_sensitive"] = True
    for holder in (tweet, tweet.get("note_tweet"), tweet.get("extended_tweet")):
        key = text_key(holder) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and key is not None and not already_warned(holder):
            prefix_text(holder, key, title_warning(finding))


class TwitterAdapter(JsonAdapter):
    name = "twitter"

    def feed_items(self, document: Any) -> list[list[Any]]:
        if isinstance(document, list) and document:
            return [document]
        if not isinstance(document, dict):
            return []
        for key in ("data", "statuses"):
            if isinstance(document.get(key), list) and document[key]:
                return [document[key]]
        return [
            node["entries"]
            for node in walk_dicts(document)
            if node.get("type") == "TimelineAddEntries" and isinstance(node.get("entries"), list) and node["entries"]
        ]

    def mark_document(self, document: Any, ctx: AdapterContext) -> list[Marked]:
        tweets = find_posts(document, is_tweet, searched_parts)
        marked: list[Marked] = []
        marked_objects: set[int] = set()
        for tweet in tweets:
            # A retweet wrapper shows its retweeted_status: judge that one once, and mark the wrapper with it.
            if isinstance(tweet.get("retweeted_status"), dict) or already_warned(tweet):
                continue
            finding = judge_text(tweet_text(tweet), ctx)
            if finding is None:
                continue
            mark_tweet(tweet, finding)
            marked_objects.add(id(tweet))
            post_id = text_id(tweet.get("id_str")) or text_id(tweet.get("id"))
            marked.append(Marked.of(finding, "possibly_sensitive", post_id, is_collapsed(finding, ctx)))
        for tweet in tweets:
            inner = tweet.get("retweeted_status")
            if isinstance(inner, dict) and id(inner) in marked_objects:
                tweet["possibly_sensitive"] = True
        return marked
