"""``breather eval FILE.csv`` on a file it cannot use says which file, which line and what to do, and exits 2 like
other bad input: a user test got a codec's byte offset for a Latin-1 file and a table of zeros for a header alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from breather.cli import main


def _eval(path: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    code = main(["eval", str(path), *options])
    out, err = capsys.readouterr()
    return code, out, err.strip()


def test_a_latin1_file_is_named_with_its_line_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.csv"
    path.write_bytes('text,label\nlovely walk,none\n"I love the café",none\n'.encode("latin-1"))
    code, out, err = _eval(path, capsys)
    assert code == 2 and out == ""
    assert err == (
        f"breather eval: {path}:3: not UTF-8 text (byte 0xE9 at column 16 cannot be read); save the file as UTF-8 "
        "(in a spreadsheet: Save As, CSV UTF-8)"
    )


def test_a_bad_byte_far_down_a_long_file_is_found_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"text,label\n" + b"hello there,none\n" * 2000 + b"caf\xe9,none\n")
    code, _, err = _eval(path, capsys)
    assert code == 2 and f"{path}:2002: not UTF-8 text (byte 0xE9 at column 4" in err


def test_a_header_alone_is_not_a_table_of_zeros(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "header.csv"
    path.write_text("text,label\n", encoding="utf-8")
    code, out, err = _eval(path, capsys)
    assert code == 2 and out == ""
    assert f"{path}: no posts under the header line, nothing to evaluate" in err


def test_an_empty_file_says_it_is_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    code, _, err = _eval(path, capsys)
    assert code == 2 and f"{path}: the file is empty; give one post a line under a header line" in err


def test_a_missing_column_names_the_columns_there_and_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("post,category\nlovely walk,none\n", encoding="utf-8")
    code, _, err = _eval(path, capsys)
    assert code == 2
    assert err.endswith(
        f"{path}:1: no column 'text' (the header line has: post, category); name the column holding the text with "
        "--text-col NAME"
    )
    code, _, err = _eval(path, capsys, "--text-col", "post")
    assert code == 2 and "no column 'label' (the header line has: post, category)" in err and "--label-col" in err


def test_a_missing_file_is_bad_input_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _eval(tmp_path / "nowhere.csv", capsys)
    assert code == 2 and "nowhere.csv: cannot read (No such file or directory)" in err


def test_a_file_with_a_byte_order_mark_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefftext,label\nlovely walk in the park,none\n".encode())
    code, out, _ = _eval(path, capsys, "--format", "json")
    assert code == 0 and '"support": 1' in out
