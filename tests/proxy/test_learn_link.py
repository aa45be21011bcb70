"""HTML content warnings link to the dashboard's "Reading content warnings" guide, when this browser can open it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import http
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.feed_warnings import FeedWarnings

pytestmark = pytest.mark.fixtures

DISTRESSING = "I want to kill myself tonight, I cannot go on"
TITLE = re.compile(rb'(class="titleline"><a href="[^"]*">)([^<]*)')
GUIDE_LINK = re.compile(rb'<a class="breather-learn" href="([^"]+)" target="_blank" rel="noopener noreferrer">')


def hn_front_page_flow(shared_fixtures: Path) -> Any:
    """The real 2023 HN front page, its first title swapped for a distressing sentence (in memory only)."""
    page = (shared_fixtures / "feeds" / "hackernews" / "front_page_2023-10_jblanava.html").read_bytes()
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.path = "news.ycombinator.com", "/"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.metadata.update({flows.SITE: "news.ycombinator.com", flows.ADAPTER: "hackernews", flows.PROFILE: "me"})
    body = TITLE.sub(lambda m: m.group(1) + DISTRESSING.encode(), page, count=1)
    flow.response = http.Response.make(200, body, {"content-type": "text/html; charset=utf-8"})
    return flow


def warned(runtime: Any, shared_fixtures: Path) -> bytes:
    flow = hn_front_page_flow(shared_fixtures)
    asyncio.run(FeedWarnings(runtime).response(flow))
    content: bytes = flow.response.content
    assert b'class="breather-warning"' in content, "the distressing title was not warned about"
    return content


def test_a_warning_links_to_the_guide_on_the_dashboards_port(make_runtime, shared_fixtures) -> None:
    runtime = make_runtime(classify_budget_ms=5000)
    runtime.web_port = 48765
    links = GUIDE_LINK.findall(warned(runtime, shared_fixtures))
    assert links == [b"http://127.0.0.1:48765/learn/content-warnings"]


@pytest.mark.parametrize(("listen_host", "web_port"), [("127.0.0.1", None), ("0.0.0.0", 48765)])
def test_no_link_when_the_dashboard_is_unknown_or_on_another_machine(
    make_runtime, shared_fixtures, listen_host, web_port
) -> None:
    runtime = make_runtime(classify_budget_ms=5000, listen_host=listen_host)
    runtime.web_port = web_port
    assert GUIDE_LINK.search(warned(runtime, shared_fixtures)) is None
