"""Splicing a few keys into a JSON body: the result must mean exactly what the edited document means, every other
byte stays as sent, and anything ambiguous is refused (the caller then writes the whole document)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breather.proxy.adapters.jsonbody import detect_style
from breather.proxy.adapters.jsonsplice import ObjectEdit, splice
from breather.proxy.adapters.reddit import RedditAdapter
from tests.conftest import real_json_feeds
from tests.proxy.adapters.helpers import DISTRESSING, context


def spaced(document: Any) -> bytes:
    return json.dumps(document).encode()


def edit(data: dict[str, Any], values: dict[str, Any]) -> ObjectEdit:
    return ObjectEdit(anchor=("name", data["name"]), first_key=next(iter(data)), values=values)


def test_an_existing_value_is_replaced_in_place_and_nothing_else_moves() -> None:
    crosspost = {"name": "t3_inner", "spoiler": False}
    post = {"title": "x", "spoiler": False, "crosspost_parent_list": [crosspost], "name": "t3_a"}
    body = spaced([post, {"title": "y", "spoiler": False, "name": "t3_b"}])
    out = splice(body, detect_style(body), [edit(post, {"spoiler": True})])
    assert out == body.replace(b'"spoiler": false, "crosspost', b'"spoiler": true, "crosspost', 1)
    assert json.loads(out)[0]["crosspost_parent_list"][0]["spoiler"] is False


def test_a_missing_key_is_added_at_the_end_of_its_own_object_in_the_bodys_layout() -> None:
    post = {"name": "t3_a", "preview": {"images": [{"id": "i"}]}, "title": "x"}
    compact = json.dumps([post], separators=(",", ":")).encode()
    out = splice(compact, detect_style(compact), [edit(post, {"spoiler": True, "note": "\u00e9"})])
    assert out == compact.replace(b'"title":"x"}', b'"title":"x","spoiler":true,"note":"\\u00e9"}')


def test_string_values_are_escaped_as_the_body_escapes() -> None:
    post = {"name": "t1_c", "body": "calm"}
    body = json.dumps([post, {"name": "t1_d", "body": "caf\u00e9"}], ensure_ascii=False).encode()
    out = splice(body, detect_style(body), [edit(post, {"body": '**Breather** "x"\n>!\u2019!<'})])
    assert out is not None and json.loads(out)[0]["body"] == '**Breather** "x"\n>!\u2019!<'


@pytest.mark.parametrize(
    "body",
    [
        b'[{"name": "t3_a", "spoiler": false}, {"name": "t3_a", "spoiler": false}]',  # the id is not unique
        b'[\n  {\n    "name": "t3_a"\n  }\n]',  # indented: not attempted
        b'[{"name": "t3_a", "spoiler": false, "spoiler": false}]',  # a duplicate key
        b'[{"title": "\\"name\\": \\"t3_a\\"", "x": 1}]',  # the id only inside a string
    ],
)
def test_ambiguous_bodies_are_refused(body: bytes) -> None:
    assert splice(body, detect_style(body), [ObjectEdit(("name", "t3_a"), "name", {"spoiler": True})]) is None


def test_a_flagged_link_in_a_spaced_ascii_listing_changes_only_its_spoiler_and_title() -> None:
    links = [{"kind": "t3", "data": {"name": f"t3_{i}", "title": "Caf\u00e9 <b>", "spoiler": False}} for i in range(3)]
    links[1]["data"]["title"] = DISTRESSING
    body = spaced({"kind": "Listing", "data": {"children": links}})
    result = RedditAdapter().rewrite(body, context())
    assert result is not None and [m.post_id for m in result.marked] == ["t3_1"]
    before, after = body.split(b'"t3_1"', 1)
    warned = spaced("\u26a0 Breather: self-harm \u2014 " + DISTRESSING)
    expected = after.replace(b'"spoiler": false', b'"spoiler": true', 1).replace(spaced(DISTRESSING), warned, 1)
    assert result.body == before + b'"t3_1"' + expected


REDDIT = real_json_feeds(("reddit",))


@pytest.mark.fixtures
@pytest.mark.parametrize("name", REDDIT)
def test_every_post_of_every_real_reddit_body_splices_to_what_writing_it_would_give(
    shared_fixtures: Path, name: str
) -> None:
    """Links always splice; a comment deep in a long thread may be refused (then the body is written whole)."""
    body = (shared_fixtures / "feeds" / name).read_bytes()
    document = json.loads(body)
    things = [node for node in _things(document) if node["data"].get("name")]
    refused = []
    for thing in things:
        data = thing["data"]
        out = splice(body, detect_style(body), [edit(data, {"spoiler": True, "body": DISTRESSING})])
        if out is None:
            refused.append(thing["kind"])
            continue
        before = dict(data)
        data.update(spoiler=True, body=DISTRESSING)
        assert orjson.loads(out) == document
        data.clear()
        data.update(before)
    assert "t3" not in refused
    assert len(refused) <= len(things) // 10


def _things(node: Any) -> list[dict[str, Any]]:
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if current.get("kind") in ("t1", "t3") and isinstance(current.get("data"), dict):
                found.append(current)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    others=st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=4), max_size=3),
    post=st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    values=st.dictionaries(st.text(max_size=6), json_scalars, min_size=1, max_size=2),
    ascii_only=st.booleans(),
    compact=st.booleans(),
)
def test_a_splice_that_is_made_always_means_the_edited_document(
    others: list[dict[str, Any]], post: dict[str, Any], values: dict[str, Any], ascii_only: bool, compact: bool
) -> None:
    post = {**post, "name": "t3_target"}
    values.pop("name", None)
    document = {"items": [*others, {"wrap": post}], "name": "t3_target_not"}
    separators = (",", ":") if compact else (", ", ": ")
    body = json.dumps(document, ensure_ascii=ascii_only, separators=separators).encode()
    out = splice(body, detect_style(body), [edit(post, values)])
    if out is None:
        return
    post.update(values)
    assert json.loads(out) == document
