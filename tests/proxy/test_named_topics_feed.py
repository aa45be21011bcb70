"""Named own topics through the real FeedWarnings addon, on a recorded Mastodon home timeline: each warning names its
topic ("Breather: tv"), the plain keywords keep "your topic", and topic quiet hours fold away one topic only."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import http
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.feed_warnings import FeedWarnings, event_label
from breather.rules.decisions import decide
from breather.store.model import Event
from tests.proxy.conftest import rules_text, window_around_now

pytestmark = pytest.mark.fixtures

TOPICS = """\
keywords = ["jeep"]

[profiles.me.topics]
tv = ["television"]
"food and drink" = ["ham", "bacon"]
"""
QUIET_TV = """
[profiles.me.topic_quiet_hours]
"keyword:tv" = {{ daily = "{window}" }}
"""
GENEROUS = {"classify_budget_ms": 5000}


def home_timeline_flow(shared_fixtures: Path) -> Any:
    body = (shared_fixtures / "feeds" / "mastodon" / "home_timeline.json").read_bytes()
    flow = tflow.tflow(resp=True)
    flow.request.host = "mastodon.social"
    flow.request.path = "/api/v1/timelines/home"
    flow.metadata[flows.SITE] = "mastodon.social"
    flow.metadata[flows.ADAPTER] = "mastodon"
    flow.metadata[flows.PROFILE] = "me"
    flow.response = http.Response.make(200, b"", {"content-type": "application/json; charset=utf-8"})
    flow.response.raw_content = body
    return flow


def warnings_by_text(flow: Any) -> dict[str, str]:
    """Each warned status's content -> the content warning Breather wrote."""
    statuses = json.loads(flow.response.content)
    return {
        status["content"]: status["spoiler_text"]
        for status in statuses
        if "Breather:" in (status.get("spoiler_text") or "")
    }


def containing(warnings: dict[str, str], words: str) -> str:
    (found,) = [warning for content, warning in warnings.items() if words in content]
    return found


def test_each_warning_names_its_own_topic_and_the_event_log_keeps_the_category(
    make_runtime: Any, events_of: Any, shared_fixtures: Path
) -> None:
    runtime = make_runtime(rules_text(extra_me=TOPICS), **GENEROUS)
    flow = home_timeline_flow(shared_fixtures)
    asyncio.run(FeedWarnings(runtime).response(flow))
    warnings = warnings_by_text(flow)
    assert containing(warnings, "on television") == "Breather: tv"
    assert containing(warnings, "stolen a ham") == "Breather: food and drink"
    assert containing(warnings, "a jeep") == "Breather: your topic"
    assert len(warnings) == 3
    shown = sorted(event["category"] for event in events_of(runtime) if event["kind"] == "warning_shown")
    assert shown == ["custom", "keyword:food_and_drink", "keyword:tv"]


def test_topic_quiet_hours_for_one_named_topic_fold_away_that_topic_only(
    make_runtime: Any, shared_fixtures: Path
) -> None:
    runtime = make_runtime(rules_text(extra_me=TOPICS + QUIET_TV.format(window=window_around_now())), **GENEROUS)
    rules = runtime.current_rules()
    decision = decide(rules, rules.profile("me"), "mastodon.social", datetime.now(UTC).astimezone(rules.zone()))
    flow = home_timeline_flow(shared_fixtures)
    flow.metadata[flows.HIDDEN_TOPICS] = decision.hidden_topics  # what the Boundaries addon marks on the flow
    asyncio.run(FeedWarnings(runtime).response(flow))
    folded = {
        status["content"]: [result["filter"]["title"] for result in status.get("filtered") or []]
        for status in json.loads(flow.response.content)
    }
    assert [titles for content, titles in folded.items() if "on television" in content] == [
        ["Breather: tv (topic quiet hours)"]
    ]
    assert [titles for content, titles in folded.items() if "stolen a ham" in content] == [[]]


def test_a_topic_name_in_another_script_is_logged_as_a_short_ascii_label_the_store_takes() -> None:
    """Topic names may hold letters of any script; the event log's categories are ASCII labels."""
    for category, label in [("keyword:fútbol", "keyword:f_tbol"), ("keyword:baby news", "keyword:baby_news")]:
        assert event_label(category) == label
        Event("me", "warning_shown", datetime.now(UTC), "mastodon.social", event_label(category))
