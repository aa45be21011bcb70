"""The extension's chained PAC in real Chromium: social sites to Breather, every other site to the person's own proxy.

A person already sends their browser through a proxy of their own, set by an older extension (``fixed_servers``).
They install Breather and pair it: only the social sites must go through Breather; every other site must keep going
through their own proxy, as before, never direct. Switching routing off gives them their own proxy back for every
site, and while routing is on and their proxy is down, other sites fail as their own setting made them fail, instead
of going direct past it.

Chrome lets the most recently installed extension's proxy setting win, and reports the older one's value to it as
``controllable_by_this_extension``. With ``--load-extension=a,b`` Chromium installs ``a`` first, so the helper that
stands for the older extension comes first and Breather second; the test checks that Breather really sees the
helper's setting that way before pairing.

The fakes are the internet (the shared ``upstream`` fixture) and the person's own proxy: a small CONNECT proxy here
that tunnels to that upstream and records which hosts it was asked for.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import CHROMIUM, EXTENSION, SOCIAL_HOST, SOCIAL_PAGE, Service, Upstream, spki_hash, wait_for
from tests.e2e.test_extension import CHROMIUM_FLAGS, RULES, Chromium, pair_on_consent_page

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Worker

pytestmark = pytest.mark.e2e

OTHER_SITE = "bank.example"  # never in the rules
EARLIER_SITE = "example.org"  # visited before pairing, on its own host so no tunnel of it is reused later
UNSEEN_SITE = "shop.example"  # asked for only once the person's proxy is down: no open tunnel can carry it
BANK_PAGE = "<!doctype html><html><head><title>Bank</title></head><body><h1>Your bank</h1></body></html>"
EARLIER_PAGE = "<!doctype html><html><head><title>Example</title></head><body><h1>An example</h1></body></html>"
# after routing is off, the social site on a path the browser never loaded: nothing can come from its cache
LATER_PATH = "/r/cats/"
LATER_PAGE = SOCIAL_PAGE.replace("r/aww", "r/cats")


class OwnProxy:
    """The person's own proxy: an HTTP CONNECT proxy that tunnels the test's host names to the upstream.

    ``hosts`` lists every host a client asked it for, in order (one entry per tunnel). Names it does not know get a
    502, so nothing here ever reaches the real internet.
    """

    def __init__(self, upstream: Upstream, known: set[str]) -> None:
        self.hosts: list[str] = []
        self._lock = threading.Lock()
        target = ("127.0.0.1", upstream.port)
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                client: socket.socket = self.request
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = client.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
                host = rest.split(" ", 1)[0].rpartition(":")[0].lower()
                with proxy._lock:
                    proxy.hosts.append(host)
                if method != "CONNECT" or host not in known:
                    client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                with socket.create_connection(target, timeout=10) as server:
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _pipe(client, server)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="e2e-own-proxy", daemon=True)

    def start(self) -> OwnProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def saw(self, host: str) -> bool:
        with self._lock:
            return host in self.hosts


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Copies bytes both ways until either side closes."""
    peers = {one: other, other: one}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 30)
        if not readable:
            continue
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            peers[sock].sendall(data)


@pytest.fixture
def own_proxy(upstream: Upstream) -> Iterator[OwnProxy]:
    proxy = OwnProxy(upstream, {SOCIAL_HOST, OTHER_SITE, EARLIER_SITE}).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def service(serve: Callable[..., Service], upstream: Upstream) -> Service:
    """A real ``breather serve``; the upstream answers the social site and the two sites that are not social."""
    upstream.route(SOCIAL_HOST, "/r/aww/", SOCIAL_PAGE)
    upstream.route(SOCIAL_HOST, LATER_PATH, LATER_PAGE)
    upstream.route(OTHER_SITE, "/", BANK_PAGE)
    upstream.route(EARLIER_SITE, "/", EARLIER_PAGE)
    return serve(RULES)


def _own_proxy_setting(port: int) -> dict[str, Any]:
    return {"mode": "fixed_servers", "rules": {"singleProxy": {"scheme": "http", "host": "127.0.0.1", "port": port}}}


def write_older_extension(folder: Path, proxy_port: int) -> Path:
    """An MV3 extension that sets the person's own proxy as it is installed, as any proxy extension does."""
    folder.mkdir(parents=True)
    manifest = {
        "manifest_version": 3,
        "name": "My own proxy",
        "version": "1.0",
        "permissions": ["proxy"],
        "background": {"service_worker": "own-proxy.js"},  # Breather's worker is background.js
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "own-proxy.js").write_text(
        f"const value = {json.dumps(_own_proxy_setting(proxy_port))};\n"
        "chrome.runtime.onInstalled.addListener(() => chrome.proxy.settings.set({ value, scope: 'regular' }));\n",
        encoding="utf-8",
    )
    return folder


def breather_worker(context: BrowserContext) -> Worker:
    """Breather's service worker as it is now (the older extension's worker runs ``own-proxy.js``)."""

    def ours(worker: Worker) -> bool:
        return worker.url.startswith("chrome-extension://") and worker.url.endswith("/background.js")

    def find() -> Worker | None:
        return next((worker for worker in reversed(context.service_workers) if ours(worker)), None)

    found = find()
    if found is None:
        found = context.wait_for_event("serviceworker", predicate=ours, timeout=20_000)
    return found


@contextlib.contextmanager
def chromium_with_both_extensions(
    service: Service, upstream: Upstream, older: Path, profile: Path
) -> Iterator[Chromium]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is needed for this end-to-end test")
    from playwright.sync_api import sync_playwright

    extensions = f"{older},{EXTENSION}"  # installed in this order: Breather's setting takes precedence
    trusted = f"{spki_hash(service.ca)},{spki_hash(upstream.ca.cert_pem)}"  # Breather's CA; the sites themselves
    flags = [
        f"--disable-extensions-except={extensions}",
        f"--load-extension={extensions}",
        *CHROMIUM_FLAGS,
        f"--ignore-certificate-errors-spki-list={trusted}",
    ]
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=flags
        )
        try:
            worker = breather_worker(context)
            yield Chromium(context, worker, f"chrome-extension://{worker.url.split('/')[2]}")
        finally:
            context.close()


def proxy_setting(context: BrowserContext) -> dict[str, Any]:
    """The browser's proxy setting as Breather's extension reads it (routing.js asks for the regular one)."""
    setting: dict[str, Any] = breather_worker(context).evaluate("chrome.proxy.settings.get({ incognito: false })")
    return setting


def open_page(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(url)
    return page


def test_paired_extension_sends_other_sites_to_the_persons_own_proxy_and_gives_it_back_when_off(
    service: Service, upstream: Upstream, own_proxy: OwnProxy, tmp_path: Path
) -> None:
    older = write_older_extension(tmp_path / "own-proxy-extension", own_proxy.port)
    own_setting = _own_proxy_setting(own_proxy.port)
    with chromium_with_both_extensions(service, upstream, older, tmp_path / "chromium-profile") as chromium:
        context = chromium.context

        # Before pairing: the older extension's proxy is in force, and Breather may override it.
        def older_setting_in_force() -> dict[str, Any] | None:
            setting = proxy_setting(context)
            return setting if setting["value"] == own_setting else None

        before = wait_for(older_setting_in_force, 20, "the older extension's proxy setting", service)
        assert before["levelOfControl"] == "controllable_by_this_extension", before
        earlier = open_page(context, f"https://{EARLIER_SITE}/")
        assert earlier.inner_text("h1") == "An example"
        assert own_proxy.saw(EARLIER_SITE), own_proxy.hosts

        welcome_says = pair_on_consent_page(chromium, service)
        own = f"Everything else goes through your own proxy (127.0.0.1:{own_proxy.port}), as before."
        assert welcome_says == f"Social sites now go through Breather. {own}"

        routed = proxy_setting(context)
        assert routed["levelOfControl"] == "controlled_by_this_extension"
        assert routed["value"]["mode"] == "pac_script"
        pac = routed["value"]["pacScript"]["data"]
        assert f"PROXY 127.0.0.1:{service.proxy_port}" in pac
        assert f"PROXY 127.0.0.1:{own_proxy.port}" in pac, pac

        # The social site goes through Breather: its overlay is on the page; the person's proxy never saw it.
        social = open_page(context, f"https://{SOCIAL_HOST}/r/aww/")
        assert "Recorded old.reddit.com" in social.inner_text("h1")
        social.wait_for_selector("html[data-breather='on']", timeout=10_000)
        assert upstream.asked_for(SOCIAL_HOST, "/r/aww/")
        # Any other site goes through the person's own proxy, not direct (direct, bank.example has no address here).
        bank = open_page(context, f"https://{OTHER_SITE}/")
        assert bank.inner_text("h1") == "Your bank"
        assert own_proxy.saw(OTHER_SITE), own_proxy.hosts
        assert bank.get_attribute("html", "data-breather") is None
        assert not own_proxy.saw(SOCIAL_HOST), own_proxy.hosts

        # The popup tells the person where everything else goes.
        popup = open_page(context, f"{chromium.base}/popup/popup.html")
        popup.wait_for_selector("#view-status:not([hidden])", timeout=20_000)
        expected = f"everything else goes through your own proxy (127.0.0.1:{own_proxy.port}), as before"
        wait_for(lambda: expected in popup.inner_text("#routing"), 20, "the popup's routing line", service)

        # Routing off: Chrome gives the older extension's setting back, and every site goes to the person's proxy.
        popup.uncheck("#routing-switch")
        popup.wait_for_selector("#routing.breather-problem", timeout=10_000)
        after = proxy_setting(context)
        assert after == {"levelOfControl": "controllable_by_this_extension", "value": own_setting}, after
        later = open_page(context, f"https://{SOCIAL_HOST}{LATER_PATH}")
        assert "Recorded old.reddit.com" in later.inner_text("h1")
        assert upstream.asked_for(SOCIAL_HOST, LATER_PATH)
        assert own_proxy.saw(SOCIAL_HOST), own_proxy.hosts
        assert later.get_attribute("html", "data-breather") is None, "the page must not have come through Breather"

        # Routing on again, and the person's proxy down: other sites fail as their own setting fails, never direct.
        popup.check("#routing-switch")
        wait_for(lambda: expected in popup.inner_text("#routing"), 20, "the popup's routing line again", service)
        own_proxy.stop()
        from playwright.sync_api import Error as PlaywrightError

        with pytest.raises(PlaywrightError, match="ERR_PROXY_CONNECTION_FAILED"):
            open_page(context, f"https://{UNSEEN_SITE}/")
        assert not own_proxy.saw(UNSEEN_SITE)
