"""Plain text out of the little bits of HTML that JSON APIs embed (Mastodon content, Reddit body_html)."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(p|div|li|blockquote|h[1-6])\s*>|<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")


def html_to_text(fragment: str) -> str:
    """Tags dropped (block ends become newlines), entities decoded, runs of spaces folded."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    with_breaks = _BLOCK_END.sub("\n", fragment)
    text = html.unescape(_TAG.sub(" ", with_breaks))
    return _SPACES.sub(" ", text).strip()


def join_texts(*parts: object) -> str:
    """The non-blank strings among ``parts``, one per line (``isspace``: no stripped copy of a long post)."""
    return "\n".join([part for part in parts if isinstance(part, str) and part and not part.isspace()])
