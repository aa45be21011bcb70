"""A covered post is ``inert`` in the markup Breather writes, on every site shape that goes through ``htmlmark``.

An accessibility user test: Tab past "Show post (self-harm)" landed on the blurred post's link, Enter opened it
without a reveal (so the reveal was never logged), and a screen reader read the post out. ``inert`` on the covered
element keeps its links, and its text, out of reach until reveal.js removes it (checked in Chromium in
``tests/e2e/test_accessibility_user_test.py``); here, that the post's whole text is inside that element on the real
Hacker News and Facebook pages, old.reddit's and new Reddit's markup, and Facebook's scroll payloads.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from breather.proxy.adapters.hackernews import HackerNewsAdapter
from breather.proxy.adapters.htmlmark import HtmlAdapter
from breather.proxy.adapters.reddit_html import OldRedditAdapter
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_real_feeds import HTML_FILES, _dicts, load, swap_html


class Covered(HTMLParser):
    """The attributes and the text of each covered element (``.breather-cw``) in a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[dict[str, str | None], str]] = []
        self._open: tuple[str, int, dict[str, str | None], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._open is not None:
            name, depth, found_attrs, text = self._open
            self._open = (name, depth + (tag == name), found_attrs, text)
        elif "breather-cw" in (dict(attrs).get("class") or "").split():
            self._open = (tag, 1, dict(attrs), [])

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or tag != self._open[0]:
            return
        name, depth, attrs, text = self._open
        if depth == 1:
            self.found.append((attrs, "".join(text)))
            self._open = None
        else:
            self._open = (name, depth - 1, attrs, text)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[3].append(data)


def covered(page: str) -> list[tuple[dict[str, str | None], str]]:
    parser = Covered()
    parser.feed(page)
    parser.close()
    return parser.found


def assert_covered_and_inert(page: str) -> None:
    """One covered post, inert, holding every copy of the distressing text on the page (the note quotes only the
    phrases that matched, never the post)."""
    [(attrs, text)] = covered(page)
    assert "inert" in attrs
    assert DISTRESSING in text
    assert page.count(DISTRESSING) == text.count(DISTRESSING) == 1


SHAPES = {
    "old.reddit title link": (
        OldRedditAdapter(),
        '<div class="thing link" data-fullname="t3_abc"><p class="title">'
        f'<a class="title may-blank" href="/r/x/comments/abc/">{DISTRESSING}</a></p></div>',
    ),
    "old.reddit comment body": (
        OldRedditAdapter(),
        '<div class="thing comment" data-fullname="t1_def"><div class="usertext-body"><div class="md">'
        f'<p>{DISTRESSING} <a href="/r/x/wiki">link</a></p></div></div></div>',
    ),
    "new reddit title slot": (
        OldRedditAdapter(),
        f'<shreddit-post id="t3_new"><a slot="title" href="/r/x/comments/new">{DISTRESSING}</a></shreddit-post>',
    ),
    "hacker news comment": (
        HackerNewsAdapter(),
        '<table><tr class="athing comtr" id="9"><td><div class="comment">'
        f'<span class="commtext c00">{DISTRESSING} <a href="item?id=9">more</a></span></div></td></tr></table>',
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_covered_post_is_inert_in_each_site_shape(shape: str) -> None:
    adapter, post = SHAPES[shape]
    page = f"<!doctype html><html><head><title>t</title></head><body>{post}</body></html>"
    result = adapter.rewrite(page.encode(), context())
    assert result is not None
    assert_covered_and_inert(result.body.decode())


@pytest.mark.fixtures
@pytest.mark.parametrize("name", [n for n in HTML_FILES if n.startswith(("hackernews/", "facebook/"))])
def test_the_covered_post_is_inert_on_real_pages(shared_fixtures: Path, name: str) -> None:
    body, adapter = load(shared_fixtures, name)
    assert isinstance(adapter, HtmlAdapter)
    swapped = swap_html(body, adapter)
    if swapped is None:  # a page with no post (a single post's page with no text of its own): nothing to cover
        assert adapter.rewrite(body, context()) is None
        return
    result = adapter.rewrite(swapped, context())
    assert result is not None
    assert_covered_and_inert(result.body.decode())


@pytest.mark.fixtures
def test_the_covered_post_is_inert_in_a_real_facebook_scroll_payload(shared_fixtures: Path) -> None:
    from breather.proxy.adapters.facebook import JSON_GUARD, FacebookAdapter

    body, adapter = load(shared_fixtures, "facebook/m_facebook_page_content_list_view_more.forloop_json.txt")
    document = json.loads(body[len(JSON_GUARD) :])
    holder = next(node for node in _dicts(document) if isinstance(node.get("html"), str) and "_5rgt" in node["html"])
    swapped = swap_html(holder["html"].encode(), FacebookAdapter())
    assert swapped is not None
    holder["html"] = swapped.decode()
    result = adapter.rewrite(JSON_GUARD + json.dumps(document).encode(), context())
    assert result is not None
    out = json.loads(result.body[len(JSON_GUARD) :])
    assert_covered_and_inert(next(node["html"] for node in _dicts(out) if "breather-cw" in str(node.get("html"))))
