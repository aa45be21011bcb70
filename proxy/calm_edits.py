"""The small in-place edits calm makes to a parsed response: each says whether it changed anything, so a body
with nothing to calm goes out as its original bytes. Pure: no mitmproxy, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def zero_counts(node: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Numeric ``keys`` that are not already 0 become 0 (booleans and texts under those names are left alone)."""
    changed = False
    for key in keys:
        value = node.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0:
            node[key] = 0
            changed = True
    return changed


def set_value(node: dict[str, Any], key: str, value: Any) -> bool:
    if node.get(key) == value:
        return False
    node[key] = value
    return True


def drop_keys(node: dict[str, Any], keys: tuple[str, ...]) -> bool:
    present = [key for key in keys if key in node]
    for key in present:
        del node[key]
    return bool(present)


def drop_items(node: dict[str, Any], key: str, unwanted: Callable[[Any], bool]) -> bool:
    """The items of the list under ``key`` for which ``unwanted`` is true leave it; the rest keep their order."""
    items = node.get(key)
    if not isinstance(items, list):
        return False
    kept = [item for item in items if not unwanted(item)]
    if len(kept) == len(items):
        return False
    node[key] = kept
    return True
