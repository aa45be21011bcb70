"""Reddit JSON (www/old/oauth.reddit.com): listings of links (``t3``) and comments (``t1``), comment trees with
nested ``replies`` and ``more`` stubs, in whatever wrapper (a Listing, a [post, comments] pair) they come.

A flagged link gets ``spoiler: true``, which Reddit clients draw as a blurred, tap-to-reveal post. Comments have no
spoiler flag, so a flagged comment's text is wrapped in Reddit's own spoiler markup (``>!...!<`` in ``body`` and
``<span class="md-spoiler-text">`` in ``body_html``) under a one-line warning. Under topic quiet hours a comment is
``collapsed`` instead (Reddit's own collapsed-comment state; one tap opens it).
"""

from __future__ import annotations

import html
import re
from typing import Any

from breather.proxy.adapters.base import (
    AdapterContext,
    Finding,
    Marked,
    is_collapsed,
    judge_text,
    warning_text,
)
from breather.proxy.adapters.jsonadapter import JsonAdapter, find_posts, text_id
from breather.proxy.adapters.textutil import join_texts

_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_MD_OPEN = re.compile(r'(<div class="md">)')


def is_post(node: dict[str, Any]) -> bool:
    return node.get("kind") in ("t1", "t3") and isinstance(node.get("data"), dict)


def replies_of(node: dict[str, Any]) -> list[Any]:
    """A comment's replies are the only things inside a thing (a link's own data holds none)."""
    replies = node["data"].get("replies") if node.get("kind") == "t1" else None
    return [replies] if isinstance(replies, dict) else []


def link_text(data: dict[str, Any]) -> str:
    return join_texts(data.get("title"), data.get("selftext"))


def spoiler_markdown(body: str, warning: str) -> str:
    paragraphs = body.split("\n\n")
    wrapped = [f">!{part.strip()}!<" if part.strip() else part for part in paragraphs]
    return "\n\n".join([f"**{warning}**", *wrapped])


def spoiler_html(body_html: str, warning: str) -> str:
    """Reddit sends body_html raw (``raw_json=1``) or entity-escaped; edit the raw form, then escape it back."""
    escaped = "&lt;" in body_html and "<" not in body_html
    raw = html.unescape(body_html) if escaped else body_html
    wrapped = _PARAGRAPH.sub(lambda m: f'<p><span class="md-spoiler-text">{m.group(1)}</span></p>', raw)
    notice = f"<p><strong>{html.escape(warning)}</strong></p>"
    with_notice, count = _MD_OPEN.subn(lambda m: m.group(1) + notice, wrapped, count=1)
    result = with_notice if count else notice + wrapped
    return html.escape(result, quote=False) if escaped else result


def mark_link(data: dict[str, Any], finding: Finding, ctx: AdapterContext) -> Marked:
    data["spoiler"] = True
    return Marked(
        finding.categories, finding.evidence, "spoiler", text_id(data.get("name")), is_collapsed(finding, ctx)
    )


def mark_comment(data: dict[str, Any], finding: Finding, ctx: AdapterContext) -> Marked:
    warning = warning_text(finding.categories)
    post_id = text_id(data.get("name"))
    if is_collapsed(finding, ctx):
        data["collapsed"] = True
        data["collapsed_reason"] = f"{warning} (topic quiet hours)"
        return Marked(finding.categories, finding.evidence, "collapsed", post_id, True)
    if warning not in data["body"]:
        data["body"] = spoiler_markdown(data["body"], warning)
        if isinstance(data.get("body_html"), str):
            data["body_html"] = spoiler_html(data["body_html"], warning)
    return Marked(finding.categories, finding.evidence, "spoiler", post_id, False)


class RedditAdapter(JsonAdapter):
    name = "reddit"

    def feed_items(self, document: Any) -> list[list[Any]]:
        listings = document if isinstance(document, list) else [document]
        return [
            children
            for listing in listings
            if isinstance(listing, dict)
            and listing.get("kind") == "Listing"
            and isinstance(children := listing.get("data", {}).get("children"), list)
            and children
            and all(isinstance(c, dict) and c.get("kind") == "t3" for c in children)
        ]

    def mark_document(self, document: Any, ctx: AdapterContext) -> list[Marked]:
        marked: list[Marked] = []
        for node in find_posts(document, is_post, replies_of):
            data = node["data"]
            if node["kind"] == "t3":
                finding = judge_text(link_text(data), ctx)
                if finding is not None:
                    marked.append(mark_link(data, finding, ctx))
            elif isinstance(body := data.get("body"), str) and (finding := judge_text(body, ctx)) is not None:
                marked.append(mark_comment(data, finding, ctx))
        return marked
