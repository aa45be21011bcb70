"""Each attack gets a clear 4xx and changes nothing: a foreign Host, a missing or stale token, a cross-site form
post, a wrong passphrase (rate-limited), malformed JSON."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.dashboard.security import AttemptLimiter, host_allowed, split_host
from tests.dashboard.conftest import PASSPHRASE, form_token, pair, set_passphrase


def goal_count(app: Flask) -> int:
    from breather.store.db import open_database

    db = open_database(app.config["DATABASE"])
    try:
        return int(db.execute("select count(*) from weekly_goals").fetchone()[0])
    finally:
        db.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io", "localhost.evil.example"])
def test_a_foreign_host_is_refused_on_every_kind_of_route(client: FlaskClient, host: str) -> None:
    for path in ("/", "/api/v1/openapi.json", "/healthz", "/setup"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, path
    api = client.get("/api/v1/status", headers={"Host": host})
    assert api.get_json()["error"] == "BadHost"


def test_loopback_names_are_allowed(client: FlaskClient) -> None:
    for host in ("127.0.0.1", "localhost", "[::1]", "127.0.0.1:8765"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host


def test_the_port_must_match_when_the_service_knows_it() -> None:
    names = frozenset({"127.0.0.1", "localhost"})
    assert host_allowed("127.0.0.1:8765", names, 8765)
    assert not host_allowed("127.0.0.1:9999", names, 8765)
    assert not host_allowed("127.0.0.1", names, 8765)
    assert split_host("[::1]:80") == ("[::1]", 80)
    with pytest.raises(ValueError, match="malformed port"):
        split_host("localhost:80x")


def test_lan_mode_adds_the_listen_address(breather_home: object) -> None:
    from breather.dashboard.app import _allowed_host_names

    assert "192.168.1.5" in _allowed_host_names({"listen_host": "192.168.1.5"})
    assert "192.168.1.5" not in _allowed_host_names({"listen_host": "127.0.0.1"})


def test_a_form_post_without_the_csrf_token_is_refused_and_saves_nothing(client: FlaskClient, app: Flask) -> None:
    client.get("/review")
    response = client.post("/review/goal", data={"week": "2026-W11", "goal": "phones off at dinner"})
    assert response.status_code == 400
    assert "expired or did not come from the dashboard" in response.get_data(as_text=True)
    assert goal_count(app) == 0


def test_a_cross_site_form_post_is_refused_even_with_a_token(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    token = form_token(client, "/review")
    response = client.post(
        "/review/goal",
        data={"csrf_token": token, "week": "2026-W11", "goal": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert goal_count(app) == 0
    same_site = client.post(
        "/review/goal",
        data={"csrf_token": token, "week": "2026-W11", "goal": "phones off at dinner", "passphrase": PASSPHRASE},
        headers={"Origin": "http://localhost"},
    )
    assert same_site.status_code == 302
    assert goal_count(app) == 1


def test_the_session_cookie_is_strict_and_http_only(client: FlaskClient) -> None:
    response = client.get("/review")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_api_without_a_token_or_with_a_revoked_one_is_401(client: FlaskClient, app: Flask) -> None:
    assert client.get("/api/v1/status").status_code == 401
    assert client.get("/api/v1/status", headers={"Authorization": "Bearer nope"}).get_json() == {
        "error": "Unauthorized",
        "message": "this token is unknown or was revoked; pair the extension again",
    }
    token = pair(client)
    assert client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    from breather.dashboard.security import revoke_token
    from breather.store.db import open_database

    db = open_database(app.config["DATABASE"])
    with db.conn:
        revoke_token(db, token)
    db.close()
    stale = client.post("/api/v1/events", json={"kind": "break_taken"}, headers={"Authorization": f"Bearer {token}"})
    assert stale.status_code == 401
    assert stored(app, "events") == 0


def stored(app: Flask, table: str) -> int:
    app.extensions["breather.writer"].flush()
    from breather.store.db import open_database

    db = open_database(app.config["DATABASE"])
    try:
        return int(db.execute(f"select count(*) from {table}").fetchone()[0])
    finally:
        db.close()


def test_a_foreign_host_cannot_write_even_with_a_valid_token(client: FlaskClient, app: Flask) -> None:
    token = pair(client)
    answer = client.post(
        "/api/v1/events",
        json={"kind": "break_taken"},
        headers={"Authorization": f"Bearer {token}", "Host": "rebound.evil.example:8765"},
    )
    assert answer.status_code == 400
    assert stored(app, "events") == 0


def test_malformed_json_gets_a_located_400(client: FlaskClient, app: Flask) -> None:
    token = pair(client)
    response = client.post(
        "/api/v1/heartbeat",
        data='{"site": "reddit.com",,}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "MalformedJson"
    assert body["message"].startswith("line 1 column 23")
    assert stored(app, "activity") == 0 and stored(app, "events") == 0


def test_wrong_passphrase_changes_nothing_and_attempts_are_limited(client: FlaskClient, app: Flask) -> None:
    set_passphrase(client)
    rules_file = app.config["PATHS"].rules_file
    before = rules_file.read_text()
    token = form_token(client, "/data")
    for _ in range(5):
        wrong = client.post(
            "/data/retention", data={"csrf_token": token, "retention_days": "30", "passphrase": "guess"}
        )
        assert wrong.status_code == 403
        assert "not the household passphrase" in wrong.get_data(as_text=True)
    limited = client.post(
        "/data/retention", data={"csrf_token": token, "retention_days": "30", "passphrase": PASSPHRASE}
    )
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert rules_file.read_text() == before


def test_changing_the_passphrase_needs_the_old_one(client: FlaskClient) -> None:
    set_passphrase(client)
    token = form_token(client)
    response = client.post(
        "/setup/passphrase",
        data={"csrf_token": token, "new_passphrase": "another long one", "confirm_passphrase": "another long one"},
    )
    assert response.status_code == 403


def test_the_limiter_forgets_failures_after_its_window() -> None:
    moment = [0.0]
    limiter = AttemptLimiter(2, 60.0, clock=lambda: moment[0])
    assert limiter.take() == 0.0 and limiter.take() == 0.0
    assert limiter.take() == pytest.approx(60.0)  # refused, and not counted
    moment[0] = 61.0
    assert limiter.take() == 0.0


def test_cors_is_answered_only_for_a_paired_extension_origin(client: FlaskClient) -> None:
    origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
    answer = client.post("/api/v1/pair", json={"code": "XXXX-2222"}, headers={"Origin": origin})
    assert answer.headers.get("Access-Control-Allow-Origin") == origin
    status = client.options("/api/v1/status", headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in status.headers
    for foreign in ("https://evil.example", "http://localhost:3000"):
        assert "Access-Control-Allow-Origin" not in client.options("/api/v1/pair", headers={"Origin": foreign}).headers


def test_a_paired_extension_gets_its_answers_until_it_is_unpaired(client: FlaskClient) -> None:
    """The extension reads every answer from its own origin: without the CORS header its status, config and
    heartbeats are unreadable to it, and after unpairing on Setup they must be again."""
    from tests.dashboard.conftest import csrf_from, pair

    origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
    token = pair(client, "teen", origin=origin)
    headers = {"Origin": origin, "Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/status", headers=headers).headers.get("Access-Control-Allow-Origin") == origin
    other = {"Origin": "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba", "Authorization": f"Bearer {token}"}
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/status", headers=other).headers
    page = client.get("/setup").get_data(as_text=True)
    digest = page.split('id="paired"')[1].split('name="token_hash" value="')[1].split('"')[0]
    assert client.post("/setup/revoke", data={"csrf_token": csrf_from(page), "token_hash": digest}).status_code == 302
    assert "Access-Control-Allow-Origin" not in client.options("/api/v1/status", headers={"Origin": origin}).headers


def test_pages_send_a_strict_content_security_policy(client: FlaskClient) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_with_a_service_the_port_it_bound_is_required(breather_home: object) -> None:
    from breather.dashboard.app import create_app
    from breather.paths import Paths
    from breather.runtime import Runtime

    runtime = Runtime(
        paths=Paths.resolve(str(breather_home)).ensure(), settings={"listen_host": "127.0.0.1"}, rules=None
    )
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    runtime.web_port = 48765  # bound after the app was built, as breather serve does
    assert client.get("/healthz", headers={"Host": "127.0.0.1:48765"}).status_code in (200, 503)
    assert client.get("/healthz", headers={"Host": "127.0.0.1:9999"}).status_code == 400


def test_wrong_passphrases_sent_at_once_are_checked_no_more_than_the_limit(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every guess starts together and each check is held until all the others are being checked or refused, the
    widest window a race can open: counted only after their check, 8 guesses were all checked against a limit of 5."""
    from breather.dashboard import security

    set_passphrase(client)
    form = {"csrf_token": form_token(client, "/data"), "retention_days": "30", "passphrase": "a guess"}
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    session_cookie = client.get_cookie(cookie_name)
    assert session_cookie is not None
    guesses = app.config["PASSPHRASE_ATTEMPTS"] + 3
    start = threading.Barrier(guesses)
    settled = threading.Condition()
    checking, refused = [0], [0]
    real_verify = security.verify_passphrase

    def verify_once_all_have_settled(given: str, stored: str) -> bool:
        with settled:
            checking[0] += 1
            settled.notify_all()
            settled.wait_for(lambda: checking[0] + refused[0] == guesses, timeout=10)
        return real_verify(given, stored)

    def guess(_: int) -> int:
        own = app.test_client()
        own.set_cookie(cookie_name, session_cookie.value)
        start.wait(timeout=10)
        status = own.post("/data/retention", data=form).status_code
        if status == 429:
            with settled:
                refused[0] += 1
                settled.notify_all()
        return status

    monkeypatch.setattr(security, "verify_passphrase", verify_once_all_have_settled)
    with ThreadPoolExecutor(guesses) as pool:
        answers = list(pool.map(guess, range(guesses)))
    assert answers.count(403) == app.config["PASSPHRASE_ATTEMPTS"]
    assert answers.count(429) == guesses - app.config["PASSPHRASE_ATTEMPTS"]


def test_a_passphrase_limiter_slot_given_back_is_not_counted() -> None:
    limiter = AttemptLimiter(1, 60.0, clock=lambda: 0.0)
    assert limiter.take() == 0.0
    assert limiter.take() == pytest.approx(60.0)  # the slot is taken while its attempt is checked
    limiter.give_back()
    assert limiter.take() == 0.0
