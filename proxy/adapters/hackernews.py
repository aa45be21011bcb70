"""Hacker News HTML: story titles on list pages and comments on item pages, in today's markup and the 2012 one.

Posts are ``span.titleline`` (story titles), elements with class ``comment``/``commtext`` (comments), and on old
pages the story link directly inside ``td.title``. Table rows are never marked themselves: a warning inserted
before a ``<tr>`` would be pushed out of the table by the browser.

Pages are read by jumping to those start tags (``htmljump``); ``select``/``post_id`` say the same thing for the
full scanner, which the tests use as the reference.
"""

from __future__ import annotations

import re
from functools import lru_cache

from breather.proxy.adapters.htmljump import (
    Opaque,
    OpenAncestors,
    StartTag,
    children,
    is_simple_markup,
    jump_posts,
    merged,
    simple_post_end,
    start_tag_at,
    tags_containing_each,
)
from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter, classes, nearest_attr
from breather.proxy.adapters.htmlscan import RAW_TEXT_TAGS, PostSpan

POST_CLASSES = frozenset({"titleline", "comment", "commtext"})
_POST_CLASSES = tuple(sorted(POST_CLASSES))
_ROW_CLASSES = ("athing",)


def is_post_tag(tag: StartTag) -> bool:
    return tag.name in ("span", "div") and bool(POST_CLASSES.intersection(classes(tag.attrs)))


def is_title_cell(tag: StartTag) -> bool:
    return tag.name == "td" and "title" in classes(tag.attrs)


def is_story_row(tag: StartTag) -> bool:
    return "id" in tag.attrs and "athing" in classes(tag.attrs)


# Anything in a title cell's first stretch that could hide or hold a direct link: then the cell is walked.
_MAY_HOLD_LINK = re.compile("|".join(["<a", "<!", "<td", "<table", *(f"<{name}" for name in sorted(RAW_TEXT_TAGS))]))
# The same inside a leading span, where links are the span's own; and what could end the cell in there.
_SPAN_MAY_HIDE_LINK = re.compile(
    "|".join(["<!", "<td", "<table", *(f"<{name}" for name in sorted(RAW_TEXT_TAGS)), "</t", "</body", "</html"])
)


def has_link(source: str, cell: StartTag) -> bool:
    """Most title cells hold a rank or a ``span.titleline``, never a link of their own: skip walking those.

    Conservative: any link, comment, raw-text element or nested cell before the first ``</td`` means "walk it";
    links inside a leading span with simple markup (today's ``span.titleline``) are that span's, not the cell's."""
    cell_end = source.find("</td", cell.end)
    if cell_end < 0:
        return True
    inside = source[cell.end : cell_end]
    return may_hold_link(inside) if len(inside) <= CACHED_CELL_CHARS else _may_hold_link(inside)


def _may_hold_link(inside: str) -> bool:
    """Whether a title cell's markup (up to its first ``</td``) may hold a link of the cell's own."""
    lowered = inside.lower()
    if _MAY_HOLD_LINK.search(lowered) is None:
        return False
    skipped = leading_span_length(inside)
    return (
        skipped == 0
        or _MAY_HOLD_LINK.search(lowered, skipped) is not None
        or _SPAN_MAY_HIDE_LINK.search(lowered, 0, skipped) is not None
    )


# The answer depends on the cell's markup alone: cached by it (a reloaded front page asks the same 30 questions).
CACHED_CELL_CHARS = 2_000
may_hold_link = lru_cache(maxsize=512)(_may_hold_link)


def leading_span_length(inside: str) -> int:
    """How many characters of a cell's markup a leading ``<span>...</span>`` with simple markup takes (0: none)."""
    lt = inside.find("<")
    if lt < 0 or inside[:lt].strip():
        return 0
    span = start_tag_at(inside, lt)
    if span is None or span.name != "span" or span.void:
        return 0
    end = simple_post_end(inside, span)
    close = inside.find(">", end) if end >= 0 else -1
    if close < 0 or not is_simple_markup(inside, span.end, end):
        return 0
    return close + 1


class HackerNewsAdapter(HtmlAdapter):
    name = "hackernews"
    hints = ("comment", "commtext", "titleline", "<a", "<A")

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        if tag in ("span", "div") and POST_CLASSES.intersection(classes(attrs)):
            return True
        if tag != "a" or not ancestors:
            return False
        parent_tag, parent_attrs = ancestors[-1]
        return parent_tag == "td" and "title" in classes(parent_attrs)

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        return nearest_attr(ancestors, "id", "athing")

    def jump(self, source: str) -> list[PostSpan]:
        opaque = Opaque(source)
        # One pass over the page finds both "title" cells and "titleline" posts.
        post_tags, title_cells = tags_containing_each(
            source, [(_POST_CLASSES, is_post_tag, ("span", "div")), (("title",), is_title_cell, ("td",))]
        )
        title_links = [
            child
            for cell in title_cells
            if has_link(source, cell)
            for child in children(source, cell)
            if child.name == "a"
        ]
        candidates = merged(post_tags + title_links)

        # The story rows are only looked for once a post needs its id (i.e. is marked): most pages mark none.
        rows: list[OpenAncestors] = []

        def row_id(tag: StartTag) -> str | None:
            if not rows:
                rows.append(OpenAncestors(source, _ROW_CLASSES, is_story_row, opaque))
            row = rows[0].nearest_open(tag.start)
            return (row.attrs.get("id") or None) if row is not None else None

        return jump_posts(source, candidates, row_id, opaque, lazy_ids=True)
