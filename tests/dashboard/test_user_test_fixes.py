"""What a newcomer met in a user test: saving the Rules form while rules.toml had a typo gave a 500, a refused save
lost what was typed, the passphrase messages confused, and a few numbers on History and Today read wrong."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard import context
from breather.rules.loader import load_rules
from tests.dashboard.conftest import PASSPHRASE, Seeder, flat, form_token, set_passphrase, today_at, write_by_hand

TYPO_LENGTH = 'break_length = "5 minutes"'
TYPO_CATEGORY = 'harrassment = "low"'


def _break_by_hand(client: FlaskClient, rules_file: Path) -> tuple[int, int]:
    """The user test's two typos, made in an editor after the good rules were in force. Returns their lines."""
    assert client.get("/").status_code == 200  # the last good rules are known
    text = rules_file.read_text(encoding="utf-8")
    text = text.replace('break_after = "20m"\n', f'break_after = "20m"\n{TYPO_LENGTH}\n')
    text += f"\n[profiles.teen.warnings]\n{TYPO_CATEGORY}\n"
    write_by_hand(rules_file, text)
    lines = text.splitlines()
    return lines.index(TYPO_LENGTH) + 1, lines.index(TYPO_CATEGORY) + 1


def _keywords_form(token: str, words: str, action: str = "save", **extra: str) -> dict[str, str]:
    return {"csrf_token": token, "profile": "teen", "keywords": words, "action": action, **extra}


def _editor_text(page: str) -> str:
    found = re.search(r'<textarea id="rules-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the page has no rules editor"
    return html.unescape(found.group(1))


def _keywords_field(page: str, member: str = "teen") -> str:
    found = re.search(rf'id="{member}-keywords" name="keywords" value="([^"]*)"', page)
    assert found, f"no keywords field for {member}"
    return html.unescape(found.group(1))


# --- 1. The Rules form while rules.toml has a problem ---------------------------------------------------------------


def test_the_rules_page_says_which_lines_of_a_broken_file_to_fix(client: FlaskClient, app: Flask) -> None:
    length_line, category_line = _break_by_hand(client, app.config["PATHS"].rules_file)
    response = client.get("/rules")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = flat(page)
    notice = shown.split('id="rules-file-problem"')[1].split("</div>")[0]
    assert "Your rules file has a problem, so the last good rules stay in force." in notice
    assert f'href="#line-{length_line}">Line {length_line}</a>: profiles.teen.break_length' in notice
    assert f'href="#line-{category_line}">Line {category_line}</a>: profiles.teen.warnings.harrassment' in notice
    assert "Fix the marked lines" in notice and "the forms below show the rules in force" in notice
    for line in (length_line, category_line):
        assert f'<li id="line-{line}" class="bad">' in page
    # a screen reader hears, in the editor itself, that it holds problems and which (an accessibility test)
    assert 'spellcheck="false" aria-invalid="true" aria-describedby="file-problems">' in page
    assert '<ul class="problems" id="file-problems">' in page


def test_saving_the_form_on_a_broken_file_is_refused_clearly_and_keeps_the_typed_edit(
    client: FlaskClient, app: Flask
) -> None:
    """The user test: keywords typed, passphrase, Save -> "The server encountered an internal error (500)"."""
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    length_line, _ = _break_by_hand(client, rules_file)
    broken = rules_file.read_text()
    token = form_token(client, "/rules")
    for action in ("save", "preview", "dry_run"):
        response = client.post("/rules", data=_keywords_form(token, "doomscroll, fomo", action, passphrase=PASSPHRASE))
        assert response.status_code == 409, response.get_data(as_text=True)[:300]
        page = response.get_data(as_text=True)
        refused = flat(page).split('id="rules-refused"')[1].split("</div>")[0]
        assert "Nothing was saved" in refused and "rules file has a problem" in refused
        assert _keywords_field(page) == "doomscroll, fomo"  # what was typed is still there
        hidden = 'password = "(hidden: the saved password is kept)"'
        assert _editor_text(page) == broken.replace('password = "teen-proxy-pass"', hidden)  # the file, lines marked
        assert f'<li id="line-{length_line}" class="bad">' in page
    assert rules_file.read_text() == broken


def test_under_the_service_the_broken_file_is_refused_the_same_way(breather_home: Path) -> None:
    """The user test ran ``breather serve``: the rules in force come from its watcher, which kept the last good."""
    from breather.dashboard.app import create_app
    from breather.paths import Paths
    from breather.rules.watcher import RulesWatcher
    from breather.runtime import Runtime
    from tests.dashboard.conftest import FAMILY_RULES, NOW, TEST_SCRYPT

    paths = Paths.resolve(str(breather_home)).ensure()
    paths.rules_file.write_text(FAMILY_RULES)
    watcher = RulesWatcher(paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True, clock=lambda: NOW)
    runtime = Runtime(paths=paths, settings={"listen_host": "127.0.0.1"}, rules=watcher)
    config = {"TESTING": True, "CLOCK": lambda: NOW, "SCRYPT_COST": TEST_SCRYPT, "WRITER_FLUSH_MS": 10}
    app = create_app(config, runtime=runtime)
    client = app.test_client()
    try:
        set_passphrase(client)
        length_line, _ = _break_by_hand(client, paths.rules_file)
        watcher.reload()
        token = form_token(client, "/rules")
        response = client.post("/rules", data=_keywords_form(token, "doomscroll", passphrase=PASSPHRASE))
    finally:
        context.close_own_writer(app)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f'href="#line-{length_line}">Line {length_line}</a>' in page and _keywords_field(page) == "doomscroll"


def test_once_the_marked_lines_are_fixed_the_form_saves_again(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    _break_by_hand(client, rules_file)
    token = form_token(client, "/rules")
    page = client.post("/rules", data=_keywords_form(token, "doomscroll", passphrase=PASSPHRASE))
    fixed = _editor_text(page.get_data(as_text=True)).replace("5 minutes", "10m")
    fixed = fixed.replace(TYPO_CATEGORY, 'harassment = "high"')
    saved = client.post("/rules", data={"csrf_token": token, "text": fixed, "action": "save", "passphrase": PASSPHRASE})
    assert saved.status_code == 302  # stricter (longer breaks, more harassment warnings): at once
    again = client.post("/rules", data=_keywords_form(token, "doomscroll", passphrase=PASSPHRASE))
    assert again.status_code == 302
    teen = load_rules(rules_file).profiles["teen"]
    assert teen.keywords == ("doomscroll",) and teen.break_length == timedelta(minutes=10)
    assert "rules file has a problem" not in flat(client.get("/rules").get_data(as_text=True))


# --- 2. The passphrase --------------------------------------------------------------------------------------------


def test_without_a_passphrase_the_rules_page_says_so_before_and_after_a_save(client: FlaskClient, app: Flask) -> None:
    rules_file = app.config["PATHS"].rules_file
    before = rules_file.read_text()
    page = flat(client.get("/rules").get_data(as_text=True))
    ahead = page.split('id="no-passphrase"')[1].split("</p>")[0]
    assert "no household passphrase is set yet" in ahead and 'href="/setup#pass-h"' in ahead
    token = form_token(client, "/rules")
    response = client.post("/rules", data=_keywords_form(token, "doomscroll"))
    assert response.status_code == 403
    answer = response.get_data(as_text=True)
    refused = flat(answer).split('id="rules-refused"')[1].split("</div>")[0]
    assert "set a household passphrase on the Setup page first" in refused and 'href="/setup#pass-h"' in refused
    assert _keywords_field(answer) == "doomscroll"
    assert rules_file.read_text() == before


def test_a_wrong_passphrase_on_the_rules_page_keeps_the_typed_edit(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    token = form_token(client, "/rules")
    response = client.post("/rules", data=_keywords_form(token, "doomscroll", passphrase="not it"))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "that is not the household passphrase" in flat(page) and _keywords_field(page) == "doomscroll"
    typed = "# mine\n" + app.config["PATHS"].rules_file.read_text()
    raw = client.post("/rules", data={"csrf_token": token, "text": typed, "action": "save", "passphrase": "not it"})
    assert raw.status_code == 403 and _editor_text(raw.get_data(as_text=True)).startswith("# mine\n")


def test_an_empty_passphrase_field_asks_for_it_and_is_not_a_wrong_guess(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    token = form_token(client, "/data")
    for _ in range(6):  # more than the 5 wrong guesses allowed
        empty = client.post("/data/retention", data={"csrf_token": token, "retention_days": "30", "passphrase": ""})
        assert empty.status_code == 403
        message = flat(empty.get_data(as_text=True))
        assert "enter the household passphrase" in message and "not the household passphrase" not in message
    pairing = flat(client.post("/setup/pair", data={"csrf_token": token, "member": "teen"}).get_data(as_text=True))
    assert "enter the household passphrase" in pairing
    assert '<a href="/setup">Back to Setup</a>' in pairing  # the form's page, not only "Back to Today"
    right = {"csrf_token": token, "retention_days": "30", "passphrase": PASSPHRASE}
    assert client.post("/data/retention", data=right).status_code == 302


def test_setup_says_pairing_needs_the_passphrase_too(client: FlaskClient) -> None:
    setup = flat(client.get("/setup").get_data(as_text=True))
    assert "Needed to change rules, approve more time, delete data and, once it is set, make a pairing code." in setup


def test_the_readme_says_where_the_passphrase_is_set() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    dashboard = readme.split("## The dashboard")[1].split("\n## ")[0]
    assert "Set the household passphrase on the Setup page" in dashboard


# --- 3. History and Today -----------------------------------------------------------------------------------------


def test_history_with_one_day_of_data_reads_right(client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", today_at(9), 3)
    seed.send()
    page = flat(client.get("/history?days=7").get_data(as_text=True))
    assert "new this period (0 min)" not in page
    assert "nothing to compare with: Breather was not keeping records for all of the period before" in page
    assert "over the 1 days" not in page and "over 1 day, the first with data" in page


def test_today_draws_no_bar_for_a_site_at_0_min(client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", today_at(9), 0.5)  # two heartbeats: half a minute, shown as 0 min
    seed.send()
    page = client.get("/?member=teen").get_data(as_text=True)
    assert re.search(r">youtube</t[dh]><td>0 min</td>", page), "expected youtube at 0 min on Today"
    width = re.search(r'<rect class="bar" x="\d+" y="8" width="([\d.]+)"', page)
    assert width and float(width.group(1)) == 0.0


def test_a_member_typed_with_a_capital_is_found_and_an_unknown_one_is_named_with_the_members(
    client: FlaskClient, seed: Seeder
) -> None:
    """A user test typed /?member=Leo for leo and read "there is no member called Leo (UnknownMember, 404)"."""
    seed.minutes("teen", "www.youtube.com", today_at(16), 30)
    seed.send()
    found = client.get("/?member=Teen")
    assert found.status_code == 200 and '<option value="teen" selected>' in found.get_data(as_text=True)

    missing = client.get("/history?member=Sam")
    page = flat(missing.get_data(as_text=True))
    assert missing.status_code == 404
    assert 'There is no member called "Sam"; the members are parent and teen.' in page, page
    assert "(UnknownMember, 404)" not in page
