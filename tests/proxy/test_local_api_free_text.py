"""The local API keeps no free text a page's script sends, in the store or in the log.

A privacy user test: any script on the social site's page can call ``/__breather__/…``. ``reveal`` with
``{"category": "i am pregnant"}`` was stored as a warning category, ``break-shown`` with ``{"reason": "secret diary
entry"}`` was stored in the event's detail, and a value the store refused was quoted in the log. Only what Breather
itself shows (its categories, the member's own topics) and what the overlay sends (the break's kind) is taken.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.local_api import LocalApi
from tests.proxy.conftest import rules_text

OWN_TOPICS = """\
keywords = ["jeep"]

[profiles.me.topics]
spoilers = ["season finale"]
"food and drink" = ["bacon"]
"""


def call(name: str, body: dict[str, Any]) -> Any:
    """The call as a script on old.reddit.com's page makes it (the overlay's own calls look the same)."""
    flow = tflow.tflow()
    flow.request.host = "old.reddit.com"
    flow.request.method = "POST"
    flow.request.path = f"/__breather__/{name}"
    flow.request.content = json.dumps(body).encode()
    flow.request.headers["x-breather"] = "1"
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.PROFILE] = "me"
    return flow


def answer(runtime: Any, name: str, body: dict[str, Any]) -> tuple[int, str]:
    flow = call(name, body)
    LocalApi(runtime).request(flow)
    assert flow.response is not None, "the local API answers itself, never the site"
    return flow.response.status_code, str(json.loads(flow.response.content).get("message", ""))


def store_bytes(database: Path) -> bytes:
    """Everything SQLite keeps on disk for the store: the file and its write-ahead log."""
    return b"".join(
        path.read_bytes() for path in (database, database.with_name(database.name + "-wal")) if path.exists()
    )


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("reveal", {"category": "i am pregnant"}, '"category"'),
        ("reveal", {"category": "keyword:pregnant"}, '"category"'),  # a topic this member does not have
        ("break-shown", {"reason": "secret diary entry"}, '"reason"'),
        ("break-shown", {"reason": ["secret diary entry"]}, '"reason"'),
    ],
)
def test_free_text_from_the_page_is_refused_and_kept_nowhere(
    make_runtime, events_of, caplog, name, body, field
) -> None:
    runtime = make_runtime(rules_text(extra_me=OWN_TOPICS))
    with caplog.at_level(logging.DEBUG):
        status, message = answer(runtime, name, body)
    assert status == 400
    assert field in message, "the refusal names the field"
    secret = "pregnant" if name == "reveal" else "diary"
    assert secret not in message
    assert secret not in caplog.text
    assert events_of(runtime) == []
    assert secret.encode() not in store_bytes(runtime.paths.database)


def test_the_categories_breather_shows_are_logged_as_before(make_runtime, events_of) -> None:
    runtime = make_runtime(rules_text(extra_me=OWN_TOPICS))
    shown = ["self_harm", "violence", "custom", "keyword:spoilers", "keyword:food and drink"]
    assert [answer(runtime, "reveal", {"category": category})[0] for category in shown] == [200] * 5
    stored = [event["category"] for event in events_of(runtime)]
    # as the warning itself was counted (warning_shown): the store keeps short ASCII labels
    assert stored == ["self_harm", "violence", "custom", "keyword:spoilers", "keyword:food_and_drink"]


def test_the_break_reasons_the_overlay_sends_are_logged_as_before(make_runtime, events_of) -> None:
    runtime = make_runtime()
    assert answer(runtime, "break-shown", {"reason": "heavy"})[0] == 200
    assert answer(runtime, "break-shown", {"reason": "cadence"})[0] == 200
    assert answer(runtime, "break-shown", {})[0] == 200  # no reason: the regular break, as before
    reasons = [json.loads(event["detail"])["reason"] for event in events_of(runtime)]
    assert reasons == ["heavy", "cadence"]  # the third is the same break as the second
