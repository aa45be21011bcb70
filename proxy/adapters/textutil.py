"""Plain text out of the little bits of HTML that JSON APIs embed (Mastodon content, Reddit body_html)."""

from __future__ import annotations

import html
import re

# A tag is "<" up to the next ">" with no "<" inside: "<[^>]*>" would rescan to the end of the text from every "<"
# of an unclosed run ("<<<<...", "<div <div ..."), quadratic in the length. A "<" inside a quoted attribute value
# (rare, and escaped in the sanitised HTML the APIs send) then leaves a little markup in the text, which is harmless.
_TAG = re.compile(r"<[^<>]*>")
_SCRIPT_OR_STYLE_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_SCRIPT_OR_STYLE_CLOSE = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
}
_BLOCK_END = re.compile(r"</(p|div|li|blockquote|h[1-6])\s*>|<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")


def html_to_text(fragment: str) -> str:
    """Tags dropped (block ends become newlines), entities decoded, runs of spaces folded."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    with_breaks = _BLOCK_END.sub("\n", fragment)
    text = html.unescape(_TAG.sub(" ", with_breaks))
    return _SPACES.sub(" ", text).strip()


def without_tags(source: str) -> str:
    """Every tag replaced by a space (scripts and styles are not text, see :func:`without_scripts`)."""
    return _TAG.sub(" ", source)


def without_scripts(source: str) -> str:
    """Script and style elements replaced by a space, in one pass: an element never closed runs to the end (as in a
    browser), and each search starts where the last one ended, so the time stays linear in the length."""
    pieces: list[str] = []
    cursor = 0
    while (opened := _SCRIPT_OR_STYLE_OPEN.search(source, cursor)) is not None:
        pieces += [source[cursor : opened.start()], " "]
        closed = _SCRIPT_OR_STYLE_CLOSE[opened.group(1).lower()].search(source, opened.end())
        cursor = closed.end() if closed is not None else len(source)
    pieces.append(source[cursor:])
    return "".join(pieces)


def join_texts(*parts: object) -> str:
    """The non-blank strings among ``parts``, one per line (``isspace``: no stripped copy of a long post)."""
    return "\n".join([part for part in parts if isinstance(part, str) and part and not part.isspace()])
