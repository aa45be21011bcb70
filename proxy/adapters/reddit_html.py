"""old.reddit.com HTML: link titles (``a.title``) and the text bodies of posts and comments (``div.md``)."""

from __future__ import annotations

from breather.proxy.adapters.htmlmark import Ancestors, Attrs, HtmlAdapter, classes, nearest_attr


class OldRedditAdapter(HtmlAdapter):
    name = "reddit"
    hints = ("title", "md")

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        css = classes(attrs)
        return (tag == "a" and "title" in css) or (tag == "div" and "md" in css)

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        return nearest_attr(ancestors, "data-fullname", "thing")
