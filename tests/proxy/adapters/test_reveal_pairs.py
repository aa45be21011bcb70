"""Each note names the post it covers (``data-breather-for`` = the post's ``data-breather-id``), so reveal.js finds the
post wherever the browser put the note: before a ``<p>`` that follows an unclosed ``<p>`` the note is parsed into the
previous paragraph and has no next sibling (a review: "Show post" did nothing on a real Hacker News thread)."""

from __future__ import annotations

import re

from breather.proxy.adapters.generic import GenericAdapter
from breather.proxy.adapters.hackernews import HackerNewsAdapter
from breather.proxy.adapters.htmlmark import mark_html
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_html_adapters import PAGE

NOTE_FOR = re.compile(r'<span class="breather-warning"[^>]*? data-breather-for="([0-9a-f]+)"')
POST_ID = re.compile(r'<[a-z]+ [^>]*?data-breather-categories="[^"]*" inert data-breather-id="([0-9a-f]+)"')
UNCLOSED = "<html><head></head><body><p>A calm first paragraph.<p>{text}<p>A calm last one.</body></html>"


def pairs(page: str) -> tuple[list[str], list[str]]:
    return NOTE_FOR.findall(page), POST_ID.findall(page)


def test_each_note_names_its_own_post() -> None:
    page = UNCLOSED.replace("{text}", DISTRESSING).replace("A calm last one.", "I have stopped eating again.")
    result = GenericAdapter().rewrite(page.encode(), context())
    assert result is not None and len(result.marked) == 2
    notes, posts = pairs(result.body.decode())
    assert notes == posts, "the note right before each post names that post"
    assert len(set(notes)) == 2


def test_pages_marked_in_parts_never_share_a_name() -> None:
    """A page is marked in parts (Facebook's payload fragments and deferred markup, later responses added to the same
    document): a name from one part must not pair a note with another part's post."""
    parts = [PAGE.format(text=text).encode() for text in (DISTRESSING, "I have stopped eating again.")]
    names = []
    for part in parts:
        result = HackerNewsAdapter().rewrite(part, context())
        assert result is not None
        names.extend(pairs(result.body.decode())[0])
    deferred = f"<div><p>{DISTRESSING}</p><!-- <p>{DISTRESSING}</p> --></div>"
    marked = mark_html(deferred, context(), lambda tag, _a, _p: tag == "p", lambda _a, _p: None, inside_comments=True)
    assert marked is not None
    notes, posts = pairs(marked[0])
    assert notes == posts and len(set(notes)) == 2, "a post in a comment and its copy outside have their own names"
    assert len({*names, *notes}) == 4


def test_the_same_page_is_marked_the_same_way_every_time() -> None:
    page = UNCLOSED.replace("{text}", DISTRESSING).encode()
    first, second = (GenericAdapter().rewrite(page, context()) for _ in range(2))
    assert first is not None and second is not None and first.body == second.body


def test_a_page_with_nothing_flagged_is_left_as_it_is() -> None:
    assert GenericAdapter().rewrite(UNCLOSED.replace("{text}", "A calm middle.").encode(), context()) is None
