"""Any HTML page: ``<article>`` elements, and paragraphs outside them, are the posts."""

from __future__ import annotations

import re

from breather.proxy.adapters.htmljump import Opaque, Regions, any_case_names, jump_posts, tags_matching
from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter
from breather.proxy.adapters.htmlscan import PostSpan

SKIPPED_PARENTS = frozenset({"nav", "header", "footer", "button", "label", "form", "template", "noscript"})
_POST_TAG = re.compile(r"<(?=[pPaA])(?:" + any_case_names(("p", "article")) + r")(?=[\s/>])")


class GenericAdapter(HtmlAdapter):
    name = "generic"
    hints = ("<p", "<P", "<article", "<ARTICLE")

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        if tag not in ("article", "p"):
            return False
        return not any(parent in SKIPPED_PARENTS for parent, _ in ancestors)

    def jump(self, source: str) -> list[PostSpan]:
        opaque = Opaque(source)
        skipped = Regions(source, SKIPPED_PARENTS, opaque)
        candidates = tags_matching(source, _POST_TAG, lambda tag: not skipped.covers(tag.start))
        return jump_posts(source, candidates, lambda tag: tag.attrs.get("id") or None, opaque)
