"""Which adapter reads which response: the site group's ``adapter`` name plus the response's content type.

A new site adapter is added to the tables below and its name to ``breather.rules.model.ADAPTERS`` (what a rules file
may name); ``tests/proxy/adapters/test_registry.py`` checks the two agree. Steps: docs/adapters.md, "Adding a site".
"""

from __future__ import annotations

from breather.proxy.adapters.base import Adapter
from breather.proxy.adapters.bluesky import BlueskyAdapter
from breather.proxy.adapters.facebook import FacebookAdapter, FacebookPayloadAdapter
from breather.proxy.adapters.generic import GenericAdapter
from breather.proxy.adapters.hackernews import HackerNewsAdapter
from breather.proxy.adapters.mastodon import MastodonAdapter, MastodonStreamAdapter
from breather.proxy.adapters.reddit import RedditAdapter
from breather.proxy.adapters.reddit_html import OldRedditAdapter
from breather.proxy.adapters.twitter import TwitterAdapter
from breather.proxy.adapters.youtube import YouTubeHtmlAdapter, YouTubeJsonAdapter

_JSON: dict[str, Adapter] = {
    "reddit": RedditAdapter(),
    "mastodon": MastodonAdapter(),
    "twitter": TwitterAdapter(),
    "bluesky": BlueskyAdapter(),
    "facebook": FacebookPayloadAdapter(),
    "youtube": YouTubeJsonAdapter(),
}
_EVENT_STREAM: dict[str, Adapter] = {"mastodon": MastodonStreamAdapter()}
_HTML: dict[str, Adapter] = {
    "reddit": OldRedditAdapter(),
    "hackernews": HackerNewsAdapter(),
    "facebook": FacebookAdapter(),
    "youtube": YouTubeHtmlAdapter(),
    "generic": GenericAdapter(),
}

# Every name some table reads for; the rules side's list of names (rules.model.ADAPTERS) must be the same set.
ADAPTER_NAMES: tuple[str, ...] = tuple(dict.fromkeys([*_JSON, *_EVENT_STREAM, *_HTML]))


# for (;;);{json} payloads and JSONP-ish APIs come as JavaScript; the adapters check the body itself anyway.
JSON_TYPES = frozenset(
    {"application/json", "text/json", "text/javascript", "application/javascript", "application/x-javascript"}
)


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media in JSON_TYPES or media.endswith("+json")


def adapter_for(name: str, path: str, content_type: str) -> Adapter | None:
    """The adapter for this response, or None when the site's adapter does not read this kind of body.

    ``path`` is accepted for adapters that need to tell pages apart; none needs it yet beyond the content type.
    """
    media = media_type(content_type)
    if media == "text/event-stream":
        return _EVENT_STREAM.get(name)
    if is_json(media):
        return _JSON.get(name)
    if media == "text/html":  # not XHTML: the marks are HTML markup, and an XML parser refuses the whole page
        return _HTML.get(name) or (_HTML.get("generic") if name in ADAPTER_NAMES else None)
    return None
