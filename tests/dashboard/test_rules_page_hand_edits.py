"""The Rules page meets a rules file edited by hand: saved again with Windows line endings while a change waits, or
a link into a dotfiles repository that has moved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from breather.dashboard import context
from breather.rules.loader import load_rules
from tests.dashboard.conftest import (
    FAMILY_RULES,
    NOW,
    PASSPHRASE,
    dashboard_app,
    flat,
    form_token,
    member_form,
    set_passphrase,
    write_by_hand,
)


def test_a_waiting_change_survives_the_file_being_resaved_with_windows_line_endings(app: Flask) -> None:
    """A review: the teen's bigger limit (45m -> 1h), saved on the Rules page, waits 24 h. Meanwhile the file is
    saved again with the same rules but CRLF line endings (Notepad++ set to Windows, git's core.autocrlf in a
    dotfiles repository). The change was dropped as "superseded" (the row's base was the file's exact text) and never
    came in, as it once was after a byte-order mark was added."""
    client = app.test_client()
    set_passphrase(client)
    rules_file: Path = app.config["PATHS"].rules_file
    asked = rules_file.read_text().replace('daily_limit = "45m"', 'daily_limit = "1h"')
    form = {"csrf_token": form_token(client, "/rules"), "text": asked, "action": "save", "passphrase": PASSPHRASE}
    saved = flat(client.post("/rules", data=form, follow_redirects=True).get_data(as_text=True))
    assert "waits" in saved
    write_by_hand(rules_file, rules_file.read_text().replace("\n", "\r\n"))  # the same rules, saved again
    assert "teen's daily limit (45m → 1h) takes effect at" in flat(client.get("/rules").get_data(as_text=True))
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=25)
    page = flat(client.get("/rules").get_data(as_text=True))
    assert load_rules(rules_file).profiles["teen"].daily_limit == timedelta(hours=1)
    assert "superseded" not in page and "edited elsewhere" not in page


@pytest.mark.parametrize("form", ["member", "raw"])
def test_saving_over_a_link_to_a_missing_file_is_refused_with_where_the_link_points(
    breather_home: Path, form: str
) -> None:
    """A review: rules.toml is a symbolic link into a dotfiles repository that has been moved. The Rules page said
    the file was missing, "Save it there (or save a member's form) to write the file again", and saving answered
    500 Internal Server Error (the temporary file was to go in the link's missing folder)."""
    (breather_home / "data").mkdir(parents=True)
    (breather_home / "data" / "rules.last-good.toml").write_text(FAMILY_RULES, encoding="utf-8")  # the service ran
    (breather_home / "config").mkdir(parents=True)
    target = breather_home / "dotfiles" / "breather" / "rules.toml"
    (breather_home / "config" / "rules.toml").symlink_to(target)
    app = next(dashboard_app(breather_home))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        client = app.test_client()
        set_passphrase(client)
        page = client.get("/rules").get_data(as_text=True)
        said = f"rules.toml links to {target}, which does not exist"
        assert said in flat(page).replace("</code>", "").replace("<code>", "")
        if form == "member":
            posted = member_form(page, "teen") | {"daily_limit": "30m", "action": "save", "passphrase": PASSPHRASE}
        else:
            token = form_token(client, "/rules")
            posted = {"csrf_token": token, "text": FAMILY_RULES, "action": "save", "passphrase": PASSPHRASE}
        answer = client.post("/rules", data=posted)
    finally:
        context.close_own_writer(app)
    assert answer.status_code == 409
    assert said in flat(answer.get_data(as_text=True)).replace("</code>", "").replace("<code>", "")
    assert not (breather_home / "dotfiles").exists()  # nothing made inside someone's dotfiles
