"""Any HTML page: ``<article>`` elements, and paragraphs outside them, are the posts."""

from __future__ import annotations

from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter

SKIPPED_PARENTS = frozenset({"nav", "header", "footer", "button", "label", "form", "template", "noscript"})


class GenericAdapter(HtmlAdapter):
    name = "generic"
    hints = ("<p", "<P", "<article", "<ARTICLE")

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        if tag not in ("article", "p"):
            return False
        return not any(parent in SKIPPED_PARENTS for parent, _ in ancestors)
