"""A page in the encoding it declares (ISO-8859-1, windows-1252, windows-1251, Shift_JIS) is judged as the browser
shows it: a member's own words match there too. Before, each byte that is not UTF-8 reached the judge as U+FFFD
("r\ufffdgime"), and nothing on such a page was ever marked for a member's topic. The page's bytes still go out as
they came, and a page that declares nothing, or UTF-8, is read as before."""

from __future__ import annotations

import html
import re

import pytest

from breather.proxy.adapters.base import AdapterContext, Finding
from breather.proxy.adapters.generic import GenericAdapter
from breather.proxy.adapters.htmlmark import decode_html
from tests.proxy.adapters.test_real_feeds import strip_breather

TOPIC = {
    "r\u00e9gime": "keyword:diet",
    "\u0443\u043c\u0435\u0440\u0435\u0442\u044c": "keyword:dark",
    "\u75b2\u308c\u305f": "keyword:tired",
}
POST = {
    "r\u00e9gime": "Je suis au r\u00e9gime depuis trois semaines.",
    "\u0443\u043c\u0435\u0440\u0435\u0442\u044c": "\u042f \u0445\u043e\u0447\u0443 "
    "\u0443\u043c\u0435\u0440\u0435\u0442\u044c.",
    "\u75b2\u308c\u305f": "\u4eca\u65e5\u306f\u75b2\u308c\u305f\u3002",
}


class Judge:
    """The member's own words, matched as the classifier matches them: in the text as given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, text: str) -> Finding | None:
        self.seen.append(text)
        hits = [category for word, category in TOPIC.items() if word in text]
        return Finding(categories=tuple(hits), evidence=tuple(w for w in TOPIC if w in text)) if hits else None


def page(word: str, meta: str = "", extra: str = "") -> str:
    return (
        f"<!doctype html><html><head>{meta}<title>Forum</title></head><body>"
        f"<article><p>Bonjour.</p></article><article><p>{POST[word]}{extra}</p></article></body></html>"
    )


CASES = {
    "windows-1252 meta": ("r\u00e9gime", "windows-1252", '<meta charset="windows-1252">'),
    "iso-8859-1 http-equiv": (
        "r\u00e9gime",
        "iso-8859-1",
        "<meta http-equiv=Content-Type content='text/html; charset=iso-8859-1'>",
    ),
    "windows-1251 meta": ("\u0443\u043c\u0435\u0440\u0435\u0442\u044c", "windows-1251", "<meta charset=windows-1251>"),
    "shift_jis meta": ("\u75b2\u308c\u305f", "shift_jis", '<meta charset="Shift_JIS">'),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_members_word_matches_in_a_page_in_the_encoding_it_declares(case: str) -> None:
    word, codec, meta = CASES[case]
    body = page(word, meta).encode(codec)
    judge = Judge()
    result = GenericAdapter().rewrite(body, AdapterContext(judge=judge))
    assert result is not None and [marked.categories for marked in result.marked] == [(TOPIC[word],)]
    assert strip_breather(result.body.decode(codec)).encode(codec) == body  # every byte of the page as it came
    evidence = re.search(r'<span class="breather-evidence" hidden>(.*?)</span>', result.body.decode(codec))
    assert evidence is not None and word in html.unescape(evidence.group(1))  # the note quotes it as it reads


def test_a_charset_in_the_content_type_header_is_read_before_the_meta() -> None:
    body = page("r\u00e9gime", '<meta charset="windows-1251">').encode("iso-8859-1")
    judge = Judge()
    _source, ctx = decode_html(body, AdapterContext(judge=judge), "ISO-8859-1")
    assert ctx.judge("Je suis au r\udce9gime") is not None and judge.seen == ["Je suis au r\u00e9gime"]


def test_character_references_in_such_a_page_read_as_the_characters_they_name() -> None:
    """``&nbsp;`` and ``&#8217;`` are read into their characters before the judge: those must not be taken for the
    page's bytes and decoded again (``\u00c2\u00a0``, ``\u00e2\u20ac\u2122``)."""
    extra = " Je n&#8217;en peux plus&nbsp;: r&eacute;gime&nbsp;strict."
    body = page("r\u00e9gime", "<meta charset=windows-1252>", extra).encode("windows-1252")
    judge = Judge()
    assert GenericAdapter().rewrite(body, AdapterContext(judge=judge)) is not None
    assert any("n\u2019en peux plus : r\u00e9gime strict." in text for text in judge.seen), judge.seen


def test_bytes_that_spell_utf8_by_chance_are_read_in_the_pages_encoding_too() -> None:
    """In windows-1251, "\u0420\u00bb" is the bytes D0 BB: UTF-8 for "\u043b"."""
    body = page(
        "\u0443\u043c\u0435\u0440\u0435\u0442\u044c", "<meta charset=windows-1251>", " \u00ab\u041c\u0418\u0420\u00bb"
    ).encode("cp1251")
    judge = Judge()
    assert GenericAdapter().rewrite(body, AdapterContext(judge=judge)) is not None
    assert any(text.endswith("\u00ab\u041c\u0418\u0420\u00bb") for text in judge.seen), judge.seen


@pytest.mark.parametrize(
    "meta",
    [
        "",
        "<meta charset=utf-8>",
        "<meta charset=utf-16>",
        "<!-- <meta charset=windows-1252> -->",
        "<meta charset=x-nonsense>",
    ],
)
def test_a_page_that_declares_utf8_or_nothing_shows_the_judge_a_replacement_character(meta: str) -> None:
    body = page("r\u00e9gime", meta).encode("latin-1")
    judge = Judge()
    GenericAdapter().rewrite(body, AdapterContext(judge=judge))
    assert "Je suis au r\ufffdgime depuis trois semaines." in judge.seen


def test_a_byte_order_mark_says_utf8_whatever_the_meta_says() -> None:
    body = b"\xef\xbb\xbf" + page("r\u00e9gime", "<meta charset=windows-1252>").encode("latin-1")
    judge = Judge()
    GenericAdapter().rewrite(body, AdapterContext(judge=judge))
    assert "Je suis au r\ufffdgime depuis trois semaines." in judge.seen
