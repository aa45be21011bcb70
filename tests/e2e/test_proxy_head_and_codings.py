"""Through a real ``breather serve`` (real TLS both ways): what a review found clients and Chromium getting wrong.

* A HEAD answered by Breather itself (the quiet-hours page, the refusal) had the page's body written after its
  headers: on a kept-alive HTTP/1.1 connection the client read ``<!doctype html>`` as the next response's status
  line. Checked with h11, which parses the connection as any strict client does.
* A HEAD of a page Breather edits had the site's ETag and Content-Length, which the edited GET does not.
* Pages Chromium shows, and Breather passed unread: ``Content-Encoding: x-gzip``, stacked codings (``gzip, br``,
  ``gzip, gzip``) and a page without a Content-Type. A JSON feed starting with a byte order mark went out unmarked.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import http.server
import json
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import brotli
import h11
import pytest

from tests.e2e import conftest as e2e
from tests.e2e.conftest import Service, Upstream
from tests.e2e.test_proxy_chromium import DISTRESSING, front_page_with

pytestmark = pytest.mark.e2e

HN = "news.ycombinator.com"
DOCUMENT = [("Sec-Fetch-Dest", "document"), ("Accept", "text/html")]
FETCH = [("Sec-Fetch-Dest", "empty"), ("Accept", "application/json")]


def rules(extra: str = "") -> str:
    return f"""\
[household]
timezone = "UTC"

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "oauth.reddit.com"]

[profiles.me]
default = true
{extra}
"""


def quiet_now() -> str:
    now = datetime.now(UTC)
    return f'quiet_hours = {{ daily = "{now - timedelta(hours=1):%H:00}-{now + timedelta(hours=2):%H:00}" }}'


class HeadersOnly:
    """A HEAD's answer as a server writes it: ``http.server`` writes the status line and headers in one write, and
    this drops the body written after them."""

    def __init__(self, wfile: Any) -> None:
        self.wfile = wfile
        self.head_written = False

    def write(self, data: bytes) -> int:
        if not self.head_written:
            self.head_written = True
            return int(self.wfile.write(data))
        return len(data)

    def flush(self) -> None:
        self.wfile.flush()


class SiteUpstream(Upstream):
    """The e2e upstream, also answering HEAD, and sending no Content-Type for a route whose content type is ``""``."""

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        base: Any = super()._handler_class()
        upstream = self

        class Handler(base):
            def do_HEAD(self) -> None:
                self.wfile, written = HeadersOnly(self.wfile), self.wfile
                try:
                    upstream._answer(self)
                finally:
                    self.wfile = written

            def send_header(self, keyword: str, value: str) -> None:
                if keyword.lower() != "content-type" or value:
                    super().send_header(keyword, value)

        return Handler


@pytest.fixture
def upstream(test_ca: e2e.TestCA) -> Iterator[Upstream]:
    server = SiteUpstream(test_ca).start()
    yield server
    server.stop()


class Tunnel:
    """One kept-alive TLS connection through the proxy's CONNECT, parsed by h11 as a strict client parses it."""

    def __init__(self, service: Service, host: str) -> None:
        raw = socket.create_connection(("127.0.0.1", service.proxy_port), timeout=20)
        raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = raw.recv(4096)
            assert chunk, "the proxy closed the CONNECT"
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply
        context = ssl.create_default_context(cafile=str(service.ca))
        context.set_alpn_protocols(["http/1.1"])
        self.sock = context.wrap_socket(raw, server_hostname=host)
        self.host = host
        self.conn = h11.Connection(h11.CLIENT)

    def request(self, method: str, target: str, headers: list[tuple[str, str]]) -> tuple[h11.Response, bytes]:
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        request = h11.Request(method=method, target=target, headers=[("Host", self.host), *headers])
        self.sock.sendall(self.conn.send(request) + self.conn.send(h11.EndOfMessage()))
        response, body = None, b""
        while True:
            event = self.conn.next_event()  # h11.RemoteProtocolError: what the review's clients failed with
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                return response, body

    def stray_bytes(self, wait_s: float = 1.0) -> bytes:
        """Whatever the proxy sent beyond the last complete response: nothing, on a healthy connection."""
        self.sock.settimeout(wait_s)
        extra = self.conn.trailing_data[0]
        with contextlib.suppress(TimeoutError, ssl.SSLError, OSError):
            extra += self.sock.recv(65536)
        return extra

    def close(self) -> None:
        self.sock.close()


def header(response: h11.Response, name: str) -> str | None:
    found = [value.decode() for key, value in response.headers if key == name.encode()]
    return found[0] if found else None


@pytest.mark.parametrize("headers", [DOCUMENT, FETCH, []], ids=["tab", "script", "no-sec-fetch-dest"])
def test_a_head_in_quiet_hours_leaves_the_connection_usable(serve, upstream, headers) -> None:
    upstream.route(HN, "/item", "<p>hi</p>")
    service = serve(rules(quiet_now()))
    tunnel = Tunnel(service, HN)
    try:
        head, body = tunnel.request("HEAD", "/item", headers)
        assert head.status_code in (200, 403) and header(head, "x-breather") == "quiet_hours"
        assert body == b""
        stray = tunnel.stray_bytes()
        assert stray == b"", f"{len(stray)} bytes of a body after the HEAD's answer: {stray[:40]!r}"
        get, page = tunnel.request("GET", "/item", headers)  # the same connection, for the next request
        assert get.status_code == head.status_code and header(head, "content-length") == str(len(page))
    finally:
        tunnel.close()
    assert service.health()["proxy"]["pages_served"] == (1 if headers == DOCUMENT else 0), (
        "only the GET is a page served"
    )


def test_a_head_of_a_page_breather_edits_claims_no_etag_or_length_of_the_site_s_page(
    serve, upstream, shared_fixtures
) -> None:
    """The GET's body is another one than the site's (overlay, a warning): no validator of the site's, and a
    length only the GET can know. (The reviewer's test wanted the GET's Content-Length on the HEAD too: that length
    is known only once the body is read and marked, so the HEAD sends none.)"""
    page = front_page_with(shared_fixtures, DISTRESSING)
    upstream.route(HN, "/", page, headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})
    service = serve(rules())
    tunnel = Tunnel(service, HN)
    try:
        get, body = tunnel.request("GET", "/", DOCUMENT)
        head, _ = tunnel.request("HEAD", "/", DOCUMENT)
    finally:
        tunnel.close()
    assert b"breather-overlay" in body and header(get, "etag") is None
    assert (header(head, "etag"), header(head, "last-modified")) == (None, None)
    assert header(head, "content-length") in (None, str(len(body))), "the HEAD claims the site's page's length"
    assert header(head, "content-type") == header(get, "content-type")


CODINGS: dict[str, Callable[[bytes], bytes]] = {
    "x-gzip": gzip.compress,
    "gzip, br": lambda page: brotli.compress(gzip.compress(page)),
    "gzip, gzip": lambda page: gzip.compress(gzip.compress(page)),
}


def test_chromium_shows_pages_in_any_coding_it_reads_and_without_a_type_with_the_warning_and_overlay(
    serve, upstream, chromium, shared_fixtures: Path
) -> None:
    page = front_page_with(shared_fixtures, DISTRESSING)
    for index, (coding, encode) in enumerate(CODINGS.items()):
        upstream.route(HN, f"/coded{index}", encode(page), headers={"Content-Encoding": coding})
    upstream.route(HN, "/untyped", page, content_type="")
    service = serve(rules())
    tab = chromium(service).new_page()
    seen: dict[str, tuple[Any, ...]] = {}
    for path in [*(f"/coded{index}" for index in range(len(CODINGS))), "/untyped"]:
        tab.goto(f"https://{HN}{path}")
        seen[path] = (
            tab.evaluate("document.contentType"),
            tab.evaluate("document.querySelectorAll('.breather-warning').length"),
            tab.evaluate("!!document.getElementById('breather-overlay')"),
        )
    assert all(kind == "text/html" and warnings >= 1 and overlay for kind, warnings, overlay in seen.values()), seen


def test_a_feed_with_a_byte_order_mark_is_marked(serve, upstream, shared_fixtures: Path) -> None:
    listing = json.loads((shared_fixtures / "feeds" / "reddit" / "r_all_new.json").read_bytes())
    listing["data"]["children"][3]["data"]["title"] = DISTRESSING
    upstream.route("oauth.reddit.com", "/r/all/new", codecs.BOM_UTF8 + json.dumps(listing).encode(), "application/json")
    service = serve(rules())
    with service.client() as client:
        answer = client.get("https://oauth.reddit.com/r/all/new", headers=dict(FETCH))
    assert answer.status_code == 200 and answer.content.startswith(codecs.BOM_UTF8)
    post = json.loads(answer.content.decode("utf-8-sig"))["data"]["children"][3]["data"]
    assert post["spoiler"] is True, "the distressing post went out unmarked"
