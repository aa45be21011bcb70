"""The week at the boundaries on Family and the weekly review: limits reached, "open anyway", quiet hours, asks for
more time and their answers, counted as the events table holds them; and each warning count with its level.

A family user test (a parent, Sam 15, Alex 12) found none of this on either page, only minutes, warnings and breaks,
and read "sam saw 5 posts with a warning about self harm" without knowing Sam's self-harm level was high.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from mitmproxy.test import tflow

from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.paths import Paths
from breather.proxy import flows
from breather.proxy.boundaries import Boundaries
from breather.rules.loader import load_rules
from breather.runtime import Runtime
from tests.dashboard.conftest import (
    NOW,
    PASSPHRASE,
    TEST_SCRYPT,
    Seeder,
    dashboard_app,
    flat,
    form_token,
    set_passphrase,
)

RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com"]

[sites.youtube]
adapter = "youtube"
domains = ["www.youtube.com"]

[profiles.parent]
default = true
user = "parent"

[profiles.sam]
user = "sam"
daily_limit = "2h"

[profiles.sam.warnings]
self_harm = "high"

[profiles.alex]
user = "alex"
daily_limit = "1h"

[profiles.alex.quiet_hours]
daily = "{quiet}"
"""
WEEK_START = datetime(2026, 2, 26, tzinfo=UTC)  # the 7 days ending on NOW's Wednesday begin on Thursday 26 February


def write_rules(home: Path, quiet: str = "21:00-07:00") -> Paths:
    paths = Paths.resolve(str(home)).ensure()
    paths.rules_file.write_text(RULES.format(quiet=quiet), encoding="utf-8")
    return paths


@pytest.fixture
def app(breather_home: Path) -> Iterator[Flask]:
    write_rules(breather_home)
    yield from dashboard_app(breather_home)


def days_ago(days: int, hour: int, minute: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute) - timedelta(days=days)


@pytest.fixture
def alex_week(seed: Seeder) -> Seeder:
    """Alex's week from the user test, as the proxy logs it (one event per block), with a little outside the week."""
    for day in range(5):
        site = "www.youtube.com" if day % 2 else "www.reddit.com"
        seed.event("alex", "limit_reached", days_ago(day, 17), site=site)
    for day in (1, 3):
        seed.event(
            "alex", "limit_overridden", days_ago(day, 17, 1), site="www.youtube.com", detail={"kind": "limit_reached"}
        )
    for day in (1, 2):
        seed.event("alex", "quiet_hours_blocked", days_ago(day, 21, 30), site="www.youtube.com")
    for hours in (3, 2, 1):
        seed.event(
            "alex", "more_time_asked", NOW - timedelta(hours=hours), site="www.youtube.com", detail={"minutes": 15}
        )
    # the Tuesday before the week, and someone else's block: neither is Alex's week
    seed.event("alex", "limit_reached", days_ago(8, 17), site="www.youtube.com")
    seed.event("alex", "more_time_asked", days_ago(8, 17, 5), site="www.youtube.com")
    seed.event("sam", "limit_reached", days_ago(2, 18), site="www.reddit.com")
    seed.minutes("alex", "www.youtube.com", days_ago(1, 16), 60)
    seed.send()
    return seed


def answer_alexs_asks(client: FlaskClient, app: Flask) -> None:
    """The parent answers each ask on the Requests page ten minutes after it, as in the user test: the first yes,
    the other two no."""
    set_passphrase(client)
    with sqlite3.connect(app.config["DATABASE"]) as db:
        sql = "select id, at from events where kind = 'more_time_asked' and at >= ? order by at"
        asks = [(event_id, datetime.fromisoformat(at)) for event_id, at in db.execute(sql, [WEEK_START.isoformat()])]
    token = form_token(client, "/requests")
    for number, (event_id, asked_at) in enumerate(asks):
        app.config["CLOCK"] = lambda asked_at=asked_at: asked_at + timedelta(minutes=10)
        form = {"csrf_token": token, "passphrase": PASSPHRASE}
        if number == 0:
            answered = client.post(f"/requests/{event_id}/approve", data={**form, "grant": "15"})
        else:
            answered = client.post(f"/requests/{event_id}/decline", data={**form, "reason": "dinner time"})
        assert answered.status_code == 302, answered.get_data(as_text=True)
    app.config["CLOCK"] = lambda: NOW
    with app.app_context():
        assert context.writer().flush(5)  # the answers' own events, which the dashboard logs without waiting


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return flat(response.get_data(as_text=True))


def member_card(family: str, name: str) -> str:
    return family.split(f">{name}</h2>", 1)[1].split("</article>", 1)[0]


def in_events_table(app: Flask, kind: str, profile: str = "alex") -> int:
    with sqlite3.connect(app.config["DATABASE"]) as db:
        sql = "select count(*) from events where kind = ? and profile = ? and at >= ?"
        return int(db.execute(sql, [kind, profile, WEEK_START.isoformat()]).fetchone()[0])


def test_family_tells_each_members_week_at_the_limits_with_the_answers(
    client: FlaskClient, app: Flask, alex_week: Seeder
) -> None:
    answer_alexs_asks(client, app)
    alex = member_card(page(client, "/family"), "alex")
    assert (
        "alex reached a time limit 5 times and chose to open anyway twice, after the pause. "
        "Quiet hours closed a site for alex twice. alex asked for more time 3 times: 1 yes, 2 no."
    ) in alex
    assert "<dt>Time limits reached</dt><dd>5</dd>" in alex
    assert "<dt>Opened anyway, after the pause</dt><dd>2</dd>" in alex
    assert "<dt>Closed for quiet hours</dt><dd>2</dd>" in alex
    assert "<dt>Asked for more time</dt><dd>3 (1 yes, 2 no)</dd>" in alex
    sam = member_card(page(client, "/family"), "sam")
    assert "sam reached a time limit once." in sam and "<dt>Asked for more time</dt><dd>0</dd>" in sam
    parent = member_card(page(client, "/family"), "parent")
    assert "parent did not run into a time limit or quiet hours this week." in parent


def test_the_weekly_review_and_its_printout_count_what_the_events_table_holds(
    client: FlaskClient, app: Flask, alex_week: Seeder
) -> None:
    answer_alexs_asks(client, app)
    review = page(client, "/review")
    lines = review.split('id="boundary-lines">', 1)[1].split("</div>", 1)[0]
    assert "<p>alex reached a time limit 5 times and chose to open anyway twice, after the pause." in lines
    assert "alex asked for more time 3 times: 1 yes, 2 no.</p>" in lines
    row = re.search(r'<tr><th scope="row">alex</th>((?:<td>\d+</td>){6})</tr>', review)
    assert row is not None, "the review has a row of alex's limits, quiet hours and asks"
    cells = [int(cell) for cell in re.findall(r"<td>(\d+)</td>", row.group(1))]
    asked = in_events_table(app, "more_time_asked")
    assert cells == [
        in_events_table(app, "limit_reached"),
        in_events_table(app, "limit_overridden"),
        in_events_table(app, "quiet_hours_blocked"),
        asked,
        in_events_table(app, "more_time_granted"),
        in_events_table(app, "more_time_declined"),
    ]
    assert cells == [5, 2, 2, 3, 1, 2]
    # The printout is this page with the print style sheet, which hides navigation, buttons and form fields only.
    assert 'href="/static/print.css" media="print"' in review
    section = review.split('<section id="boundaries">', 1)[1].split("</section>", 1)[0]
    assert "no-print" not in section and "<form" not in section


def test_an_ask_not_answered_yet_and_opening_anyway_in_quiet_hours_are_told_as_such(
    client: FlaskClient, seed: Seeder
) -> None:
    seed.event("alex", "quiet_hours_blocked", days_ago(1, 22), site="www.reddit.com")
    seed.event("alex", "limit_overridden", days_ago(1, 22, 1), site="www.reddit.com", detail={"kind": "quiet_hours"})
    seed.event("alex", "more_time_asked", NOW - timedelta(minutes=10), site="www.reddit.com")
    seed.send()
    alex = member_card(page(client, "/family"), "alex")
    assert (
        "Quiet hours closed a site for alex once. alex chose to open anyway in quiet hours once. "
        "alex asked for more time once: 0 yes, 0 no, 1 not answered yet."
    ) in alex
    assert "reached a time limit" not in alex


def test_warning_counts_are_shown_with_each_members_level(client: FlaskClient, seed: Seeder) -> None:
    """The review told the family "sam saw 5 posts with a warning about self harm": several were harmless, at high."""
    for minute in range(5):
        seed.event("sam", "warning_shown", days_ago(1, 16, minute), site="www.reddit.com", category="self_harm")
    seed.event("parent", "warning_shown", days_ago(1, 9), site="www.reddit.com", category="violence")
    seed.send()
    family = page(client, "/family")
    sam = member_card(family, "sam")
    assert '<span class="chip-count">5</span> self harm <span class="muted">· set to high</span>' in sam
    assert "Set to high, Breather warns about every post it can, some of them harmless." in sam
    parent = member_card(family, "parent")
    assert '<span class="chip-count">1</span> violence <span class="muted">· set to medium</span>' in parent
    assert "Set to high" not in parent
    points = page(client, "/review").split('id="talking-points">', 1)[1].split("</ol>", 1)[0]
    assert (
        "sam saw 5 posts with a warning about self harm. sam's self harm warnings are set to high: every warning "
        "Breather can give, some of them on harmless posts. Anything to talk about?"
    ) in points
    assert "parent's violence warnings are set to medium: the usual level." in points


def test_a_block_page_reloaded_is_one_block_on_the_family_page(breather_home: Path, seed: Seeder) -> None:
    """The proxy logs a block once however often its page is reloaded; Family counts what it logged."""
    now = datetime.now(UTC)
    window = f"{(now - timedelta(hours=1)):%H}:00-{(now + timedelta(hours=2)):%H}:00"
    paths = write_rules(breather_home, quiet=window)
    rules = load_rules(paths.rules_file)
    runtime = Runtime(paths=paths, settings={"listen_host": "127.0.0.1"}, rules=rules, writer=seed.writer)
    boundaries = Boundaries(runtime)
    for _ in range(4):
        flow = tflow.tflow()
        flow.request.host, flow.request.path = "www.youtube.com", "/"
        flow.request.headers["sec-fetch-dest"] = "document"
        flow.metadata[flows.SITE], flow.metadata[flows.PROFILE] = "www.youtube.com", "alex"
        boundaries.request(flow)
        assert flow.response is not None and flow.response.headers["x-breather"] == "quiet_hours"
    assert seed.writer.flush(5)
    app = create_app({"TESTING": True, "SCRYPT_COST": TEST_SCRYPT, "CLOCK": lambda: now}, runtime=runtime)
    alex = member_card(page(app.test_client(), "/family"), "alex")
    assert "Quiet hours closed a site for alex once." in alex
    assert "<dt>Closed for quiet hours</dt><dd>1</dd>" in alex
