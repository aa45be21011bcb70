"""Change one value in ``rules.toml`` and write it back with the person's comments and layout kept.

tomlkit keeps comments, blank lines and key order. Every edit is validated as a whole file before it is written,
and written atomically (a temporary file in the same folder, then ``os.replace``), so a reader, the watcher, or a
crash mid-write never sees half a file.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table

from breather.rules.cooling import PendingChange, held_path, toml_keys
from breather.rules.errors import RulesError
from breather.rules.loader import parse_rules
from breather.rules.locate import split_key
from breather.rules.model import Rules
from breather.rules.textfile import read_rules_text
from breather.rules.timeparse import format_duration

Key = str | Sequence[str]

log = logging.getLogger(__name__)


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
        set_key(parent, last, value)
    updated = tomlkit.dumps(document)
    parse_rules(updated, filename)
    return updated


def set_value(path: str | os.PathLike[str], key: Key, value: Any) -> Rules:
    """Edit the file in place; returns the new rules. The file is untouched when the result would be invalid."""
    file = Path(path)
    updated = set_value_in_text(file.read_text(encoding="utf-8"), key, value, file.name)
    write_atomically(file, updated)
    return parse_rules(updated, file.name)


def in_force_text(
    text: str, in_force: Rules, held: Sequence[PendingChange], in_force_before: str | None = None
) -> str | None:
    """The rules in force as a rules file: ``text`` (a version asked for) with each held setting back at its value
    in force. First by copying the held settings from ``in_force_before`` (the file as it was in force, so a setting
    inherited there stays inherited), else by writing each held setting's value in force (which also holds when
    what it inherits from has changed meanwhile). None when neither reads back as ``in_force`` exactly.

    The watcher keeps this as its copy of the last good rules; the Rules page writes it as the part of an edit that
    applies at once."""
    attempts: list[Callable[[], str]] = []
    if in_force_before is not None:
        paths = [held_path(change) for change in held]
        attempts.append(lambda: with_values_from(in_force_before, text, paths))
    attempts.append(lambda: _with_values_in_force(text, in_force, held))
    for attempt in attempts:
        try:
            written = attempt()
            if parse_rules(written, in_force.source) == in_force:
                return written
        except (RulesError, TOMLKitError, ValueError, KeyError) as exc:
            log.debug("one way of writing the rules in force as a file failed: %s", exc)
    return None


def _with_values_in_force(text: str, in_force: Rules, held: Sequence[PendingChange]) -> str:
    from breather.rules.render import profile_to_dict

    for profile, setting in dict.fromkeys((change.profile, change.setting) for change in held):
        if setting == "profile":
            raise KeyError(f"a removed member ({profile}) can only be put back from the file it was in")
        if setting == "groups":
            text = _with_groups(text, in_force, {str(c.old) for c in held if c.setting == "groups"})
        elif setting == "default_profile":
            text = _with_default(text, in_force.default_profile)
        else:
            *_, name = keys = toml_keys(profile, setting)
            value = getattr(in_force, setting) if profile is None else profile_to_dict(in_force.profiles[profile])[name]
            if name in ("quiet_hours", "topic_quiet_hours"):
                value = _as_written(value)
            text = set_value_in_text(text, keys, value, in_force.source)
    return text


def _as_written(schedules: Any) -> Any:
    """A schedule (or a table of them) as a person writes it: the same windows every day as ``daily``, and one
    window as a string, so the file written in place of ``daily = "23:00-07:00"`` reads like it, not as seven days."""
    if not isinstance(schedules, Mapping):
        return schedules
    if not all(isinstance(windows, list) for windows in schedules.values()):
        return {key: _as_written(value) for key, value in schedules.items()}
    days = {tuple(windows) for windows in schedules.values()}
    if len(schedules) == 7 and len(days) == 1:
        schedules = {"daily": schedules[next(iter(schedules))]}
    return {key: windows[0] if len(windows) == 1 else windows for key, windows in schedules.items()}


def _with_groups(text: str, in_force: Rules, names: set[str]) -> str:
    document = tomlkit.parse(text)
    for group in in_force.groups:
        if group.name in names:
            table = _parent_table(document, ("sites", group.name), create=True)
            table["adapter"], table["domains"] = group.adapter, list(group.domains)
    return tomlkit.dumps(document)


def _with_default(text: str, default: str) -> str:
    document = tomlkit.parse(text)
    for name, table in (_parent_table(document, ("profiles",), create=False) or {}).items():
        if name == default:
            table["default"] = True
        elif "default" in table:
            del table["default"]
    return tomlkit.dumps(document)


def with_values_from(source_text: str, text: str, paths: Iterable[Sequence[str]]) -> str:
    """``text`` with the value at each TOML key path as ``source_text`` has it: copied, or removed where
    ``source_text`` has none (so an inherited value is inherited again). Comments and layout are kept. This is how
    the rules in force are written as a file: the version asked for, with each held setting put back as it was."""
    source, document = tomlkit.parse(source_text), tomlkit.parse(text)
    # once each: every keyword removed from a list names the whole list, and copying a pasted list of thousands once
    # per keyword held took seconds
    for path in dict.fromkeys(tuple(path) for path in paths):
        put_back(source, document, list(path))
    return tomlkit.dumps(document)


def put_back(source: Any, document: Any, keys: list[str]) -> None:
    """Set ``keys`` in the tomlkit ``document`` as ``source`` has it (copied, or removed where it has none)."""
    *tables, key = keys
    was = value_at(source, tables, unwrap=False)
    if isinstance(was, Mapping) and key in was:
        now = document
        for name in tables:
            if name not in now:
                now[name] = tomlkit.table()
            now = now[name]
        now[key] = copy.deepcopy(was[key])
        return
    now = value_at(document, tables, unwrap=False)
    if isinstance(now, MutableMapping) and key in now:
        del now[key]


def value_at(document: Any, keys: Sequence[str], unwrap: bool = True) -> Any:
    """The value at ``keys`` in a tomlkit document (plain Python unless ``unwrap`` is false), or None."""
    found = document
    for key in keys:
        if not isinstance(found, Mapping) or key not in found:
            return None
        found = found[key]
    return found.unwrap() if unwrap and hasattr(found, "unwrap") else found


class ChangedMeanwhile(Exception):
    """The file changed after the caller read it and before the new text would have replaced it: nothing was
    written."""


def still_reads_as(path: Path, text: str) -> Callable[[], bool]:
    """A ``still_as_read`` for ``write_atomically``: whether ``path`` still reads as ``text``, the text an edit was
    made on. Read as every reader reads it (a byte-order mark an editor added is not a change); a file that no longer
    reads at all is one."""

    def as_read() -> bool:
        try:
            return read_rules_text(path) == text
        except RulesError:
            return False

    return as_read


def write_atomically(
    path: Path, text: str, mode: int | None = None, *, still_as_read: Callable[[], bool] | None = None
) -> None:
    """Replace ``path`` with ``text`` so a crash leaves the old file or the new one, never half of either. The new
    file keeps the old one's mode (0644 when there was none) unless ``mode`` is given; its text is first written to
    a temporary file only its owner can read. A symbolic link (a rules file kept in a dotfiles repository) stays a
    link: the file it points to is the one replaced. ``still_as_read`` is asked once the new text is on disk, just
    before it replaces the file: False (someone saved the file meanwhile, say in their editor) raises
    ``ChangedMeanwhile`` and leaves their save in place."""
    path = Path(os.path.realpath(path))
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        if still_as_read is not None and not still_as_read():
            raise ChangedMeanwhile(f"{path} changed while the new version was being written")
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


def set_key(table: Any, key: str, value: Any) -> None:
    """Set ``key`` in a tomlkit ``table`` so the person's layout stays: a table already written with its own header
    keeps it (and its comments), its keys replaced; a key already there keeps its line; a new key goes right after
    the table's last plain value, not below the comments that lead into the sub-tables that follow it."""
    existing = table.get(key) if isinstance(table, Mapping) else None
    if isinstance(value, Mapping) and isinstance(existing, Table):
        _replace_keys(existing, value)
    elif key in table or not isinstance(table, Table):
        table[key] = _toml_value(value)
    else:
        _insert_after_last_value(table, key, _toml_value(value))


def _replace_keys(table: Table, values: Mapping[str, Any]) -> None:
    for gone in [key for key in table if key not in values]:
        del table[gone]
    for key, value in values.items():
        set_key(table, key, value)


def _insert_after_last_value(table: Table, key: str, value: Any) -> None:
    """tomlkit would put a new key after the table's last line that is not a sub-table, comment lines included: in
    ``[profiles.me]`` that is under the comment introducing ``[profiles.me.warnings]``."""
    values = [
        name
        for name, item in table.value.body
        if name is not None and (name.is_dotted() or not isinstance(item, Table | AoT))  # a.b = 1 is a value too
    ]
    if values:
        table.value._insert_after(values[-1], key, value)
    elif table.value.body:
        table.value._insert_at(0, key, value)
    else:
        table[key] = value


def _toml_value(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, tuple | list):
        return _toml_list([_toml_value(item) for item in value])
    if isinstance(value, dict):
        # A small table reads best on one line next to its siblings, as the default file writes them.
        inline = tomlkit.inline_table()
        inline.update({key: _toml_value(item) for key, item in value.items()})
        return inline
    return value


ONE_LINE_LIST = 100  # characters: a list longer than this on one line is written one item to a line


def _toml_list(values: list[Any]) -> Any:
    """A list as a rules file writes it: on one line while it is short, else one item to a line, as people write a
    long list (thousands of pasted keywords on one line would pass the longest line a rules file may have). The long
    form is built in one step: tomlkit re-indexes the whole array on each item added, so a list of 8,000 keywords
    took half a minute."""
    if any(isinstance(value, Mapping | list) for value in values):
        return values
    items = [tomlkit.item(value) for value in values]
    if sum(len(item.as_string()) + 2 for item in items) <= ONE_LINE_LIST:
        return values
    array = tomlkit.array()
    array.add_line(*items, indent="", newline=False)
    return array.multiline(True)
