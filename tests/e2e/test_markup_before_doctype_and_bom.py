"""A page that leaves out the optional ``</head>`` and ``<body>`` tags (HTML lets it; the generic adapter meets such
pages) got Breather's overlay and warnings stylesheet at byte 0: before its ``<!doctype html>``, and Chromium drew it
in quirks mode; before its UTF-8 byte order mark, and Chromium read it as windows-1252 ("Café" showed as "CafÃ©")."""

from __future__ import annotations

import codecs

import pytest

pytestmark = pytest.mark.e2e

DISTRESSING = "I want to kill myself tonight, I cannot go on"
RULES = """\
[household]
timezone = "UTC"

[sites.forum]
adapter = "generic"
domains = ["example.org"]

[profiles.me]
default = true
"""
NO_HEAD_TAGS = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Thread</title>"
    "<article><p>Caf\u00e9 cr\u00e8me this morning.</p></article><article><p>" + DISTRESSING + "</p></article>"
).encode()
BOM_PAGE = (
    codecs.BOM_UTF8 + f"<title>Thread</title><p>Caf\u00e9 cr\u00e8me this morning.</p><p>{DISTRESSING}</p>".encode()
)


def pages(upstream) -> None:
    upstream.route("example.org", "/doctype", NO_HEAD_TAGS)
    upstream.route("example.org", "/bom", BOM_PAGE, "text/html")


def test_the_doctype_and_the_byte_order_mark_stay_first(serve, upstream) -> None:
    pages(upstream)
    service = serve(RULES)
    with service.client(headers={"Sec-Fetch-Dest": "document", "Accept": "text/html"}) as client:
        doctype = client.get("https://example.org/doctype").content
        bom = client.get("https://example.org/bom").content
    for page in (doctype, bom):
        assert b'id="breather-overlay"' in page and b'data-breather="warnings"' in page  # both were edited
    assert doctype.startswith(b"<!doctype html><html lang=en><style"), doctype[:80]
    assert bom.startswith(codecs.BOM_UTF8 + b"<style"), bom[:80]


def test_chromium_draws_them_in_standards_mode_and_reads_them_as_utf8(serve, upstream, chromium) -> None:
    pages(upstream)
    page = chromium(serve(RULES)).new_page()
    page.goto("https://example.org/doctype")
    mode = page.evaluate("document.compatMode")
    page.goto("https://example.org/bom")
    charset, text = page.evaluate("[document.characterSet, document.body.innerText]")
    assert (mode, charset) == ("CSS1Compat", "UTF-8")
    assert "Caf\u00e9 cr\u00e8me" in text
    assert page.locator(".breather-warning").count() == 1  # the warning is there and works in the page as read
