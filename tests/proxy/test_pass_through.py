"""Never break the web, on the real Hacker News page through the real content warnings and overlay (in the order
``make_addons`` runs them): what a user test served through ``breather serve`` and found wrong.

* A compressed page cut off on its way (the HN page gzipped and cut in half) was served as the part that could be
  decompressed, with the overlay: now it goes out byte for byte, counted in ``/healthz`` as ``passed_truncated``.
* Bodies over the size cap (streamed, or over it only once decompressed) passed with ``passed_over_cap`` at 0.
* A page with one byte that is not UTF-8 got the overlay but its distressing post no warning: now its posts are read
  and marked, and every byte outside Breather's insertions goes out as it came.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from backports import zstd
from mitmproxy import http
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.addon import make_addons
from breather.proxy.feed_warnings import FeedWarnings
from breather.proxy.overlay import Overlay
from breather.runtime import Runtime
from tests.proxy.adapters.test_real_feeds import strip_breather

pytestmark = pytest.mark.fixtures

HN_PAGE = "hackernews/newhackers_comments.html"
DISTRESSING = "I want to kill myself tonight, I have the pills ready"
GENEROUS = {"classify_budget_ms": 5000}  # the machine is shared; the budget has its own test


def bare_deflate(body: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


CODINGS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "deflate": ("deflate", zlib.compress),
    "bare deflate": ("deflate", bare_deflate),  # what some servers send as "deflate"
    "br": ("br", brotli.compress),
    "zstd": ("zstd", zstd.compress),
}


def hn_page(shared_fixtures: Path) -> bytes:
    return (shared_fixtures / "feeds" / HN_PAGE).read_bytes()


def with_distressing_comment(page: bytes) -> bytes:
    """The page with ``DISTRESSING`` at the start of its middle comment's text."""
    starts = [match.end() for match in re.finditer(rb'<span class="comment">', page)]
    cut = starts[len(starts) // 2]
    return page[:cut] + DISTRESSING.encode() + b" " + page[cut:]


def page_flow(raw: bytes, coding: str | None = None) -> http.HTTPFlow:
    flow = tflow.tflow(resp=True)
    flow.request.host = "news.ycombinator.com"
    flow.request.path = "/item?id=2477296"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.metadata[flows.SITE] = "news.ycombinator.com"
    flow.metadata[flows.ADAPTER] = "hackernews"
    flow.metadata[flows.PROFILE] = "me"
    flow.response = http.Response.make(200, b"", {"content-type": "text/html; charset=utf-8"})
    flow.response.raw_content = raw
    if coding:  # set after the body: make() would try to encode b"" with it, and drop a coding it cannot write
        flow.response.headers["content-encoding"] = coding
    return flow


def through_the_proxy(runtime: Runtime, flow: http.HTTPFlow) -> None:
    """The response hooks of the content warnings and the overlay, as ``breather serve`` runs them."""

    async def respond() -> None:
        for addon in make_addons(runtime):
            if isinstance(addon, (FeedWarnings, Overlay)):
                result = addon.response(flow)
                if asyncio.iscoroutine(result):
                    await result

    asyncio.run(respond())


def as_sent(flow: http.HTTPFlow) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
    assert flow.response is not None
    return flow.response.raw_content, list(flow.response.headers.fields)


def passed(runtime: Runtime) -> dict[str, int]:
    """The pass-through counters as ``/healthz`` shows them."""
    proxy = runtime.health()["proxy"]
    return {name: proxy[name] for name in ("rewritten", "passed_truncated", "passed_undecodable", "passed_over_cap")}


@pytest.mark.parametrize("name", list(CODINGS))
@pytest.mark.parametrize("keep", ["half", "all but its last 4 bytes"])
def test_a_compressed_page_cut_off_on_its_way_goes_out_byte_for_byte_and_is_counted(
    make_runtime, shared_fixtures: Path, name: str, keep: str
) -> None:
    coding, compress = CODINGS[name]
    whole = compress(with_distressing_comment(hn_page(shared_fixtures)))
    cut = whole[: len(whole) // 2] if keep == "half" else whole[:-4]
    runtime = make_runtime(**GENEROUS)
    flow = page_flow(cut, coding)
    before = as_sent(flow)
    through_the_proxy(runtime, flow)
    assert as_sent(flow) == before  # no overlay, no warning, still compressed: the browser sees what the site sent
    assert passed(runtime) == {"rewritten": 0, "passed_truncated": 1, "passed_undecodable": 0, "passed_over_cap": 0}


@pytest.mark.parametrize("name", list(CODINGS))
def test_a_whole_compressed_page_is_still_read_and_sent_as_identity(
    make_runtime, shared_fixtures: Path, name: str
) -> None:
    coding, compress = CODINGS[name]
    page = with_distressing_comment(hn_page(shared_fixtures))
    runtime = make_runtime(**GENEROUS)
    flow = page_flow(compress(page), coding)
    through_the_proxy(runtime, flow)
    assert flow.response is not None and "content-encoding" not in flow.response.headers
    sent = flow.response.raw_content or b""
    assert b'class="breather-warning"' in sent and b'id="breather-overlay"' in sent
    assert passed(runtime) == {"rewritten": 1, "passed_truncated": 0, "passed_undecodable": 0, "passed_over_cap": 0}


def test_a_gzip_page_in_two_members_is_read_whole(make_runtime, shared_fixtures: Path) -> None:
    """RFC 1952 allows a gzip body of several members; mitmproxy's decoder kept only the first."""
    page = with_distressing_comment(hn_page(shared_fixtures))
    middle = len(page) // 2
    runtime = make_runtime(**GENEROUS)
    flow = page_flow(gzip.compress(page[:middle]) + gzip.compress(page[middle:]), "gzip")
    through_the_proxy(runtime, flow)
    assert flow.response is not None and flow.response.raw_content is not None
    assert strip_overlay(strip_breather(flow.response.raw_content.decode())) == page.decode()


def not_whole(shared_fixtures: Path) -> dict[str, tuple[bytes, str]]:
    page = hn_page(shared_fixtures)
    squeezed = brotli.compress(page)
    return {
        "bytes after the end of its gzip data": (gzip.compress(page) + b"\x00garbage", "gzip"),
        "corrupt brotli": (squeezed[:100] + bytes(b ^ 0x5A for b in squeezed[100:200]) + squeezed[200:], "br"),
        # (two codings a browser reads, "gzip, br", are read: tests/proxy/test_stacked_codings.py)
        "two codings, one browsers do not have": (gzip.compress(zlib.compress(page)), "zlib, gzip"),
        "a coding browsers do not have": (zlib.compress(page), "zlib"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "bytes after the end of its gzip data",
        "corrupt brotli",
        "two codings, one browsers do not have",
        "a coding browsers do not have",
    ],
)
def test_a_body_that_cannot_be_decoded_whole_goes_out_byte_for_byte_and_is_counted(
    make_runtime, shared_fixtures: Path, case: str
) -> None:
    raw, coding = not_whole(shared_fixtures)[case]
    runtime = make_runtime(**GENEROUS)
    flow = page_flow(raw, coding)
    before = as_sent(flow)
    through_the_proxy(runtime, flow)
    assert as_sent(flow) == before
    assert passed(runtime) == {"rewritten": 0, "passed_truncated": 0, "passed_undecodable": 1, "passed_over_cap": 0}


# --- over the size cap ----------------------------------------------------------------------------------------------

CAP = 200_000  # the user test's 10.5 MB feed against the 4 MB default, at a size a test can build in a blink


def reddit_flow(raw: bytes | None, content_type: str, coding: str | None = None) -> http.HTTPFlow:
    flow = tflow.tflow(resp=True)
    flow.request.host = "oauth.reddit.com"
    flow.request.path = "/r/all/new"
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.ADAPTER] = "reddit"
    flow.metadata[flows.PROFILE] = "me"
    flow.response = http.Response.make(200, b"", {"content-type": content_type})
    flow.response.raw_content = raw
    if coding:
        flow.response.headers["content-encoding"] = coding
    return flow


def big_listing(at_least: int) -> bytes:
    post = {"kind": "t3", "data": {"name": "t3_0", "title": DISTRESSING, "selftext": "", "spoiler": False}}
    count = at_least // len(json.dumps(post)) + 1
    return json.dumps({"kind": "Listing", "data": {"children": [post] * count, "after": None}}).encode()


def test_a_feed_streamed_for_its_size_is_counted(make_runtime) -> None:
    """mitmproxy streams a body over ``body_size_cap`` (``breather serve`` sets ``stream_large_bodies`` to it), so the
    content warnings only ever see it as streamed, with no body kept."""
    runtime = make_runtime(body_size_cap=CAP)
    flow = reddit_flow(None, "application/json")
    assert flow.response is not None
    flow.response.stream = True
    through_the_proxy(runtime, flow)
    assert flow.response.raw_content is None
    assert passed(runtime)["passed_over_cap"] == 1


def test_a_live_event_stream_is_not_counted_as_over_the_cap(make_runtime) -> None:
    runtime = make_runtime(body_size_cap=CAP)
    flow = reddit_flow(None, "text/event-stream")
    assert flow.response is not None
    flow.response.stream = True
    through_the_proxy(runtime, flow)
    assert passed(runtime)["passed_over_cap"] == 0


def test_a_small_gzip_feed_over_the_cap_once_decompressed_goes_out_as_it_came_and_is_counted(make_runtime) -> None:
    listing = big_listing(CAP + 1)
    raw = gzip.compress(listing)
    assert len(raw) < CAP < len(listing)
    runtime = make_runtime(body_size_cap=CAP, **GENEROUS)
    flow = reddit_flow(raw, "application/json", "gzip")
    before = as_sent(flow)
    through_the_proxy(runtime, flow)
    assert as_sent(flow) == before
    assert passed(runtime) == {"rewritten": 0, "passed_truncated": 0, "passed_undecodable": 0, "passed_over_cap": 1}


@pytest.mark.parametrize("name", list(CODINGS))
def test_a_body_that_expands_past_the_cap_is_never_decoded_whole(make_runtime, name: str) -> None:
    """A compressed body can expand a thousandfold: decoding stops at the cap instead of filling memory first."""
    from breather.proxy.bodies import decode_body

    coding, encode = CODINGS[name]
    expanding = encode(b"{" + b" " * (200 * CAP) + b"}")
    assert len(expanding) < CAP
    response = http.Response.make(200, b"", {"content-encoding": coding})
    response.raw_content = expanding
    decoded = decode_body(response, CAP)
    assert decoded.body is None and decoded.problem == "over_cap"
    complete = encode(b"{}")
    response.raw_content = complete
    assert decode_body(response, CAP).body == b"{}"


# --- a byte that is not UTF-8 ---------------------------------------------------------------------------------------


def strip_overlay(page: str) -> str:
    """Undo the overlay's insertion (its stylesheet and script)."""
    return re.sub(
        r'<style nonce="[^"]*" id="breather-overlay-style">.*?</style><script nonce="[^"]*" id="breather-overlay" '
        r'data-breather="[^"]*">.*?</script>',
        "",
        page,
        flags=re.S,
    )


@pytest.mark.parametrize("coding", [None, "gzip"])
def test_a_page_with_a_byte_that_is_not_utf8_still_gets_its_warning_and_keeps_every_other_byte(
    make_runtime, events_of, shared_fixtures: Path, coding: str | None
) -> None:
    page = with_distressing_comment(hn_page(shared_fixtures)).replace(b"AWS outage", b"AWS \xff\xfe outage", 1)
    assert page.index(b"\xff\xfe") < page.index(b"</title>")
    runtime = make_runtime(**GENEROUS)
    flow = page_flow(gzip.compress(page) if coding else page, coding)
    through_the_proxy(runtime, flow)

    assert flow.response is not None
    sent = flow.response.raw_content or b""
    as_read = sent.decode("utf-8", "surrogateescape")  # a lone surrogate for each byte that is not UTF-8
    assert as_read.count('class="breather-warning"') == 1
    assert 'data-breather-categories="self_harm' in as_read and 'id="breather-overlay"' in as_read
    assert strip_overlay(strip_breather(as_read)).encode("utf-8", "surrogateescape") == page
    shown = [event for event in events_of(runtime) if event["kind"] == "warning_shown"]
    assert [(event["site"], event["category"]) for event in shown] == [("news.ycombinator.com", "self_harm")]
    assert passed(runtime)["rewritten"] == 1
