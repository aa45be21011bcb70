"""m.facebook.com: HTML pages (story text ``div._5rgt``, comment bodies ``data-sigil="comment-body"``, the older
``div.msg``), including the deferred markup Facebook ships inside ``<!-- -->`` comments, and the ``for (;;);{json}``
payloads of "see more" scrolling, whose ``html`` strings are marked the same way.
"""

from __future__ import annotations

from typing import Any

from breather.proxy.adapters.base import AdapterContext, Marked, RewriteResult, fail_open
from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter, classes, mark_html, screen_long
from breather.proxy.adapters.jsonadapter import walk_dicts
from breather.proxy.adapters.jsonbody import dump_json, parse_json

JSON_GUARD = b"for (;;);"


class FacebookAdapter(HtmlAdapter):
    name = "facebook"
    hints = ("_5rgt", "comment-body", "msg")
    inside_comments = True

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        if tag != "div":
            return False
        return "comment-body" in attrs.get("data-sigil", "").split() or bool({"_5rgt", "msg"} & classes(attrs))

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        return attrs.get("data-commentid") or None

    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        # Facebook serves its for (;;); payloads as text/html too.
        if body.startswith(JSON_GUARD):
            return FacebookPayloadAdapter().rewrite(body, ctx)
        return super().rewrite(body, ctx)


class FacebookPayloadAdapter:
    """``for (;;);{...}``: the guard is kept, each ``html`` string in the payload is marked like a page fragment."""

    name = "facebook"

    def __init__(self) -> None:
        self._html = FacebookAdapter()

    @fail_open
    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        guard = JSON_GUARD if body.startswith(JSON_GUARD) else b""
        parsed = parse_json(body[len(guard) :])
        if parsed is None:
            return None
        document, style = parsed
        marked: list[Marked] = []
        for node in list(walk_dicts(document)):
            fragment = node.get("html")
            if isinstance(fragment, str) and "<" in fragment and screen_long(fragment, ctx):
                marked.extend(self._mark_fragment(node, fragment, ctx))
        if not marked:
            return None
        return RewriteResult(body=guard + dump_json(document, style), marked=marked)

    def _mark_fragment(self, node: dict[str, Any], fragment: str, ctx: AdapterContext) -> list[Marked]:
        html = self._html
        result = mark_html(fragment, ctx, html.select, html.post_id, inside_comments=True)
        if result is None:
            return []
        node["html"] = result[0]
        return result[1]
