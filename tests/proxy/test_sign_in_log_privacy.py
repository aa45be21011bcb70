"""A refused proxy sign-in never writes a password into the log.

A privacy user test typed a parent's password into the proxy sign-in's user-name field (``curl --proxy-user
"parentpass1:me"``); the service log, readable by everyone on the machine, then said ``proxy sign-in refused for
'parentpass1'``. Only a member's user name is written out; any other name is "a name that is no member's".
"""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest
from mitmproxy.test import tflow

from breather.proxy.identity import FREE_FAILURES, Identity
from breather.rules.passwords import hash_password
from tests.proxy.conftest import rules_text

FAMILY = f"""
[profiles.sam]
user = "sam"
password = "{hash_password("correct horse")}"

[profiles.maya]
user = "maya"
"""


def sign_in(identity: Identity, client_ip: str, user: str, password: str) -> tflow.http.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.peername = (client_ip, 50000)
    flow.request.headers["proxy-authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    checking = identity.http_connect(flow)
    if checking is not None:
        asyncio.run(_awaited(checking))
    return flow


async def _awaited(checking: object) -> None:
    await checking  # type: ignore[misc]


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_a_password_typed_as_the_user_name_is_not_logged(make_runtime, caplog) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    with caplog.at_level(logging.INFO, logger="breather.proxy.identity"):
        flow = sign_in(identity, "127.0.0.1", "parentpass1", "me")
    assert flow.response is not None and flow.response.status_code == 407
    assert "parentpass1" not in logged(caplog)
    assert "proxy sign-in refused for a name that is no member's: wrong name or password" in logged(caplog)


def test_a_members_own_name_is_still_named_when_the_password_is_wrong(make_runtime, caplog) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    with caplog.at_level(logging.INFO, logger="breather.proxy.identity"):
        sign_in(identity, "127.0.0.1", "Sam", "guess")
        sign_in(identity, "127.0.0.1", "maya", "anything")  # a member's name, though maya has no password
    assert "proxy sign-in refused for 'Sam': wrong name or password" in logged(caplog)
    assert "proxy sign-in refused for 'maya': wrong name or password" in logged(caplog)
    assert "guess" not in logged(caplog) and "anything" not in logged(caplog)


def test_made_up_names_from_another_device_still_count_towards_its_pause_without_being_logged(
    make_runtime, caplog
) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    with caplog.at_level(logging.INFO, logger="breather.proxy.identity"):
        for attempt in range(FREE_FAILURES):
            sign_in(identity, "192.168.1.77", f"secret-{attempt}", "x")
        paused = sign_in(identity, "192.168.1.77", "sam", "correct horse")
    assert paused.response is not None and "too many wrong sign-ins" in (paused.response.get_text() or "")
    assert "secret-" not in logged(caplog)
    assert "failed proxy sign-ins from 192.168.1.77" in logged(caplog)
