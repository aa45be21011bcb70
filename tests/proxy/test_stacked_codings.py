"""``Content-Encoding`` read as browsers read it, on the real Hacker News page through the content warnings and the
overlay: a review found ``x-gzip`` and stacked codings (``gzip, br``, ``gzip, gzip``) shown by Chromium and passed
by Breather unread (no warning, no overlay, counted ``passed_undecodable``).

RFC 9110 8.4.1.3: "a recipient SHOULD consider x-gzip to be equivalent to gzip"; 8.4: codings listed in the order
they were applied. Every layer is held to the same checks as a single coding: a layer cut off, or one that decodes
past the size cap, sends the response as it came.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from backports import zstd

from tests.proxy.test_pass_through import (
    GENEROUS,
    as_sent,
    hn_page,
    page_flow,
    passed,
    through_the_proxy,
    with_distressing_comment,
)

pytestmark = pytest.mark.fixtures

READ: dict[str, Callable[[bytes], bytes]] = {
    "x-gzip": gzip.compress,
    "X-GZIP": gzip.compress,
    "gzip, br": lambda page: brotli.compress(gzip.compress(page)),
    "gzip, gzip": lambda page: gzip.compress(gzip.compress(page)),
    "deflate,zstd": lambda page: zstd.compress(zlib.compress(page)),
    "x-gzip, identity, br": lambda page: brotli.compress(gzip.compress(page)),
    "identity, gzip": gzip.compress,
}


@pytest.mark.parametrize("coding", list(READ))
def test_a_page_in_a_coding_browsers_read_gets_its_warning_and_the_overlay(
    make_runtime, shared_fixtures: Path, coding: str
) -> None:
    runtime = make_runtime(**GENEROUS)
    flow = page_flow(READ[coding](with_distressing_comment(hn_page(shared_fixtures))), coding)
    through_the_proxy(runtime, flow)
    assert flow.response is not None
    sent = flow.response.raw_content or b""
    assert b'class="breather-warning"' in sent, f"{coding}: the distressing comment went out unmarked"
    assert b'id="breather-overlay"' in sent, f"{coding}: no overlay"
    assert "content-encoding" not in flow.response.headers, "an edited body goes out as identity, and says so"
    assert passed(runtime) == {"rewritten": 1, "passed_truncated": 0, "passed_undecodable": 0, "passed_over_cap": 0}


def cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


NOT_WHOLE: dict[str, tuple[str, Callable[[bytes], bytes], str]] = {
    "the inner gzip cut off": ("gzip, br", lambda page: brotli.compress(cut(gzip.compress(page))), "passed_truncated"),
    "the outer brotli cut off": (
        "gzip, br",
        lambda page: cut(brotli.compress(gzip.compress(page))),
        "passed_truncated",
    ),
    "an x-gzip cut off": ("x-gzip", lambda page: cut(gzip.compress(page)), "passed_truncated"),
    "bytes after the inner gzip": (
        "gzip, br",
        lambda page: brotli.compress(gzip.compress(page) + b"\x00junk"),
        "passed_undecodable",
    ),
    "a coding browsers do not have in the list": (
        "gzip, compress",
        lambda page: gzip.compress(page),
        "passed_undecodable",
    ),
}


@pytest.mark.parametrize("case", list(NOT_WHOLE))
def test_a_stacked_body_with_a_layer_that_is_not_whole_goes_out_as_it_came(
    make_runtime, shared_fixtures: Path, case: str
) -> None:
    coding, encode, counter = NOT_WHOLE[case]
    runtime = make_runtime(**GENEROUS)
    flow = page_flow(encode(with_distressing_comment(hn_page(shared_fixtures))), coding)
    before = as_sent(flow)
    through_the_proxy(runtime, flow)
    assert as_sent(flow) == before
    assert passed(runtime)[counter] == 1 and passed(runtime)["rewritten"] == 0


def test_each_layer_stops_at_the_size_cap(make_runtime, shared_fixtures: Path) -> None:
    """The inner layer alone is over the cap: decoding stops there, and the page goes out as it came."""
    page = with_distressing_comment(hn_page(shared_fixtures))
    inner = zlib.compress(page, 0)  # stored blocks: bigger than the page, so the inner layer is the one past the cap
    cap = len(page) - 1
    runtime = make_runtime(body_size_cap=cap, **GENEROUS)
    raw = gzip.compress(inner)
    assert len(raw) < cap < len(inner)
    flow = page_flow(raw, "deflate, gzip")
    before = as_sent(flow)
    through_the_proxy(runtime, flow)
    assert as_sent(flow) == before
    assert passed(runtime) == {"rewritten": 0, "passed_truncated": 0, "passed_undecodable": 0, "passed_over_cap": 1}


def test_the_codings_of_a_header_in_the_order_they_were_applied() -> None:
    from breather.proxy.bodies import codings

    assert codings("X-Gzip") == ("gzip",)
    assert codings(" gzip ,br ") == ("gzip", "br")
    assert codings("identity, identity") == ()
    assert codings("gzip, compress") is None
