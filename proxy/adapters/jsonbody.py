"""Read a JSON body and write it back so that only the marked posts change meaning.

Re-serialising is only done when something was marked. The writer keeps key order and imitates the original's
layout (compact or spaced separators, indentation, ASCII escaping) as far as practical.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_INDENT = re.compile(rb"^[\[{]\r?\n([ \t]+)")


@dataclass(frozen=True)
class JsonStyle:
    indent: str | None
    item_separator: str
    key_separator: str
    ensure_ascii: bool
    trailing_newline: bool


def parse_json(body: bytes) -> tuple[Any, JsonStyle] | None:
    """The document and its layout, or None for anything that is not one complete UTF-8 JSON value."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return document, detect_style(body)


def detect_style(body: bytes) -> JsonStyle:
    head = body[:4096].lstrip()
    indent_match = _INDENT.match(head)
    indent = indent_match.group(1).decode("ascii") if indent_match else None
    key_separator = ": " if re.search(rb'"\s*:\s', head) else ":"
    item_separator = "," if indent is not None or not re.search(rb",\s", head) else ", "
    return JsonStyle(
        indent=indent,
        item_separator=item_separator,
        key_separator=key_separator,
        ensure_ascii=body.isascii(),
        trailing_newline=body.endswith(b"\n"),
    )


def dump_json(document: Any, style: JsonStyle) -> bytes:
    text = json.dumps(
        document,
        ensure_ascii=style.ensure_ascii,
        indent=style.indent,
        separators=(style.item_separator, style.key_separator),
    )
    if style.trailing_newline:
        text += "\n"
    return text.encode("utf-8")
