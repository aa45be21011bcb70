"""Reading the TOML files a person may edit (rules, crisis lines, exercises, lexicon overrides).

Every way such a file can be unreadable becomes a ``ValueError`` naming the file and, where possible, the line:
tomllib's syntax errors, and also arrays or inline tables nested so deeply that its recursive reader gives up
(a ``RecursionError`` otherwise, which no caller expects from a typo).
"""

from __future__ import annotations

import ast
import re
import tomllib
from typing import Any

# Where the nesting is reported: far below tomllib's limit (about a thousand levels), far above any real file.
REPORTED_DEPTH = 100
TOO_DEEP = "arrays or inline tables nested too deeply to read"


# tomllib names a key as a Python tuple: "Cannot declare ('profiles', 'me') twice".
_KEY_TUPLE = re.compile(r"(?P<declare>Cannot declare )?\((?P<parts>'[^()]*'),?\)")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def with_toml_keys(message: str) -> str:
    """A tomllib message with each key it names written as in the file: ``[profiles.me]`` for a table header
    declared twice, ``profiles.me`` elsewhere, not as the Python tuple tomllib gives."""

    def written(found: re.Match[str]) -> str:
        try:
            parts = ast.literal_eval(f"({found['parts']},)")
        except (ValueError, SyntaxError):
            return found[0]
        key = ".".join(part if _BARE_KEY.fullmatch(part) else f'"{part}"' for part in parts)
        return f"Cannot declare [{key}]" if found["declare"] else key

    return _KEY_TUPLE.sub(written, message)


def read_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: {with_toml_keys(str(exc))}") from exc
    except RecursionError:
        raise ValueError(f"{origin}:{too_deep_line(text)}: {TOO_DEEP}") from None


def too_deep_line(text: str) -> int:
    """The line on which brackets and braces first open REPORTED_DEPTH levels deep (strings are not told apart:
    this only places a message), else the last line."""
    depth = 0
    line = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth >= REPORTED_DEPTH:
                return line
        elif char in "]}":
            depth = max(depth - 1, 0)
    return line
