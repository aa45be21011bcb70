"""Shared helpers for the end-to-end tier: a real ``breather serve``, a local HTTPS "internet", a real Chromium.

Fixtures (use them from any ``tests/e2e/test_*.py``):

* ``test_ca`` — a throw-away CA and one server certificate for every name in ``UPSTREAM_HOSTS`` (the real social host
  names plus ``bank.example``, a site that is never in the rules). Made with ``cryptography``; nothing is installed.
* ``upstream`` — a threaded HTTPS server on 127.0.0.1 with that certificate. Register what it answers with
  ``upstream.route(host, path, body, content_type, headers=None)``; ``upstream.requests`` lists ``(host, path)``
  it was asked for. ``?enc=gzip`` / ``?enc=br`` on a request compresses the answer. The real platform responses
  from ``../shared/fixtures`` are read in place (``upstream.route_fixture``), never copied.
* ``serve`` — a factory: ``serve(rules_text)`` starts ``breather serve`` as a subprocess on free ports with its own
  home, the rules written first, ``-s upstream_map.py`` sending ``UPSTREAM_HOSTS`` to the upstream and
  ``--set ssl_verify_upstream_trusted_ca=<test CA>`` so mitmproxy verifies the upstream for real. It waits for
  ``/healthz`` and returns a ``Service`` (``proxy_url``, ``web_url``, ``home``, ``paths``, ``ca`` = the Breather CA,
  ``health()``, ``client()`` = an httpx client through the proxy trusting the Breather CA, ``stop()``). Stopped with
  SIGTERM at the end of the test, which must exit 0.
* ``chromium`` — a factory: ``chromium(service)`` gives a Playwright persistent context on ``/usr/bin/chromium``
  (headless, fresh profile, proxied through the service, trusting the Breather CA by its SPKI hash). Closed at the
  end of the test.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import hashlib
import http.server
import ipaddress
import json
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import brotli
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from breather.paths import Paths

E2E_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = E2E_DIR.parents[1]
CHROMIUM = "/usr/bin/chromium"
TEST_CA_NAME = "Breather e2e upstream CA"
UPSTREAM_HOSTS = (
    "old.reddit.com",
    "www.reddit.com",
    "oauth.reddit.com",
    "news.ycombinator.com",
    "mastodon.social",
    "x.com",
    "bank.example",
    "example.org",
)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-bypass-list=<-loopback>",
)


# -- certificates -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestCA:
    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_test_ca(folder: Path, hosts: tuple[str, ...] = UPSTREAM_HOSTS) -> TestCA:
    """A CA and a server certificate for ``hosts``, as PEM files in ``folder``."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(TEST_CA_NAME))
        .issuer_name(_name(TEST_CA_NAME))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    result = TestCA(folder / "upstream-ca.pem", folder / "upstream-cert.pem", folder / "upstream-key.pem")
    result.ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    result.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result.key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return result


def spki_hash(cert_pem: Path) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): what Chromium's ``--ignore-certificate-errors-spki-list`` takes."""
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def issuer_seen_through_proxy(proxy_port: int, host: str, port: int = 443) -> str:
    """CONNECT through the proxy and return the common name of the issuer of the certificate the client gets."""
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as raw:
        raw.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = raw.recv(4096)
            if not chunk:
                raise ConnectionError(f"proxy closed the CONNECT to {host}")
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    return str(cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


# -- the local "internet" -----------------------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    events: tuple[bytes, ...] | None = None  # a live stream: these pieces, then the connection held open
    hold_open_s: float = 0.0


class Upstream:
    """A local HTTPS server answering as the real sites (see the module docstring)."""

    def __init__(self, ca: TestCA) -> None:
        self.ca = ca
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []
        self._compressed: dict[tuple[int, str], bytes] = {}
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.cert_pem, ca.key_pem)
        context.set_alpn_protocols(["http/1.1"])
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="e2e-upstream", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Upstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def route(
        self,
        host: str,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[(host.lower(), path)] = Route(data, content_type, dict(headers or {}), status)

    def stream_route(
        self, host: str, path: str, pieces: list[bytes], hold_open_s: float, content_type: str = "text/event-stream"
    ) -> None:
        """A response that never finishes in time: ``pieces`` are sent (and flushed) at once, then the connection
        stays open for ``hold_open_s`` seconds with no length given, like a server-sent event stream."""
        self.routes[(host.lower(), path)] = Route(b"", content_type, events=tuple(pieces), hold_open_s=hold_open_s)

    def route_fixture(self, host: str, path: str, fixture: Path, content_type: str, **kwargs: Any) -> None:
        self.route(host, path, fixture.read_bytes(), content_type, **kwargs)

    def asked_for(self, host: str, path: str) -> bool:
        with self._lock:
            return (host, path) in self.requests

    def _encoded(self, route: Route, encoding: str | None) -> bytes:
        """Compressed once per route and encoding, as real sites serve pre-compressed pages."""
        if encoding not in ("gzip", "br"):
            return route.body
        key = (id(route), encoding)
        with self._lock:
            cached = self._compressed.get(key)
        if cached is None:
            cached = gzip.compress(route.body) if encoding == "gzip" else brotli.compress(route.body)
            with self._lock:
                self._compressed[key] = cached
        return cached

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; with Nagle on, a small (compressed) body's last segment
            # waited for the client's delayed ACK: ~40 ms per gzip/brotli response, for both proxies in the bench.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                upstream._answer(self)

            def do_POST(self) -> None:
                # Noted before the body is read: a proxy that sent the headers and part of an upload, then cut the
                # connection, still reached the site.
                upstream._arrived(self)
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                upstream._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        return Handler

    def _arrived(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        """Note that a request reached the site."""
        host = (handler.headers.get("host") or "").split(":")[0].lower()
        with self._lock:
            self.requests.append((host, urlsplit(handler.path).path))

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        host = (handler.headers.get("host") or "").split(":")[0].lower()
        parts = urlsplit(handler.path)
        if handler.command != "POST":  # a POST was noted as it arrived, before its body
            self._arrived(handler)
        route = self.routes.get((host, parts.path))
        if route is None:
            route = Route(f"no route for {host}{parts.path}\n".encode(), "text/plain", status=404)
        if route.events is not None:
            self._stream(handler, route)
            return
        headers = dict(route.headers)
        if route.headers.get("ETag") and handler.headers.get("if-none-match") == route.headers["ETag"]:
            self._not_modified(handler, headers)  # as real sites revalidate: the validators and the CSP again
            return
        encoding = dict(item.split("=", 1) for item in parts.query.split("&") if "=" in item).get("enc")
        body = self._encoded(route, encoding)
        if encoding in ("gzip", "br"):
            headers["Content-Encoding"] = encoding
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Alt-Svc", 'h3=":443"; ma=86400')
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _not_modified(handler: http.server.BaseHTTPRequestHandler, headers: dict[str, str]) -> None:
        handler.send_response(304)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()

    def _stream(self, handler: http.server.BaseHTTPRequestHandler, route: Route) -> None:
        handler.close_connection = True
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for piece in route.events or ():
            handler.wfile.write(piece)
            handler.wfile.flush()
        time.sleep(route.hold_open_s)


# -- breather serve -----------------------------------------------------------------------------------------------


def lan_address() -> str:
    """This machine's address on its network (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        address = str(probe.getsockname()[0])
    assert not ipaddress.ip_address(address).is_loopback, "the end-to-end tests need a network address"
    return address


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    home: Path
    paths: Paths
    proxy_port: int
    web_port: int
    log_path: Path

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def ca(self) -> Path:
        """The Breather CA certificate (PEM) this service signs intercepted sites with."""
        return self.paths.ca_certificate

    def health(self) -> dict[str, Any]:
        response = httpx.get(f"{self.web_url}/healthz", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def client(self, **kwargs: Any) -> httpx.Client:
        """httpx through the proxy, trusting the Breather CA (only it: an untouched site fails verification)."""
        kwargs.setdefault("verify", ssl.create_default_context(cafile=str(self.ca)))
        return httpx.Client(proxy=self.proxy_url, timeout=20, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
                raise AssertionError(f"breather serve ignored SIGTERM for {timeout}s:\n{self.log()[-3000:]}") from None
        return int(self.process.returncode)


def start_service(
    home: Path,
    rules: str,
    upstream: Upstream,
    *,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Service:
    """Start ``breather serve`` with ``rules`` on free ports and wait until ``/healthz`` says ok."""
    paths = Paths.resolve(home).ensure()
    paths.rules_file.write_text(rules, encoding="utf-8")
    log_path = home / "serve.log"
    command = [
        sys.executable,
        "-m",
        "breather",
        "serve",
        "--home",
        str(home),
        "--proxy-port",
        "0",
        "--web-port",
        "0",
        "-s",
        str(E2E_DIR / "upstream_map.py"),
        "--set",
        f"ssl_verify_upstream_trusted_ca={upstream.ca.ca_pem}",
        *extra_args,
    ]
    child_env = {
        **os.environ,
        "BREATHER_TEST_UPSTREAM": upstream.address,
        "BREATHER_TEST_HOSTS": ",".join(UPSTREAM_HOSTS),
        "BREATHER_HOME": str(home),
        # Whether a warning shows must not depend on how loaded the machine is; the budget has its own unit tests.
        "BREATHER_CLASSIFY_BUDGET_MS": "5000",
        **(env or {}),
    }
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=child_env, cwd=home)
    service_file = paths.service_file
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"breather serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        if service_file.exists():
            info = json.loads(service_file.read_text())
            service = Service(process, home, paths, int(info["proxy_port"]), int(info["web_port"]), log_path)
            try:
                if service.health()["status"] == "ok":
                    return service
            except (httpx.HTTPError, ValueError):
                pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"breather serve did not come up in {timeout}s:\n{log_path.read_text()[-3000:]}")


def wait_for(check: Callable[[], Any], timeout: float, what: str, service: Service | None = None) -> Any:
    """``check()``'s first truthy value; fails with the service's log if it exits or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if service is not None and service.process.poll() is not None:
            pytest.fail(f"breather serve exited while waiting for {what}:\n{service.log()[-4000:]}")
        time.sleep(0.2)
    detail = f"\n{service.log()[-4000:]}" if service is not None else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


# One member, Reddit, no boundaries: for tests about the service itself (its store, its files), not the rules.
ONE_MEMBER_RULES = """\
[household]
timezone = "UTC"
country = "US"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "old.reddit.com"]

[profiles.me]
default = true
"""


# -- the extension tiers (Chromium and Firefox): one household, one social site, one recorded page ------------------

EXTENSION = PROJECT_ROOT / "extension"
SOCIAL_HOST = "old.reddit.com"
EXTENSION_PROFILE = "me"
EXTENSION_RULES = """\
[household]
timezone = "UTC"
country = "US"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "old.reddit.com", "www.reddit.com"]

[profiles.me]
default = true
daily_limit = "1h"
break_after = "25m"
break_length = "5m"
"""
SOCIAL_PAGE = (
    "<!doctype html><html><head><title>r/aww</title></head>"
    "<body><h1>Recorded old.reddit.com</h1><p>A photo of a sleepy cat.</p></body></html>"
)


def pairing_code(paths: Paths, profile: str) -> str:
    """The code a person would read off the dashboard's Setup page, made by the dashboard's own function."""
    from breather.dashboard.db import connect
    from breather.dashboard.pages.pairing import create_code

    db = connect(str(paths.database))
    try:
        return create_code(db, profile, ttl_s=600)
    finally:
        db.close()


def extension_heartbeats(paths: Paths) -> list[tuple[str, str]]:
    """(profile, site) of every stretch of activity the extension reported, read from the real database."""
    with contextlib.closing(sqlite3.connect(f"file:{paths.database}?mode=ro", uri=True)) as db:
        rows = db.execute("select profile, site from activity where source = 'extension'").fetchall()
    return [(str(profile), str(site)) for profile, site in rows]


def extension_status(service: Service, token: str) -> dict[str, Any]:
    """What ``/api/v1/status`` tells the extension holding ``token``."""
    answer = httpx.get(f"{service.web_url}/api/v1/status", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return make_test_ca(tmp_path_factory.mktemp("upstream-ca"))


@pytest.fixture
def upstream(test_ca: TestCA) -> Iterator[Upstream]:
    server = Upstream(test_ca).start()
    yield server
    server.stop()


@pytest.fixture
def serve(tmp_path: Path, upstream: Upstream) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(rules: str, **kwargs: Any) -> Service:
        service = start_service(tmp_path / f"home{len(started)}", rules, upstream, **kwargs)
        started.append(service)
        return service

    yield start
    for service in started:
        code = service.stop()
        assert code == 0, f"breather serve exited with {code}:\n{service.log()[-3000:]}"


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Callable[[Service], Any]]:
    """A Playwright persistent context on the system Chromium, proxied through a service (see the docstring)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is needed for the end-to-end browser tests")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    contexts: list[Any] = []

    def launch(service: Service, *extra_args: str) -> Any:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"chromium-profile-{len(contexts)}"),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *(flag for flag in CHROMIUM_FLAGS if not flag.startswith("--headless")),
                f"--proxy-server={service.proxy_url}",
                f"--ignore-certificate-errors-spki-list={spki_hash(service.ca)}",
                *extra_args,
            ],
            viewport={"width": 1100, "height": 800},
            # A person's Chromium keeps pages for the Back button; Playwright's default turns that off.
            ignore_default_args=["--disable-back-forward-cache"],
        )
        contexts.append(context)
        return context

    yield launch
    for context in contexts:
        context.close()
    playwright.stop()
