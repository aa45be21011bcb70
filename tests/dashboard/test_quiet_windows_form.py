"""The Rules page's member form takes two quiet windows on one day, written as docs/rules.md says a value may be ("a
list of such"), and says a problem at the field and line it was typed on (a family user test: both ways were
refused, and the error pointed at "Line 129, column 1" of a file the parent never opened)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.rules.loader import load_rules
from tests.dashboard.conftest import PASSPHRASE, flat, member_form, set_passphrase


def _post_quiet_hours(client: FlaskClient, quiet_hours: str, action: str = "save") -> tuple[int, str]:
    form = member_form(client.get("/rules").get_data(as_text=True), "teen")
    form |= {"quiet_hours": quiet_hours, "action": action, "passphrase": PASSPHRASE}
    response = client.post("/rules", data=form, follow_redirects=True)
    return response.status_code, flat(response.get_data(as_text=True))


def _friday_windows(app: Flask) -> list[str]:
    teen = load_rules(app.config["PATHS"].rules_file).profiles["teen"]
    return sorted(window.describe() for window in teen.quiet_hours if "Fri" in window.describe())


@pytest.mark.parametrize(
    "friday",
    [
        "fri = 10:12-11:00, 11:03-11:40",
        'fri = ["10:12-11:00", "11:03-11:40"]',
        "fri = 10:12-11:00\nfri = 11:03-11:40",
    ],
)
def test_two_quiet_windows_on_one_day_are_saved(client: FlaskClient, app: Flask, friday: str) -> None:
    set_passphrase(client)
    status, page = _post_quiet_hours(client, f"daily = 22:00-07:00\n{friday}")
    assert status == 200 and "That did not work" not in page, page[:2000]
    windows = _friday_windows(app)
    assert len(windows) == 3, windows  # the night's, and the two of the morning
    assert any("10:12" in window and "11:00" in window for window in windows)
    assert any("11:03" in window and "11:40" in window for window in windows)
    assert 'fri = ["10:12-11:00", "11:03-11:40"]' in app.config["PATHS"].rules_file.read_text()


def test_a_bad_window_is_named_at_the_form_field_and_its_line(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    before = app.config["PATHS"].rules_file.read_text()
    status, page = _post_quiet_hours(client, "daily = 22:00-07:00\nfri = 10:12-11:00, 25:03-11:40", "preview")
    assert status == 422 and 'id="rules-refused"' in page, "said in the file's lines, not at the form"
    refused = page.split('id="rules-refused">', 1)[1].split("</div>", 1)[0]
    assert 'quiet hours, line 2: impossible time "25:03"' in refused
    assert not re.search(r"Line \d+, column", page)  # nothing points into the file
    assert "fri = 10:12-11:00, 25:03-11:40" in page  # the form keeps what was typed
    assert app.config["PATHS"].rules_file.read_text() == before


def test_overlapping_windows_name_the_line_that_overlaps(client: FlaskClient) -> None:
    status, page = _post_quiet_hours(client, "daily = 21:00-07:00\n\nweekend = 23:00-09:00", "preview")
    assert status == 422
    assert "quiet hours, line 3: windows overlap: Sat 21:00–07:00" in page


def test_a_site_limit_is_named_at_its_line(client: FlaskClient) -> None:
    form = member_form(client.get("/rules").get_data(as_text=True), "teen")
    refused = client.post("/rules", data=form | {"limits": "youtube = 20m\nredit = 30m", "action": "preview"})
    assert refused.status_code == 422
    assert 'site limits, line 2: unknown site "redit"' in flat(refused.get_data(as_text=True))


def test_a_list_that_does_not_read_says_how_to_write_one(client: FlaskClient) -> None:
    status, page = _post_quiet_hours(client, 'fri = ["10:12-11:00", 11:03-11:40]', "preview")
    assert status == 400
    assert 'quiet hours, line 1: write a list as ["10:00-11:00", "12:00-13:00"]' in page
