"""Bluesky (app.bsky): post views in feeds (``feed[].post``), threads (``thread.post``, ``parent``, ``replies``),
``posts`` lists, embedded quote views (``value`` instead of ``record``) and a bare record (``{uri, cid, value}``).

How clients treat labels decided the marking. Bluesky's app only acts on labels from labelers the person subscribes
to, plus the author's *self-labels*; of the global values only ``porn``/``sexual``/``nudity``/``graphic-media`` may
be self-applied (``!warn`` is ``no-self``), and ``graphic-media`` defaults to "warn" (a blur with click-through over
the post's media). So a flagged post view gets two labels with the author's DID as ``src`` (a self-label shape):
``graphic-media``, which clients draw, and ``breather-<category>``, which they ignore but which carries the category
for Breather's own overlay. A bare record gets the same values as ``labels.values`` self-labels. Breather does not
impersonate Bluesky's moderation service (no ``!warn`` from its DID), so the app blurs a flagged post's media, never
its text: the text therefore starts with ``⚠ Breather: self-harm — ``, every facet (link, mention, tag: UTF-8 byte
offsets) moved along by the prefix's length in bytes (docs/adapters.md).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from breather.proxy.adapters.base import (
    AdapterContext,
    Finding,
    Marked,
    has_title_warning,
    is_collapsed,
    judge_text,
    title_warning,
)
from breather.proxy.adapters.jsonadapter import JsonAdapter, find_posts, values_of

CLIENT_LABEL = "graphic-media"
SELF_LABELS_TYPE = "com.atproto.label.defs#selfLabels"
_DID = re.compile(r"^at://(did:[a-z]+:[^/]+)/")
_NOT_LABEL_CHAR = re.compile(r"[^a-z]+")


def breather_label(category: str) -> str:
    return "breather-" + (_NOT_LABEL_CHAR.sub("-", category.lower()).strip("-") or "custom")


def post_record(node: dict[str, Any]) -> dict[str, Any] | None:
    """The post record of a post view / view record / bare record, if ``node`` is one."""
    uri = node.get("uri")
    if not isinstance(uri, str) or "/app.bsky.feed.post/" not in uri:
        return None
    record = node.get("record") if "author" in node and isinstance(node.get("record"), dict) else node.get("value")
    if isinstance(record, dict) and isinstance(record.get("text"), str):
        return record
    return None


def is_post(node: dict[str, Any]) -> bool:
    return post_record(node) is not None


def embedded_views(node: dict[str, Any]) -> list[Any]:
    """A post's quoted posts live in its embed view (``embed``; ``embeds`` on a quoted view record): its author,
    record and labels hold none."""
    return values_of(node, ("embed", "embeds"))


def author_did(node: dict[str, Any]) -> str | None:
    author = node.get("author")
    if isinstance(author, dict) and isinstance(author.get("did"), str):
        return str(author["did"])
    match = _DID.match(str(node.get("uri", "")))
    return match.group(1) if match else None


def label_values(finding: Finding) -> list[str]:
    return [CLIENT_LABEL, *dict.fromkeys(breather_label(c) for c in finding.categories)]


def add_view_labels(node: dict[str, Any], finding: Finding) -> None:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    labels = node.get("labels")
    existing: list[Any] = labels if isinstance(labels, list) else []
    present = {label.get("val") for label in existing if isinstance(label, dict)}
    additions = [
        {"src": author_did(node), "uri": node["uri"], "cid": node.get("cid"), "val": value, "cts": now}
        for value in label_values(finding)
        if value not in present
    ]
    node["labels"] = [*existing, *additions]


def add_self_labels(record: dict[str, Any], finding: Finding) -> None:
    labels = record.get("labels")
    if not isinstance(labels, dict) or not isinstance(labels.get("values"), list):
        labels = {"$type": SELF_LABELS_TYPE, "values": []}
    present = {value.get("val") for value in labels["values"] if isinstance(value, dict)}
    labels["values"] = [*labels["values"], *({"val": v} for v in label_values(finding) if v not in present)]
    record["labels"] = labels


def prefix_text(record: dict[str, Any], prefix: str) -> None:
    """Put ``prefix`` before the post's text and move its facets by the prefix's UTF-8 length."""
    record["text"] = prefix + str(record["text"])
    by = len(prefix.encode("utf-8"))
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else ():
        index = facet.get("index") if isinstance(facet, dict) else None
        if not isinstance(index, dict):
            continue
        for end in ("byteStart", "byteEnd"):
            if isinstance(index.get(end), int):
                index[end] += by


def mark_post(node: dict[str, Any], record: dict[str, Any], ctx: AdapterContext) -> Marked | None:
    if has_title_warning(str(record["text"])):
        return None
    finding = judge_text(str(record["text"]), ctx)
    if finding is None:
        return None
    is_view = "author" in node or "labels" in node
    if is_view:
        add_view_labels(node, finding)
    else:
        add_self_labels(record, finding)
    prefix_text(record, title_warning(finding))
    return Marked.of(finding, "label", str(node["uri"]), is_collapsed(finding, ctx))


class BlueskyAdapter(JsonAdapter):
    name = "bluesky"

    def feed_items(self, document: Any) -> list[list[Any]]:
        feed = document.get("feed") if isinstance(document, dict) else None
        return [feed] if isinstance(feed, list) and feed else []

    def mark_document(self, document: Any, ctx: AdapterContext) -> list[Marked]:
        found = find_posts(document, is_post, embedded_views)
        posts = [(node, record) for node in found if (record := post_record(node)) is not None]
        return [marked for node, record in posts if (marked := mark_post(node, record, ctx)) is not None]
