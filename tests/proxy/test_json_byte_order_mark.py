"""A JSON feed that starts with a UTF-8 byte order mark is read and marked: browsers drop the mark
(``fetch().json()``, ``Response.text()``), so the page shows the feed, and a review found its distressing post going
out unmarked. The mark goes back in front of what Breather writes, as the site sent it."""

from __future__ import annotations

import codecs
import json

import pytest

from breather.proxy.adapters.jsonbody import dump_json, parse_json
from breather.proxy.feed_warnings import FeedWarnings
from tests.proxy.test_feed_warnings import DISTRESSING, GENEROUS, listing, reddit_flow, run

BOM = codecs.BOM_UTF8


def compact(body: bytes) -> bytes:
    return json.dumps(json.loads(body), separators=(",", ":")).encode()


@pytest.mark.parametrize("layout", [listing, lambda *titles: compact(listing(*titles))], ids=["spaced", "compact"])
def test_a_listing_with_a_byte_order_mark_gets_its_warning(make_runtime, layout) -> None:
    runtime = make_runtime(**GENEROUS)
    flow = reddit_flow(BOM + layout("Cute dog pictures", DISTRESSING))
    run(FeedWarnings(runtime), flow)
    sent = flow.response.raw_content
    assert sent.startswith(BOM) and not sent[len(BOM) :].startswith(BOM)
    posts = [child["data"] for child in json.loads(sent.decode("utf-8-sig"))["data"]["children"]]
    assert [post["spoiler"] for post in posts] == [False, True], "the distressing post went out unmarked"


def test_the_mark_is_read_past_and_written_back() -> None:
    parsed = parse_json(BOM + b'{"title": "caf\\u00e9"}\n')
    assert parsed is not None
    document, style = parsed
    assert document == {"title": "café"}
    assert (style.byte_order_mark, style.ensure_ascii, style.key_separator) == (True, True, ": ")
    assert dump_json(document, style) == BOM + b'{"title": "caf\\u00e9"}\n'
    assert not parse_json(b"{}")[1].byte_order_mark  # type: ignore[index]
    assert parse_json(BOM + BOM + b"{}") is None  # one mark only, as browsers read it
