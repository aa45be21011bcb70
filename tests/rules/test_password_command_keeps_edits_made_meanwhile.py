"""`breather rules password NAME` writes rules.toml only if it still reads as the command read it, as a save from the
dashboard's Rules page does: an edit saved by hand (or on the dashboard) while the command hashed the password was
written over without a word."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.rules import passwords
from breather.rules.loader import load_rules
from tests.dashboard.conftest import FAMILY_RULES

TIGHTER_BY_HAND = FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "20m"', 1)


@pytest.fixture
def rules_file(breather_home: Path) -> Path:
    path = Paths.resolve(breather_home).rules_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAMILY_RULES, encoding="utf-8")
    return path


def set_password(monkeypatch: pytest.MonkeyPatch, member: str, password: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{password}\n"))
    return main(["rules", "password", member, "--stdin"])


def test_an_edit_saved_while_the_password_is_hashed_is_kept_and_the_command_says_run_it_again(
    rules_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert TIGHTER_BY_HAND != FAMILY_RULES
    hash_password = passwords.hash_password

    def hashed_while_someone_saves(plain: str) -> str:
        rules_file.write_text(TIGHTER_BY_HAND, encoding="utf-8")  # the person's editor, or the dashboard
        return hash_password(plain)

    monkeypatch.setattr(passwords, "hash_password", hashed_while_someone_saves)

    assert set_password(monkeypatch, "parent", "a long walk home") == 1

    assert rules_file.read_text(encoding="utf-8") == TIGHTER_BY_HAND  # their edit stays, nothing written over it
    said = capsys.readouterr()
    assert "changed while the password was being set" in said.err
    assert "nothing was changed: run the command again" in said.err
    assert "stored a hashed password" not in said.out
    monkeypatch.setattr(passwords, "hash_password", hash_password)
    assert set_password(monkeypatch, "parent", "a long walk home") == 0  # run again: both are in the file
    assert 'daily_limit = "20m"' in rules_file.read_text(encoding="utf-8")
    assert load_rules(rules_file).profiles["parent"].password is not None


def test_an_edit_saved_while_the_password_is_typed_is_kept_with_the_new_password(
    rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is read once the password is typed, so an edit saved while the person typed is built on."""

    class TypedWhileSomeoneSaves:
        def readline(self) -> str:
            rules_file.write_text(TIGHTER_BY_HAND, encoding="utf-8")
            return "a long walk home\n"

    monkeypatch.setattr("sys.stdin", TypedWhileSomeoneSaves())
    assert main(["rules", "password", "parent", "--stdin"]) == 0
    assert 'daily_limit = "20m"' in rules_file.read_text(encoding="utf-8")
    assert load_rules(rules_file).profiles["parent"].password is not None
