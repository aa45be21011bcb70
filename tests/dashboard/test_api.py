"""The extension API as the extension uses it: pair, config, PAC, heartbeat, status, events, OpenAPI."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from mitmproxy.test import tflow

from breather.dashboard.app import create_app
from breather.paths import Paths
from breather.proxy.addon import make_addons
from breather.proxy.boundaries import Boundaries
from breather.rules.loader import load_rules
from breather.runtime import Runtime, StoreUsage
from breather.store.db import open_database
from tests.dashboard.conftest import (
    FAMILY_RULES,
    NOW,
    PASSPHRASE,
    TEST_SCRYPT,
    Seeder,
    form_token,
    pair,
    pairing_code,
    set_passphrase,
    today_at,
)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_pairing_code_is_exchanged_once_for_a_token(client: FlaskClient) -> None:
    token = pair(client, "teen")
    status = client.get("/api/v1/status", headers=auth(token)).get_json()
    assert status["profile"] == "teen"


def test_an_unknown_pairing_code_is_refused(client: FlaskClient) -> None:
    answer = client.post("/api/v1/pair", json={"code": "ABCD-2345"})
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "InvalidPairingCode"


def paired_browsers(app: Flask) -> int:
    app.extensions["breather.writer"].flush()
    db = open_database(app.config["PATHS"].database)
    try:
        return int(db["api_tokens"].count)
    finally:
        db.close()


def test_a_pairing_code_pairs_one_browser_only(client: FlaskClient, app: Flask) -> None:
    """A code seen over a shoulder on the Setup screen must not pair a second browser once the first has used it."""
    code = pairing_code(client, "teen")
    assert client.post("/api/v1/pair", json={"code": code, "browser": "chrome"}).status_code == 200
    again = client.post("/api/v1/pair", json={"code": code, "browser": "firefox"})
    assert (again.status_code, again.get_json()["error"]) == (403, "InvalidPairingCode")
    assert paired_browsers(app) == 1


def test_a_pairing_code_left_unused_past_ten_minutes_no_longer_pairs(client: FlaskClient, app: Flask) -> None:
    code = pairing_code(client, "teen")
    app.config["CLOCK"] = lambda: NOW + timedelta(seconds=app.config["PAIRING_CODE_TTL_S"] + 1)
    late = client.post("/api/v1/pair", json={"code": code, "browser": "chrome"})
    assert (late.status_code, late.get_json()["error"]) == (403, "InvalidPairingCode")
    assert paired_browsers(app) == 0


def test_pairing_guesses_are_rate_limited(client: FlaskClient) -> None:
    codes = [client.post("/api/v1/pair", json={"code": f"ABCD-{n:04d}"}).status_code for n in range(2000, 2012)]
    assert codes[:10] == [403] * 10
    assert codes[10:] == [429, 429]


def test_config_and_pac_send_only_the_intercepted_domains_to_the_proxy(client: FlaskClient) -> None:
    token = pair(client)
    config = client.get("/api/v1/config", headers=auth(token)).get_json()
    assert config["proxy"] == {"host": "127.0.0.1", "port": 8080}
    assert "old.reddit.com" in config["domains"] and "www.youtube.com" in config["domains"]
    assert config["pac_url"].endswith("/api/v1/pac")
    pac = client.get("/api/v1/pac")
    assert pac.mimetype == "application/x-ns-proxy-autoconfig"
    script = pac.get_data(as_text=True)
    assert '"PROXY 127.0.0.1:8080"' in script and "DIRECT" in script and '"reddit.com"' in script
    assert "example.com" not in script


def test_the_pac_sends_a_social_site_written_with_a_trailing_dot_or_capitals_through_breather(
    client: FlaskClient,
) -> None:
    """An audit opened http://reddit.com./ with the PAC set: it went direct, past every boundary. Run in node, with
    ``dnsDomainIs`` as browsers define it."""
    import json
    import shutil
    import subprocess

    script = client.get("/api/v1/pac").get_data(as_text=True)
    hosts = ["reddit.com.", "WWW.Reddit.com.", "reddit.com", "reddit.com.evil.example.", "example.org"]
    program = (
        "function dnsDomainIs(h, d) { return h.length >= d.length && h.substring(h.length - d.length) === d; }\n"
        + script
        + f"\nconsole.log(JSON.stringify({json.dumps(hosts)}.map(h => FindProxyForURL('http://' + h + '/', h))));"
    )
    node = shutil.which("node")
    assert node is not None, "node runs the extension's tests too"
    answers = json.loads(subprocess.run([node, "-e", program], capture_output=True, text=True, check=True).stdout)
    assert answers == ["PROXY 127.0.0.1:8080"] * 3 + ["DIRECT", "DIRECT"]


def test_heartbeats_become_minutes_in_the_status(client: FlaskClient, app: Flask) -> None:
    token = pair(client, "parent")
    start = today_at(19, 30)
    for second in range(0, 10 * 60 + 1, 30):
        beat = {"site": "old.reddit.com", "visible": True, "focused": True, "idle": "active"}
        beat["at"] = (start + timedelta(seconds=second)).isoformat()
        assert client.post("/api/v1/heartbeat", json=beat, headers=auth(token)).status_code == 200
    app.extensions["breather.writer"].flush()
    status = client.get("/api/v1/status?site=old.reddit.com", headers=auth(token)).get_json()
    assert status["minutes_today"] == 10.5  # each heartbeat stands for the 30 s from it on
    assert status["limit_minutes"] == 60
    assert status["decision"]["kind"] == "allow"
    assert status["through_proxy"] is None


def test_a_hidden_or_idle_tab_is_not_counted(client: FlaskClient, app: Flask) -> None:
    token = pair(client, "parent")
    for second in range(0, 301, 30):
        at = (today_at(19) + timedelta(seconds=second)).isoformat()
        client.post("/api/v1/heartbeat", json={"site": "reddit.com", "visible": False, "at": at}, headers=auth(token))
        client.post("/api/v1/heartbeat", json={"site": "reddit.com", "idle": "idle", "at": at}, headers=auth(token))
    app.extensions["breather.writer"].flush()
    assert client.get("/api/v1/status", headers=auth(token)).get_json()["minutes_today"] == 0.0


def test_quiet_hours_show_in_the_status(app: Flask, client: FlaskClient) -> None:
    token = pair(client, "teen")
    app.config["CLOCK"] = lambda: NOW.replace(hour=23)
    status = client.get("/api/v1/status?site=www.youtube.com", headers=auth(token)).get_json()
    assert status["quiet_hours"] is True
    assert status["decision"]["kind"] == "quiet_hours"
    assert "Quiet hours" in status["decision"]["reason"]


def test_the_status_counts_down_to_quiet_hours_starting_and_ending(app: Flask, client: FlaskClient) -> None:
    token = pair(client, "teen")
    app.config["CLOCK"] = lambda: NOW.replace(hour=21, minute=50, second=30)
    before = client.get("/api/v1/status", headers=auth(token)).get_json()
    assert before["quiet_hours"] is False
    assert before["quiet_hours_change_in_s"] == 9 * 60 + 30
    app.config["CLOCK"] = lambda: NOW.replace(hour=23)
    during = client.get("/api/v1/status", headers=auth(token)).get_json()
    assert during["quiet_hours"] is True
    assert during["quiet_hours_change_in_s"] == 8 * 3600


def test_quiet_hours_opened_anyway_give_no_countdown_the_extension_would_read_as_quiet_hours_starting(
    breather_home: Path, seed: Seeder
) -> None:
    from breather.runtime import lift_block

    runtime = service(breather_home, seed.writer)
    late = NOW.replace(hour=6, minute=55)  # teen's quiet hours end at 07:00
    lift_block(runtime, "teen", "www.youtube.com", "quiet_hours", late + timedelta(minutes=10))
    client = create_app(
        {"TESTING": True, "SCRYPT_COST": TEST_SCRYPT, "CLOCK": lambda: late}, runtime=runtime
    ).test_client()
    status = client.get("/api/v1/status?site=www.youtube.com", headers=auth(pair(client, "teen"))).get_json()
    assert status["quiet_hours"] is False  # opened anyway
    assert status["quiet_hours_change_in_s"] is None  # not "quiet hours start in 5 minutes"


def test_a_profile_without_quiet_hours_has_no_countdown(client: FlaskClient) -> None:
    token = pair(client, "parent")
    assert client.get("/api/v1/status", headers=auth(token)).get_json()["quiet_hours_change_in_s"] is None


def test_a_spent_limit_shows_in_the_status(client: FlaskClient, seed: Seeder) -> None:
    seed.minutes("teen", "www.youtube.com", today_at(16), 50)
    seed.send()
    token = pair(client, "teen")
    status = client.get("/api/v1/status?site=www.youtube.com", headers=auth(token)).get_json()
    assert status["decision"]["kind"] == "limit_reached"
    assert status["minutes_today"] >= 45


def test_a_heartbeat_with_a_url_instead_of_a_site_is_refused(client: FlaskClient) -> None:
    token = pair(client)
    answer = client.post("/api/v1/heartbeat", json={"site": "https://reddit.com/r/x/comments/1"}, headers=auth(token))
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "InvalidField"


def test_events_are_logged_and_an_ask_waits_on_the_requests_page(client: FlaskClient, app: Flask) -> None:
    token = pair(client, "teen")
    answer = client.post(
        "/api/v1/events",
        json={"kind": "more_time_asked", "site": "www.youtube.com", "minutes": 15},
        headers=auth(token),
    )
    assert answer.status_code == 201
    assert client.post("/api/v1/events", json={"kind": "break_taken"}, headers=auth(token)).status_code == 201
    assert client.post("/api/v1/events", json={"kind": "limit_reached"}, headers=auth(token)).status_code == 400
    app.extensions["breather.writer"].flush()
    db = open_database(app.config["DATABASE"])
    kinds = [row[0] for row in db.execute("select kind from events order by id")]
    db.close()
    assert kinds == ["more_time_asked", "break_taken"]
    page = client.get("/requests").get_data(as_text=True)
    assert "teen asks for 15 more minutes on youtube" in page


def test_an_ask_from_the_extension_is_stored_once_while_it_waits(client: FlaskClient, app: Flask) -> None:
    """A user test sent fifty asks from a console: the parent had fifty cards to answer one by one."""
    token = pair(client, "teen")
    ask = {"kind": "more_time_asked", "site": "www.youtube.com", "minutes": 15}
    answers = [client.post("/api/v1/events", json=ask, headers=auth(token)) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [201, 200, 200, 200, 200]
    assert answers[1].get_json() == {"recorded": None, "already_asked": True}
    page = client.get("/requests").get_data(as_text=True)
    assert page.count("teen asks for 15 more minutes on youtube") == 1
    other_site = {**ask, "site": "www.reddit.com"}
    assert client.post("/api/v1/events", json=other_site, headers=auth(token)).status_code == 201


def test_an_ask_without_a_site_from_an_older_extension_waits_on_the_requests_page(client: FlaskClient) -> None:
    """Breather 0.1.0's extension asked for "5 more minutes" with no social tab in front, and drops an ask the API
    refuses for good (an upgrade review: the parent never saw it). A yes to it lifts the limits on every site."""
    token = pair(client, "teen")
    ask = {"kind": "more_time_asked", "minutes": 5}
    answers = [client.post("/api/v1/events", json=ask, headers=auth(token)) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [201, 200]
    page = client.get("/requests").get_data(as_text=True)
    assert page.count("teen asks for 5 more minutes on their sites") == 1


def test_non_json_bodies_get_415(client: FlaskClient) -> None:
    token = pair(client)
    answer = client.post("/api/v1/heartbeat", data="site=reddit.com", headers=auth(token))
    assert answer.status_code == 415
    assert answer.get_json()["error"] == "UnsupportedMediaType"


def test_json_nested_too_deeply_is_a_clear_400(client: FlaskClient) -> None:
    token = pair(client)
    headers = {**auth(token), "Content-Type": "application/json"}
    answer = client.post("/api/v1/heartbeat", data="[" * 100_000, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "MalformedJson"


def test_unknown_api_routes_answer_json(client: FlaskClient) -> None:
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "NotFound"


def test_every_field_of_the_config_answer_is_in_the_openapi_document(client: FlaskClient) -> None:
    """The extension and other clients read the schema: a field the answer carries must be in it."""
    config = client.get("/api/v1/config", headers=auth(pair(client))).get_json()
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Config"]
    assert "extension_version" in config  # this checkout ships the extension beside the service
    assert set(config) <= set(schema["properties"])


def test_the_openapi_document_matches_the_routes(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "<" not in rule.rule
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == routes
    for path, item in document["paths"].items():
        for method, operation in item.items():
            rule = next(r for r in app.url_map.iter_rules() if r.rule == path)
            view = app.view_functions[rule.endpoint]
            needs_token = getattr(view, "__wrapped__", None) is not None
            assert ("security" in operation) == needs_token, (path, method)


def test_setup_lists_paired_browsers_and_unpairing_revokes_the_token(client: FlaskClient, app: Flask) -> None:
    token = pair(client, "teen")
    assert client.get("/api/v1/status", headers=auth(token)).status_code == 200
    app.extensions["breather.writer"].flush()
    page = client.get("/setup").get_data(as_text=True)
    row = page.split('id="paired"')[1]
    assert '<th scope="row">teen</th><td>chrome</td>' in row and "not yet" not in row
    digest = row.split('name="token_hash" value="')[1].split('"')[0]
    from tests.dashboard.conftest import csrf_from

    answer = client.post("/setup/revoke", data={"csrf_token": csrf_from(page), "token_hash": digest})
    assert answer.status_code == 302
    assert client.get("/api/v1/status", headers=auth(token)).status_code == 401


def service(breather_home: Path, writer: Any, rules: str = FAMILY_RULES) -> Runtime:
    """What ``breather serve`` shares between the proxy and the dashboard, on the test home."""
    paths = Paths.resolve(str(breather_home)).ensure()
    paths.rules_file.write_text(rules, encoding="utf-8")
    settings = {"listen_host": "127.0.0.1", "proxy_port": 8080}
    return Runtime(paths=paths, settings=settings, rules=load_rules(paths.rules_file), writer=writer)


def service_that_saw(breather_home: Path, seed: Seeder, member: str, minutes: int) -> Runtime:
    """A service whose store holds ``minutes`` of YouTube for ``member`` up to a minute ago, read into its sessions
    as it does every few seconds."""
    runtime = service(breather_home, seed.writer)
    seed.minutes(member, "www.youtube.com", NOW - timedelta(minutes=minutes + 1), minutes)
    seed.send()
    read_the_store(runtime)
    return runtime


def read_the_store(runtime: Runtime) -> None:
    """What the service's refresh thread does every few seconds: today's minutes from the store into the sessions."""
    db = open_database(runtime.paths.database)
    try:
        StoreUsage(runtime).refresh(db, now=NOW)
    finally:
        db.close()


def dashboard_of(runtime: Runtime) -> Any:
    return create_app(
        {"TESTING": True, "SCRYPT_COST": TEST_SCRYPT, "CLOCK": lambda: NOW}, runtime=runtime
    ).test_client()


def test_the_status_says_a_break_is_due_when_the_proxy_shows_one(breather_home: Path, seed: Seeder) -> None:
    """A user test: Today and the popup said "Next break in 1 min · Open" while the proxy put a break on every page.
    The status counted only the active time since the proxy last read the store, the proxy all of it."""
    runtime = service_that_saw(breather_home, seed, "parent", 26)
    assert Boundaries(runtime).decide("parent", "www.youtube.com", NOW).kind == "break_due"

    client = dashboard_of(runtime)
    status = client.get("/api/v1/status?site=www.youtube.com", headers=auth(pair(client, "parent"))).get_json()
    assert status["decision"]["kind"] == "break_due"
    assert status["next_break_in_s"] == 0
    today = re.sub(r"\s+", " ", client.get("/?member=parent").get_data(as_text=True))
    assert 'id="next-break">due now<' in today and 'id="decision">Break due<' in today


def through_the_proxy(runtime: Runtime, path: str, dest: str) -> Any:
    """One request from teen's browser (signed in to the proxy) for www.reddit.com, through every proxy addon."""
    flow = tflow.tflow()
    flow.request.host = "www.reddit.com"
    flow.request.path = path
    flow.request.headers["sec-fetch-dest"] = dest
    flow.request.headers["proxy-authorization"] = "Basic " + base64.b64encode(b"teen:teen-proxy-pass").decode()
    for addon in make_addons(runtime):
        for hook in ("requestheaders", "request"):
            if flow.response is None and hasattr(addon, hook):
                getattr(addon, hook)(flow)
    return flow


@pytest.mark.parametrize(("path", "dest"), [("/r/popular.json", "empty"), ("/", "document")])
def test_the_status_knows_breather_sees_traffic_it_blocks_or_only_reads(
    breather_home: Path, seed: Seeder, path: str, dest: str
) -> None:
    """A user test's popup, with the limit page open in another tab: "Routing is on, but Breather has not seen your
    social traffic yet"; and Setup's live check said nothing from reddit.com reached Breather two minutes after its
    JSON had. Only the overlay's heartbeats counted; a blocked page or a feed's JSON never did."""
    always_quiet = FAMILY_RULES.replace('daily = "22:00-07:00"', 'daily = ["00:00-12:00", "12:00-00:00"]')
    runtime = service(breather_home, seed.writer, always_quiet)
    client = create_app(
        {"TESTING": True, "SCRYPT_COST": TEST_SCRYPT, "CLOCK": lambda: datetime.now(UTC)}, runtime=runtime
    ).test_client()
    token = pair(client, "teen")
    assert client.get("/api/v1/status", headers=auth(token)).get_json()["through_proxy"] is False

    flow = through_the_proxy(runtime, path, dest)
    if dest == "document":
        assert flow.response is not None and flow.response.headers["x-breather"] == "quiet_hours"
    assert client.get("/api/v1/status", headers=auth(token)).get_json()["through_proxy"] is True
    assert "Breather saw reddit.com" in client.get("/setup?check=reddit.com").get_data(as_text=True)  # Setup's check


def test_deleting_everything_also_clears_the_running_proxys_count_of_today(breather_home: Path, seed: Seeder) -> None:
    """A user test deleted everything: Today said 0 min while the proxy still blocked at the old minutes."""
    runtime = service_that_saw(breather_home, seed, "teen", 50)
    assert Boundaries(runtime).decide("teen", "www.youtube.com", NOW).kind == "limit_reached"

    client = dashboard_of(runtime)
    set_passphrase(client)
    form = {"csrf_token": form_token(client, "/data"), "confirm": "DELETE", "passphrase": PASSPHRASE}
    runtime.paths.shown_warnings.write_text('{"salt": "00", "seen": {}}', encoding="utf-8")
    assert client.post("/data/delete", data=form).status_code == 302
    assert Boundaries(runtime).decide("teen", "www.youtube.com", NOW).kind != "limit_reached"
    assert not runtime.paths.shown_warnings.exists(), "when warned posts were shown is a record of use too"


def test_a_read_of_the_store_begun_before_a_delete_does_not_bring_the_minutes_back(
    breather_home: Path, seed: Seeder
) -> None:
    """A review: the refresh thread could read the store, the parent delete everything, and the read's old minutes
    then land in the proxy's memory again for up to ten seconds (blocking at the old limit)."""
    from breather.runtime import _take_stored
    from breather.store.queries import minutes_today

    runtime = service_that_saw(breather_home, seed, "teen", 50)
    db = open_database(runtime.paths.database)
    try:
        generation = runtime.sessions.usage_generation
        today = minutes_today(db, "teen", NOW, runtime.current_rules().zone())  # the read, before the delete
    finally:
        db.close()
    runtime.forget_usage()
    runtime.sessions.take_stored("teen", partial(_take_stored, today=today, active=50.0, day="2026-03-04"), generation)
    assert runtime.sessions.read("teen").stored_total == 0.0


def event_from_the_extension(client: Any, token: str, kind: str, **fields: Any) -> Any:
    return client.post("/api/v1/events", json={"kind": kind, "site": "www.youtube.com", **fields}, headers=auth(token))


def test_a_break_taken_or_snoozed_in_the_extensions_notification_is_what_the_proxy_does_next(
    breather_home: Path, seed: Seeder
) -> None:
    """A review: the notification's buttons reached only the store, so "Take a break" came ~10 s late to the proxy
    and "5 more minutes" never did (every page kept the break screen, the popup kept "a break is due")."""
    runtime = service_that_saw(breather_home, seed, "parent", 26)
    client = dashboard_of(runtime)
    token = pair(client, "parent")
    assert event_from_the_extension(client, token, "break_snoozed").status_code == 201
    assert Boundaries(runtime).decide("parent", "www.youtube.com", NOW).kind != "break_due"
    status = client.get("/api/v1/status?site=www.youtube.com", headers=auth(token)).get_json()
    assert status["decision"]["kind"] != "break_due"
    seed.writer.flush()
    detail = (  # logged with the snooze's real length, which a restart replays
        open_database(runtime.paths.database)
        .execute("select detail from events where kind = 'break_snoozed'")
        .fetchone()[0]
    )
    assert json.loads(detail) == {"minutes": 5}

    assert event_from_the_extension(client, token, "break_taken").status_code == 201
    session = runtime.sessions.read("parent")
    assert (session.active_since_break_s, session.snoozes_in_row, session.snoozed_until) == (0.0, 0, None)


def test_the_extension_cannot_snooze_past_the_members_snoozes(breather_home: Path, seed: Seeder) -> None:
    runtime = service_that_saw(breather_home, seed, "parent", 26)
    runtime.sessions.update("parent", lambda session: setattr(session, "snoozes_in_row", 99))
    client = dashboard_of(runtime)
    answer = event_from_the_extension(client, pair(client, "parent"), "break_snoozed")
    assert answer.status_code == 409 and "snoozes in a row are used up" in answer.get_json()["message"]
    assert runtime.sessions.read("parent").snoozed_until is None


def test_the_same_snooze_pressed_in_a_second_browser_is_that_snooze_not_another(
    breather_home: Path, seed: Seeder
) -> None:
    """A review: the notification pressed on the laptop and again on the desktop logged two snoozes ("2 snoozed" in
    the weekly review), and after a restart the second row, replayed as a 0-minute snooze, ended the one that ran."""
    from breather.proxy.restore import restore_recent_choices

    runtime = service_that_saw(breather_home, seed, "parent", 26)
    client = dashboard_of(runtime)
    laptop, desktop = pair(client, "parent"), pair(client, "parent")
    assert event_from_the_extension(client, laptop, "break_snoozed").status_code == 201
    second = event_from_the_extension(client, desktop, "break_snoozed")
    assert (second.status_code, second.get_json()) == (200, {"recorded": None, "snooze_running": True})
    running = runtime.sessions.read("parent")
    assert running.snoozes_in_row == 1
    seed.writer.flush()
    rows = open_database(runtime.paths.database).execute("select count(*) from events where kind = 'break_snoozed'")
    assert rows.fetchone()[0] == 1

    restarted = service(breather_home, seed.writer)
    restore_recent_choices(restarted, open_database(restarted.paths.database), NOW + timedelta(minutes=1))
    after = restarted.sessions.read("parent")
    assert (after.snoozed_until, after.snoozes_in_row) == (running.snoozed_until, 1)


def test_the_status_says_when_the_config_changed_so_a_new_site_is_routed_at_once(
    client: FlaskClient, app: Flask
) -> None:
    token = pair(client)
    config = client.get("/api/v1/config", headers=auth(token)).get_json()
    status = client.get("/api/v1/status", headers=auth(token)).get_json()
    assert config["config_version"] == status["config_version"]
    rules_file = Path(app.config["PATHS"].rules_file)
    rules_file.write_text(
        rules_file.read_text().replace("[profiles.", '[sites.lemmy]\ndomains = ["lemmy.world"]\n\n[profiles.', 1)
    )
    context_rules_reloaded = client.get("/api/v1/config", headers=auth(token)).get_json()
    assert "lemmy.world" in context_rules_reloaded["domains"]
    assert client.get("/api/v1/status", headers=auth(token)).get_json()["config_version"] != status["config_version"]


def test_an_ipv6_proxy_address_is_bracketed_for_the_pac_and_the_extension(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("BREATHER_LISTEN_HOST", "::1")
    client = request.getfixturevalue("client")
    assert '"PROXY [::1]:8080"' in client.get("/api/v1/pac").get_data(as_text=True)
    config = client.get("/api/v1/config", headers=auth(pair(client))).get_json()
    assert config["proxy"] == {"host": "[::1]", "port": 8080}


def test_deleting_one_members_records_clears_the_running_proxys_count_of_their_today(
    breather_home: Path, seed: Seeder
) -> None:
    runtime = service_that_saw(breather_home, seed, "teen", 50)
    seed.minutes("parent", "www.youtube.com", NOW - timedelta(minutes=30), 20)
    seed.send()
    read_the_store(runtime)
    parent_before = runtime.sessions.read("parent").stored_total
    assert parent_before == 20
    client = dashboard_of(runtime)
    set_passphrase(client)
    form = {"csrf_token": form_token(client, "/data"), "member": "teen", "confirm": "DELETE", "passphrase": PASSPHRASE}
    assert client.post("/data/delete-member", data=form).status_code == 302
    assert Boundaries(runtime).decide("teen", "www.youtube.com", NOW).kind != "limit_reached"
    assert runtime.sessions.read("parent").stored_total == parent_before  # the parent's count is theirs still
