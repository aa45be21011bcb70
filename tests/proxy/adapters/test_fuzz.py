"""Never break the web: adapters fed mutated real fixtures never raise, and valid input stays valid output.

Mutations start from the real responses in ../shared/fixtures/feeds: truncation, byte flips and insertions,
deleted slices, random JSON values grafted into the real structure, and arbitrary slices of real HTML pages
(fragments). The judge flags every post that has any text, so the marking code runs on every odd shape.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from breather.proxy.adapters.base import AdapterContext, Finding
from breather.proxy.adapters.htmlmark import HtmlAdapter
from breather.proxy.adapters.mastodon import MastodonStreamAdapter
from tests.proxy.adapters.test_real_feeds import FILES, load

pytestmark = pytest.mark.fixtures

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON_FILES = [n for n in FILES if not n.endswith(".html")]
HTML_FILES = [n for n in FILES if n.endswith(".html")]
HTML_SLICE = 24_000


def flag_everything(text: str) -> Finding | None:
    return Finding(categories=("violence", "self_harm"), evidence=(text[:12],)) if text.strip() else None


EVERYTHING = AdapterContext(judge=flag_everything, hidden_topics=frozenset({"violence"}), nonce="fuzz")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def is_valid_json(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def strip_guard(body: bytes) -> bytes:
    return body.removeprefix(b"for (;;);")


@st.composite
def byte_mutations(draw: st.DrawFn, body: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    at = draw(st.integers(0, max(len(body) - 1, 0)))
    if kind == "truncate":
        return body[:at]
    if kind == "flip":
        return body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :]
    if kind == "insert":
        return body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    return body[:at] + body[at + draw(st.integers(1, 64)) :]


def graft(document: Any, path_choices: list[int], value: Any) -> Any:
    """Replace the node reached by following ``path_choices`` (indexes into children) with ``value``."""
    if not path_choices or not isinstance(document, (dict, list)) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path_choices[0] % len(keys)]
    document[key] = graft(document[key], path_choices[1:], value)  # type: ignore[index]
    return document


@FUZZ
@given(data=st.data())
def test_mutated_real_json_never_raises_and_valid_in_means_valid_out(
    shared_fixtures: Path, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(JSON_FILES))
    body, adapter = load(shared_fixtures, name)
    mutated = data.draw(byte_mutations(body))
    result = adapter.rewrite(mutated, EVERYTHING)
    if result is not None and is_valid_json(strip_guard(mutated)):
        assert is_valid_json(strip_guard(result.body)), name


@FUZZ
@given(data=st.data())
def test_real_json_with_grafted_values_is_still_valid_json(shared_fixtures: Path, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(JSON_FILES))
    body, adapter = load(shared_fixtures, name)
    guard = b"for (;;);" if body.startswith(b"for (;;);") else b""
    document = json.loads(body[len(guard) :])
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.lists(st.integers(0, 50), max_size=8))
        document = graft(document, path, data.draw(json_values))
    mutated = guard + json.dumps(document).encode()
    result = adapter.rewrite(mutated, EVERYTHING)
    if result is not None:
        assert result.body.startswith(guard) and is_valid_json(strip_guard(result.body))


class StrictEnough(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.starts = 0
        self.markup_in_values = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts += 1
        self.markup_in_values = self.markup_in_values or any(value and "<" in value for _, value in attrs)


def read_tags(page: str) -> StrictEnough:
    parser = StrictEnough()
    parser.feed(page)
    parser.close()
    return parser


def start_tags(page: str) -> int:
    return read_tags(page).starts


def is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def escaped_bytes(page: str) -> list[str]:
    """The bytes that are not UTF-8, in order, as ``surrogateescape`` reads them."""
    return [char for char in page if "\udc80" <= char <= "\udcff"]


@FUZZ
@given(data=st.data())
def test_slices_and_mutations_of_real_html_never_raise_and_stay_well_formed(
    shared_fixtures: Path, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(HTML_FILES))
    body, adapter = load(shared_fixtures, name)
    start = data.draw(st.integers(0, max(len(body) - HTML_SLICE, 0)))
    fragment = body[start : start + data.draw(st.integers(0, HTML_SLICE))]
    mutated = data.draw(byte_mutations(fragment)) if data.draw(st.booleans()) else fragment
    result = adapter.rewrite(mutated, EVERYTHING)
    if result is None:
        return
    # Valid UTF-8 in, valid UTF-8 out; the bytes that are not UTF-8 (a cut or a mutation) go out as they came.
    out = result.body.decode("utf-8", "surrogateescape")
    if is_utf8(mutated):
        result.body.decode("utf-8")
    assert escaped_bytes(out) == escaped_bytes(mutated.decode("utf-8", "surrogateescape"))
    if not isinstance(adapter, HtmlAdapter):
        return
    before = read_tags(mutated.decode("utf-8", "surrogateescape"))
    if before.markup_in_values:
        # A mutation left a quote open across tags (href='... up to the next ' far below). Jumping to posts looks
        # only at the nearest tag before a post, so a post inside that value may be marked, its note landing inside
        # the value too: not displayed, the page as parseable as before (docs/adapters.md, known differences).
        return
    # Each mark adds its note (warning span, label span, evidence span, button): tags are only ever added.
    assert start_tags(out) >= before.starts + len(result.marked) * 4


@FUZZ
@given(data=st.data())
def test_mastodon_stream_built_from_real_statuses_survives_any_cut(shared_fixtures: Path, data: st.DataObject) -> None:
    statuses = json.loads((shared_fixtures / "feeds" / "mastodon" / "home_timeline.json").read_bytes())
    picked = data.draw(st.lists(st.sampled_from(statuses), min_size=1, max_size=4))
    events = [f"event: update\ndata: {json.dumps(status)}\n\n" for status in picked]
    stream = ("".join(events) + ":thump\n\n").encode()
    cut = stream[: data.draw(st.integers(0, len(stream)))]
    mutated = data.draw(byte_mutations(cut)) if cut and data.draw(st.booleans()) else cut
    result = MastodonStreamAdapter().rewrite(mutated, EVERYTHING)
    if result is None:
        return
    before = mutated.decode("utf-8").split("\n\n")
    after = result.body.decode("utf-8").split("\n\n")
    assert len(after) == len(before) and after[-1] == before[-1]  # no event added, dropped, or a partial one touched
    for old, new in zip(before, after, strict=True):
        if old != new:
            marked = json.loads(new.split("data: ", 1)[1])
            assert marked["sensitive"] is True and "Breather:" in marked["spoiler_text"]
