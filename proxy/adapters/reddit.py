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
    has_title_warning,
    is_collapsed,
    judge_text,
    title_warning,
    warning_text,
)
from breather.proxy.adapters.jsonadapter import JsonAdapter, find_posts, text_id
from breather.proxy.adapters.jsonbody import JsonStyle, dump_json, orjson_writes
from breather.proxy.adapters.jsonsplice import ObjectEdit, splice
from breather.proxy.adapters.textutil import join_texts

_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_MD_OPEN = re.compile(r'(<div class="md">)')
# The keys each kind of mark changes in a post's data (for splicing them into the original body).
CHANGED_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("t3", "spoiler"): ("spoiler", "title"),
    ("t1", "spoiler"): ("body", "body_html"),
    ("t1", "collapsed"): ("collapsed", "collapsed_reason"),
}


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
    """Reddit's spoiler hides a link's text and thumbnail, not its title, and says only "SPOILER" (a user test read
    it as a TV spoiler): the title says whose warning it is and what about."""
    data["spoiler"] = True
    if isinstance(data.get("title"), str):
        data["title"] = title_warning(finding) + data["title"]
    return Marked.of(finding, "spoiler", text_id(data.get("name")), is_collapsed(finding, ctx))


def mark_comment(data: dict[str, Any], finding: Finding, ctx: AdapterContext) -> Marked:
    warning = warning_text(finding.categories)
    post_id = text_id(data.get("name"))
    if is_collapsed(finding, ctx):
        data["collapsed"] = True
        data["collapsed_reason"] = f"{warning} (topic quiet hours)"
        return Marked.of(finding, "collapsed", post_id, True)
    if warning not in data["body"]:
        data["body"] = spoiler_markdown(data["body"], warning)
        if isinstance(data.get("body_html"), str):
            data["body_html"] = spoiler_html(data["body_html"], warning)
    return Marked.of(finding, "spoiler", post_id, False)


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
                if has_title_warning(str(data.get("title", ""))):
                    continue
                finding = judge_text(link_text(data), ctx)
                if finding is not None:
                    marked.append(mark_link(data, finding, ctx))
            elif isinstance(body := data.get("body"), str) and (finding := judge_text(body, ctx)) is not None:
                marked.append(mark_comment(data, finding, ctx))
        return marked

    def write(self, body: bytes, document: Any, style: JsonStyle, marked: list[Marked]) -> bytes:
        """Reddit sends ``", "``/``": "`` separators and ASCII escapes, which only the slow writer imitates (~1.7 ms
        for a listing): splice the marked posts' changed keys into the original instead, when every one can be."""
        if orjson_writes(style):
            return dump_json(document, style)
        edits = splice_edits(document, marked)
        spliced = splice(body, style, edits) if edits is not None else None
        return spliced if spliced is not None else dump_json(document, style)


def splice_edits(document: Any, marked: list[Marked]) -> list[ObjectEdit] | None:
    """One edit per marked post: its changed keys, in the data object found by its ``name``."""
    wanted = {m.post_id: m.field for m in marked}
    edits: list[ObjectEdit] = []
    for node in find_posts(document, is_post, replies_of):
        data = node["data"]
        name = data.get("name")
        if name not in wanted or not data:
            continue
        keys = CHANGED_KEYS.get((node["kind"], wanted.pop(name)), ())
        values = {key: data[key] for key in keys if key in data}
        edits.append(ObjectEdit(anchor=("name", name), first_key=next(iter(data)), values=values))
    return None if wanted else edits
