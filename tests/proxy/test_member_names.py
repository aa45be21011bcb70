"""A member whose name has a letter outside ASCII and a space ("Zoë Ann"), through the real addon chain: the store
refused every record under the name, so the proxy dropped her minutes with a log warning and her daily limit never
came. And a sign-in with a user name outside ASCII, as a client sends it in ISO-8859-1."""

from __future__ import annotations

import base64
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from breather.proxy import flows
from breather.proxy.addon import make_addons
from breather.proxy.identity import Identity
from breather.store.db import open_database
from breather.store.queries import minutes_today
from tests.proxy.conftest import browser_request, rules_text, through_addons
from tests.proxy.sign_in import answer, connect_flow

LAPTOP = "192.168.1.20"
ZOE_ANN = f"""
[profiles."Zoë Ann"]
client_ips = ["{LAPTOP}/32"]
daily_limit = "2m"
"""


def test_the_proxy_counts_zoe_ann_s_minutes_and_her_limit_comes(
    make_runtime_at_midday: Any, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = make_runtime_at_midday(rules_text(extra_profiles=ZOE_ANN))
    addons = make_addons(runtime)
    traffic = next(addon for addon in addons if type(addon).__name__ == "TrafficTime")
    now = [datetime.now(UTC) - timedelta(minutes=5)]
    traffic.clock = lambda: now[0]

    def send(path: str, dest: str) -> Any:
        return through_addons(addons, browser_request("www.reddit.com", path, dest=dest, device=LAPTOP))

    send("/r/aww/", "document")
    for _ in range(13):  # two minutes and ten seconds of the feed, every 10 s, with no overlay to report them
        now[0] += timedelta(seconds=10)
        send("/r/aww/.json", "empty")
    feed = send("/r/aww/.json", "empty")
    page = send("/r/aww/", "document")  # she reloads the tab

    assert feed.response is not None and feed.response.status_code == 403, "Zoë Ann's 2-minute limit never came"
    assert page.response is not None and b"limit" in page.response.content.lower()
    assert runtime.writer.flush(5)
    db = open_database(runtime.paths.database)
    try:
        stored = minutes_today(db, "Zoë Ann", datetime.now(UTC), runtime.current_rules().zone()).total
    finally:
        db.close()
    assert stored >= 2, f"Zoë Ann's minutes in the store: {stored}"
    with sqlite3.connect(runtime.paths.database) as connection:
        kinds = [row[0] for row in connection.execute("select kind from events where profile = 'Zoë Ann'")]
    assert "limit_reached" in kinds, "the parent's pages never hear of the limit she reached"
    assert "not logging" not in caplog.text


def latin1_basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("latin-1")).decode()


def test_a_user_name_outside_ascii_signs_in_as_a_client_encodes_it_in_iso_8859_1(make_runtime_at_midday: Any) -> None:
    """`breather rules password zoë` writes ``user = "zoë"``; a client that sends Basic credentials in ISO-8859-1
    (what Basic meant before RFC 7617) sent b"zo\\xeb", which is no UTF-8, and was refused as a wrong sign-in."""
    rules = rules_text(extra_profiles='[profiles."zoë"]\nuser = "zoë"\npassword = "søren-and-zoë"\n')
    identity = Identity(make_runtime_at_midday(rules))

    anonymous = connect_flow("127.0.0.1")
    answer(identity.http_connect, anonymous)
    assert anonymous.response is not None and anonymous.response.status_code == 407
    assert 'charset="UTF-8"' in anonymous.response.headers["proxy-authenticate"], "the challenge asks for UTF-8"

    for client, header in (("127.0.0.1", latin1_basic("Zoë", "søren-and-zoë")), ("127.0.0.2", None)):
        flow = connect_flow(client, "zoë", "søren-and-zoë")  # UTF-8, as Chromium and Firefox send it
        if header is not None:
            flow.request.headers["proxy-authorization"] = header
        answer(identity.http_connect, flow)
        assert flow.response is None, f"refused: {flow.response and flow.response.status_code}"
        assert flow.metadata[flows.PROFILE] == "zoë"
