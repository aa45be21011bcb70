"""Saying yes on the Requests page is confirmed in words the parent recognises: who, on which site (as the dashboard
names it) and until when (a family user test found no confirmation after approving an ask)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from tests.dashboard.conftest import NOW, PASSPHRASE, Seeder, flat, form_token, set_passphrase


def test_a_yes_is_confirmed_with_who_what_and_until_when(client: FlaskClient, seed: Seeder) -> None:
    set_passphrase(client)
    seed.event("teen", "more_time_asked", NOW - timedelta(minutes=5), site="www.youtube.com", detail={"minutes": 15})
    assert seed.writer.flush(5)
    page = client.get("/requests").get_data(as_text=True)
    found = re.search(r"/requests/(\d+)/approve", page)
    assert found
    form = {"csrf_token": form_token(client, "/requests"), "grant": "15", "passphrase": PASSPHRASE}
    done = flat(client.post(f"/requests/{found.group(1)}/approve", data=form, follow_redirects=True).get_data(True))
    assert '<p class="notice notice-ok" role="status">Said yes to teen: more time on youtube until 20:15.</p>' in done
