"""A user test edited rules.toml by hand while Breather ran: one byte that was not UTF-8 made every dashboard page a
bare 500, and the Rules page failed exactly when the notice sent the person there (the file not UTF-8, deleted, or
a folder in its place). Every page must say what is wrong while the last good rules stay in force, and the Rules
page must offer the way out."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.paths import Paths
from breather.rules.loader import parse_rules
from breather.runtime import Runtime
from tests.dashboard.conftest import (
    FAMILY_RULES,
    NOW,
    PASSPHRASE,
    TEST_SCRYPT,
    flat,
    form_token,
    service_watcher,
    set_passphrase,
)

PAGES = ("/", "/history", "/family", "/review", "/rules", "/requests", "/setup", "/data", "/learn")
CAFE_LINE = 'keywords = ["café drama"]'
# The family rules with a keyword of the teen's, as a person's editor saved them in Latin-1 ("é" is byte 0xE9).
WITH_CAFE = FAMILY_RULES.replace("[profiles.teen]\n", f"[profiles.teen]\n{CAFE_LINE}\n")
CAFE_LINE_NUMBER = WITH_CAFE.splitlines().index(CAFE_LINE) + 1
CAFE_COLUMN = CAFE_LINE.index("é") + 1
NOT_UTF8 = f"rules.toml:{CAFE_LINE_NUMBER}:{CAFE_COLUMN}: the rules file is not UTF-8 text"


def _as_shown(text: str) -> str:
    """The rules as the editor shows them: the teen's password hidden."""
    return text.replace('password = "teen-proxy-pass"', 'password = "(hidden: the saved password is kept)"')


class Served(NamedTuple):
    client: FlaskClient
    watcher: Any
    paths: Paths


@pytest.fixture
def served(breather_home: Path) -> Iterator[Served]:
    """The dashboard under a service (``breather serve``): its watcher keeps the last good rules and their copy."""
    paths = Paths.resolve(str(breather_home)).ensure()
    paths.rules_file.write_text(FAMILY_RULES, encoding="utf-8")
    watcher = service_watcher(paths, [NOW])
    runtime = Runtime(paths=paths, settings={"listen_host": "127.0.0.1"}, rules=watcher)
    config = {"TESTING": True, "CLOCK": lambda: NOW, "SCRYPT_COST": TEST_SCRYPT, "WRITER_FLUSH_MS": 10}
    app = create_app(config, runtime=runtime)
    client = app.test_client()
    set_passphrase(client)
    yield Served(client, watcher, paths)
    context.close_own_writer(app)


def _save_by_hand(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    stamp = path.stat().st_mtime_ns + 1_000_000  # coarse mtimes: the dashboard must see the change
    os.utime(path, ns=(stamp, stamp))


def _notice(page: str) -> str:
    found = re.search(r'<pre class="rules-problem">(.*?)</pre>', page, re.S)
    assert found, "the page does not say what is wrong with the rules file"
    return html.unescape(found.group(1))


def _editor_text(page: str) -> str:
    found = re.search(r'<textarea id="rules-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the page has no rules editor"
    return html.unescape(found.group(1))


def _raw_save(client: FlaskClient, text: str, **extra: str) -> Any:
    page = client.get("/rules").get_data(as_text=True)
    sha = re.search(r'name="text_sha" value="([0-9a-f]+)"', page)
    form = {"csrf_token": form_token(client, "/rules"), "text": text, "action": "save", "passphrase": PASSPHRASE}
    return client.post("/rules", data={**form, "text_sha": sha.group(1) if sha else "", **extra})


# --- every page, while the file is not UTF-8 -----------------------------------------------------------------------


@pytest.mark.parametrize("broken", [WITH_CAFE.encode("latin-1"), FAMILY_RULES.encode() + b"# \xff\xfe\n"])
def test_every_page_says_the_file_is_not_utf8_and_the_last_good_rules_stay(served: Served, broken: bytes) -> None:
    client, watcher, paths = served
    _save_by_hand(paths.rules_file, broken)
    watcher.reload()
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        if page != "/rules":  # the Rules page lists the problem beside its editor instead
            notice = _notice(response.get_data(as_text=True))
            assert "the rules file is not UTF-8 text" in notice and "save it as UTF-8" in notice, page
            assert notice == watcher.last_error, page
    assert watcher.current == parse_rules(FAMILY_RULES)


def test_without_the_service_every_page_gives_the_watchers_message(client: FlaskClient, app: Flask) -> None:
    rules_file = app.config["PATHS"].rules_file
    assert client.get("/").status_code == 200  # the last good rules are known
    _save_by_hand(rules_file, WITH_CAFE.encode("latin-1"))
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        if page != "/rules":
            assert _notice(response.get_data(as_text=True)).startswith(NOT_UTF8), page


# --- the Rules page, file not UTF-8 -------------------------------------------------------------------------------


def test_the_rules_page_shows_a_file_not_in_utf8_and_saves_it_as_utf8(served: Served) -> None:
    client, watcher, paths = served
    _save_by_hand(paths.rules_file, WITH_CAFE.encode("latin-1"))
    watcher.reload()

    page = client.get("/rules")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    shown = _editor_text(text)
    assert shown == _as_shown(WITH_CAFE.replace("é", "\ufffd"))
    said = flat(text)
    assert f">Line {CAFE_LINE_NUMBER}</a>: the rules file is not UTF-8 text" in said
    assert f">line {CAFE_LINE_NUMBER}</a>)" in said and "saving here writes the file as UTF-8" in said
    assert f'<li id="line-{CAFE_LINE_NUMBER}" class="bad">' in text

    saved = _raw_save(client, shown.replace("\ufffd", "é"))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert paths.rules_file.read_bytes() == WITH_CAFE.encode("utf-8")
    watcher.reload()
    assert watcher.last_error is None
    assert "café drama" in watcher.current.profiles["teen"].keywords


def test_a_members_form_is_refused_not_failed_while_the_file_is_not_utf8(served: Served) -> None:
    client, watcher, paths = served
    broken = WITH_CAFE.encode("latin-1")
    _save_by_hand(paths.rules_file, broken)
    watcher.reload()
    form = {"csrf_token": form_token(client, "/rules"), "profile": "teen", "daily_limit": "30m", "action": "save"}
    response = client.post("/rules", data={**form, "passphrase": PASSPHRASE})
    assert response.status_code == 409
    assert "the rules file cannot be read as it is" in flat(response.get_data(as_text=True))
    assert paths.rules_file.read_bytes() == broken


def test_the_retention_is_refused_not_failed_while_the_file_is_not_utf8(served: Served) -> None:
    client, watcher, paths = served
    broken = WITH_CAFE.encode("latin-1")
    _save_by_hand(paths.rules_file, broken)
    watcher.reload()
    form = {"csrf_token": form_token(client, "/data"), "retention_days": "30", "passphrase": PASSPHRASE}
    response = client.post("/data/retention", data=form)
    assert response.status_code == 409
    assert "the rules file cannot be read as it is" in flat(response.get_data(as_text=True))
    assert paths.rules_file.read_bytes() == broken


# --- the Rules page, file missing ---------------------------------------------------------------------------------


def test_with_the_file_deleted_the_rules_page_offers_the_rules_in_force_to_save(served: Served) -> None:
    client, watcher, paths = served
    paths.rules_file.unlink()
    watcher.reload()

    page = client.get("/rules")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Your rules file is missing" in flat(text)
    assert _editor_text(text) == _as_shown(paths.last_good_rules.read_text(encoding="utf-8")) == _as_shown(FAMILY_RULES)

    saved = _raw_save(client, _editor_text(text))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert paths.rules_file.read_text(encoding="utf-8") == FAMILY_RULES
    watcher.reload()
    assert watcher.last_error is None
    assert "missing" not in flat(client.get("/rules").get_data(as_text=True))


def test_with_the_file_deleted_a_members_form_writes_it_again(served: Served) -> None:
    client, watcher, paths = served
    paths.rules_file.unlink()
    watcher.reload()
    form = {"csrf_token": form_token(client, "/rules"), "profile": "teen", "daily_limit": "30m", "action": "save"}
    response = client.post("/rules", data={**form, "passphrase": PASSPHRASE})
    assert response.status_code == 302, response.get_data(as_text=True)
    written = parse_rules(paths.rules_file.read_text(encoding="utf-8"))
    assert written.profiles["teen"].daily_limit == timedelta(minutes=30)
    assert written.profiles["parent"] == parse_rules(FAMILY_RULES).profiles["parent"]


# --- the Rules page, a folder in the file's place ----------------------------------------------------------------


def test_with_a_folder_in_its_place_the_rules_page_says_so_and_saves_nothing(served: Served) -> None:
    client, watcher, paths = served
    paths.rules_file.unlink()
    paths.rules_file.mkdir()
    watcher.reload()

    page = client.get("/rules")
    assert page.status_code == 200
    said = flat(page.get_data(as_text=True))
    assert f"{paths.rules_file}</code> is a folder, not a file" in said and "nothing this page can save over" in said
    assert 'id="rules-text"' not in page.get_data(as_text=True)

    saved = _raw_save(client, FAMILY_RULES)
    assert saved.status_code == 409
    assert "is a folder, not a file, so nothing can be saved over it" in flat(saved.get_data(as_text=True))
    assert paths.rules_file.is_dir()


# --- a byte-order mark --------------------------------------------------------------------------------------------


def test_a_file_with_a_byte_order_mark_is_in_force_and_saves_without_it(served: Served) -> None:
    client, watcher, paths = served
    tightened = FAMILY_RULES.replace('daily_limit = "45m"', 'daily_limit = "40m"')
    _save_by_hand(paths.rules_file, b"\xef\xbb\xbf" + tightened.encode("utf-8"))
    assert watcher.reload()
    assert watcher.last_error is None
    assert watcher.current.profiles["teen"].daily_limit == timedelta(minutes=40)
    page = client.get("/rules").get_data(as_text=True)
    assert "rules-file-problem" not in page and _editor_text(page) == _as_shown(tightened)

    saved = _raw_save(client, tightened.replace('daily_limit = "40m"', 'daily_limit = "35m"'))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert paths.rules_file.read_bytes() == tightened.replace("40m", "35m").encode("utf-8")
