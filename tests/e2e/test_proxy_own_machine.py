"""A member signed in from another device cannot reach the Breather machine itself through the proxy (a privacy user
test read the dashboard's raw rules, with every member's password hash, via ``http://127.0.0.1:<web-port>/rules``).

The "other device" is this machine's own network address: a client connecting to the proxy there reaches it from
that address, not from loopback, exactly as a phone on the household network would.
"""

from __future__ import annotations

import base64
import socket
import ssl

import httpx
import pytest

from tests.e2e.conftest import Service, lan_address

pytestmark = pytest.mark.e2e

RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "oauth.reddit.com", "breather.localhost"]

[profiles.me]
default = true

[profiles.teen]
user = "teen"
password = "teenpass123"
"""
TEEN = ("teen", "teenpass123")
REFUSAL = "Breather: the proxy does not carry requests from other devices to the computer it runs on."


def through(service: Service, proxy_host: str) -> httpx.Client:
    """A client signed in as the teen, reaching the proxy at ``proxy_host``; it trusts the Breather CA."""
    proxy = f"http://{TEEN[0]}:{TEEN[1]}@{proxy_host}:{service.proxy_port}"
    return httpx.Client(proxy=proxy, verify=ssl.create_default_context(cafile=str(service.ca)), timeout=20)


def connect_status(service: Service, proxy_host: str, target: str) -> str:
    """The status line a signed-in CONNECT to ``target`` gets from the proxy at ``proxy_host``."""
    credentials = base64.b64encode(":".join(TEEN).encode()).decode()
    with socket.create_connection((proxy_host, service.proxy_port), timeout=10) as raw:
        request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nProxy-Authorization: Basic {credentials}\r\n\r\n"
        raw.sendall(request.encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = raw.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n")[0].decode()


def test_another_device_cannot_reach_this_machine_through_the_proxy(serve, upstream) -> None:
    upstream.route("oauth.reddit.com", "/new", '{"kind": "Listing", "data": {"children": []}}', "application/json")
    service = serve(RULES, extra_args=("--listen-host", "0.0.0.0"))
    assert service.health()["proxy"]["own_machine_refused"] == 0
    lan = lan_address()
    web = service.web_port
    # 2130706433 is 127.0.0.1 written as one number: a name only a resolver turns into loopback.
    asked = [f"http://127.0.0.1:{web}/rules", f"http://localhost:{web}/rules", f"http://{lan}:{web}/healthz"]
    asked.append(f"http://2130706433:{web}/data")
    with through(service, lan) as other_device:
        for url in asked:
            answer = other_device.get(url)
            assert answer.status_code == 403, (url, answer.status_code, answer.text[:300])
            assert answer.text.startswith(REFUSAL) and "scrypt" not in answer.text
    # A device that has not signed in is asked to first: it learns nothing about what this machine serves.
    with httpx.Client(proxy=f"http://{lan}:{service.proxy_port}", timeout=20) as stranger:
        assert stranger.get(f"http://127.0.0.1:{web}/rules").status_code == 407
    # A tunnel to the dashboard (a host not in the rules) and one to an intercepted name that means this machine.
    assert connect_status(service, lan, f"127.0.0.1:{web}") == "HTTP/1.1 403 Forbidden"
    assert connect_status(service, lan, f"breather.localhost:{web}") == "HTTP/1.1 403 Forbidden"
    assert service.health()["proxy"]["own_machine_refused"] == len(asked) + 2

    log = service.log()
    assert f"refused a request from {lan} to this machine" in log
    assert "/rules" not in log and "/data" not in log and "2130706433" not in log

    # The person at the machine is unaffected: the dashboard through the proxy, and a social site.
    with through(service, "127.0.0.1") as here:
        assert here.get(f"http://127.0.0.1:{web}/healthz").json()["status"] == "ok"
        assert here.get("https://oauth.reddit.com/new").status_code == 200
    assert connect_status(service, "127.0.0.1", f"127.0.0.1:{web}") == "HTTP/1.1 200 Connection established"
    assert service.health()["proxy"]["own_machine_refused"] == len(asked) + 2
