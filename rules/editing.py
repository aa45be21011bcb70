"""Change one value in ``rules.toml`` and write it back with the person's comments and layout kept.

tomlkit keeps comments, blank lines and key order. Every edit is validated as a whole file before it is written,
and written atomically (a temporary file in the same folder, then ``os.replace``), so a reader, the watcher, or a
crash mid-write never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import Table

from breather.rules.loader import parse_rules
from breather.rules.locate import split_key
from breather.rules.model import Rules
from breather.rules.timeparse import format_duration

Key = str | Sequence[str]


def set_value_in_text(text: str, key: Key, value: Any, filename: str = "rules.toml") -> str:
    """The file's text with ``key`` set to ``value`` (``None`` removes the key). Raises ``RulesError`` if invalid."""
    parts = _key_parts(key)
    document = tomlkit.parse(text)
    parent = _parent_table(document, parts[:-1], create=value is not None)
    last = parts[-1]
    if value is None:
        if parent is not None and last in parent:
            del parent[last]
    else:
        assert parent is not None
        parent[last] = _toml_value(value)
    updated = tomlkit.dumps(document)
    parse_rules(updated, filename)
    return updated


def set_value(path: str | os.PathLike[str], key: Key, value: Any) -> Rules:
    """Edit the file in place; returns the new rules. The file is untouched when the result would be invalid."""
    file = Path(path)
    updated = set_value_in_text(file.read_text(encoding="utf-8"), key, value, file.name)
    write_atomically(file, updated)
    return parse_rules(updated, file.name)


def write_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _key_parts(key: Key) -> tuple[str, ...]:
    parts = split_key(key) if isinstance(key, str) else tuple(key)
    if not parts:
        raise ValueError(f"not a key: {key!r}")
    return parts


def _parent_table(document: Container, parts: Sequence[str], create: bool) -> Any:
    current: Any = document
    for part in parts:
        if part not in current:
            if not create:
                return None
            current[part] = tomlkit.table(is_super_table=False)
        current = current[part]
        if not isinstance(current, Table | Container | dict):
            raise ValueError(f'"{part}" holds a value, not a table')
    return current


def _toml_value(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, tuple | list):
        return [_toml_value(item) for item in value]
    if isinstance(value, dict):
        # A small table reads best on one line next to its siblings, as the default file writes them.
        inline = tomlkit.inline_table()
        inline.update({key: _toml_value(item) for key, item in value.items()})
        return inline
    return value
