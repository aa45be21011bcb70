"""m.facebook.com: HTML pages (a story's whole ``div.story_body_container``, comment bodies
``data-sigil="comment-body"``, the older ``div.msg``, a story text ``div._5rgt`` outside any story container),
including the deferred markup Facebook ships inside ``<!-- -->`` comments, and the ``for (;;);{json}`` payloads of
"see more" scrolling, whose ``html`` strings are marked the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from breather.proxy.adapters.base import AdapterContext, Marked, RewriteResult, fail_open
from breather.proxy.adapters.htmljump import Opaque, StartTag, jump_posts, tags_containing
from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter, classes, mark_found, screen_long
from breather.proxy.adapters.htmlscan import PostSpan
from breather.proxy.adapters.jsonadapter import walk_dicts
from breather.proxy.adapters.jsonbody import dump_json, parse_json

JSON_GUARD = b"for (;;);"


# A story is judged and covered whole: its container holds the author line, the text (``div._5rgt``) and the
# attachment (``div._5rgu``: the photo, a link preview, a shared story). Covering the text alone left a flagged story's
# photo in full view, and tappable, right under its warning. A text inside a container is part of that post, as
# anything inside an open post is; a ``div._5rgt`` outside any container is still a post of its own.
STORY = "story_body_container"
POST_WORDS = (STORY, "_5rgt", "comment-body", "msg")


def is_post_tag(tag: StartTag) -> bool:
    return tag.name == "div" and is_post(tag.attrs)


def is_post(attrs: Attrs) -> bool:
    return "comment-body" in attrs.get("data-sigil", "").split() or bool({STORY, "_5rgt", "msg"} & classes(attrs))


def comment_id(tag: StartTag) -> str | None:
    return tag.attrs.get("data-commentid") or None


class FacebookAdapter(HtmlAdapter):
    name = "facebook"
    hints = POST_WORDS
    inside_comments = True

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        return tag == "div" and is_post(attrs)

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        return attrs.get("data-commentid") or None

    def jump(self, source: str) -> list[PostSpan]:
        """The posts of the page, then those in the deferred markup of its comments (read as documents of their
        own, like the full scanner reads them), with offsets in the page; in the full scanner's order (the splice
        sorts its edits itself)."""
        opaque = Opaque(source)
        posts = self._posts(source, opaque)
        for start, end in opaque.comments_with_markup(source):
            data = source[start:end]
            posts.extend(moved(post, start) for post in self._posts(data, Opaque(data)))
        return posts

    @staticmethod
    def _posts(source: str, opaque: Opaque) -> list[PostSpan]:
        candidates = tags_containing(source, POST_WORDS, is_post_tag, ("div",))
        return jump_posts(source, candidates, comment_id, opaque)

    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        # Facebook serves its for (;;); payloads as text/html too.
        if body.startswith(JSON_GUARD):
            return FacebookPayloadAdapter().rewrite(body, ctx)
        return super().rewrite(body, ctx)


def moved(post: PostSpan, offset: int) -> PostSpan:
    return replace(post, start=post.start + offset, tag_end=post.tag_end + offset, plain=post.text)


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
        result = mark_found(fragment, self._html.jump(fragment), ctx)
        if result is None:
            return []
        node["html"] = result[0]
        return result[1]
