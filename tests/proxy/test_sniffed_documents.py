"""A page load answered without a Content-Type, which browsers show as HTML when it starts like HTML: a review had
Chromium show such a Hacker News page with its distressing comment in plain view, no warning and no overlay. Run
through every response step of the real chain, on the real page; what the browsers themselves do was checked in
Chromium (``tests/e2e/test_proxy_head_and_codings.py``, and by hand for the cases below that it shows as text)."""

from __future__ import annotations

import asyncio
import codecs
import gzip
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.addon import make_addons
from breather.proxy.sniff import sniffs_as_html
from breather.runtime import Runtime
from tests.proxy.test_pass_through import GENEROUS, hn_page, page_flow, with_distressing_comment

pytestmark = pytest.mark.fixtures


def untyped_page(raw: bytes, coding: str | None = None, dest: str = "document") -> Any:
    flow = page_flow(raw, coding)
    del flow.response.headers["content-type"]
    flow.request.headers["sec-fetch-dest"] = dest
    return flow


def responded(runtime: Runtime, flow: Any) -> Any:
    """Every response hook of every addon, in the chain's order, as mitmproxy runs them."""

    async def run() -> None:
        for addon in make_addons(runtime):
            if hasattr(addon, "response"):
                result = addon.response(flow)
                if asyncio.iscoroutine(result):
                    await result

    asyncio.run(run())
    return flow


def marked_with_overlay(flow: Any) -> bool:
    sent = flow.response.raw_content or b""
    return b'class="breather-warning"' in sent and b'id="breather-overlay"' in sent


@pytest.mark.parametrize("coding", [None, "gzip"])
def test_a_page_without_a_content_type_gets_its_warning_and_the_overlay(
    make_runtime, shared_fixtures: Path, coding: str | None
) -> None:
    page = with_distressing_comment(hn_page(shared_fixtures))
    flow = untyped_page(gzip.compress(page) if coding else page, coding)
    responded(make_runtime(**GENEROUS), flow)
    assert marked_with_overlay(flow), "the distressing comment went out unmarked, with no overlay"
    assert flow.response.headers["content-type"] == "text/html"  # what the browser read it as anyway


@pytest.mark.parametrize(
    "case",
    [
        "the site says nosniff (browsers show it as text)",
        "a byte order mark first (Chromium shows it as text)",
        "fetched by a script (browsers never sniff that)",
    ],
)
def test_a_page_without_a_content_type_that_browsers_do_not_show_as_html_goes_out_as_it_came(
    make_runtime, shared_fixtures: Path, case: str
) -> None:
    page = with_distressing_comment(hn_page(shared_fixtures))
    if case.startswith("a byte order mark"):
        page = codecs.BOM_UTF8 + page
    flow = untyped_page(page, dest="empty" if case.startswith("fetched") else "document")
    if case.startswith("the site says nosniff"):
        flow.response.headers["x-content-type-options"] = "nosniff"
    before = (flow.response.raw_content, list(flow.response.headers.fields))
    responded(make_runtime(**GENEROUS), flow)
    assert (flow.response.raw_content, list(flow.response.headers.fields)) == before


@pytest.mark.parametrize(
    "start",
    [b"<!DOCTYPE html>", b"<!doctype HTML >", b"\r\n\t <html lang=en>", b"<HEAD>", b"<p>", b"<!-- a -->", b"<a "],
)
def test_what_every_browser_shows_as_html(start: bytes) -> None:
    assert sniffs_as_html(start + b"<p>hi</p>")


@pytest.mark.parametrize(
    "start",
    [
        codecs.BOM_UTF8 + b"<!doctype html>",  # Chromium: text/plain
        b"hello <p>",
        b"<section>",
        b"<meta charset=utf-8>",
        b"<?xml version='1.0'?><html>",  # XML, not HTML
        b" " * 520 + b"<html>",  # past what Chromium looks at
        b"<pre>",  # Chromium shows it as HTML, the standard and Firefox do not: left unread rather than made HTML
        b"<!DOCTYPE>",
    ],
)
def test_what_some_browser_shows_as_text_or_not_as_html(start: bytes) -> None:
    assert not sniffs_as_html(start + b"<p>hi</p>")
