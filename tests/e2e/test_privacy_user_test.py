"""A privacy user test's findings, on a real ``breather serve``: what reaches its log and its files.

* a password typed into the proxy sign-in's user-name field was written to the service log;
* the copy of the rules the service keeps (members' password hashes, their own topics) was readable by everyone;
* text a script on the social site's page sent to ``/__breather__/…`` was stored, and quoted in the log.
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import stat
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from breather.rules.passwords import hash_password

pytestmark = pytest.mark.e2e

RULES = f"""\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "old.reddit.com"]

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
user = "me"
password = "{hash_password("my-own-password")}"
keywords = ["my pregnancy"]
"""


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The service started as most desktops start programs: new files readable by everyone unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_what_the_service_logs_and_keeps_holds_no_password_and_no_page_text(serve, upstream, usual_umask) -> None:
    upstream.route("news.ycombinator.com", "/", "<html><body>hn</body></html>")
    service = serve(RULES)

    typed = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", service.proxy_url, "--proxy-user",
         "parentpass1:me", "http://news.ycombinator.com/"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert typed.stdout == "407"

    signed_in = f"http://me:my-own-password@127.0.0.1:{service.proxy_port}"
    trusted = ssl.create_default_context(cafile=str(service.ca))
    with httpx.Client(proxy=signed_in, verify=trusted, timeout=20) as client:
        headers = {"X-Breather": "1"}
        reveal = client.post(
            "https://old.reddit.com/__breather__/reveal", json={"category": "i am pregnant"}, headers=headers
        )
        shown = client.post(
            "https://old.reddit.com/__breather__/break-shown", json={"reason": "secret diary entry"}, headers=headers
        )
        kept = client.post("https://old.reddit.com/__breather__/reveal", json={"category": "custom"}, headers=headers)
    assert (reveal.status_code, shown.status_code, kept.status_code) == (400, 400, 200)
    assert '"category"' in reveal.json()["message"] and '"reason"' in shown.json()["message"]

    assert service.stop() == 0
    log = service.log()
    assert "proxy sign-in refused for a name that is no member's" in log
    for secret in ("parentpass1", "pregnant", "diary"):
        assert secret not in log, secret
    with sqlite3.connect(service.paths.database) as db:
        stored = db.execute("select kind, category, detail from events").fetchall()
    assert stored == [("warning_revealed", "custom", None)]

    copy = service.paths.last_good_rules
    assert "my pregnancy" in copy.read_text()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
