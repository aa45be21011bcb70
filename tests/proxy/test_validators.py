"""A browser's cached copy of a feed Breather read and left unmarked must not come back through a 304 once the rules
would mark it.

A review found it with Chromium and a Reddit JSON listing cached ``private, max-age=0``: the listing went out
unedited with the site's ``ETag``; after a topic was added that one of its posts names, the browser revalidated, the
site answered 304, and the person saw the old, unmarked copy. Here a browser's cache for the listing (what Chromium
does with it: revalidate with the validators it holds, take a 304's validators, show its copy) talks through every
addon to a site that answers conditional requests as real sites do.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from mitmproxy import http

from breather.proxy import feed_warnings, validators
from breather.proxy.addon import make_addons
from breather.runtime import Runtime
from tests.proxy.conftest import browser_request, rules_text

HOST, PATH = "oauth.reddit.com", "/r/all/new"
LAST_MODIFIED = "Wed, 25 Nov 2026 10:00:00 GMT"
CONDITIONS = ("if-none-match", "if-modified-since", "if-range", "range", "if-match")
TV_POST = "We watched the whole series on television last night"
TV_TOPIC = '[profiles.me.topics]\ntv = ["television"]\n'
KID_WITH_TV_TOPIC = """
[profiles.kid]
client_ips = ["10.0.0.7"]

[profiles.kid.topics]
tv = ["television"]
"""
TAGGED = re.compile(r'^(W/)?"listing-v1~breather-[0-9a-f]{12}"$')
GENEROUS = {"classify_budget_ms": 5000}


def listing(*titles: str) -> bytes:
    children = [
        {"kind": "t3", "data": {"name": f"t3_{n}", "title": title, "selftext": "", "spoiler": False}}
        for n, title in enumerate(titles)
    ]
    return json.dumps({"kind": "Listing", "data": {"children": children, "after": None}}).encode()


LISTING = listing(TV_POST, "A photo of a sleepy cat")


class Site:
    """The site: the listing with its validators, and a 304 when a conditional request names them (RFC 9110's weak
    comparison for ``If-None-Match``, as sites do). ``asked`` keeps the conditional headers of each request."""

    def __init__(
        self,
        body: bytes = LISTING,
        etag: str = '"listing-v1"',
        content_type: str = "application/json",
        cache_control: str = "private, max-age=0",
    ) -> None:
        self.body, self.etag, self.content_type, self.cache_control = body, etag, content_type, cache_control
        self.asked: list[dict[str, str]] = []

    def answer(self, request: http.Request) -> http.Response:
        self.asked.append({name: request.headers[name] for name in CONDITIONS if name in request.headers})
        validators = {"etag": self.etag, "last-modified": LAST_MODIFIED, "cache-control": self.cache_control}
        if self._unchanged_for(request):
            return http.Response.make(304, b"", validators)
        return http.Response.make(200, self.body, {"content-type": self.content_type, **validators})

    def _unchanged_for(self, request: http.Request) -> bool:
        none_match = request.headers.get("if-none-match")
        if none_match is not None:
            return weak(self.etag) in [weak(tag) for tag in none_match.split(",")]
        return request.headers.get("if-modified-since") == LAST_MODIFIED


def weak(etag: str) -> str:
    return etag.strip().removeprefix("W/")


class Browser:
    """One URL in a browser's HTTP cache: the copy shown and the validators it came with."""

    def __init__(self, runtime: Runtime, site: Site) -> None:
        self.addons = make_addons(runtime)  # one running proxy for every load
        self.site = site
        self.copy: bytes | None = None
        self.validators: dict[str, str] = {}
        self.answer: http.Response | None = None

    def load(self, *, device: str | None = None, **request_headers: str) -> bytes:
        """What the person sees: the page's fetch of the listing, revalidating the cached copy if there is one."""
        flow = browser_request(HOST, PATH, dest="empty", accept="application/json", device=device)
        if self.copy is not None:
            for name, condition in (("etag", "if-none-match"), ("last-modified", "if-modified-since")):
                if name in self.validators:
                    flow.request.headers[condition] = self.validators[name]
        flow.request.headers.update(request_headers)
        self.answer = self._through_the_proxy(flow)
        if self.answer.status_code == 304:  # the 304's validators replace the cached ones
            self.validators.update({name: self.answer.headers[name] for name in self.validators_in(self.answer)})
        else:
            self.copy = self.answer.content
            self.validators = {name: self.answer.headers[name] for name in self.validators_in(self.answer)}
        assert self.copy is not None
        return self.copy

    @staticmethod
    def validators_in(response: http.Response) -> list[str]:
        return [name for name in ("etag", "last-modified") if name in response.headers]

    def _through_the_proxy(self, flow: Any) -> http.Response:
        """Every hook of every addon, as mitmproxy runs them, the site answering what reaches it."""

        async def run() -> None:
            for hook in ("requestheaders", "request", "responseheaders", "response"):
                if hook == "responseheaders" and flow.response is None:
                    flow.response = self.site.answer(flow.request)
                for addon in self.addons:
                    if hasattr(addon, hook):
                        result = getattr(addon, hook)(flow)
                        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                            await result

        asyncio.run(run())
        assert flow.response is not None
        return flow.response


def marked(body: bytes) -> list[bool]:
    """Whether each post of the listing is covered by a warning (Reddit's own spoiler cover)."""
    return [child["data"]["spoiler"] for child in json.loads(body)["data"]["children"]]


def change_rules(runtime: Runtime, text: str) -> None:
    runtime.paths.rules_file.write_text(text, encoding="utf-8")
    assert runtime.rules.reload(), runtime.rules.last_error


@pytest.mark.parametrize("etag", ['"listing-v1"', 'W/"listing-v1"'], ids=["strong", "weak"])
def test_an_unmarked_listing_goes_out_as_it_came_with_its_etag_tagged_and_no_last_modified(make_runtime, etag) -> None:
    browser = Browser(make_runtime(**GENEROUS), Site(etag=etag))
    assert browser.load() == LISTING, "nothing to mark: the listing goes out byte for byte"
    assert browser.answer is not None
    assert TAGGED.match(browser.answer.headers["etag"]), browser.answer.headers["etag"]
    assert browser.answer.headers["etag"].startswith("W/") == etag.startswith("W/"), "a weak ETag must stay weak"
    assert "last-modified" not in browser.answer.headers, "a date cannot say which rules the copy was read under"


@pytest.mark.parametrize("etag", ['"listing-v1"', 'W/"listing-v1"'], ids=["strong", "weak"])
def test_under_the_same_rules_the_site_gets_its_own_etag_and_its_304_goes_back_tagged(make_runtime, etag) -> None:
    site = Site(etag=etag)
    browser = Browser(make_runtime(**GENEROUS), site)
    browser.load()
    tagged = browser.validators["etag"]
    assert browser.load() == LISTING
    assert site.asked[-1].get("if-none-match") == etag, "the site must be asked with its own ETag, to save the body"
    assert browser.answer is not None and browser.answer.status_code == 304
    assert TAGGED.match(browser.answer.headers["etag"]), "a 304's ETag replaces the cached one: it must stay tagged"
    assert browser.answer.headers["etag"] == tagged
    assert "last-modified" not in browser.answer.headers
    assert site.asked[-1] == {"if-none-match": etag}
    browser.load()
    assert site.asked[-1] == {"if-none-match": etag}, "the copy kept by the 304 revalidates the same way again"


def test_after_a_topic_is_added_that_a_post_names_the_browser_gets_the_listing_marked(make_runtime) -> None:
    runtime = make_runtime(rules_text(), **GENEROUS)
    site = Site()
    browser = Browser(runtime, site)
    assert marked(browser.load()) == [False, False]

    change_rules(runtime, rules_text(extra_me=TV_TOPIC))
    seen = browser.load()
    assert site.asked[-1] == {}, f"the copy read under the old rules was revalidated: {site.asked[-1]}"
    assert browser.answer is not None and browser.answer.status_code == 200
    assert marked(seen) == [True, False], "the post about television came back from the cache unmarked"


def test_a_raised_sensitivity_brings_the_listing_back_read_again(make_runtime) -> None:
    starving = "I have been starving myself for weeks to lose weight"
    runtime = make_runtime(rules_text(extra_me='warnings = { eating_disorder = "off" }'), **GENEROUS)
    site = Site(body=listing(starving))
    browser = Browser(runtime, site)
    assert marked(browser.load()) == [False]

    change_rules(runtime, rules_text(extra_me='warnings = { eating_disorder = "medium" }'))
    assert marked(browser.load()) == [True], "the post about starving came back from the cache unmarked"
    assert site.asked[-1] == {}


def test_another_member_on_the_same_browser_gets_the_listing_read_for_them(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_profiles=KID_WITH_TV_TOPIC), **GENEROUS)
    site = Site()
    browser = Browser(runtime, site)
    assert marked(browser.load()) == [False, False], "read for me, who has no topic about television"
    assert marked(browser.load(device="10.0.0.7")) == [True, False], "the kid was shown my unmarked copy"
    assert site.asked[-1] == {}


def test_a_stale_tag_s_range_request_gets_the_whole_listing_read_again(make_runtime) -> None:
    runtime = make_runtime(rules_text(), **GENEROUS)
    site = Site()
    browser = Browser(runtime, site)
    browser.load()
    stale = browser.validators["etag"]
    change_rules(runtime, rules_text(extra_me=TV_TOPIC))
    browser.copy = None  # a download resumed from the middle: only If-Range names the copy
    seen = browser.load(**{"range": "bytes=100-", "if-range": stale})
    assert site.asked[-1] == {}, "a range of the site's body would be pieced onto a copy read under the old rules"
    assert marked(seen) == [True, False]


def test_a_request_of_a_site_breather_does_not_look_after_is_left_alone(make_runtime) -> None:
    runtime = make_runtime()
    flow = browser_request("example.org", "/feed.json", dest="empty")
    conditions = {"if-none-match": '"v1~breather-0123456789ab"', "if-modified-since": LAST_MODIFIED}
    flow.request.headers.update(conditions)
    for addon in make_addons(runtime):
        for hook in ("requestheaders", "request"):
            if hasattr(addon, hook):
                getattr(addon, hook)(flow)
    assert {name: flow.request.headers.get(name) for name in conditions} == conditions


def test_what_breather_does_not_read_keeps_the_site_s_own_validators(make_runtime) -> None:
    """An image is never read: its validators are the site's, and its 304s save the bytes as before."""
    site = Site(body=b"\x89PNG\r\n\x1a\n", content_type="image/png")
    browser = Browser(make_runtime(), site)
    browser.load()
    assert browser.validators == {"etag": '"listing-v1"', "last-modified": LAST_MODIFIED}
    browser.load()
    assert site.asked[-1] == {"if-none-match": '"listing-v1"', "if-modified-since": LAST_MODIFIED}
    assert browser.answer is not None and browser.answer.status_code == 304


def test_a_listing_read_only_in_part_is_not_kept_as_read(make_runtime) -> None:
    """The classify budget ran out: the posts past it went out unmarked, and the next load must read them."""
    runtime = make_runtime(classify_budget_ms=0)
    site = Site(body=listing("A photo of a sleepy cat", TV_POST, "Another cat"))
    browser = Browser(runtime, site)
    browser.load()
    assert runtime.counters.get("classify_budget_hit") == 1
    assert browser.validators == {}, "a copy read only in part could come back through a 304"
    browser.load()
    assert site.asked[-1] == {}


def test_an_adapter_that_fails_sends_the_listing_as_it_came_without_validators(make_runtime, monkeypatch) -> None:
    class Broken:
        name = "broken"

        def rewrite(self, body: bytes, ctx: Any) -> Any:
            raise RuntimeError("adapter bug")

    monkeypatch.setattr(feed_warnings, "adapter_for", lambda *_: Broken())
    runtime = make_runtime()
    browser = Browser(runtime, Site())
    assert browser.load() == LISTING
    assert runtime.counters.get("passed_after_error") == 1
    assert browser.validators == {}, "the listing was never read: no tag may vouch for it, no 304 bring it back"


def test_when_tagging_fails_the_listing_still_goes_out_without_validators(make_runtime, monkeypatch) -> None:
    def broken(etag: str, state: str) -> str:
        raise RuntimeError("tagging bug")

    monkeypatch.setattr(validators, "tag", broken)
    runtime = make_runtime(**GENEROUS)
    browser = Browser(runtime, Site())
    assert browser.load() == LISTING
    assert browser.answer is not None and browser.answer.status_code == 200
    assert browser.validators == {}
    assert runtime.counters.get("passed_after_error") == 1


def test_a_listing_the_site_lets_the_browser_keep_fresh_is_asked_for_again_before_each_use(make_runtime) -> None:
    """``max-age=600``: the browser would show its copy for ten minutes with no request, whatever the rules became."""
    site = Site(cache_control="private, max-age=600")
    browser = Browser(make_runtime(**GENEROUS), site)
    browser.load()
    assert browser.answer is not None
    assert browser.answer.headers["cache-control"] == "private, max-age=600, no-cache"
    browser.load()
    assert browser.answer.status_code == 304
    assert browser.answer.headers["cache-control"] == "private, max-age=600, no-cache", "a 304's replaces the copy's"


@pytest.mark.parametrize("cache_control", ["no-store", "private, no-cache", "no-cache, max-age=60"])
def test_a_listing_that_already_asks_to_be_revalidated_keeps_its_cache_control(make_runtime, cache_control) -> None:
    browser = Browser(make_runtime(**GENEROUS), Site(cache_control=cache_control))
    browser.load()
    assert browser.answer is not None and browser.answer.headers["cache-control"] == cache_control


def test_an_image_the_site_lets_the_browser_keep_stays_kept(make_runtime) -> None:
    """What Breather does not read is the site's to cache: no request more for each image."""
    site = Site(body=b"\x89PNG\r\n\x1a\n", content_type="image/png", cache_control="public, max-age=86400")
    browser = Browser(make_runtime(), site)
    browser.load()
    assert browser.answer is not None and browser.answer.headers["cache-control"] == "public, max-age=86400"
