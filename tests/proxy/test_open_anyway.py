"""``open_anyway = false`` (a family user test: a parent could not switch "open anyway" off for a 12-year-old): the
block page offers no override and says so, and the proxy itself refuses one, since the page's button is not the
boundary."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.local_api import LocalApi
from breather.runtime import Runtime
from tests.proxy.conftest import block_token, rules_text, window_around_now
from tests.proxy.test_open_tab_blocks import page_load

QUIET_NOW = f'quiet_hours = {{ daily = "{window_around_now()}" }}'
AFTER_THE_FRICTION_DELAY = timedelta(seconds=11)
OVERRIDE_BUTTON = 'class="breather-button breather-override"'


def override_call(runtime: Runtime, token: str) -> Any:
    """The block page's "open anyway" as the proxy receives it, past the friction delay's wait."""
    flow = tflow.tflow()
    flow.request.host = "www.reddit.com"
    flow.request.method = "POST"
    flow.request.path = "/__breather__/override"
    flow.request.headers["x-breather"] = "1"
    flow.request.content = json.dumps({"token": token}).encode()
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.PROFILE] = "me"
    shown = runtime.block_tokens[token]
    runtime.block_tokens[token] = replace(shown, issued_at=shown.issued_at - AFTER_THE_FRICTION_DELAY)
    LocalApi(runtime).request(flow)
    assert flow.response is not None
    return flow.response


def test_with_open_anyway_off_the_page_has_no_button_and_the_proxy_refuses(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=f"{QUIET_NOW}\nopen_anyway = false"))
    blocked = page_load(runtime)
    page = blocked.response.content.decode()
    assert OVERRIDE_BUTTON not in page and "Open reddit.com anyway" not in page
    assert "Opening reddit.com anyway is switched off for you. It will still be here later." in page
    assert "Ask for more time" not in page  # a household of one: nobody to ask

    refused = override_call(runtime, block_token(blocked))
    assert refused.status_code == 403
    assert json.loads(refused.content)["message"] == "Opening sites anyway is switched off for you in Breather's rules."
    assert page_load(runtime).response is not None, "still blocked"


def test_with_open_anyway_off_a_member_can_still_ask_for_more_time(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=f"{QUIET_NOW}\nopen_anyway = false", extra_profiles="[profiles.sam]\n"))
    blocked = page_load(runtime)
    page = blocked.response.content.decode()
    assert "Ask for more time" in page and OVERRIDE_BUTTON not in page
    assert "If you need more time, you can ask for it." in page
    token = block_token(blocked)
    override_call(runtime, token)
    api = LocalApi(runtime)
    asked = api.more_time("me", "reddit.com", {"token": token, "minutes": 15}, datetime.now(UTC))
    assert asked["message"].startswith("Asked."), "a refused override leaves the page's ask working"
    assert runtime.writer.flush(5)
    assert api.ask_status("me", "reddit.com", {"token": token}, datetime.now(UTC))["answer"] == "waiting"


def test_by_default_the_page_can_still_be_opened_anyway(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_me=QUIET_NOW))
    blocked = page_load(runtime)
    page = blocked.response.content.decode()
    assert OVERRIDE_BUTTON in page and "Open reddit.com anyway" in page
    opened = override_call(runtime, block_token(blocked))
    assert opened.status_code == 200 and json.loads(opened.content)["ok"] is True
    assert page_load(runtime).response is None
