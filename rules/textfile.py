"""Read ``rules.toml`` as text the way a person saved it, or say where and why it cannot be read.

A rules file is UTF-8. Windows Notepad starts a UTF-8 file with an invisible byte-order mark: it is read as if it
were not there. A file saved in another encoding (Latin-1's "café", a UTF-16 "Unicode" file) is refused with the
line and column of its first unreadable character, which the person can find and fix; the codec's byte offset
alone they cannot. The watcher, the dashboard and the loader all read through here, so they give the same message.
"""

from __future__ import annotations

import codecs
import os
import shlex
from pathlib import Path

from breather.rules.errors import Problem, RulesError

SAVE_AS_UTF8 = "save it as UTF-8 (in most editors: Save As, Encoding: UTF-8)"


def read_rules_text(path: str | os.PathLike[str]) -> str:
    """The text of the rules file at ``path``, without a byte-order mark; ``RulesError`` (located) when the file
    cannot be read or is not UTF-8."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise cannot_read(file, exc) from exc
    return decode_rules_text(data, file.name)


def cannot_read(file: Path, exc: OSError) -> RulesError:
    """The file as a whole (no line of it to name) and what to do: a robustness test got "rules.toml:1:1: cannot read
    the rules file: Is a directory", a place in a file that was not there, and no advice."""
    message = f"cannot read the rules file: {exc.strerror or exc}{_what_to_do(file, exc)}"
    return RulesError([Problem(str(file), 0, 0, "", message)])


def _what_to_do(file: Path, exc: OSError) -> str:
    """Whether rules are in force meanwhile is the reader's to say (the watcher keeps its last good rules; a first
    start has none), so it is not said here."""
    if isinstance(exc, IsADirectoryError):
        return "; a folder has its name: move the folder aside and put the rules file back"
    if isinstance(exc, FileNotFoundError):
        return "; it was deleted or moved: put it back"
    if isinstance(exc, PermissionError):
        return f"; your user may not read it: give it read access (for example `chmod u+rw {shlex.quote(str(file))}`)"
    return ""


def decode_rules_text(data: bytes, filename: str) -> str:
    """``data`` as text, without a byte-order mark; ``RulesError`` at the first character that is not UTF-8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_like_utf16(data):
        message = f"the rules file is saved as UTF-16 text, not UTF-8: {SAVE_AS_UTF8}"
        raise RulesError([Problem(filename, 1, 1, "", message)])
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc.start, filename) from None


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of its first characters is zero, which UTF-8 text never
    has (a robustness test's file met "invalid initial character for a key part", nothing said of its encoding)."""
    head = data[:200]
    return len(head) >= 8 and head.count(0) * 3 >= len(head)


def _not_utf8(data: bytes, start: int, filename: str) -> RulesError:
    line, column = undecodable_place(data, start)
    byte = data[start]
    message = f"the rules file is not UTF-8 text: byte 0x{byte:02X}{_as_latin1(byte)} cannot be read; {SAVE_AS_UTF8}"
    return RulesError([Problem(filename, line, column, "", message)])


def undecodable_place(data: bytes, start: int) -> tuple[int, int]:
    """The line and column (both from 1, the column in characters) of the byte at ``start``, the first that is not
    UTF-8: everything before it decodes."""
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    return line, len(data[line_start:start].decode("utf-8")) + 1


def _as_latin1(byte: int) -> str:
    """What the byte is in Latin-1 when that is a letter: the likely encoding of a "café" that is not UTF-8."""
    letter = bytes([byte]).decode("latin-1")
    return f' ("{letter}" in Latin-1)' if letter.isalpha() else ""


def readable_text(data: bytes) -> str:
    """``data`` with each byte that is not UTF-8 shown as U+FFFD (the replacement character), without a byte-order
    mark: what the Rules page can show of a file that does not read, so it can be fixed and saved as UTF-8."""
    return data.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
