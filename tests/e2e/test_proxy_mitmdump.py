"""``proxy/addon.py`` also works inside plain ``mitmdump -s``, with the default Breather home."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ADDON = PROJECT_ROOT / "proxy" / "addon.py"
MITMDUMP = Path(sys.executable).with_name("mitmdump")
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


def first_posts_through_mitmdump(
    tmp_path, upstream, test_ca, breather_home, *arguments: str
) -> dict[str, dict[str, Any]]:
    """The first post of two Reddit feeds with one distressing post each, ``/new`` (~150 bytes) and ``/top`` (~4 KB:
    a long calm post after it), fetched through a real ``mitmdump -s proxy/addon.py`` started with ``arguments``."""
    from tests.e2e.conftest import E2E_DIR, UPSTREAM_HOSTS

    post = {"kind": "t3", "data": {"name": "t3_a", "title": DISTRESSING}}
    calm = {"kind": "t3", "data": {"name": "t3_b", "title": "Proving the dough overnight. " * 150}}
    for path, children in (("/new", [post]), ("/top", [post, calm])):
        listing = {"kind": "Listing", "data": {"children": children}}
        upstream.route("oauth.reddit.com", path, json.dumps(listing), "application/json")
    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(RULES)
    confdir = tmp_path / "mitmproxy"
    port = free_port()
    env = {
        **os.environ,
        "BREATHER_TEST_UPSTREAM": upstream.address,
        "BREATHER_TEST_HOSTS": ",".join(UPSTREAM_HOSTS),
    }
    command = [
        str(MITMDUMP),
        "-q",
        "--listen-host",
        "127.0.0.1",
        "-p",
        str(port),
        "--set",
        f"confdir={confdir}",
        "--set",
        f"ssl_verify_upstream_trusted_ca={test_ca.ca_pem}",
        *arguments,
        "-s",
        str(ADDON),
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
                    client.get("https://oauth.reddit.com/new")
                    break
                except httpx.ConnectError:
                    time.sleep(0.2)
            firsts = {path: client.get(f"https://oauth.reddit.com{path}").json() for path in ("/new", "/top")}
        assert (breather_home / "data" / "breather.db").exists()
        return {path: dict(listing["data"]["children"][0]["data"]) for path, listing in firsts.items()}
    finally:
        process.terminate()
        process.wait(20)
        if process.stdout is not None:
            process.stdout.close()


def test_mitmdump_with_the_addon_file_marks_a_feed(tmp_path, upstream, test_ca, breather_home) -> None:
    firsts = first_posts_through_mitmdump(tmp_path, upstream, test_ca, breather_home)
    assert firsts["/new"]["spoiler"] is True and firsts["/top"]["spoiler"] is True


def test_a_breather_option_set_on_mitmdump_s_command_line_takes_effect(
    tmp_path, upstream, test_ca, breather_home
) -> None:
    """A feed bigger than the body size cap passes as it came, and one under it is still marked: the option is read
    as a number (a cap read as text would break every feed, and the big feed's post would come out unmarked all
    the same)."""
    firsts = first_posts_through_mitmdump(
        tmp_path, upstream, test_ca, breather_home, "--set", "breather_body_size_cap=1000"
    )
    assert firsts["/new"]["spoiler"] is True, "a feed under the cap is marked"
    assert firsts["/top"]["title"] == DISTRESSING
    assert "spoiler" not in firsts["/top"], "a feed over the cap passes as it came"


def test_a_bad_breather_option_stops_mitmdump_naming_it(tmp_path, breather_home) -> None:
    """mitmproxy cannot convert "4MB" for an int option of a script: Breather's options are strings, or mitmdump
    would run on every interface without Breather, saying nothing."""
    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(RULES)
    command = [str(MITMDUMP), "-p", str(free_port()), "--set", f"confdir={tmp_path / 'mitmproxy'}"]
    result = subprocess.run(
        [*command, "--set", "breather_body_size_cap=4MB", "-s", str(ADDON)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "breather_body_size_cap: expected a whole number (0 or more), got '4MB'" in result.stdout + result.stderr


def test_mitmdump_lists_breather_s_options_with_their_help_and_the_environment_s_values(
    tmp_path, breather_home
) -> None:
    from breather.settings import setting

    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(RULES)
    result = subprocess.run(
        [str(MITMDUMP), "--set", f"confdir={tmp_path / 'mitmproxy'}", "-s", str(ADDON), "--options"],
        env={**os.environ, "BREATHER_CLASSIFY_BUDGET_MS": "99"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    listed = " ".join(result.stdout.split())  # mitmproxy wraps the help text
    assert "breather_classify_budget_ms: '99'" in listed
    assert "breather_log_level: INFO" in listed
    assert setting("body_size_cap").help in listed
    assert "breather_web_port" not in listed
