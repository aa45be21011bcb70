"""A member removed from the rules must not go on browsing on a connection that signed in before (a review found the
kid's open connection carrying on as the household's default member, the parent, with no limit). A real
`breather serve`, a real rules edit through the watcher and its cooling-off, and a client whose connection stays open.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx

RULES = """\
[household]
timezone = "UTC"
cooling_off = "5s"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com"]

[profiles.parent]
default = true
user = "parent"
password = "parentpass1"

[profiles.kid]
user = "kid"
password = "kidpass1234"
daily_limit = "0m"
"""
FEED = '{"kind": "Listing", "data": {"children": []}}'
URL = "https://old.reddit.com/r/aww/.json"


def _client(service: Any) -> httpx.Client:
    return httpx.Client(
        proxy=f"http://kid:kidpass1234@127.0.0.1:{service.proxy_port}",
        verify=ssl.create_default_context(cafile=str(service.ca)),
        timeout=20,
    )


def _wait_in_log(service: Any, needle: str, keep_alive: Callable[[], object], timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while needle not in service.log():
        assert time.monotonic() < deadline, f"no {needle!r} in the log:\n{service.log()[-2000:]}"
        keep_alive()  # an open tab keeps using its connection
        time.sleep(0.5)


def test_a_removed_member_s_open_connection_must_sign_in_again(serve, upstream) -> None:
    upstream.route("old.reddit.com", "/r/aww/.json", FEED, "application/json")
    service = serve(RULES)
    with _client(service) as kid:
        first = kid.get(URL)
        assert first.status_code == 403 and first.headers.get("x-breather") == "limit_reached"

        text = service.paths.rules_file.read_text()
        service.paths.rules_file.write_text(text[: text.index("[profiles.kid]")])
        _wait_in_log(service, "is in force now", keep_alive=lambda: kid.get(URL))

        again = kid.get(URL)  # the same connection, signed in before the edit
        assert again.status_code == 407, f"{again.status_code} {again.text[:80]!r}"
        assert "must sign in again" in service.log()
