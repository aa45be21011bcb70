"""Where Breather's markup goes in a page with neither ``</head>`` nor ``<body>`` (HTML lets a page leave both out):
never before its byte order mark (the page is then read as windows-1252), its doctype (quirks mode), or the comments
and white space around them; after its ``<html …>`` (and ``<head …>``) start tag when it has one."""

from __future__ import annotations

import codecs

import pytest

from breather.proxy.adapters.generic import GenericAdapter
from breather.proxy.overlay import Overlay, inject
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.test_overlay import page_flow

BOM = codecs.BOM_UTF8

# (page, where the markup goes: the page's bytes before it)
PAGES = {
    "bom": (BOM + b"<title>Thread</title><p>Caf\xc3\xa9</p>", BOM),
    "doctype": (b"<!doctype html><title>Thread</title><p>a</p>", b"<!doctype html>"),
    "html-tag": (b"<!DOCTYPE html>\n<html lang=fr>\n<meta charset=utf-8><p>a</p>", b"<!DOCTYPE html>\n<html lang=fr>"),
    "head-tag": (
        b"<!doctype html><html>\n<head data-x=1>\n<title>t</title><p>a",
        b"<!doctype html><html>\n<head data-x=1>",
    ),
    "comments-and-spaces": (
        BOM + b'\n<!-- built 2024 -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN">\n<!-- a -->\n<p>a',
        BOM + b'\n<!-- built 2024 -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN">\n<!-- a -->\n',
    ),
    "xml-declaration": (b'<?xml version="1.0"?>\n<!doctype html><p>a', b'<?xml version="1.0"?>\n<!doctype html>'),
    "not-a-head": (b"<!doctype html><html><header>x</header><p>a", b"<!doctype html><html>"),
    "nothing-before": (b"<p>a</p>", b""),
    # a long run of white space after <html> and no <head>: read once (it once took 21 s for 28 spaces, and for a
    # hundred longer than any test would wait)
    "spaces-and-no-head": (b"<html>" + b" " * 100 + b"\n<p>a", b"<html>"),
    "newlines-and-no-head": (b"<!doctype html><html>" + b"\n" * 5000 + b"<p>a", b"<!doctype html><html>"),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_the_overlay_goes_after_the_pages_prologue(page: str) -> None:
    body, before = PAGES[page]
    assert inject(body, b"<X>") == before + b"<X>" + body[len(before) :]


@pytest.mark.parametrize("page", list(PAGES))
def test_the_warnings_stylesheet_goes_after_the_pages_prologue(page: str) -> None:
    body, before = PAGES[page]
    result = GenericAdapter().rewrite(body + f"<p>{DISTRESSING}</p>".encode(), context())
    assert result is not None and result.marked
    assert result.body.startswith(before + b'<style data-breather="warnings">')


def test_a_page_through_both_keeps_its_doctype_first(make_runtime) -> None:
    page = b"<!doctype html><html lang=en><meta charset=utf-8><title>Thread</title><article><p>hello</p></article>"
    flow = page_flow(page)
    Overlay(make_runtime()).response(flow)
    assert flow.response.content.startswith(b"<!doctype html><html lang=en><style nonce=")
    assert flow.response.content.endswith(
        b"</script><meta charset=utf-8><title>Thread</title><article><p>hello</p></article>"
    )
