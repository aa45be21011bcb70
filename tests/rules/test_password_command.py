"""`breather rules password NAME` asks for the household passphrase when one is set.

A user test: a child at the keyboard ran `breather rules password parent`, typed a password of their choosing and
signed in to the proxy as the parent (no quiet hours, a 2-hour limit). The passphrase that guards every rule change
on the dashboard guarded nothing here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from breather.cli import main
from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.paths import Paths
from breather.rules.loader import load_rules
from breather.rules.passwords import verify_password
from tests.dashboard.conftest import FAMILY_RULES, PASSPHRASE, TEST_SCRYPT, set_passphrase


@pytest.fixture
def rules_file(breather_home: Path) -> Path:
    path = Paths.resolve(breather_home).rules_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAMILY_RULES, encoding="utf-8")
    return path


@pytest.fixture
def dashboard_ran(breather_home: Path, rules_file: Path) -> Iterator[FlaskClient]:
    """The real dashboard on the test's home (its store gets the household table); yields its test client."""
    app = create_app({"TESTING": True, "HOME": str(breather_home), "SCRYPT_COST": TEST_SCRYPT})
    yield app.test_client()
    context.close_own_writer(app)


@pytest.fixture
def passphrase_set(dashboard_ran: FlaskClient) -> None:
    set_passphrase(dashboard_ran)


def run_with_stdin(monkeypatch: pytest.MonkeyPatch, text: str, *arguments: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    return main(["rules", "password", *arguments, "--stdin"])


def parent_password(rules_file: Path) -> str | None:
    return load_rules(rules_file).profiles["parent"].password


@pytest.mark.usefixtures("passphrase_set")
def test_without_the_household_passphrase_no_password_changes(rules_file, monkeypatch, capsys) -> None:
    assert run_with_stdin(monkeypatch, "my own pick\n", "parent") == 1
    assert "not the household passphrase; nothing was changed" in capsys.readouterr().err
    assert rules_file.read_text() == FAMILY_RULES
    assert run_with_stdin(monkeypatch, "a guess\nmy own pick\n", "parent") == 1
    assert rules_file.read_text() == FAMILY_RULES


@pytest.mark.usefixtures("passphrase_set")
def test_an_empty_passphrase_changes_nothing(rules_file, monkeypatch, capsys) -> None:
    assert run_with_stdin(monkeypatch, "\nmy own pick\n", "parent") == 1
    assert "enter the household passphrase" in capsys.readouterr().err
    assert rules_file.read_text() == FAMILY_RULES


@pytest.mark.usefixtures("passphrase_set")
def test_with_the_passphrase_on_the_first_line_the_second_becomes_the_password(rules_file, monkeypatch) -> None:
    assert run_with_stdin(monkeypatch, f"{PASSPHRASE}\na long walk\n", "parent") == 0
    stored = parent_password(rules_file)
    assert stored is not None and verify_password(stored, "a long walk")
    assert not verify_password(stored, PASSPHRASE)
    assert PASSPHRASE not in rules_file.read_text()


@pytest.mark.usefixtures("passphrase_set")
def test_at_the_terminal_the_passphrase_is_asked_for_first(rules_file, monkeypatch) -> None:
    prompts: list[str] = []
    answers = iter([PASSPHRASE, "a long walk", "a long walk"])

    def typed(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", typed)
    assert main(["rules", "password", "parent"]) == 0
    assert prompts == ["household passphrase: ", "new password: ", "again: "]
    stored = parent_password(rules_file)
    assert stored is not None and verify_password(stored, "a long walk")


@pytest.mark.usefixtures("passphrase_set")
def test_a_wrong_passphrase_at_the_terminal_asks_for_no_password(rules_file, monkeypatch, capsys) -> None:
    prompts: list[str] = []

    def typed(prompt: str = "") -> str:
        prompts.append(prompt)
        return "not it at all"

    monkeypatch.setattr("getpass.getpass", typed)
    assert main(["rules", "password", "parent"]) == 1
    assert prompts == ["household passphrase: "]
    assert rules_file.read_text() == FAMILY_RULES


@pytest.mark.usefixtures("dashboard_ran")
def test_a_household_without_a_passphrase_sets_a_password_as_before(rules_file, monkeypatch) -> None:
    """The dashboard ran but nobody set a passphrase: the command reads the password alone, as it always did."""
    assert run_with_stdin(monkeypatch, "a long walk\n", "parent") == 0
    stored = parent_password(rules_file)
    assert stored is not None and verify_password(stored, "a long walk")


def test_before_the_dashboard_ever_ran_a_password_is_set_as_before(rules_file, monkeypatch) -> None:
    assert not Paths.resolve().database.exists()
    assert run_with_stdin(monkeypatch, "a long walk\n", "teen") == 0
    stored = load_rules(rules_file).profiles["teen"].password
    assert stored is not None and verify_password(stored, "a long walk")
