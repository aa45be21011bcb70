"""``proxy/addon.py`` also works inside plain ``mitmdump -s``, with the default Breather home."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "oauth.reddit.com"]

[profiles.me]
default = true
"""
DISTRESSING = "I want to kill myself tonight, I cannot go on"


def test_mitmdump_with_the_addon_file_marks_a_feed(tmp_path, upstream, test_ca, breather_home) -> None:
    from tests.e2e.conftest import E2E_DIR, UPSTREAM_HOSTS, free_port

    post = {"kind": "t3", "data": {"name": "t3_a", "title": DISTRESSING}}
    listing = {"kind": "Listing", "data": {"children": [post]}}
    upstream.route("oauth.reddit.com", "/new", json.dumps(listing), "application/json")
    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(RULES)
    confdir = tmp_path / "mitmproxy"
    port = free_port()
    mitmdump = Path(sys.executable).with_name("mitmdump")
    env = {
        **os.environ,
        "BREATHER_TEST_UPSTREAM": upstream.address,
        "BREATHER_TEST_HOSTS": ",".join(UPSTREAM_HOSTS),
    }
    command = [
        str(mitmdump),
        "-q",
        "--listen-host",
        "127.0.0.1",
        "-p",
        str(port),
        "--set",
        f"confdir={confdir}",
        "--set",
        f"ssl_verify_upstream_trusted_ca={test_ca.ca_pem}",
        "-s",
        str(PROJECT_ROOT / "proxy" / "addon.py"),
        "-s",
        str(E2E_DIR / "upstream_map.py"),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        ca = confdir / "mitmproxy-ca-cert.pem"
        deadline = time.monotonic() + 30
        while not ca.exists():
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "mitmdump did not start"
            time.sleep(0.2)
        verify = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=verify, timeout=20) as client:
            for _ in range(50):
                try:
                    response = client.get("https://oauth.reddit.com/new")
                    break
                except httpx.ConnectError:
                    time.sleep(0.2)
        assert response.json()["data"]["children"][0]["data"]["spoiler"] is True
        assert (breather_home / "data" / "breather.db").exists()
    finally:
        process.terminate()
        process.wait(20)
        if process.stdout is not None:
            process.stdout.close()
