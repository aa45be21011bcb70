"""Reading rules.toml as the person saved it: a byte that is not UTF-8 is named by its line and column with the fix,
and Windows Notepad's byte-order mark is read as if it were not there (the watcher, and what commands find in
force, agree)."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.rules.errors import RulesError
from breather.rules.loader import parse_rules
from breather.rules.textfile import read_rules_text, readable_text
from breather.rules.watcher import RulesWatcher, read_in_force

RULES = """\
# Our household
[household]
timezone = "UTC"

[profiles.me]
default = true
daily_limit = "1h"
keywords = ["café drama"]
"""
CAFE_LINE = 8
CAFE_COLUMN = len('keywords = ["caf') + 1
NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "rules.toml"
    path.write_bytes(data)
    return path


def test_the_watcher_names_the_line_and_column_of_a_byte_that_is_not_utf8(tmp_path: Path) -> None:
    path = _file(tmp_path, RULES.encode("utf-8"))
    watcher = RulesWatcher(path)
    path.write_bytes(RULES.encode("latin-1"))
    assert not watcher.reload()
    assert watcher.last_error == (
        f'rules.toml:{CAFE_LINE}:{CAFE_COLUMN}: the rules file is not UTF-8 text: byte 0xE9 ("é" in Latin-1) cannot '
        "be read; save it as UTF-8 (in most editors: Save As, Encoding: UTF-8)"
    )
    assert watcher.current == parse_rules(RULES)  # the last good rules stay in force


def test_a_bad_byte_in_a_comment_is_placed_on_its_line(tmp_path: Path) -> None:
    path = _file(tmp_path, RULES.encode() + b"\n# notes \xff\xfe\n")
    with pytest.raises(RulesError) as refused:
        read_rules_text(path)
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (RULES.count("\n") + 2, len("# notes ") + 1)
    assert "byte 0xFF" in problem.message and "save it as UTF-8" in problem.message


def test_the_column_counts_characters_not_bytes(tmp_path: Path) -> None:
    path = _file(tmp_path, "# señal ñ ".encode() + b"\xe9\n")
    with pytest.raises(RulesError, match=r"^rules\.toml:1:11: "):
        read_rules_text(path)


def test_a_byte_order_mark_is_read_as_if_it_were_not_there(tmp_path: Path) -> None:
    path = _file(tmp_path, codecs.BOM_UTF8 + RULES.encode("utf-8"))
    watcher = RulesWatcher(path)
    assert watcher.last_error is None
    assert watcher.current == parse_rules(RULES)
    assert read_rules_text(path) == RULES


def test_an_edit_saved_with_a_byte_order_mark_is_taken_in(tmp_path: Path) -> None:
    path = _file(tmp_path, RULES.encode("utf-8"))
    watcher = RulesWatcher(path)
    path.write_bytes(codecs.BOM_UTF8 + RULES.replace('"1h"', '"30m"').encode("utf-8"))
    assert watcher.reload()
    assert watcher.last_error is None
    assert watcher.current is not None and watcher.current.profiles["me"].daily_limit == timedelta(minutes=30)


def test_what_is_in_force_reads_a_file_with_a_byte_order_mark_as_the_service_does(tmp_path: Path) -> None:
    """``breather status`` and ``breather rules`` find what is in force without a service."""
    path = _file(tmp_path, codecs.BOM_UTF8 + RULES.encode("utf-8"))
    state = read_in_force(path, tmp_path / "rules.last-good.toml", NOW)
    assert state.refused is None and state.rules == parse_rules(RULES)


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = _file(tmp_path, RULES.encode("utf-16"))
    watcher = RulesWatcher(path)
    assert watcher.current is None
    assert watcher.last_error == (
        "rules.toml:1:1: the rules file is saved as UTF-16 text, not UTF-8: save it as UTF-8 (in most editors: Save "
        "As, Encoding: UTF-8)"
    )


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_without_a_byte_order_mark_is_named_as_such_too(tmp_path: Path, encoding: str) -> None:
    watcher = RulesWatcher(_file(tmp_path, RULES.encode(encoding)))
    assert watcher.current is None
    assert watcher.last_error is not None and "saved as UTF-16 text, not UTF-8" in watcher.last_error


def test_a_file_that_cannot_be_read_is_named_with_its_path_and_what_to_do(tmp_path: Path) -> None:
    """A robustness test: a folder in its place (or a deleted file) was said at "rules.toml:1:1", a place in a file
    that was not there, with no advice."""
    folder = tmp_path / "rules.toml"
    folder.mkdir()
    with pytest.raises(RulesError) as refused:
        read_rules_text(folder)
    assert str(refused.value) == (
        f"{folder}: cannot read the rules file: Is a directory; a folder has its name: move the folder aside and "
        "put the rules file back"
    )
    with pytest.raises(RulesError) as refused:
        read_rules_text(tmp_path / "gone.toml")
    assert str(refused.value).endswith(
        ": cannot read the rules file: No such file or directory; it was deleted or moved: put it back"
    )


def test_the_readable_text_shows_each_bad_byte_as_a_replacement_character() -> None:
    assert readable_text(codecs.BOM_UTF8 + RULES.encode("latin-1")) == RULES.replace("é", "\ufffd")
