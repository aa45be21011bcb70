"""The shared shape of the JSON adapters: parse, walk the document for posts, mark, write back only if marked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from breather.proxy.adapters.base import AdapterContext, Marked, RewriteResult
from breather.proxy.adapters.jsonbody import dump_json, parse_json

MAX_DEPTH = 64


class JsonAdapter:
    """Subclasses implement :meth:`mark_document`: mark the flagged posts in place and say which ones."""

    name = "json"

    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        try:
            return self._rewrite(body, ctx)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None

    def _rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        parsed = parse_json(body)
        if parsed is None:
            return None
        document, style = parsed
        marked = self.mark_document(document, ctx)
        if not marked:
            return None
        return RewriteResult(body=dump_json(document, style), marked=marked)

    def mark_document(self, document: Any, ctx: AdapterContext) -> list[Marked]:
        raise NotImplementedError


def walk_dicts(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON document, parents before children, bounded in depth."""
    if depth > MAX_DEPTH:
        return
    if isinstance(node, dict):
        yield node
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from walk_dicts(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, (dict, list)):
                yield from walk_dicts(value, depth + 1)


def text_id(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
