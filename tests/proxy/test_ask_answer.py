"""The answer to an ask for more time reaches the member on the block page where they asked (a user test: the
dashboard's decline form says "Why not (they will see this)", and the child never saw it; the block page kept
saying "Asked. Someone in your household can say yes…")."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from mitmproxy.test import tflow

from breather.dashboard.app import create_app
from breather.proxy import flows
from breather.proxy.boundaries import Boundaries
from breather.proxy.local_api import LocalApi
from breather.runtime import Runtime
from breather.store.model import Event
from tests.dashboard.conftest import PASSPHRASE, TEST_SCRYPT, form_token, set_passphrase
from tests.proxy.conftest import block_token, rules_text

FAMILY = rules_text(extra_profiles='[profiles.sam]\ndaily_limit = "1h"\n')


def flow_for(path: str, profile: str, body: dict[str, Any] | None = None) -> Any:
    flow = tflow.tflow()
    flow.request.host = "www.reddit.com"
    flow.request.path = path
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.PROFILE] = profile
    if body is None:
        flow.request.headers["sec-fetch-dest"] = "document"
    else:
        flow.request.method = "POST"
        flow.request.headers["x-breather"] = "1"
        flow.request.content = json.dumps(body).encode()
    return flow


def block_page(runtime: Runtime, profile: str) -> str:
    """The member uses up their hour (heartbeats, as the overlay sends them); their next page load gets Breather's
    block page, whose token it returns."""
    api = LocalApi(runtime)
    for _ in range(61 * 2):
        assert call(api, "heartbeat", profile, {"visible": True, "active": True})[0] == 200
    flow = flow_for("/", profile)
    Boundaries(runtime).request(flow)
    assert flow.response is not None and flow.response.headers["x-breather"] == "limit_reached"
    return block_token(flow)


def call(api: LocalApi, name: str, profile: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    flow = flow_for(f"/__breather__/{name}", profile, body)
    api.request(flow)
    assert flow.response is not None
    return flow.response.status_code, json.loads(flow.response.content)


def ask_status(api: LocalApi, profile: str, token: str) -> dict[str, Any]:
    status, answer = call(api, "ask-status", profile, {"token": token})
    assert status == 200, answer
    return answer


def ask_for_more_time(runtime: Runtime, api: LocalApi, token: str) -> None:
    assert call(api, "more-time", "me", {"token": token, "minutes": 15})[0] == 200
    assert runtime.writer.flush(5)


def dashboard(runtime: Runtime) -> tuple[FlaskClient, datetime]:
    """The dashboard on the same runtime, and its clock: the parent answers now (the household's zone is UTC)."""
    now = datetime.now(UTC).replace(microsecond=0)
    app = create_app({"TESTING": True, "SCRYPT_COST": TEST_SCRYPT, "CLOCK": lambda: now}, runtime=runtime)
    client = app.test_client()
    set_passphrase(client)
    return client, now


def answer_the_ask(client: FlaskClient, action: str, **form: str) -> None:
    """The parent answers the one waiting ask on the dashboard's Requests page."""
    found = re.search(r"/requests/(\d+)/approve", client.get("/requests").get_data(as_text=True))
    assert found, "the ask waits on the Requests page"
    token = form_token(client, "/requests")
    url = f"/requests/{found.group(1)}/{action}"
    assert client.post(url, data={"csrf_token": token, "passphrase": PASSPHRASE, **form}).status_code == 302


@pytest.fixture
def family(make_runtime: Any) -> tuple[Runtime, LocalApi, str]:
    runtime = make_runtime(FAMILY)
    return runtime, LocalApi(runtime), block_page(runtime, "me")


def test_the_block_page_hears_a_no_with_the_parents_reason(family) -> None:
    runtime, api, token = family
    assert ask_status(api, "me", token) == {"ok": True, "answer": "none"}

    ask_for_more_time(runtime, api, token)
    waiting = ask_status(api, "me", token)
    assert waiting["answer"] == "waiting" and waiting["message"].startswith("Asked at ")

    client, answered = dashboard(runtime)
    answer_the_ask(client, "decline", reason="homework first")
    declined = ask_status(api, "me", token)
    assert declined["message"] == f"No: homework first (from {answered:%H:%M})"
    assert (declined["answer"], declined["reload"]) == ("no", False)


def test_the_block_page_hears_a_yes_and_may_reload_into_the_site(family) -> None:
    runtime, api, token = family
    ask_for_more_time(runtime, api, token)
    client, answered = dashboard(runtime)
    answer_the_ask(client, "approve", grant="60")

    granted = ask_status(api, "me", token)
    assert granted["message"] == f"Yes: more time until {answered + timedelta(hours=1):%H:%M}"
    assert (granted["answer"], granted["reload"]) == ("yes", True)
    reloaded = flow_for("/", "me")
    Boundaries(runtime).request(reloaded)
    assert reloaded.response is None, "the reload reaches the site"


def test_a_poll_between_the_yes_being_stored_and_the_proxy_told_still_reloads_into_the_site(
    family, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard stores the yes, then tells the proxy: a block page that polled in between read "Yes" with the
    site still shut, took the answer as final and stopped asking, and never reloaded (a flaky browser test)."""
    from breather.dashboard.pages import requests

    runtime, api, token = family
    ask_for_more_time(runtime, api, token)
    told: list[Any] = []
    monkeypatch.setattr(requests, "apply_grant", lambda *args: told.append(args))  # the proxy not told yet
    client, _now = dashboard(runtime)
    answer_the_ask(client, "approve", grant="60")
    assert told, "the dashboard did answer"

    granted = ask_status(api, "me", token)
    assert (granted["answer"], granted["reload"]) == ("yes", True)
    reloaded = flow_for("/", "me")
    Boundaries(runtime).request(reloaded)
    assert reloaded.response is None, "the reload reaches the site"


def test_the_parents_words_reach_only_the_member_who_asked(family) -> None:
    runtime, api, token = family
    ask_for_more_time(runtime, api, token)
    answer_the_ask(dashboard(runtime)[0], "decline", reason="homework first")

    sams_token = block_page(runtime, "sam")
    assert ask_status(api, "sam", sams_token) == {"ok": True, "answer": "none"}
    assert call(api, "ask-status", "sam", {"token": token})[0] == 403, "another member's page token"
    status, answer = call(api, "ask-status", "me", {})
    assert status == 403 and "homework" not in json.dumps(answer), "the site's own scripts hold no block page token"


def test_an_ask_from_yesterday_is_not_todays(family) -> None:
    runtime, api, token = family
    yesterday = datetime.now(UTC) - timedelta(days=1)
    runtime.log_event(Event("me", "more_time_asked", yesterday, "reddit.com", detail={"minutes": 15}))
    assert runtime.writer.flush(5)
    assert ask_status(api, "me", token) == {"ok": True, "answer": "none"}
