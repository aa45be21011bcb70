"""Uplift mode for JSON feed pages: uplifting posts move up, distressing ones sink, inside one page.

Pure: no mitmproxy, no I/O. The adapters name the reorderable lists of a page (``feed_items``); this module reads
each item's text, scores it, and lets :func:`breather.rules.uplift.reorder` decide the order. Only whole items move,
inside their own list: cursors, ids and every field stay as they were. An item that cannot be judged fairly (no
text, media only, another language, a cursor, an ad, a notification) gets no score, and unscored and pinned items
keep their places, so nothing climbs by accident.

The one exception to "fields unchanged" is X's GraphQL ``sortIndex``: X's web client orders timeline entries by it,
so it belongs to the position, not the entry. Each position keeps the ``sortIndex`` it had.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from breather.proxy.adapters import adapter_for
from breather.proxy.adapters.jsonadapter import JsonAdapter
from breather.proxy.adapters.jsonbody import dump_json, parse_json
from breather.proxy.adapters.reddit import link_text
from breather.proxy.adapters.registry import is_json
from breather.proxy.adapters.textutil import html_to_text, join_texts
from breather.proxy.adapters.twitter import tweet_text
from breather.proxy.calm_media import calm_response
from breather.rules.uplift import UPLIFT_MODES, Item, UpliftMode, reorder, uplift_score

Scorer = Callable[[str], float | None]
"""Score one post's plain text: > 0 uplifting, < 0 distressing, None when it cannot be judged."""

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@[\w.\-]+(?:@[\w.\-]+)?")
_LETTER = re.compile(r"[^\W\d_]")
# Verdict.reason values that say the classifier could not read the text as English prose.
_NOT_JUDGED = frozenset({"empty", "binary", "not_text", "no_words", "unsupported_script", "likely_not_english"})


@dataclass(frozen=True)
class Post:
    """What uplift needs from one feed item: its text (None: nothing to judge), its languages, whether pinned."""

    text: str | None
    languages: tuple[str, ...] = ()
    pinned: bool = False


EMPTY = Post(text=None)


def uplift_body(body: bytes, adapter_name: str, path: str, mode: str, scorer: Scorer) -> bytes | None:
    """The feed page with its items reordered, or None when nothing moved (send the body as it is).

    ``body`` is the decoded JSON (identity encoding); ``adapter_name`` the site group's adapter. A body that is not
    JSON, or a page the adapter does not know as a feed, gives None.
    """
    if mode not in UPLIFT_MODES:
        raise ValueError(f"unknown uplift mode {mode!r}; expected one of {', '.join(UPLIFT_MODES)}")
    if mode == "off" or adapter_name not in _READERS:
        return None
    adapter = adapter_for(adapter_name, path, "application/json")
    if not isinstance(adapter, JsonAdapter):
        return None
    parsed = parse_json(body)
    if parsed is None:
        return None
    document, style = parsed
    moved = False
    for items in adapter.feed_items(document):
        moved = reorder_list(items, adapter_name, document, _mode(mode), scorer) or moved
    return dump_json(document, style) if moved else None


def reorder_list(items: list[Any], adapter_name: str, document: Any, mode: UpliftMode, scorer: Scorer) -> bool:
    """Reorder ``items`` in place; True when anything moved."""
    posts = feed_posts(items, adapter_name, document)
    scored = [Item(score=score_post(post, scorer), pinned=post.pinned) for post in posts]
    order = reorder(scored, mode)
    if order == list(range(len(items))):
        return False
    sort_indexes = [item.get("sortIndex") if isinstance(item, dict) else None for item in items]
    items[:] = [items[index] for index in order]
    _keep_sort_indexes(items, sort_indexes)
    return True


def feed_posts(items: list[Any], adapter_name: str, document: Any) -> list[Post]:
    """How uplift reads each item of one feed list (EMPTY for anything that is not a post it can judge)."""
    read = _READERS.get(adapter_name)
    return [read(item, document) if read is not None else EMPTY for item in items]


def score_post(post: Post, scorer: Scorer) -> float | None:
    """None (stay in place) for media-only posts and posts in another language; else the scorer's verdict."""
    if post.text is None or post.pinned:
        return None
    if post.languages and not any(is_english(tag) for tag in post.languages):
        return None
    if not _LETTER.search(_MENTION.sub(" ", _URL.sub(" ", post.text))):
        return None
    return scorer(post.text)


def is_english(tag: str) -> bool:
    return tag.lower().split("-", 1)[0].split("_", 1)[0] == "en"


def text_scorer(classify: Callable[..., Any], polarity: Callable[[str], float], **options: Any) -> Scorer:
    """A scorer from the classifier (its strongest category score is the distress) and a polarity function.

    A text the classifier could not read as English prose (another script, too few English function words, no
    words at all) scores None, so it keeps its place.
    """

    def score(text: str) -> float | None:
        verdict = classify(text, **options)
        if getattr(verdict, "reason", None) in _NOT_JUDGED:
            return None
        scores: Mapping[str, float] = getattr(verdict, "scores", {}) or {}
        distress = max(scores.values(), default=0.0)
        return uplift_score(polarity(text), distress)

    return score


@lru_cache(maxsize=4096)
def textblob_polarity(text: str) -> float:
    """TextBlob's pattern-lexicon polarity (-1..1), which works offline (no NLTK corpora needed)."""
    from textblob import TextBlob

    return float(TextBlob(text).sentiment.polarity)


def default_scorer(keywords: Iterable[str] | Mapping[str, Iterable[str]] = (), sensitivity: Any = "medium") -> Scorer:
    from breather.rules.classify import classify

    return text_scorer(classify, textblob_polarity, keywords=keywords, sensitivity=sensitivity)


def soothe_body(
    body: bytes, adapter_name: str, path: str, media: str, uplift: str, calm: bool, scorer: Scorer
) -> bytes | None:
    """Calm (when asked) and then uplift (JSON only) one body; None when neither changed it."""
    calmed = calm_response(body, adapter_name, path, media) if calm else None
    if uplift == "off" or not is_json(media):
        return calmed
    return uplift_body(calmed or body, adapter_name, path, uplift, scorer) or calmed


def _mode(mode: str) -> UpliftMode:
    return "strong" if mode == "strong" else "gentle"


def _keep_sort_indexes(items: list[Any], sort_indexes: list[Any]) -> None:
    if any(index is None for index in sort_indexes):
        return
    for item, sort_index in zip(items, sort_indexes, strict=True):
        item["sortIndex"] = sort_index


# Per platform: how to read one item of a feed list (the lists come from the adapters' feed_items).


def reddit_post(item: Any, _document: Any) -> Post:
    data = item.get("data") if isinstance(item, dict) else None
    if not isinstance(data, dict):
        return EMPTY
    pinned = bool(data.get("stickied") or data.get("pinned"))
    return Post(text=link_text(data) or None, pinned=pinned)


def mastodon_post(item: Any, _document: Any) -> Post:
    """A status in a timeline (a boost reads as the boosted status). Notifications are not posts: they stay put."""
    if not isinstance(item, dict) or not isinstance(item.get("content"), str) or "account" not in item:
        return EMPTY
    pinned = item.get("pinned") is True
    status = item["reblog"] if isinstance(item.get("reblog"), dict) else item
    content = status.get("content")
    if not isinstance(content, str):
        return Post(text=None, pinned=pinned)
    poll = status.get("poll")
    options = [o.get("title") for o in poll.get("options", []) if isinstance(o, dict)] if isinstance(poll, dict) else []
    language = status.get("language")
    languages = (language,) if isinstance(language, str) and language else ()
    return Post(text=join_texts(html_to_text(content), *options) or None, languages=languages, pinned=pinned)


def twitter_post(item: Any, _document: Any) -> Post:
    if not isinstance(item, dict):
        return EMPTY
    if "entryId" in item:
        return _graphql_entry(item)
    tweet = item["retweeted_status"] if isinstance(item.get("retweeted_status"), dict) else item
    if not isinstance(tweet.get("full_text") or tweet.get("text"), str):
        return EMPTY
    return Post(text=tweet_text(tweet) or None, languages=_lang(tweet.get("lang")))


def _graphql_entry(entry: dict[str, Any]) -> Post:
    """A timeline entry: a single tweet is judged; cursors, ads, modules and pinned tweets stay where they are."""
    entry_id = str(entry.get("entryId", ""))
    content = entry.get("content")
    if not isinstance(content, dict) or not entry_id.startswith("tweet-"):
        return EMPTY
    item_content = content.get("itemContent")
    if not isinstance(item_content, dict) or item_content.get("promotedMetadata"):
        return EMPTY
    context = item_content.get("socialContext")
    pinned = isinstance(context, dict) and context.get("contextType") == "Pin"
    result = _dig(item_content, "tweet_results", "result")
    if isinstance(result, dict) and isinstance(result.get("tweet"), dict):
        result = result["tweet"]  # TweetWithVisibilityResults
    legacy = result.get("legacy") if isinstance(result, dict) else None
    if not isinstance(legacy, dict):
        return Post(text=None, pinned=pinned)
    note = _dig(result, "note_tweet", "note_tweet_results", "result", "text")
    text = note if isinstance(note, str) and note.strip() else legacy.get("full_text")
    if not isinstance(text, str):
        return Post(text=None, pinned=pinned)
    return Post(text=text or None, languages=_lang(legacy.get("lang")), pinned=pinned)


def bluesky_post(item: Any, _document: Any) -> Post:
    if not isinstance(item, dict) or not isinstance(item.get("post"), dict):
        return EMPTY
    reason = item.get("reason")
    pinned = isinstance(reason, dict) and str(reason.get("$type", "")).endswith("#reasonPin")
    record = item["post"].get("record")
    text = record.get("text") if isinstance(record, dict) else None
    if not isinstance(text, str):
        return Post(text=None, pinned=pinned)
    langs = record.get("langs") if isinstance(record, dict) else None
    languages = tuple(tag for tag in langs if isinstance(tag, str)) if isinstance(langs, list) else ()
    return Post(text=text or None, languages=languages, pinned=pinned)


def _lang(tag: Any) -> tuple[str, ...]:
    """X's ``lang``; its special codes (``und``, ``zxx``, ``qme``: media only, ``qht``: hashtags only...) are not
    English, so those tweets keep their places."""
    return (tag,) if isinstance(tag, str) and tag else ()


def _dig(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


_READERS: dict[str, Callable[[Any, Any], Post]] = {
    "reddit": reddit_post,
    "mastodon": mastodon_post,
    "twitter": twitter_post,
    "bluesky": bluesky_post,
}
