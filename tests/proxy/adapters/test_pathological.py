"""Never break the web, however odd the page: bodies made of long runs of unclosed markup go through every adapter,
the overlay's edits and calm in one pass, and come out unchanged where there is nothing to flag.

Each of these shapes once made a pattern rescan the rest of the body from every "<" (quadratic: "<" * 400 KB held
the old.reddit adapter for 104 s, '<meta "' runs the CSP edit for 395 s), while the response waited. The assertions
are about what the person gets; a regression shows as a run that takes minutes instead of seconds.
"""

from __future__ import annotations

import pytest

from breather.proxy.adapters.base import AdapterContext
from breather.proxy.adapters.registry import ADAPTER_NAMES, adapter_for
from breather.proxy.calm_youtube import calm_page
from breather.proxy.csp import add_nonce_to_meta
from breather.proxy.overlay import inject

RUN = 300_000
PATHOLOGICAL = {
    "unclosed <": b"<" * RUN,
    "unclosed start tags": b"<div " * (RUN // 5),
    "unclosed quotes": b'<a "' * (RUN // 4),
    "unclosed scripts": b"<script>" * (RUN // 8),
    "unclosed styles": b"<style>" * (RUN // 7),
    "unclosed meta": b'<head><meta "' * (RUN // 13),
    "unclosed body": b"<body " * (RUN // 6),
    "entities": b"&#" * (RUN // 2),
    "digits and spaces": b"1 " * (RUN // 2),
}
NOTHING_FLAGGED = AdapterContext(judge=lambda _text: None, nonce="n")


@pytest.mark.parametrize("site", ADAPTER_NAMES)
@pytest.mark.parametrize("shape", sorted(PATHOLOGICAL))
def test_every_html_adapter_reads_a_pathological_page_and_leaves_it_alone(site: str, shape: str) -> None:
    adapter = adapter_for(site, "/", "text/html; charset=utf-8")
    assert adapter is not None
    assert adapter.rewrite(PATHOLOGICAL[shape], NOTHING_FLAGGED) is None


@pytest.mark.parametrize("shape", sorted(PATHOLOGICAL))
def test_the_overlay_edits_and_calm_pass_over_a_pathological_page(shape: str) -> None:
    body = PATHOLOGICAL[shape]
    assert add_nonce_to_meta(body, "n") == body, "no Content-Security-Policy meta in it: not a byte changes"
    assert inject(body, b"<x>") == b"<x>" + body, "no </head> and no whole <body> tag: the overlay goes first"
    assert calm_page(body) is None
