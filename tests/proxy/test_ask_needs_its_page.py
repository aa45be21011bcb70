"""An ask for more time comes from the member's own block page. Any script on a site's page can call the local API
(it needs only the ``X-Breather: 1`` header), and ``more-time`` took no token: the site's own script, an extension or
an ad frame could put asks in the member's name on the Requests page while no block page was shown at all. Now it
needs the token of a block page shown to that member for that site, as ``ask-status`` does, and keeps it: the page
goes on asking for the answer with it."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.boundaries import Boundaries
from breather.proxy.local_api import LocalApi
from breather.runtime import Runtime
from tests.proxy.conftest import block_token, rules_text, window_around_now
from tests.proxy.test_ask_answer import call, dashboard

QUIET_NOW = f'quiet_hours = {{ daily = "{window_around_now()}" }}'
HOUSEHOLD = rules_text(extra_me=QUIET_NOW, extra_profiles=f"[profiles.sam]\n{QUIET_NOW}\n")
HOSTS = {"reddit.com": "www.reddit.com", "mastodon.social": "mastodon.social"}
OUT_OF_DATE = "this page is out of date; reload it"


def block_page(runtime: Runtime, profile: str, site: str = "reddit.com") -> str:
    """The member opens ``site`` in quiet hours and gets Breather's block page in the tab; its token."""
    flow = tflow.tflow()
    flow.request.host = HOSTS[site]
    flow.request.path = "/"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.metadata[flows.SITE] = site
    flow.metadata[flows.PROFILE] = profile
    Boundaries(runtime).request(flow)
    assert flow.response is not None and flow.response.headers["x-breather"] == "quiet_hours"
    return block_token(flow)


def asks_on_the_requests_page(runtime: Runtime, parent: FlaskClient) -> list[str]:
    """What the parent reads on the dashboard's Requests page: one heading per ask waiting for an answer."""
    assert runtime.writer.flush(5)
    page = parent.get("/requests").get_data(as_text=True)
    return re.findall(r'<h2 id="ask-\d+">([^<]*)</h2>', page)


def stolen_or_made_up(runtime: Runtime, whose: str) -> dict[str, Any]:
    """A ``more-time`` body from something other than me's block page for reddit.com."""
    tokens = {
        "no token": {},
        "a made-up token": {"token": "0123456789abcdef"},
        "another site's page": {"token": block_page(runtime, "me", "mastodon.social")},
        "another member's page": {"token": block_page(runtime, "sam")},
    }
    return {**tokens[whose], "minutes": 30}


@pytest.mark.parametrize("whose", ["no token", "a made-up token", "another site's page", "another member's page"])
def test_an_ask_without_the_pages_own_token_is_refused_and_reaches_nobody(
    make_runtime: Any, events_of: Any, caplog: pytest.LogCaptureFixture, whose: str
) -> None:
    runtime = make_runtime(HOUSEHOLD)
    api, parent = LocalApi(runtime), dashboard(runtime)[0]
    body = stolen_or_made_up(runtime, whose)

    with caplog.at_level(logging.DEBUG, logger="breather.proxy.local_api"):
        assert call(api, "more-time", "me", body) == (403, {"error": "ApiError", "message": OUT_OF_DATE})

    assert asks_on_the_requests_page(runtime, parent) == []
    assert [event for event in events_of(runtime) if event["kind"] == "more_time_asked"] == []
    assert [record for record in caplog.records if record.name == "breather.proxy.local_api"] == []


def test_the_block_pages_own_token_asks_and_goes_on_hearing_the_answer(make_runtime: Any) -> None:
    runtime = make_runtime(HOUSEHOLD)
    api, parent = LocalApi(runtime), dashboard(runtime)[0]
    token = block_page(runtime, "me")

    status, asked = call(api, "more-time", "me", {"token": token, "minutes": 15})
    assert (status, asked["message"]) == (200, "Asked. Someone in your household can say yes in Breather's dashboard.")
    assert asks_on_the_requests_page(runtime, parent) == ["me asks for 15 more minutes on reddit"]

    status, heard = call(api, "ask-status", "me", {"token": token})
    assert (status, heard["answer"]) == (200, "waiting"), "asking kept the page's token"
    status, again = call(api, "more-time", "me", {"token": token, "minutes": 15})
    assert (status, again.get("already_asked")) == (200, True)
    assert asks_on_the_requests_page(runtime, parent) == ["me asks for 15 more minutes on reddit"]


def test_without_a_token_the_refusal_says_nothing_about_the_minutes(make_runtime: Any) -> None:
    """The token is checked first: a call from no block page learns nothing of what else the call needs."""
    runtime = make_runtime(HOUSEHOLD)
    api, parent = LocalApi(runtime), dashboard(runtime)[0]
    assert call(api, "more-time", "me", {"minutes": 999}) == (403, {"error": "ApiError", "message": OUT_OF_DATE})

    status, refused = call(api, "more-time", "me", {"token": block_page(runtime, "me"), "minutes": 999})
    assert (status, refused["message"]) == (400, "minutes must be a whole number from 1 to 240")
    assert asks_on_the_requests_page(runtime, parent) == []
