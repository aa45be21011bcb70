"""X/Twitter JSON: API v2 (``data`` as a list or one tweet, ``includes.tweets``), v1.1 (timelines as arrays,
search's ``statuses``, ``retweeted_status``/``quoted_status``) and x.com GraphQL timelines
(``...tweet_results.result.legacy``).

A flagged tweet gets ``possibly_sensitive: true``, which X's clients draw as a "this post may contain sensitive
content" interstitial. Topic quiet hours use the same field (X has no collapsed state), recorded as collapsed.
"""

from __future__ import annotations

from typing import Any

from breather.proxy.adapters.base import AdapterContext, Marked, is_collapsed, judge_text
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
            if isinstance(tweet.get("retweeted_status"), dict):
                continue
            finding = judge_text(tweet_text(tweet), ctx)
            if finding is None:
                continue
            tweet["possibly_sensitive"] = True
            marked_objects.add(id(tweet))
            post_id = text_id(tweet.get("id_str")) or text_id(tweet.get("id"))
            marked.append(Marked.of(finding, "possibly_sensitive", post_id, is_collapsed(finding, ctx)))
        for tweet in tweets:
            inner = tweet.get("retweeted_status")
            if isinstance(inner, dict) and id(inner) in marked_objects:
                tweet["possibly_sensitive"] = True
        return marked
