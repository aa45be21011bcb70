"""A real ``breather serve`` process: it comes up, reports health, intercepts only the rules' sites, stops cleanly."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.e2e

RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "old.reddit.com", "www.reddit.com", "oauth.reddit.com"]

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
"""

DISTRESSING = "I want to kill myself tonight, I cannot go on"


def reddit_listing_with(shared_fixtures, sentence: str) -> bytes:
    """The real r/all/new listing with one post's title swapped for ``sentence`` (in memory, never saved)."""
    listing = json.loads((shared_fixtures / "feeds" / "reddit" / "r_all_new.json").read_bytes())
    listing["data"]["children"][3]["data"]["title"] = sentence
    return json.dumps(listing).encode()


def without_spoiler(post: dict) -> dict:
    """A post as the reader sees it apart from the warning: the flag and the title's prefix (other real posts may
    rightly be flagged too)."""
    kept = {key: value for key, value in post.items() if key != "spoiler"}
    if isinstance(kept.get("title"), str):
        kept["title"] = re.sub(r"^⚠ Breather: [^—]+ — ", "", kept["title"])
    return kept


def test_serve_reports_health_writes_its_ports_and_stops_cleanly_on_sigterm(serve) -> None:
    service = serve(RULES)
    info = json.loads(service.paths.service_file.read_text())
    assert (info["proxy_port"], info["web_port"]) == (service.proxy_port, service.web_port)
    health = service.health()
    assert health["status"] == "ok"
    assert {"flows_seen", "rewritten", "passed_after_error"} <= set(health["proxy"])
    assert health["rules"]["domains"] == 5
    assert service.ca.exists()

    assert service.stop() == 0
    assert not service.paths.service_file.exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{service.web_url}/healthz", timeout=2)


def test_a_feed_through_the_proxy_comes_back_with_the_warning_field_set(serve, upstream, shared_fixtures) -> None:
    upstream.route(
        "oauth.reddit.com", "/r/all/new", reddit_listing_with(shared_fixtures, DISTRESSING), "application/json"
    )
    original = [
        child["data"] for child in json.loads(reddit_listing_with(shared_fixtures, DISTRESSING))["data"]["children"]
    ]
    service = serve(RULES)
    with service.client() as client:
        for encoding in ("", "gzip", "br"):
            response = client.get(f"https://oauth.reddit.com/r/all/new?enc={encoding}")
            assert response.status_code == 200
            assert "content-encoding" not in response.headers
            assert "alt-svc" not in response.headers
            posts = [child["data"] for child in response.json()["data"]["children"]]
            assert posts[3]["title"] == f"⚠ Breather: self-harm — {DISTRESSING}" and posts[3]["spoiler"] is True
            assert [without_spoiler(p) for i, p in enumerate(posts) if i != 3] == [
                without_spoiler(p) for i, p in enumerate(original) if i != 3
            ]
    assert service.health()["proxy"]["rewritten"] >= 3


def test_a_site_not_in_the_rules_is_tunnelled_with_its_own_certificate(serve, upstream, test_ca) -> None:
    from tests.e2e.conftest import TEST_CA_NAME, issuer_seen_through_proxy

    upstream.route("bank.example", "/", "<html><body>your bank</body></html>")
    upstream.route("old.reddit.com", "/", "<html><body>reddit</body></html>")
    service = serve(RULES)
    assert issuer_seen_through_proxy(service.proxy_port, "bank.example") == TEST_CA_NAME
    assert issuer_seen_through_proxy(service.proxy_port, "old.reddit.com") != TEST_CA_NAME

    own_ca = ssl.create_default_context(cafile=str(test_ca.ca_pem))
    with httpx.Client(proxy=service.proxy_url, verify=own_ca, timeout=20) as own_ca_only:
        assert own_ca_only.get("https://bank.example/").text == "<html><body>your bank</body></html>"
        with pytest.raises(httpx.ConnectError):
            own_ca_only.get("https://old.reddit.com/")


def test_the_local_api_is_answered_by_the_proxy_and_never_reaches_the_site(serve, upstream) -> None:
    service = serve(RULES)
    with service.client() as client:
        response = client.post(
            "https://old.reddit.com/__breather__/heartbeat",
            json={"visible": True, "active": True},
            headers={"X-Breather": "1"},
        )
    assert response.status_code == 200 and response.json()["counted"] is True
    assert not any(path.startswith("/__breather__") for _, path in upstream.requests)


def test_a_rules_edit_takes_effect_without_a_restart(serve, upstream) -> None:
    from tests.e2e.conftest import TEST_CA_NAME, issuer_seen_through_proxy

    upstream.route("example.org", "/", "<html><body>example</body></html>")
    service = serve(RULES)
    assert issuer_seen_through_proxy(service.proxy_port, "example.org") == TEST_CA_NAME
    service.paths.rules_file.write_text(RULES + '\n[sites.example]\nadapter = "generic"\ndomains = ["example.org"]\n')
    deadline = time.monotonic() + 15
    while issuer_seen_through_proxy(service.proxy_port, "example.org") == TEST_CA_NAME:
        assert time.monotonic() < deadline, "the new site was not intercepted after the rules changed"
        time.sleep(0.5)
    assert service.health()["rules"]["domains"] == 6


def test_breather_ca_prints_the_certificate_path_and_how_to_trust_it(tmp_path) -> None:
    home = tmp_path / "home"
    result = subprocess.run(
        [sys.executable, "-m", "breather", "ca", "--home", str(home)], capture_output=True, text=True, check=True
    )
    cert = home / "data" / "mitmproxy" / "mitmproxy-ca-cert.pem"
    assert cert.exists()
    for needle in (str(cert), "update-ca-certificates", "security add-trusted-cert", "Import-Certificate", "Firefox"):
        assert needle in result.stdout
    path_only = subprocess.run(
        [sys.executable, "-m", "breather", "ca", "--home", str(home), "--path"], capture_output=True, text=True
    )
    assert path_only.stdout.strip() == str(cert)


def test_another_device_gets_the_certificate_through_the_proxy_itself(serve) -> None:
    """The dashboard listens on this machine only, so a phone cannot download the certificate from Setup: with its
    proxy set to Breather it opens http://mitm.it (mitmproxy's own page, answered by the proxy) and gets Breather's
    certificate, the one this service signs with."""
    service = serve(RULES)
    with httpx.Client(proxy=service.proxy_url, timeout=20) as client:
        page = client.get("http://mitm.it/")
        pem = client.get("http://mitm.it/cert/pem")
    assert page.status_code == 200 and "mitmproxy" in page.text
    assert pem.status_code == 200 and pem.content.strip() == service.ca.read_bytes().strip()


@pytest.mark.parametrize(
    ("listen", "named"),
    [
        (["--listen-host", "0.0.0.0"], "0.0.0.0"),
        (["--proxy-port", "0", "--set", "listen_host=0.0.0.0"], "0.0.0.0"),
        (["--proxy-port", "0", "--set", "listen_host="], "every interface"),
    ],
)
def test_listening_on_the_network_without_member_credentials_refuses_to_start(
    tmp_path, listen: list[str], named: str
) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "rules.toml").write_text(RULES)
    result = subprocess.run(
        [sys.executable, "-m", "breather", "serve", "--home", str(home), "--web-port", "0", *listen],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"refusing to listen on {named}" in result.stderr
    assert "user" in result.stderr and "password" in result.stderr
    assert not (home / "state" / "service.json").exists()


def test_sigint_stops_the_service_cleanly_too(serve) -> None:
    import signal

    service = serve(RULES)
    service.process.send_signal(signal.SIGINT)
    assert service.process.wait(20) == 0
    assert not service.paths.service_file.exists()


def test_a_stop_with_clients_still_connected_is_not_logged_as_errors(serve) -> None:
    """A soak test: every client connection open at a stop was logged as an ERROR with a traceback (54 KB at once)."""
    import socket

    service = serve(RULES)
    open_connections = [socket.create_connection(("127.0.0.1", service.proxy_port)) for _ in range(4)]
    open_connections[0].sendall(b"GET http://example.org/ HTTP/1.1\r\nHost: example.org\r\n")  # half a request
    time.sleep(0.5)
    try:
        assert service.stop() == 0
    finally:
        for connection in open_connections:
            connection.close()
    assert " ERROR " not in service.log()
