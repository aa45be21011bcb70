"""A feed Chromium cached unmarked is read again once the rules would mark it: real ``breather serve``, real Chromium.

A review found it this way: a Reddit JSON listing with nothing to mark went out with the site's ``ETag`` and
``Cache-Control: private, max-age=0``; after a topic that one of its posts names was added, Chromium revalidated its
cached copy, the site answered 304, and the page's script got the old, unmarked listing. The listing is fetched by the
site's own page, as its script would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Upstream, wait_for

pytestmark = pytest.mark.e2e

HOST = "www.reddit.com"
PAGE = b"<!doctype html><html><head><title>reddit</title></head><body><h1>the feed</h1></body></html>"
TV_POST = "We watched the whole series on television last night"
LISTING = json.dumps(
    {
        "kind": "Listing",
        "data": {
            "children": [
                {"kind": "t3", "data": {"name": "t3_a", "title": TV_POST, "selftext": "", "spoiler": False}},
                {"kind": "t3", "data": {"name": "t3_b", "title": "A sleepy cat", "selftext": "", "spoiler": False}},
            ],
            "after": None,
        },
    }
).encode()
VALIDATORS = {"ETag": '"listing-v1"', "Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT"}
# The page's script, with the browser's HTTP cache as it is by default.
FETCH_LISTING = "async () => (await fetch('/r/all/new.json')).text()"


def rules(extra: str = "") -> str:
    return f"""\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com"]

[profiles.me]
default = true
{extra}
"""


def marked(listing: str) -> list[bool]:
    return [child["data"]["spoiler"] for child in json.loads(listing)["data"]["children"]]


def conditions_seen(upstream: Upstream) -> list[str | None]:
    """The ``If-None-Match`` of each request for the listing that reached the site."""
    seen: list[str | None] = []
    answer: Callable[[Any], None] = upstream._answer

    def noting(handler: Any) -> None:
        if handler.path.startswith("/r/all/new.json"):
            seen.append(handler.headers.get("if-none-match"))
        answer(handler)

    upstream._answer = noting  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize(
    "cache_control",
    ["private, max-age=0", "private, max-age=600"],
    ids=["revalidated", "kept-fresh-ten-minutes"],  # the second was shown from the cache with no request at all
)
def test_chromium_s_cached_unmarked_listing_is_read_again_after_a_topic_is_added(
    serve, upstream, chromium, cache_control
) -> None:
    upstream.route(HOST, "/", PAGE)
    validators = {**VALIDATORS, "Cache-Control": cache_control}
    upstream.route(HOST, "/r/all/new.json", LISTING, "application/json", headers=validators)
    seen = conditions_seen(upstream)
    service = serve(rules())
    page = chromium(service).new_page()
    page.goto(f"https://{HOST}/")

    assert marked(page.evaluate(FETCH_LISTING)) == [False, False]
    assert marked(page.evaluate(FETCH_LISTING)) == [False, False]
    assert seen == [None, '"listing-v1"'], "Chromium revalidated, and the site was asked with its own ETag"

    service.paths.rules_file.write_text(rules('[profiles.me.topics]\ntv = ["television"]\n'), encoding="utf-8")
    listing = wait_for(
        lambda: (text := page.evaluate(FETCH_LISTING)) and marked(text)[0] and text,
        20,
        "the post about television to come back marked (Chromium kept showing its cached, unmarked copy)",
        service,
    )
    assert marked(listing) == [True, False]
    assert seen[-1] is None, "the request that brought the marked listing was sent unconditional"
