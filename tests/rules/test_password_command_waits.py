"""`breather rules password NAME`: a guessable password is refused, and a changed one says it waits out the
cooling-off and until when. A user test set a teen's password to "sam" (three letters, their own name) without a word;
a changed sign-in now waits like any loosening, so the command must say so rather than "stored" alone."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.rules.loader import load_rules
from breather.rules.passwords import verify_password
from breather.rules.watcher import read_in_force
from tests.dashboard.conftest import FAMILY_RULES

# teen, with no sign-in yet, and no looser than the parent (the default member) in anything: a reddit limit too
NO_CREDENTIALS = FAMILY_RULES.replace(
    '[profiles.teen]\nuser = "teen"\npassword = "teen-proxy-pass"\n', "[profiles.teen]\n"
).replace('break_after = "20m"\n', 'break_after = "20m"\nlimits = { reddit = "20m" }\n')
# the same teen without that limit: 45m of reddit a day where the parent has 30m
LOOSER_ON_REDDIT = NO_CREDENTIALS.replace('limits = { reddit = "20m" }\n', "")


@pytest.fixture
def paths(breather_home: Path) -> Paths:
    return Paths.resolve(breather_home)


def service_ran_on(paths: Paths, text: str) -> None:
    """The file as written, in force: the service's watcher keeps a copy of what it has in force."""
    paths.rules_file.parent.mkdir(parents=True, exist_ok=True)
    paths.rules_file.write_text(text, encoding="utf-8")
    paths.last_good_rules.parent.mkdir(parents=True, exist_ok=True)
    paths.last_good_rules.write_text(text, encoding="utf-8")


@pytest.fixture
def service_runs(paths: Paths) -> Iterator[None]:
    """A service runs here (it holds the service lock): its watcher sees the new password at once, and holds it until
    a time the command can tell. With none running, the wait starts when Breather next starts
    (tests/rules/test_hand_edits.py)."""
    from breather.probe import hold_service_lock

    lock = hold_service_lock(paths)
    assert lock is not None
    with lock:
        yield


def set_password(monkeypatch: pytest.MonkeyPatch, member: str, password: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{password}\n"))
    return main(["rules", "password", member, "--stdin"])


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("teen", "cannot be a household member's name or user name"),
        ("Parent", "cannot be a household member's name or user name"),
        ("seven77", "at least 8 characters (that one has 7)"),
    ],
)
def test_a_guessable_password_is_refused_and_nothing_changes(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], typed: str, said: str
) -> None:
    service_ran_on(paths, FAMILY_RULES)
    assert set_password(monkeypatch, "teen", typed) == 2
    error = capsys.readouterr().err
    assert said in error and "nothing was changed" in error
    assert typed not in error.replace("user name", "")
    assert paths.rules_file.read_text() == FAMILY_RULES


@pytest.mark.usefixtures("service_runs")
def test_a_new_password_for_a_member_who_has_one_says_it_waits_and_until_when(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service_ran_on(paths, FAMILY_RULES)
    assert set_password(monkeypatch, "teen", "a forgotten one reset") == 0
    out = capsys.readouterr().out
    assert re.search(
        r"A changed password waits out the household's cooling-off: a new password for teen takes effect at "
        r"\d\d:\d\d tomorrow\. Until then teen's old password still signs in\.",
        out,
    ), out
    assert "scrypt" not in out and "a forgotten one reset" not in out
    stored = load_rules(paths.rules_file).profiles["teen"].password
    assert stored is not None and verify_password(stored, "a forgotten one reset")
    in_force = read_in_force(paths.rules_file, paths.last_good_rules, _now()).rules
    assert in_force is not None and in_force.profiles["teen"].password == "teen-proxy-pass"


def test_a_first_password_applies_now(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The parent signs in by name alone on this machine; a password asks for more: a tightening, at once."""
    service_ran_on(paths, FAMILY_RULES)
    assert set_password(monkeypatch, "parent", "a long walk home") == 0
    assert "It applies now." in capsys.readouterr().out
    in_force = read_in_force(paths.rules_file, paths.last_good_rules, _now()).rules
    assert in_force is not None and verify_password(in_force.profiles["parent"].password or "", "a long walk home")


def test_first_credentials_for_a_member_who_had_none_apply_now(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service_ran_on(paths, NO_CREDENTIALS)
    assert set_password(monkeypatch, "teen", "a long walk home") == 0
    out = capsys.readouterr().out
    assert "sign in to the proxy as 'teen'" in out and "It applies now." in out
    in_force = read_in_force(paths.rules_file, paths.last_good_rules, _now()).rules
    assert in_force is not None and in_force.profile_for(user="teen").name == "teen"


def test_the_first_password_says_who_can_no_longer_get_through(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user test: after the teen's password "applies now", the parent's own browser met a sign-in box it had no
    answer to (the default member had no user name or password) and nothing had said so."""
    service_ran_on(paths, NO_CREDENTIALS.replace('user = "parent"\n', ""))
    assert set_password(monkeypatch, "teen", "a long walk home") == 0
    out = capsys.readouterr().out
    assert "Every browser through the proxy now signs in" in out
    said = "parent has no password, so parent's browsers cannot get through: run `breather rules password parent`."
    assert said in out

    service_ran_on(paths, NO_CREDENTIALS)  # the parent has a user name: on this machine it signs in by name
    assert set_password(monkeypatch, "teen", "a long walk home") == 0
    assert "cannot get through" not in capsys.readouterr().out


@pytest.mark.usefixtures("service_runs")
def test_first_credentials_for_a_member_looser_than_the_default_wait(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Credentials make their member reachable: whoever knows them gets teen's 45m of reddit instead of the parent's
    30m. Typed into the file by hand, the same edit would open a looser member at once; it waits like one."""
    service_ran_on(paths, LOOSER_ON_REDDIT)
    assert set_password(monkeypatch, "teen", "a long walk home") == 0
    out = capsys.readouterr().out
    assert "a password for teen take effect at" in out and "Until then teen's sign-in stays as it was." in out
    in_force = read_in_force(paths.rules_file, paths.last_good_rules, _now()).rules
    assert in_force is not None and in_force.profile_for(user="teen").name == "parent"


def test_the_rule_reads_names_case_aside_and_never_repeats_the_password() -> None:
    from breather.rules.passwords import password_problem

    assert password_problem("SAMSAMSAM", ["samsamsam"]) is not None
    assert password_problem("correct horse", ["sam", "alex"]) is None
    problem = password_problem("hunter2", [])
    assert problem is not None and "hunter2" not in problem


def _now() -> datetime:
    return datetime.now(UTC)
