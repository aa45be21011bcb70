"""A family user test of more time and "open anyway": a parent, Sam and Alex on one machine, each signed in to the
proxy. Each step goes the way the family went: the extension's ask, the parent's yes on the Requests page of the real
dashboard, and then pages of the member's through every proxy addon in order."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from mitmproxy import http
from mitmproxy.test import tflow

from breather.dashboard.app import create_app
from breather.proxy.addon import make_addons
from breather.runtime import Runtime, StoreUsage
from breather.service import restore_what_still_runs
from breather.store.db import open_database
from breather.store.model import Heartbeat
from tests.dashboard.conftest import PASSPHRASE, TEST_SCRYPT, flat, form_token, pair, set_passphrase, write_by_hand
from tests.proxy.conftest import block_token
from tests.proxy.test_boundaries import zone_at_least_minutes_past_midnight

FAMILY = """\
[household]
timezone = "{zone}"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com", "old.reddit.com"]

[sites.youtube]
adapter = "youtube"
domains = ["youtube.com", "www.youtube.com"]

[profiles.parent]
default = true
user = "parent"
password = "parent-pw"

[profiles.sam]
user = "sam"
password = "sam-pw"
daily_limit = "1m"
friction_delay = "0s"
{sam}

[profiles.alex]
user = "alex"
password = "alex-pw"
daily_limit = "1m"
friction_delay = "0s"
{alex}
"""
QUIET_NOW = 'quiet_hours = { daily = ["00:00-12:00", "12:00-00:00"] }'  # whenever the test runs
REDDIT_HOSTS = ("www.reddit.com", "old.reddit.com", "reddit.com")


def family(sam: str = "", alex: str = "") -> str:
    # a zone whose today already holds the minutes read below, whenever the test runs
    return FAMILY.format(zone=zone_at_least_minutes_past_midnight(10), sam=sam, alex=alex)


def visit(runtime: Runtime, member: str, host: str = "www.reddit.com", call: dict[str, Any] | None = None) -> Any:
    """One request from ``member``'s browser, signed in to the proxy, through every addon in order: a page, or with
    ``call`` a Breather page's own call (``{"name": ..., "body": ...}``)."""
    flow = tflow.tflow()
    flow.request.host = host
    flow.request.path = "/"
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.request.headers["proxy-authorization"] = "Basic " + base64.b64encode(f"{member}:{member}-pw".encode()).decode()
    if call is not None:
        flow.request.method = "POST"
        flow.request.path = f"/__breather__/{call['name']}"
        flow.request.headers["sec-fetch-dest"] = "empty"
        flow.request.headers["x-breather"] = "1"
        flow.request.content = json.dumps(call["body"]).encode()
    for addon in make_addons(runtime):
        for hook in ("requestheaders", "request"):
            if flow.response is None and hasattr(addon, hook):
                getattr(addon, hook)(flow)
    return flow


def what_opens(runtime: Runtime, member: str, host: str = "www.reddit.com") -> str:
    """Which Breather page is served instead of the page asked for, or "the site" when it goes to the site."""
    response: http.Response | None = visit(runtime, member, host).response
    return "the site" if response is None else str(response.headers.get("x-breather"))


def use_up_the_limit(runtime: Runtime, member: str) -> None:
    """Five minutes of reddit up to now in the store, as the overlay's heartbeats leave them (past a one-minute
    limit), read into the proxy's memory as the service does every few seconds."""
    now = datetime.now(UTC)
    for beat in range(10):
        runtime.log_heartbeat(
            Heartbeat(member, "reddit.com", now - timedelta(seconds=300 - 30 * beat), 30.0, "overlay")
        )
    read_the_store(runtime)


def read_the_store(runtime: Runtime) -> None:
    assert runtime.writer.flush(5)
    db = open_database(runtime.paths.database)
    try:
        StoreUsage(runtime).refresh(db)
    finally:
        db.close()


def open_anyway(runtime: Runtime, member: str) -> str:
    """Press "Open … anyway" on the Breather page now served; returns which page it was."""
    page = visit(runtime, member)
    answer = visit(runtime, member, call={"name": "override", "body": {"token": block_token(page)}}).response
    assert json.loads(answer.get_text())["ok"] is True
    return str(page.response.headers["x-breather"])


def dashboard(runtime: Runtime) -> FlaskClient:
    config = {"TESTING": True, "SCRYPT_COST": TEST_SCRYPT, "CLOCK": lambda: datetime.now(UTC)}
    return create_app(config, runtime=runtime).test_client()


def ask_from_the_extension(client: FlaskClient, token: str, site: str = "www.reddit.com") -> None:
    """What the extension sends: the tab's host, as docs/interfaces.md says."""
    body = {"kind": "more_time_asked", "site": site, "minutes": 30}
    answer = client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code < 300, answer.get_json()


def ask_on_the_limit_page(runtime: Runtime, member: str) -> None:
    """The limit page's "Ask for more time", with the page's token: logged under the site the proxy decides on
    (reddit.com)."""
    ask = {"name": "more-time", "body": {"token": block_token(visit(runtime, member)), "minutes": 15}}
    answer = visit(runtime, member, call=ask).response
    assert json.loads(answer.get_text())["ok"] is True


def parent_says_yes_for_an_hour(client: FlaskClient, runtime: Runtime) -> None:
    assert runtime.writer.flush(5)
    found = re.search(r"/requests/(\d+)/approve", client.get("/requests").get_data(as_text=True))
    assert found, "no ask waiting on the Requests page"
    form = {"csrf_token": form_token(client, "/requests"), "grant": "60", "passphrase": PASSPHRASE}
    assert client.post(f"/requests/{found.group(1)}/approve", data=form).status_code == 302


def status_of(client: FlaskClient, token: str, site: str) -> str:
    answer = client.get(f"/api/v1/status?site={site}", headers={"Authorization": f"Bearer {token}"})
    return str(answer.get_json()["decision"]["kind"])


def sam_asks_and_the_parent_says_yes(make_runtime: Callable[..., Runtime], rules: str) -> tuple[Runtime, Any, str]:
    """Sam at the limit asks from the extension on www.reddit.com; the parent says yes for an hour."""
    runtime = make_runtime(rules)
    client = dashboard(runtime)
    set_passphrase(client)
    token = pair(client, "sam")
    use_up_the_limit(runtime, "sam")
    assert what_opens(runtime, "sam") == "limit_reached"
    assert status_of(client, token, "www.reddit.com") == "limit_reached"
    ask_from_the_extension(client, token)
    parent_says_yes_for_an_hour(client, runtime)
    return runtime, client, token


def test_a_yes_to_an_extension_ask_lets_every_host_of_the_site_through_for_that_member_only(make_runtime) -> None:
    """The user test: the ask named www.reddit.com, the proxy decides on reddit.com, and the yes changed nothing."""
    runtime, client, _ = sam_asks_and_the_parent_says_yes(make_runtime, family())
    use_up_the_limit(runtime, "alex")

    assert [what_opens(runtime, "sam", host) for host in REDDIT_HOSTS] == ["the site"] * 3
    assert [what_opens(runtime, "alex", host) for host in REDDIT_HOSTS] == ["limit_reached"] * 3
    assert what_opens(runtime, "sam", "www.youtube.com") == "limit_reached", "a yes for reddit is not for YouTube"
    assert re.search(r">reddit: more time \(yes\) until \d\d:\d\d\.", flat(client.get("/?member=sam").text))


def test_the_extension_status_says_open_while_a_yes_runs_as_the_proxy_serves_it(make_runtime) -> None:
    """The user test: with Alex's yes running, the popup said the limit was reached while the proxy served reddit."""
    runtime = make_runtime(family())
    client = dashboard(runtime)
    set_passphrase(client)
    token = pair(client, "alex")
    use_up_the_limit(runtime, "alex")
    assert status_of(client, token, "www.reddit.com") == "limit_reached"
    ask_on_the_limit_page(runtime, "alex")
    parent_says_yes_for_an_hour(client, runtime)

    assert [what_opens(runtime, "alex", host) for host in REDDIT_HOSTS] == ["the site"] * 3
    assert [status_of(client, token, host) for host in REDDIT_HOSTS] == ["allow"] * 3
    assert status_of(client, token, "www.youtube.com") == "limit_reached"


def test_a_yes_at_the_limit_does_not_open_quiet_hours_set_later(make_runtime) -> None:
    """Alex's yes ran when the parent added quiet hours (a tightening, in force at once); reddit still opened."""
    runtime = make_runtime(family())
    client = dashboard(runtime)
    set_passphrase(client)
    token = pair(client, "alex")
    use_up_the_limit(runtime, "alex")
    ask_on_the_limit_page(runtime, "alex")
    parent_says_yes_for_an_hour(client, runtime)
    assert what_opens(runtime, "alex") == "the site"

    write_by_hand(runtime.paths.rules_file, family(alex=QUIET_NOW))
    assert runtime.rules.reload()
    assert [what_opens(runtime, "alex", host) for host in REDDIT_HOSTS] == ["quiet_hours"] * 3
    assert status_of(client, token, "www.reddit.com") == "quiet_hours"


def test_opening_a_limit_page_anyway_does_not_open_quiet_hours_set_later(make_runtime) -> None:
    runtime = make_runtime(family())
    use_up_the_limit(runtime, "alex")
    assert open_anyway(runtime, "alex") == "limit_reached"
    assert what_opens(runtime, "alex") == "the site"

    write_by_hand(runtime.paths.rules_file, family(alex=QUIET_NOW))
    assert runtime.rules.reload()
    assert what_opens(runtime, "alex") == "quiet_hours"


def test_opening_a_quiet_hours_page_anyway_lifts_quiet_hours_and_not_the_limit(make_runtime) -> None:
    runtime = make_runtime(family(sam=QUIET_NOW, alex=QUIET_NOW))
    assert open_anyway(runtime, "sam") == "quiet_hours"
    assert what_opens(runtime, "sam") == "the site"

    use_up_the_limit(runtime, "alex")  # through the override of quiet hours below, the limit still holds
    assert what_opens(runtime, "alex") == "quiet_hours"
    assert open_anyway(runtime, "alex") == "quiet_hours"
    assert what_opens(runtime, "alex") == "limit_reached"
    assert open_anyway(runtime, "alex") == "limit_reached"
    assert what_opens(runtime, "alex") == "the site"
    today = flat(dashboard(runtime).get("/?member=alex").text)
    assert re.search(r">reddit: opened anyway in quiet hours until \d\d:\d\d\.", today)
    assert re.search(r">reddit: opened anyway at the limit until \d\d:\d\d\.", today)
    assert "more time (yes)" not in today, "the child's own override is not the parent's yes"


def test_a_restart_gives_each_yes_and_override_back_with_the_block_it_lifts(make_runtime) -> None:
    rules = family(alex=QUIET_NOW)
    before, _, _ = sam_asks_and_the_parent_says_yes(make_runtime, rules)
    use_up_the_limit(before, "alex")
    assert open_anyway(before, "alex") == "quiet_hours"
    assert before.writer.flush(5)

    after = make_runtime(rules)  # a new service on the same home: nothing in memory
    restore_what_still_runs(after)
    read_the_store(after)

    assert what_opens(after, "alex") == "limit_reached", "the quiet-hours override came back, for quiet hours only"
    assert [what_opens(after, "sam", host) for host in REDDIT_HOSTS] == ["the site"] * 3
    today = flat(dashboard(after).get("/?member=alex").text)
    assert re.search(r">reddit: opened anyway in quiet hours until \d\d:\d\d\.", today)
