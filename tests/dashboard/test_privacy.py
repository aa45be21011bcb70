"""A privacy user test, each finding reproduced twice: the Rules page showed every member's proxy password hash (one
cracked offline in 0.18 s), the Data page's JSON was not the documented export (it left out the parent's answers
about a member), and anyone at the dashboard could download every member's timeline without the passphrase."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.cli import main
from breather.dashboard import context
from breather.dashboard.pages import data as data_pages
from breather.rules.loader import load_rules
from breather.rules.passwords import hash_password, verify_password
from tests.dashboard.conftest import (
    FAMILY_RULES,
    NOW,
    PASSPHRASE,
    Seeder,
    form_token,
    set_passphrase,
    write_by_hand,
)

PAGES = ("/", "/history", "/family", "/review", "/rules", "/requests", "/setup", "/data", "/learn")
TEEN_HASH = hash_password("teen-proxy-pass")
PARENT_PLAIN = "parent-plain-pass"
# The teen's password stored hashed (by `breather rules password teen`), the parent's in plain text (an older file).
WITH_PASSWORDS = FAMILY_RULES.replace('password = "teen-proxy-pass"', f'password = "{TEEN_HASH}"  # hashed').replace(
    'user = "parent"\n', f'user = "parent"\npassword = "{PARENT_PLAIN}"\n'
)
HIDDEN = 'password = "(hidden: the saved password is kept)"'


@pytest.fixture
def rules_file(app: Flask) -> Path:
    path = Path(app.config["PATHS"].rules_file)
    write_by_hand(path, WITH_PASSWORDS)
    return path


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _editor_text(page: str) -> str:
    found = re.search(r'<textarea id="rules-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the page has no rules editor"
    return html.unescape(found.group(1))


def _shown_sha(page: str) -> str:
    found = re.search(r'name="text_sha" value="([0-9a-f]+)"', page)
    assert found
    return found.group(1)


def _post_editor(client: FlaskClient, text: str, action: str = "save", sha: str | None = None) -> Any:
    page = _page(client, "/rules")
    form = {
        "csrf_token": form_token(client, "/rules"),
        "text": text,
        "action": action,
        "passphrase": PASSPHRASE,
        "text_sha": sha or _shown_sha(page),
    }
    return client.post("/rules", data=form)


def _no_password_in(page: str, *, plain_too: bool = True) -> None:
    assert TEEN_HASH not in page and TEEN_HASH.split("$")[1] not in page  # nor the salt alone
    if plain_too:
        assert PARENT_PLAIN not in page


def owner_only(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


def test_every_write_of_the_rules_file_from_the_dashboard_leaves_it_readable_by_its_owner_only(
    app: Flask, client: FlaskClient, rules_file: Path
) -> None:
    """A review: a rules.toml made by hand (0644) kept the members' proxy passwords and their hashes readable by
    every account on the machine after Breather wrote into it (a change applied at once, and one applied once its
    cooling-off was over)."""
    set_passphrase(client)
    rules_file.chmod(0o644)
    editor = _editor_text(_page(client, "/rules"))
    tighter = editor.replace('daily_limit = "45m"', 'daily_limit = "40m"')
    assert _post_editor(client, tighter).status_code == 302  # a tightening: written at once
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(minutes=40) and owner_only(rules_file)
    new_password = _editor_text(_page(client, "/rules")).replace(f"{HIDDEN}  # hashed", 'password = "teen-new-pass"')
    assert _post_editor(client, new_password).status_code == 302  # a changed sign-in: waits out its cooling-off
    rules_file.chmod(0o644)  # made readable by hand again meanwhile
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=25)
    _page(client, "/rules")
    assert verify_password(str(load_rules(rules_file).profiles["teen"].password), "teen-new-pass")
    assert owner_only(rules_file)


# --- 1. the Rules page never shows a stored password ----------------------------------------------------------------


def test_no_page_shows_a_stored_password_and_the_editor_says_it_is_kept(client: FlaskClient, rules_file: Path) -> None:
    for path in PAGES:
        _no_password_in(_page(client, path))
    page = _page(client, "/rules")
    editor = _editor_text(page)
    assert editor.count(HIDDEN) == 2
    assert f"{HIDDEN}  # hashed" in editor  # the line's comment stays
    assert editor == WITH_PASSWORDS.replace(f'password = "{TEEN_HASH}"', HIDDEN).replace(
        f'password = "{PARENT_PLAIN}"', HIDDEN
    )
    assert "breather rules password NAME" in html.unescape(page)


def test_the_page_is_the_same_whatever_the_password_is(client: FlaskClient, rules_file: Path) -> None:
    """Nothing on the page is made from a password: not the editor, not the hash of the text it shows (a sha256 of
    the file would let a plain password be guessed offline as fast as with the file)."""

    def without_token(page: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "", page)

    before = without_token(_page(client, "/rules"))
    write_by_hand(rules_file, WITH_PASSWORDS.replace(PARENT_PLAIN, "another-plain-pass"))
    assert without_token(_page(client, "/rules")) == before


def test_a_broken_file_or_a_bad_password_value_is_shown_without_the_password(
    client: FlaskClient, rules_file: Path
) -> None:
    _page(client, "/rules")  # the rules in force, kept while the file does not read
    write_by_hand(rules_file, WITH_PASSWORDS + "[profiles.kid\n")  # does not read as TOML
    page = _page(client, "/rules")
    _no_password_in(page)
    assert _editor_text(page).count(HIDDEN) == 2

    write_by_hand(rules_file, WITH_PASSWORDS.replace(f'"{PARENT_PLAIN}"', "987650123"))  # a number, not a string
    page = _page(client, "/rules")
    assert "987650123" not in page
    assert "profiles.parent.password: expected a string" in html.unescape(page)


def test_previews_and_member_forms_never_show_a_stored_password(client: FlaskClient, rules_file: Path) -> None:
    editor = _editor_text(_page(client, "/rules"))
    for action in ("preview", "dry_run"):
        answer = _post_editor(client, editor.replace('daily_limit = "45m"', 'daily_limit = "40m"'), action)
        assert answer.status_code == 200
        _no_password_in(answer.get_data(as_text=True))
    form = {"csrf_token": form_token(client, "/rules"), "profile": "teen", "daily_limit": "30m", "action": "preview"}
    answer = client.post("/rules", data=form)
    assert answer.status_code == 200
    _no_password_in(answer.get_data(as_text=True))
    refused = client.post("/rules", data={**form, "action": "save", "passphrase": "wrong"})  # no passphrase set yet
    assert refused.status_code == 403
    _no_password_in(refused.get_data(as_text=True))


def test_saving_the_editor_keeps_the_stored_passwords(client: FlaskClient, rules_file: Path) -> None:
    set_passphrase(client)
    editor = _editor_text(_page(client, "/rules"))
    assert editor.count(HIDDEN) == 2
    answer = _post_editor(client, editor.replace('daily_limit = "45m"', 'daily_limit = "40m"'))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    # Only the line changed: the hash, the plain password and every comment are as they were.
    assert rules_file.read_text() == WITH_PASSWORDS.replace('daily_limit = "45m"', 'daily_limit = "40m"')
    rules = load_rules(rules_file)
    assert verify_password(str(rules.profiles["teen"].password), "teen-proxy-pass")
    assert rules.profiles["parent"].password == PARENT_PLAIN


def test_a_new_password_typed_in_the_editor_is_saved_hashed_once_its_wait_is_over(
    client: FlaskClient, app: Flask, rules_file: Path
) -> None:
    """A changed sign-in waits out the cooling-off (a user test's teen moved theirs onto a looser sibling by hand);
    the page says whose changed, never the password, and neither the file nor the waiting change holds it readable
    (it is stored hashed, as `breather rules password` stores it)."""
    set_passphrase(client)
    editor = _editor_text(_page(client, "/rules"))
    typed = editor.replace(f"{HIDDEN}  # hashed", 'password = "teen-new-pass"  # hashed')
    preview = _post_editor(client, typed, "preview")
    assert 'password = "teen-new-pass"' in _editor_text(preview.get_data(as_text=True))  # what was typed stays
    answer = _post_editor(client, typed)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = html.unescape(_page(client, "/rules"))
    assert "teen's sign-in (user name or password) changed" in page and "teen-new-pass" not in page
    assert load_rules(rules_file).profiles["teen"].password == TEEN_HASH  # waiting
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=25)
    _page(client, "/rules")
    rules = load_rules(rules_file)
    assert verify_password(str(rules.profiles["teen"].password), "teen-new-pass")
    assert "teen-new-pass" not in rules_file.read_text()
    assert rules.profiles["parent"].password == PARENT_PLAIN  # an older file's plain password is left as it was
    _no_password_in(_page(client, "/rules"))
    assert "teen-new-pass" not in _page(client, "/rules")


@pytest.mark.parametrize(
    ("password", "why"),
    [("short1", "at least 8 characters (that one has 6)"), ("Teen", "cannot be a household member's name")],
)
def test_a_password_typed_in_the_editor_that_is_easy_to_guess_is_refused_at_its_line(
    client: FlaskClient, rules_file: Path, password: str, why: str
) -> None:
    """`breather rules password` refused these; the raw editor saved them (a user test's teen set "sam")."""
    set_passphrase(client)
    editor = _editor_text(_page(client, "/rules"))
    typed = editor.replace(f"{HIDDEN}  # hashed", f'password = "{password}"  # hashed')
    line = next(number for number, text in enumerate(typed.splitlines(), 1) if f'"{password}"' in text)
    before = rules_file.read_text()
    answer = _post_editor(client, typed)
    assert answer.status_code == 422
    page = re.sub(r"<[^>]+>", "", html.unescape(answer.get_data(as_text=True)))
    assert f"Line {line}, column 1 · profiles.teen.password" in page and why in page
    assert rules_file.read_text() == before


def _refused_at_the_hidden_line(client: FlaskClient, rules_file: Path, typed: str, member: str) -> None:
    """A placeholder under a member with no saved password must not become their password: anyone reads it here."""
    lines = typed.splitlines()
    start = lines.index(f"[profiles.{member}]")
    line = next(number for number, text in enumerate(lines, 1) if number > start and text.startswith(HIDDEN))
    before = rules_file.read_text()
    answer = _post_editor(client, typed)
    assert answer.status_code == 422
    page = html.unescape(answer.get_data(as_text=True))
    assert f"Line {line}, column 1 · profiles.{member}.password" in re.sub(r"<[^>]+>", "", page)
    assert f"breather rules password {member}" in page
    assert rules_file.read_text() == before
    _no_password_in(page)


def test_a_hidden_password_under_a_renamed_member_is_an_error_at_its_line(
    client: FlaskClient, rules_file: Path
) -> None:
    set_passphrase(client)
    renamed = _editor_text(_page(client, "/rules")).replace("[profiles.teen", "[profiles.kid")
    _refused_at_the_hidden_line(client, rules_file, renamed, "kid")


def test_a_hidden_password_under_a_member_without_one_is_an_error_at_its_line(
    client: FlaskClient, rules_file: Path
) -> None:
    set_passphrase(client)
    write_by_hand(rules_file, WITH_PASSWORDS.replace(f'password = "{PARENT_PLAIN}"\n', ""))
    editor = _editor_text(_page(client, "/rules"))
    typed = editor.replace('user = "parent"\n', f'user = "parent"\n{HIDDEN}\n')
    _refused_at_the_hidden_line(client, rules_file, typed, "parent")


def test_a_file_changed_while_editing_is_still_refused(client: FlaskClient, rules_file: Path) -> None:
    set_passphrase(client)
    page = _page(client, "/rules")
    editor, sha = _editor_text(page), _shown_sha(page)
    assert HIDDEN in editor
    write_by_hand(rules_file, WITH_PASSWORDS.replace('break_after = "20m"', 'break_after = "15m"'))
    answer = _post_editor(client, editor.replace('daily_limit = "45m"', 'daily_limit = "40m"'), sha=sha)
    assert answer.status_code == 409
    assert "the rules file was changed after this page showed it" in html.unescape(answer.get_data(as_text=True))
    assert 'break_after = "15m"' in rules_file.read_text()


def test_a_password_changed_while_editing_is_kept_by_the_save(client: FlaskClient, rules_file: Path) -> None:
    """`breather rules password teen` run while the page is open: the editor's hidden password is the new one."""
    set_passphrase(client)
    page = _page(client, "/rules")
    editor, sha = _editor_text(page), _shown_sha(page)
    new_hash = hash_password("teen-changed-pass")
    write_by_hand(rules_file, WITH_PASSWORDS.replace(TEEN_HASH, new_hash))
    answer = _post_editor(client, editor.replace('daily_limit = "45m"', 'daily_limit = "40m"'), sha=sha)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert new_hash in rules_file.read_text() and 'daily_limit = "40m"' in rules_file.read_text()


# --- 2. the Data page's download is `breather export`'s document ---------------------------------------------------


def _download(client: FlaskClient, fmt: str = "json", passphrase: str | None = None) -> Any:
    form = {"csrf_token": form_token(client, "/data"), "format": fmt}
    if passphrase is not None:
        form["passphrase"] = passphrase
    return client.post("/data/export", data=form)


@pytest.fixture
def answered(client: FlaskClient, seed: Seeder) -> Seeder:
    """A day of use and a parent's no, with its reason, to the teen's ask for more time."""
    seed.minutes("teen", "www.youtube.com", NOW - timedelta(hours=2), 20)
    seed.event("teen", "warning_shown", NOW - timedelta(hours=2), site="www.youtube.com", category="violence")
    seed.event("teen", "more_time_asked", NOW - timedelta(minutes=5), site="www.youtube.com", detail={"minutes": 15})
    seed.send()
    set_passphrase(client)
    event_id = re.search(r"/requests/(\d+)/decline", _page(client, "/requests"))
    assert event_id
    form = {"csrf_token": form_token(client, "/requests"), "reason": "homework first", "passphrase": PASSPHRASE}
    assert client.post(f"/requests/{event_id.group(1)}/decline", data=form).status_code == 302
    with client.application.app_context():
        assert context.writer().flush(5)  # the answer's own event, which the dashboard logs without waiting
    return seed


def test_the_json_download_is_what_breather_export_writes(
    client: FlaskClient, answered: Seeder, capsys: pytest.CaptureFixture[str]
) -> None:
    downloaded = _download(client, passphrase=PASSPHRASE)
    assert downloaded.status_code == 200
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="breather-export.json"'
    page = json.loads(downloaded.get_data(as_text=True))
    assert main(["export"]) == 0
    command = json.loads(capsys.readouterr().out)
    assert (page["format"], page["version"]) == ("breather-export", 1)
    assert set(page["tables"]) >= {"profiles", "activity", "events", "daily_rollups", "time_answers"}
    assert [answer["reason"] for answer in page["tables"]["time_answers"]] == ["homework first"]
    assert page.pop("exported_at") and command.pop("exported_at")  # the moment each was made
    assert page == command


def _unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_csv_download_is_what_breather_export_writes(client: FlaskClient, answered: Seeder, tmp_path: Path) -> None:
    """One file per table, in a ZIP archive: a user test's spreadsheet read the one-stream CSV as one sheet."""
    downloaded = _download(client, "csv", passphrase=PASSPHRASE)
    assert downloaded.status_code == 200
    assert downloaded.mimetype == "application/zip"
    assert 'filename="breather-export-csv.zip"' in downloaded.headers["Content-Disposition"]
    assert main(["export", "--format", "csv", "--output", str(tmp_path / "export.zip")]) == 0
    files = _unzipped(downloaded.get_data())
    assert files == _unzipped((tmp_path / "export.zip").read_bytes())
    assert "time_answers.csv" in files and "activity.csv" in files


def test_one_members_download_holds_their_records_only(
    client: FlaskClient, answered: Seeder, capsys: pytest.CaptureFixture[str]
) -> None:
    """A household's year (a user test): a member who wanted their own records could only have everyone's."""
    answered.minutes("parent", "www.reddit.com", NOW - timedelta(hours=3), 30)
    answered.send()
    page = html.unescape(_page(client, "/data"))
    assert '<option value="teen">teen</option>' in page and '<option value="">Everyone</option>' in page
    form = {"csrf_token": form_token(client, "/data"), "format": "json", "member": "teen", "passphrase": PASSPHRASE}
    downloaded = client.post("/data/export", data=form)
    assert downloaded.status_code == 200
    assert 'filename="breather-export-teen.json"' in downloaded.headers["Content-Disposition"]
    teens = json.loads(downloaded.get_data(as_text=True))
    assert teens["member"] == "teen"
    assert [row["name"] for row in teens["tables"]["profiles"]] == ["teen"]
    rows = [row for name, table in teens["tables"].items() if name != "profiles" for row in table]
    assert rows and {row["profile"] for row in rows} == {"teen"}
    assert "weekly_goals" not in teens["tables"]  # the household's, set together
    assert [answer["reason"] for answer in teens["tables"]["time_answers"]] == ["homework first"]
    assert main(["export", "--member", "teen"]) == 0
    command = json.loads(capsys.readouterr().out)
    assert teens.pop("exported_at") and command.pop("exported_at")
    assert teens == command

    form["member"] = "zoe"
    refused = client.post("/data/export", data=form)
    assert refused.status_code == 400 and "tables" not in refused.get_data(as_text=True)
    assert main(["export", "--member", "zoe"]) == 2
    said = capsys.readouterr().err
    assert "--member: Breather has no records about 'zoe'; members with records: parent, teen" in said


def test_a_download_named_in_any_script_reaches_the_browser_named_so() -> None:
    disposition, _ = data_pages.download("csv", "zoë")
    assert disposition == (
        "attachment; filename=\"breather-export-zo_-csv.zip\"; filename*=UTF-8''breather-export-zo%C3%AB-csv.zip"
    )


# --- 3. downloading everyone's data needs the passphrase once one is set ------------------------------------------


def test_the_download_needs_the_passphrase_once_one_is_set(client: FlaskClient, answered: Seeder) -> None:
    page = html.unescape(_page(client, "/data"))
    assert 'id="download-passphrase"' in page and "it needs the household passphrase" in page
    assert client.get("/data/export.json").status_code in (404, 405)  # no download without a form
    for given in (None, "", "not the passphrase"):
        refused = _download(client, passphrase=given)
        assert refused.status_code == 403
        assert "tables" not in refused.get_data(as_text=True) and "homework first" not in refused.get_data(as_text=True)
    no_token = client.post("/data/export", data={"format": "json", "passphrase": PASSPHRASE})
    assert no_token.status_code == 400
    assert _download(client, passphrase=PASSPHRASE).status_code == 200


def test_wrong_passphrases_for_the_download_are_rate_limited(client: FlaskClient, answered: Seeder) -> None:
    for _ in range(5):
        assert _download(client, passphrase="a guess").status_code == 403
    limited = _download(client, passphrase=PASSPHRASE)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "homework first" not in limited.get_data(as_text=True)


def test_without_a_passphrase_the_download_is_one_click(client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", NOW - timedelta(hours=2), 10)
    seed.send()
    page = _page(client, "/data")
    assert 'id="download-passphrase"' not in page
    downloaded = _download(client)
    assert downloaded.status_code == 200
    assert json.loads(downloaded.get_data(as_text=True))["tables"]["activity"]
