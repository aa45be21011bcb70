"""The shared shape of the JSON adapters: parse, walk the document for posts, mark, write back only if marked.

There is no whole-body screen before parsing (the HTML adapters have one): on real feeds it almost never says
"nothing here" (a 130 KB page always holds some screen word), so it cost ~0.7 ms per listing for nothing, and the
classifier's screen reads only a body's first 10,000 characters, so a calm head would have hidden a distressing
post further down. Each post's text is screened by the classifier itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Reversible
from typing import Any

from breather.proxy.adapters.base import AdapterContext, Marked, RewriteResult, fail_open
from breather.proxy.adapters.jsonbody import JsonStyle, dump_json, parse_json

MAX_DEPTH = 64


class JsonAdapter:
    """Subclasses implement :meth:`mark_document`: mark the flagged posts in place and say which ones."""

    name = "json"

    @fail_open
    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        parsed = parse_json(body)
        if parsed is None:
            return None
        document, style = parsed
        marked = self.mark_document(document, ctx)
        if not marked:
            return None
        return RewriteResult(body=self.write(body, document, style, marked), marked=marked)

    def mark_document(self, document: Any, ctx: AdapterContext) -> list[Marked]:
        raise NotImplementedError

    def write(self, body: bytes, document: Any, style: JsonStyle, marked: list[Marked]) -> bytes:
        """The marked document as bytes. An adapter whose sites send a layout only the slow writer can imitate may
        splice its few changed values into ``body`` instead (:mod:`breather.proxy.adapters.jsonsplice`)."""
        return dump_json(document, style)

    def feed_items(self, document: Any) -> list[list[Any]]:
        """The lists whose order is the order of a feed page (for uplift reordering): items may be
        moved within one list, never between lists; everything else (cursors, ids) stays put. [] = not a feed."""
        return []


def screenable(body: bytes) -> str:
    """The body as text with JSON string escapes undone well enough for screening (never for output)."""
    text = body.decode("utf-8", errors="replace")
    if "\\" not in text:
        return text
    if text.isascii():
        return text.encode("ascii").decode("unicode_escape", errors="replace")
    for escape, plain in (("\\n", " "), ("\\r", " "), ("\\t", " "), ('\\"', '"'), ("\\/", "/")):
        text = text.replace(escape, plain)
    return text


def walk_dicts(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON document, parents before children, bounded in depth.

    An explicit stack, not recursive ``yield from``: that passes each dict up through every level above it, which
    made the walk the largest single cost of a 130 KB Reddit listing."""
    stack: list[Iterator[Any]] = [iter((node,))]
    while stack:
        descend = len(stack) + depth <= MAX_DEPTH
        for value in stack[-1]:
            if isinstance(value, dict):
                yield value
                if descend:
                    stack.append(iter(value.values()))
                    break
            elif isinstance(value, list) and descend:
                stack.append(iter(value))
                break
        else:
            stack.pop()


def find_posts(
    document: Any, is_post: Callable[[dict[str, Any]], bool], inside: Callable[[dict[str, Any]], Reversible[Any]]
) -> list[dict[str, Any]]:
    """The posts of a document in document order (parents before children), bounded in depth.

    Every container is searched except a post's own insides, where only ``inside(post)`` is followed (a reblog, a
    comment's replies): a post's author, media, previews and awards hold no posts, and skipping them is most of the
    walk on a real feed page. Wrappers the adapter does not know are still searched, so odd shapes keep working."""
    found: list[dict[str, Any]] = []
    # One stack of containers still to visit and one of their depths, kept in step (no tuple per node).
    stack: list[Any] = [document] if isinstance(document, (dict, list)) else []
    depths: list[int] = [0] * len(stack)
    while stack:
        node, depth = stack.pop(), depths.pop()
        if isinstance(node, dict):
            if is_post(node):
                found.append(node)
                children: Reversible[Any] = inside(node)
                if not children:  # the usual post: nothing inside it to follow
                    continue
            else:
                children = node.values()
        else:
            children = node
        if depth < MAX_DEPTH:
            containers = [child for child in reversed(children) if isinstance(child, (dict, list))]
            stack += containers
            depths += [depth + 1] * len(containers)
    return found


def values_of(node: dict[str, Any], keys: Iterable[str]) -> list[Any]:
    """For ``inside``: the values of those keys that are present."""
    return [node[key] for key in keys if key in node]


def text_id(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
