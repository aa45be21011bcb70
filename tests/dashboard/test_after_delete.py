"""The pages after "Delete everything": they say the records were deleted, rather than read the emptied days as a
quiet week (a user test of a household's year read "A quiet week: nothing stood out in the numbers" on the review
and "no change" on Family, with nothing saying that everything had been deleted that evening)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from breather.cli import main
from tests.dashboard.conftest import NOW, PASSPHRASE, Seeder, flat, form_token, set_passphrase

SAID = "Everything Breather had recorded was deleted on Wed 4 Mar at 20:00 (on the Data page)"


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return flat(response.get_data(as_text=True))


def used(seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", NOW - timedelta(days=2), 50)
    seed.send()


def test_the_week_after_a_deletion_says_so_and_is_not_called_quiet(client: FlaskClient, seed: Seeder) -> None:
    used(seed)
    set_passphrase(client)
    assert SAID not in page(client, "/review")
    form = {"csrf_token": form_token(client, "/data"), "confirm": "DELETE", "passphrase": PASSPHRASE}
    assert client.post("/data/delete", data=form).status_code == 302
    for path in ("/review", "/family", "/history?days=30"):
        assert SAID in page(client, path), path
    assert "A quiet week" not in page(client, "/review")


def test_a_deletion_before_the_period_is_not_mentioned(app: Flask, client: FlaskClient, seed: Seeder) -> None:
    used(seed)
    set_passphrase(client)
    form = {"csrf_token": form_token(client, "/data"), "confirm": "DELETE", "passphrase": PASSPHRASE}
    assert client.post("/data/delete", data=form).status_code == 302
    app.config["CLOCK"] = lambda: NOW + timedelta(days=8)
    assert "was deleted on" not in page(client, "/review")
    assert "was deleted on" in page(client, "/history?days=30")


def test_breather_delete_all_is_said_too(app: Flask, client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", NOW - timedelta(hours=3), 20)
    seed.send()
    seed.close()
    assert main(["delete", "--all", "--yes"]) == 0
    app.config["CLOCK"] = lambda: datetime.now(UTC)  # the command deletes at the machine's time
    assert "Everything Breather had recorded was deleted on " in page(client, "/family")


def test_one_members_records_deleted_on_the_data_page_go_and_are_said(client: FlaskClient, seed: Seeder) -> None:
    """A user test: a member who wanted their records gone could only have the whole household's deleted."""
    used(seed)
    seed.minutes("parent", "www.reddit.com", NOW - timedelta(days=1), 30)
    seed.send()
    set_passphrase(client)
    data = page(client, "/data")
    assert "Delete one member's records" in data and '<option value="teen">teen</option>' in data
    form = {"csrf_token": form_token(client, "/data"), "member": "teen", "confirm": "", "passphrase": PASSPHRASE}
    assert client.post("/data/delete-member", data=form).status_code == 400  # not confirmed: nothing deleted
    assert "youtube" in page(client, "/history?days=7&member=teen")
    form["confirm"] = "DELETE"
    done = client.post("/data/delete-member", data=form, follow_redirects=True)
    assert done.status_code == 200 and "records about teen. Breather counts their use again from now." in flat(
        done.get_data(as_text=True)
    )
    history = page(client, "/history?days=7")
    assert "teen's records were deleted on Wed 4 Mar at 20:00: theirs count from then." in history
    assert "reddit" in history and "youtube" not in history  # the parent's half hour stays
    assert SAID not in history
    assert "teen's records were deleted" not in page(client, "/history?days=7&member=parent")  # not the parent's
    form["member"] = "nobody"
    assert client.post("/data/delete-member", data=form).status_code == 400


def test_the_review_after_one_members_deletion_names_whose_records_went(client: FlaskClient, seed: Seeder) -> None:
    """The review's opener said "The records were deleted this week" when only teen's were: the parent's had not."""
    used(seed)
    set_passphrase(client)
    form = {"csrf_token": form_token(client, "/data"), "member": "teen", "confirm": "DELETE", "passphrase": PASSPHRASE}
    assert client.post("/data/delete-member", data=form).status_code == 302
    review = page(client, "/review")
    assert "teen's records were deleted this week, so the numbers say little about it." in review
    assert "The records were deleted this week" not in review and "A quiet week" not in review
