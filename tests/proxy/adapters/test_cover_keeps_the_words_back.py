"""A user test (someone going through a hard time): the cover printed the post's most dangerous words in plain text
("Flagged for: “kill myself”") above the blurred post. The categories and the helpline stay on the cover; the words
are one deliberate step away ("Why this was flagged"), and no longer copied into the post's attributes."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from breather.proxy.adapters.hackernews import HackerNewsAdapter
from breather.proxy.adapters.reddit_html import OldRedditAdapter
from breather.rules.crisis import crisis_line
from tests.proxy.adapters.helpers import DISTRESSING, as_read, context
from tests.proxy.adapters.test_html_adapters import PAGE
from tests.proxy.conftest import CspSite

NONCE = "wh7n0nce"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; connect-src 'self'"


class ShownText(HTMLParser):
    """The note's text as a reader meets it before pressing anything: what is inside a ``hidden`` element left out."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden_depth = 0
        self.stack: list[bool] = []
        self.shown: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag in {"button", "a"} and "hidden" not in found:
            self.stack.append(False)
            return
        hides = "hidden" in found
        self.stack.append(hides)
        self.hidden_depth += hides

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.hidden_depth -= self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.shown.append(data)


def note_of(body: bytes) -> str:
    found = re.search(r'<span class="breather-warning".*?</button></span>', as_read(body.decode()), re.S)
    assert found is not None
    return found.group()


def read(note: str) -> ShownText:
    parser = ShownText()
    parser.feed(note)
    return parser


def test_the_cover_names_the_categories_and_the_helpline_but_not_the_words() -> None:
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), context(crisis=crisis_line("GB")))
    assert result is not None
    shown = " ".join(read(note_of(result.body)).shown)
    assert "Content warning: self-harm." in shown and "Samaritans" in shown
    assert "end it all" not in shown, "the matched words are read only by someone who asks for them"
    assert "Show post (self-harm)" in shown


def test_the_words_are_behind_a_button_that_says_what_it_shows() -> None:
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), context())
    assert result is not None
    note = note_of(result.body)
    tags = read(note).tags
    why = [attrs for tag, attrs in tags if tag == "button" and "breather-why" in (attrs.get("class") or "")]
    assert why == [{"type": "button", "class": "breather-why", "aria-expanded": "false"}]
    assert (
        '>Why this was flagged</button><span class="breather-evidence" hidden>Flagged for: “want to end it all”' in note
    )


def test_the_post_no_longer_carries_the_words_in_an_attribute() -> None:
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), context())
    assert result is not None
    assert b"data-breather-evidence" not in result.body
    assert b'data-breather-categories="self_harm" inert' in result.body


def test_the_note_holds_no_block_element_that_would_close_a_paragraph_around_it() -> None:
    """old.reddit's title link sits in a <p>: a <details> (or <div>) in the note would end that paragraph early."""
    page = (
        '<html><head></head><body><div class="thing" data-fullname="t3_a"><p class="title">'
        f'<a class="title" href="/x">{DISTRESSING}</a></p></div></body></html>'
    )
    result = OldRedditAdapter().rewrite(page.encode(), context(crisis=crisis_line("GB")))
    assert result is not None
    tags = {tag for tag, _ in read(note_of(result.body)).tags}
    assert tags <= {"span", "a", "button"}


@pytest.mark.e2e
def test_chromium_shows_the_words_only_after_why_is_pressed_with_the_keyboard(headless_chromium: Any) -> None:
    result = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), context(nonce=NONCE))
    assert result is not None
    site = CspSite(result.body, CSP)
    tab = headless_chromium.new_page()
    try:
        tab.goto(site.url)
        note = tab.locator(".breather-warning")
        assert "end it all" not in note.inner_text()
        why = tab.locator("button.breather-why")
        why.focus()
        tab.keyboard.press("Enter")
        tab.wait_for_function("() => !document.querySelector('.breather-evidence').hidden")
        assert why.get_attribute("aria-expanded") == "true"
        assert "Flagged for: “want to end it all”" in note.inner_text()
        assert "breather-revealed" not in (tab.locator(".breather-cw").get_attribute("class") or "")
        why.click()
        assert "end it all" not in note.inner_text()
        assert not site.posts, "asking why logs nothing"
    finally:
        tab.close()
        site.close()
