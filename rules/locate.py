"""Find where a key sits in a TOML text, since neither tomllib nor tomlkit keeps positions.

A light scan, line by line: table headers (``[a.b]``, ``[[a.b]]``), ``key = value`` lines (dotted and quoted keys
included) and the keys of one-line inline tables. That covers what people write in a rules file; a key the scan
cannot place is reported at its closest placed parent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEY})\s*\]\]?")
_ASSIGN = re.compile(rf"^(\s*)({_KEY})\s*=\s*")
_INLINE_KEY = re.compile(rf"([{{,]\s*)({_KEY})\s*=")
_KEY_PART = re.compile(rf"{_BARE}|{_QUOTED}")


def split_key(text: str) -> tuple[str, ...]:
    """``a."b.c".d`` → ("a", "b.c", "d")."""
    return tuple(_unquote(part) for part in _KEY_PART.findall(text))


def _unquote(part: str) -> str:
    if part[:1] in "\"'" and len(part) >= 2:
        return part[1:-1]
    return part


def toml_lines(text: str) -> list[str]:
    """The lines of a TOML text as TOML, editors and the Rules page count them: split at "\n" only (``splitlines``
    also splits at U+2028, U+2029, U+0085 and form feeds, which a comment pasted from a web page may carry, and every
    later line was then named one too low)."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines[-1] == "" else lines


class Locator:
    """Maps key paths to 1-based (line, column) in the source text."""

    def __init__(self, text: str) -> None:
        self._positions: dict[Path, tuple[int, int]] = {}
        self._scan(toml_lines(text))

    def position(self, path: Sequence[str | int]) -> tuple[int, int]:
        """The position of ``path`` or of its nearest placed parent; (1, 1) when nothing is placed."""
        wanted = tuple(path)
        while wanted:
            if wanted in self._positions:
                return self._positions[wanted]
            wanted = wanted[:-1]
        return (1, 1)

    def _scan(self, lines: list[str]) -> None:
        table: Path = ()
        array_counts: dict[Path, int] = {}
        in_multiline: str | None = None
        for number, line in enumerate(lines, start=1):
            if in_multiline is not None:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = _HEADER.match(line)
            if header is not None:
                table = self._header(header, number, array_counts)
                continue
            assign = _ASSIGN.match(line)
            if assign is None:
                continue
            key_path = table + split_key(assign.group(2))
            self._remember(key_path, number, len(assign.group(1)) + 1)
            rest_start = assign.end()
            self._inline_keys(line, rest_start, key_path, number)
            for quote in ('"""', "'''"):
                if line[rest_start:].count(quote) % 2 == 1:
                    in_multiline = quote

    def _header(self, header: re.Match[str], number: int, array_counts: dict[Path, int]) -> Path:
        path = split_key(header.group(2))
        column = header.start(1) + 1
        for depth in range(1, len(path)):
            self._remember(path[:depth], number, column)
        if header.group(1) == "[[":
            index = array_counts.get(path, 0)
            array_counts[path] = index + 1
            self._remember(path, number, column)
            full: Path = (*path, index)
            self._remember(full, number, column)
            return full
        self._remember(path, number, column)
        return path

    def _inline_keys(self, line: str, start: int, owner: Path, number: int) -> None:
        """Keys of an inline table on the same line; one level deep is what rules files use."""
        rest = line[start:]
        if not rest.lstrip().startswith("{"):
            return
        for match in _INLINE_KEY.finditer(rest):
            inner = owner + split_key(match.group(2))
            self._remember(inner, number, start + match.start(2) + 1)

    def _remember(self, path: Path, line: int, column: int) -> None:
        self._positions.setdefault(path, (line, column))
