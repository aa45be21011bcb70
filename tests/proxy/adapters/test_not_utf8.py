"""HTML with bytes that are not UTF-8 is still read and marked, and every byte outside Breather's insertions goes out
as it came (a user test's page had ``\\xff\\xfe`` in its title, and its distressing post went out unmarked)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from breather.proxy.adapters.base import AdapterContext, Finding
from breather.proxy.adapters.generic import GenericAdapter
from breather.proxy.adapters.hackernews import HackerNewsAdapter
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_real_feeds import strip_breather

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def read(body: bytes) -> str:
    """The page as the adapter reads it: a lone surrogate for each byte that is not UTF-8."""
    return body.decode("utf-8", "surrogateescape")


def is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_stray_byte_in_the_title_no_longer_leaves_the_post_unmarked() -> None:
    page = f"<html><head><title>News \xff\xfe today</title></head><body><div class='comment'>{DISTRESSING}</div>"
    body = page.encode("latin-1")
    result = HackerNewsAdapter().rewrite(body, context())
    assert result is not None and [m.categories for m in result.marked] == [("self_harm",)]
    assert b"<title>News \xff\xfe today</title>" in result.body


def test_the_judge_sees_a_replacement_character_never_a_surrogate() -> None:
    seen: list[str] = []

    def judge(text: str) -> Finding | None:
        seen.append(text)
        return Finding(categories=("self_harm",), evidence=(text[:8],))

    body = b"<html><body><article><p>caf\xe9 \xff I want to end it all</p></article></body></html>"
    result = GenericAdapter().rewrite(body, AdapterContext(judge=judge))
    assert result is not None
    assert seen and all(not any("\udc80" <= char <= "\udcff" for char in text) for text in seen)
    assert "caf\ufffd \ufffd I want" in seen[0]
    note = re.search(rb'<span class="breather-warning".*?</button></span>', result.body, re.S)
    assert note is not None and b'class="breather-evidence"' in note.group()
    assert is_utf8(note.group())  # what Breather wrote (the evidence in the note included) is UTF-8 throughout


@pytest.mark.parametrize(
    ("charset", "words"), [("iso-8859-1", "Café à côté"), ("shift_jis", "こんにちは")], ids=["latin1", "sjis"]
)
def test_the_warning_reads_right_in_a_page_that_is_not_utf8(charset: str, words: str) -> None:
    """A page in ISO-8859-1 or Shift_JIS showed the note's quotes (and a topic of the person's own) as ``â€œ``:
    Breather wrote its text in UTF-8 into a page read in another encoding."""

    def judge(text: str) -> Finding | None:
        return Finding(categories=("keyword:müde",), evidence=("end it all",)) if "end it all" in text else None

    page = f"<html><head><title>{words}</title></head><body><div class='comment'>{words} {DISTRESSING}</div>"
    result = HackerNewsAdapter().rewrite(page.encode(charset), AdapterContext(judge=judge))
    assert result is not None
    shown = result.body.decode(charset)  # as the browser reads the page
    evidence = re.search(r'<span class="breather-evidence" hidden>(.*?)</span>', shown)
    assert evidence is not None and html.unescape(evidence.group(1)) == "Flagged for: \u201cend it all\u201d"
    categories = re.search(r'data-breather-categories="([^"]*)"', shown)
    assert categories is not None and html.unescape(categories.group(1)) == "keyword:müde"
    assert f"<title>{words}</title>" in shown and f"{words} {DISTRESSING}" in shown


def test_a_byte_that_is_not_utf8_inside_the_marked_start_tag_is_kept() -> None:
    body = f"<div class='comment' title='x\xff'>{DISTRESSING}</div>".encode("latin-1")
    result = HackerNewsAdapter().rewrite(body, context())
    assert result is not None
    assert b"title='x\xff'>" in result.body and b"breather-cw" in result.body


COMMENT_TAG = b'<span class="comment">'
TAG_NAME = re.compile(rb"</?[A-Za-z][A-Za-z0-9-]*")


@st.composite
def with_stray_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    """``body`` with one to three runs of bytes that are not UTF-8 on their own, anywhere in it."""
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(body)))
        stray = draw(st.lists(st.integers(0x80, 0xFF), min_size=1, max_size=3))
        body = body[:where] + bytes(stray) + body[where:]
    return body


@pytest.mark.fixtures
@FUZZ
@given(data=st.data())
def test_stray_bytes_anywhere_in_a_real_page_are_kept_and_only_breathers_insertions_added(
    shared_fixtures: Path, data: st.DataObject
) -> None:
    page = (shared_fixtures / "feeds" / "hackernews" / "newhackers_comments.html").read_bytes()
    at = page.index(COMMENT_TAG, len(page) // 2)
    before, after = page[:at], page[at + len(COMMENT_TAG) :]
    # Stray bytes anywhere but in the distressing comment's own start tag and sentence (which they would change).
    planted = COMMENT_TAG + DISTRESSING.encode() + b" "
    page = data.draw(with_stray_bytes(before)) + planted + data.draw(with_stray_bytes(after))
    # ... and not inside a tag's name ("<\x80/span>", "</scr\x80ipt>"): that changes the page's structure for a
    # browser too (a comment left open, a script running to the end of the page), not only its bytes.
    assume(TAG_NAME.findall(page) == TAG_NAME.findall(before + planted + after))
    result = HackerNewsAdapter().rewrite(page, context())
    assert result is not None and ("self_harm",) in [marked.categories for marked in result.marked]
    assert strip_breather(read(result.body)).encode("utf-8", "surrogateescape") == page
