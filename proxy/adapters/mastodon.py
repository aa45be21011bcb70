"""Mastodon: statuses wherever they appear (timelines, a status, context, search, notifications v1 and grouped
v2, conversations) and streaming events.

A flagged status gets Mastodon's own content warning: ``sensitive: true`` and ``spoiler_text``; an author's CW is
kept and Breather's is appended ("author CW · Breather: self-harm"). A self-harm or eating-disorder warning also
names the helpline for the person's country in a few words ("Breather: self-harm · Samaritans 116 123"): the CW is
text the person reads before the post, the one place on Mastodon a helpline can be shown. Under topic quiet hours
the status also gets a ``filtered`` entry with ``filter_action: "warn"``, which Mastodon clients draw as a collapsed
"Filtered: ..." post with a "show anyway" button (its title names the helpline too): collapsed, never removed.
"""

from __future__ import annotations

import json
from typing import Any

from breather.proxy.adapters.base import (
    CRISIS_CATEGORIES,
    AdapterContext,
    Finding,
    Marked,
    RewriteResult,
    fail_open,
    is_collapsed,
    judge_text,
    warning_text,
)
from breather.proxy.adapters.jsonadapter import JsonAdapter, find_posts, text_id, values_of
from breather.proxy.adapters.jsonbody import finite_decoder
from breather.proxy.adapters.textutil import html_to_text, join_texts
from breather.rules.crisis import line_for_categories, short_line

CW_SEPARATOR = " · "
FILTER_CONTEXTS = ["home", "notifications", "public", "thread", "account"]
STREAM_STATUS_EVENTS = frozenset({"update", "status.update", "notification", "conversation"})
# Where a status holds other statuses: a boost's original, and a quote (Mastodon 4.4: quote.quoted_status).
NESTED_STATUS_KEYS = ("reblog", "quote")


def is_status(node: dict[str, Any]) -> bool:
    return isinstance(node.get("content"), str) and "spoiler_text" in node and "id" in node and "account" in node


def nested_statuses(status: dict[str, Any]) -> list[Any]:
    return values_of(status, NESTED_STATUS_KEYS)


def status_text(status: dict[str, Any]) -> str:
    poll = status.get("poll")
    options = [o.get("title") for o in poll.get("options", []) if isinstance(o, dict)] if isinstance(poll, dict) else []
    media = status.get("media_attachments")
    descriptions = [m.get("description") for m in media if isinstance(m, dict)] if isinstance(media, list) else []
    return join_texts(html_to_text(status["content"]), *options, *descriptions)


def our_warning(finding: Finding, ctx: AdapterContext) -> str:
    """ "Breather: self-harm · Samaritans 116 123": the helpline only for self-harm and eating disorders."""
    ours = warning_text(finding.categories)
    if ctx.crisis is None or not CRISIS_CATEGORIES.intersection(finding.categories):
        return ours
    helpline = short_line(line_for_categories(ctx.crisis, finding.categories))
    return f"{ours}{CW_SEPARATOR}{helpline}" if helpline else ours


def add_content_warning(status: dict[str, Any], finding: Finding, ctx: AdapterContext) -> None:
    ours = our_warning(finding, ctx)
    existing = status.get("spoiler_text")
    existing = existing if isinstance(existing, str) else ""
    if "Breather:" not in existing:
        status["spoiler_text"] = f"{existing}{CW_SEPARATOR}{ours}" if existing.strip() else ours
    status["sensitive"] = True


def add_warn_filter(status: dict[str, Any], finding: Finding, ctx: AdapterContext) -> None:
    category = finding.categories[0]
    ours = our_warning(finding, ctx)
    labels = warning_text(finding.categories)
    result = {
        "filter": {
            "id": f"breather-{category}",
            # "Breather: self-harm (topic quiet hours) · Samaritans 116 123": the collapsed post shows only this
            "title": f"{labels} (topic quiet hours){ours[len(labels) :]}",
            "context": FILTER_CONTEXTS,
            "expires_at": None,
            "filter_action": "warn",
            "keywords": [],
            "statuses": [],
        },
        "keyword_matches": None,
        "status_matches": None,
    }
    existing = status.get("filtered")
    status["filtered"] = [*existing, result] if isinstance(existing, list) else [result]


def mark_status(status: dict[str, Any], ctx: AdapterContext) -> Marked | None:
    finding = judge_text(status_text(status), ctx)
    if finding is None:
        return None
    add_content_warning(status, finding, ctx)
    collapsed = is_collapsed(finding, ctx)
    if collapsed:
        add_warn_filter(status, finding, ctx)
    return Marked.of(finding, "filtered" if collapsed else "sensitive", text_id(status.get("id")), collapsed)


class MastodonAdapter(JsonAdapter):
    name = "mastodon"
    shows_helpline = True  # its CW is text: the pipeline passes it the crisis line

    def feed_items(self, document: Any) -> list[list[Any]]:
        if isinstance(document, list) and document and all(isinstance(item, dict) for item in document):
            return [document]
        groups = document.get("notification_groups") if isinstance(document, dict) else None
        return [groups] if isinstance(groups, list) and groups else []

    def mark_document(self, document: Any, ctx: AdapterContext) -> list[Marked]:
        statuses = find_posts(document, is_status, nested_statuses)
        return [marked for status in statuses if (marked := mark_status(status, ctx)) is not None]


class MastodonStreamAdapter:
    """``text/event-stream`` from ``/api/v1/streaming``: each complete event whose payload is a status (or holds
    one) is marked; partial trailing events, other events and multi-line payloads go out untouched."""

    name = "mastodon"

    def __init__(self) -> None:
        self._json = MastodonAdapter()

    @fail_open
    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        text = body.decode("utf-8")
        events = text.split("\n\n")
        marked: list[Marked] = []
        # The last piece is either "" (the body ended on an event boundary) or an incomplete event: keep it as is.
        for index in range(len(events) - 1):
            rewritten = self._rewrite_event(events[index], ctx, marked)
            if rewritten is not None:
                events[index] = rewritten
        if not marked:
            return None
        return RewriteResult(body="\n\n".join(events).encode("utf-8"), marked=marked)

    def _rewrite_event(self, event: str, ctx: AdapterContext, marked: list[Marked]) -> str | None:
        lines = event.split("\n")
        names = [line[6:].strip() for line in lines if line.startswith("event:")]
        data_lines = [i for i, line in enumerate(lines) if line.startswith("data:")]
        if len(names) != 1 or names[0] not in STREAM_STATUS_EVENTS or len(data_lines) != 1:
            return None
        index = data_lines[0]
        payload = lines[index][5:].lstrip(" ")
        try:
            document = finite_decoder().decode(payload)
        except (ValueError, RecursionError):
            return None
        found = self._json.mark_document(document, ctx)
        if not found:
            return None
        marked.extend(found)
        lines[index] = "data: " + json.dumps(document, ensure_ascii=payload.isascii(), separators=(",", ":"))
        return "\n".join(lines)
