"""Reddit HTML: old.reddit.com (link titles ``a.title``, text bodies ``div.md``, ids from ``.thing[data-fullname]``)
and www.reddit.com's server-rendered shreddit markup (``[slot=title]``, ``[slot=text-body]``, ``[slot=comment]``
inside ``shreddit-post`` / ``shreddit-comment``, ids from their ``id`` / ``thingid``)."""

from __future__ import annotations

from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter, classes, nearest_attr

SHREDDIT_SLOTS = frozenset({"title", "text-body", "comment"})
SHREDDIT_HOSTS = ("shreddit-post", "shreddit-comment")


class OldRedditAdapter(HtmlAdapter):
    name = "reddit"
    hints = ("title", "md", "slot=")

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        css = classes(attrs)
        if (tag == "a" and "title" in css) or (tag == "div" and "md" in css):
            return True
        return attrs.get("slot") in SHREDDIT_SLOTS and any(parent in SHREDDIT_HOSTS for parent, _ in ancestors)

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        for tag, parent in reversed(ancestors):
            if tag in SHREDDIT_HOSTS:
                return parent.get("thingid") or parent.get("id") or None
        return nearest_attr(ancestors, "data-fullname", "thing")
