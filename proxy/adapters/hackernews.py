"""Hacker News HTML: story titles on list pages and comments on item pages, in today's markup and the 2012 one.

Posts are ``span.titleline`` (story titles), elements with class ``comment``/``commtext`` (comments), and on old
pages the story link directly inside ``td.title``. Table rows are never marked themselves: a warning inserted
before a ``<tr>`` would be pushed out of the table by the browser.
"""

from __future__ import annotations

from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter, classes, nearest_attr

POST_CLASSES = frozenset({"titleline", "comment", "commtext"})


class HackerNewsAdapter(HtmlAdapter):
    name = "hackernews"
    hints = ("comment", "commtext", "titleline", "<a")

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        if tag in ("span", "div") and POST_CLASSES.intersection(classes(attrs)):
            return True
        if tag != "a" or not ancestors:
            return False
        parent_tag, parent_attrs = ancestors[-1]
        return parent_tag == "td" and "title" in classes(parent_attrs)

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        return nearest_attr(ancestors, "id", "athing")
