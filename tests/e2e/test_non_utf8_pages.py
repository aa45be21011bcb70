"""A member's own keywords and topics never matched on a page that is not in UTF-8 (ISO-8859-1, windows-1252,
windows-1251), though the page declares its charset and the same page in UTF-8 is marked: the judge read each byte
that is not UTF-8 as U+FFFD ("r\ufffdgime"). The page's own bytes still go out exactly as they came."""

from __future__ import annotations

import html
import re

import pytest

pytestmark = pytest.mark.e2e

RULES = """\
[household]
timezone = "UTC"

[sites.forum]
adapter = "generic"
domains = ["example.org"]

[profiles.me]
default = true

[profiles.me.topics]
diet = ["r\u00e9gime"]
dark = ["\u0443\u043c\u0435\u0440\u0435\u0442\u044c"]
"""
FRENCH = (
    "<!doctype html><html><head>{meta}<title>Forum sant\u00e9</title></head><body>"
    "<article><p>Caf\u00e9 cr\u00e8me et croissants ce matin.</p></article>"
    "<article><p>Je suis au r\u00e9gime depuis trois semaines et je ne mange presque plus rien.</p></article>"
    "</body></html>"
)
RUSSIAN = (
    "<!doctype html><html><head>{meta}<title>\u0424\u043e\u0440\u0443\u043c</title></head><body>"
    "<article><p>\u0421\u0435\u0433\u043e\u0434\u043d\u044f \u0445\u043e\u0440\u043e\u0448\u0430\u044f"
    " \u043f\u043e\u0433\u043e\u0434\u0430.</p></article>"
    "<article><p>\u042f \u0445\u043e\u0447\u0443 \u0443\u043c\u0435\u0440\u0435\u0442\u044c, \u044f"
    " \u0431\u043e\u043b\u044c\u0448\u0435 \u043d\u0435 \u043c\u043e\u0433\u0443.</p></article>"
    "</body></html>"
)
CASES = {
    # id: (page, codec, Content-Type, <meta> in the head, the topic the second post names)
    "utf8-french": (FRENCH, "utf-8", "text/html; charset=utf-8", "", "diet"),
    "windows1252-french-meta": (FRENCH, "windows-1252", "text/html", '<meta charset="windows-1252">', "diet"),
    "latin1-french-http-equiv": (
        FRENCH,
        "iso-8859-1",
        "text/html",
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">',
        "diet",
    ),
    "utf8-russian": (RUSSIAN, "utf-8", "text/html; charset=utf-8", "", "dark"),
    "windows1251-russian-meta": (RUSSIAN, "windows-1251", "text/html", '<meta charset="windows-1251">', "dark"),
}


def marked_page(serve, upstream, page: bytes, content_type: str) -> bytes:
    upstream.route("example.org", "/thread", page, content_type)
    service = serve(RULES)
    with service.client(headers={"Sec-Fetch-Dest": "document", "Accept": "text/html"}) as client:
        answer = client.get("https://example.org/thread")
    assert answer.status_code == 200
    return answer.content


@pytest.mark.parametrize("case", list(CASES))
def test_the_members_topic_is_marked_whatever_charset_the_page_declares(serve, upstream, case) -> None:
    template, codec, content_type, meta, topic = CASES[case]
    page = template.format(meta=meta).encode(codec)
    got = marked_page(serve, upstream, page, content_type)
    categories = [html.unescape(found.decode()) for found in re.findall(rb'data-breather-categories="([^"]*)"', got)]
    assert categories == [f"keyword:{topic}"], f"{case}: the post naming the member's topic went out unmarked"
    assert page.split(b"<body>")[1].split(b"</article>")[0] in got  # the first post's bytes, as they came


def test_a_charset_named_only_in_the_content_type_header_is_read_too(serve, upstream) -> None:
    page = FRENCH.format(meta="").encode("iso-8859-1")
    got = marked_page(serve, upstream, page, "text/html; charset=ISO-8859-1")
    assert b'data-breather-categories="keyword:diet"' in got
