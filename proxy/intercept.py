"""Decrypt only the social sites named in the rules; tunnel everything else untouched.

mitmproxy's ``allow_hosts`` is refreshed from the rules whenever they reload. QUIC/HTTP3 is refused for the sites
Breather reads so browsers stay on TCP, where the proxy can see them: their ``alt-svc`` advertisements are stripped
(regular proxy mode), raw UDP to them is dropped, and a QUIC handshake naming them is refused (transparent, local
and WireGuard modes, where mitmproxy itself would otherwise speak QUIC with the browser).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Iterable
from typing import Any

from mitmproxy import connection, ctx, http, tls, udp
from mitmproxy.proxy import server_hooks
from mitmproxy.proxy.layers.quic import QuicTlsData, QuicTlsSettings

from breather.proxy.flows import ADAPTER, SITE
from breather.rules.model import site_domain
from breather.runtime import Runtime

log = logging.getLogger(__name__)


def host_pattern(domain: str) -> str:
    """A regex for mitmproxy's ``host:port`` strings: the domain itself or any subdomain, nothing else. A trailing
    dot is the same name (``reddit.com.:443``: DNS resolves it to the same site, browsers open it); mitmproxy matches
    ignoring case."""
    cleaned = domain.strip().lower().rstrip(".")
    if not cleaned or any(char in cleaned for char in "/:@ "):
        raise ValueError(f"not a domain name: {domain!r}")
    return rf"^(?:[^:]+\.)?{re.escape(cleaned)}\.?(?::\d+)?$"


def allow_patterns(domains: Iterable[str]) -> list[str]:
    return [host_pattern(domain) for domain in dict.fromkeys(domains)]


class RefusalNotAnError(logging.Filter):
    """mitmproxy logs every QUIC handshake without settings as an ERROR. For the handshakes Breather refused on
    purpose that is expected (and already logged as such), so those records go down to DEBUG; any other client's
    stays an ERROR."""

    MESSAGE = "No QUIC context was provided"

    def __init__(self) -> None:
        super().__init__()
        # Bounded: should mitmproxy ever stop logging a refusal, the list cannot grow without end.
        self.refused: deque[Any] = deque(maxlen=256)

    def filter(self, record: logging.LogRecord) -> bool:
        client = getattr(record, "client", None)
        if record.levelno >= logging.ERROR and client in self.refused and self.MESSAGE in record.getMessage():
            self.refused.remove(client)
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


MITMPROXY_SERVER_LOG = logging.getLogger("mitmproxy.proxy.server")


class Intercept:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._loop: asyncio.AbstractEventLoop | None = None
        self._patterns: list[re.Pattern[str]] = []
        self._refusals = RefusalNotAnError()

    def running(self) -> None:
        self._loop = asyncio.get_running_loop()
        MITMPROXY_SERVER_LOG.addFilter(self._refusals)
        self.apply_rules()
        add_listener = getattr(self.runtime.rules, "add_listener", None)
        if add_listener is not None:
            add_listener(self._rules_changed)

    def _rules_changed(self, *_: Any) -> None:
        """Called on the watcher's thread: hop onto the event loop, where options may be changed."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.apply_rules)

    def apply_rules(self) -> None:
        rules = self.runtime.current_rules()
        if rules is None:
            return
        patterns = allow_patterns(rules.intercepted_domains())
        self._patterns = [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
        ctx.options.update(allow_hosts=patterns)
        log.info("intercepting %d domains", len(patterns))

    def is_intercepted(self, host: str, port: int) -> bool:
        target = f"{host}:{port}"
        return any(pattern.search(target) for pattern in self._patterns)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Note which rules domain (and so which site adapter) this request belongs to. A failure leaves the request
        as no site's: it goes through untouched, counted."""
        self.runtime.counters.increment("flows_seen")
        try:
            self._note_site(flow)
        except Exception:
            log.exception("finding the site of a request to %s failed; passing it through", flow.request.pretty_host)
            self.runtime.counters.increment("passed_after_error")

    def _note_site(self, flow: http.HTTPFlow) -> None:
        rules = self.runtime.current_rules()
        if rules is None:
            return
        host = flow.request.pretty_host
        group = rules.group_for_host(host)
        if group is None:
            return
        flow.metadata[SITE] = site_domain(host, group.domains)
        flow.metadata[ADAPTER] = group.adapter

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        """A connection to the site opened for a request under a name with a trailing dot."""
        sni_without_trailing_dot(data.server, data.server.sni)

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Before mitmproxy starts TLS with the site, which takes the browser's server name (``reddit.com.``)."""
        sni_without_trailing_dot(data.context.server, data.context.server.sni or data.client_hello.sni)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is None or "alt-svc" not in flow.response.headers:
            return
        del flow.response.headers["alt-svc"]

    def udp_start(self, flow: udp.UDPFlow) -> None:
        address = flow.server_conn.address
        if address is None:
            return
        host = flow.server_conn.sni or address[0]
        if self.is_intercepted(host, address[1]):
            flow.kill()

    def quic_start_client(self, data: QuicTlsData) -> None:
        """Refuse QUIC with the browser for an intercepted site: it then retries over TCP, where warnings work."""
        host = data.conn.sni
        if not host or not self.is_intercepted(host, quic_port(data)):
            return
        data.settings = RefusedQuic()
        self._refusals.refused.append(data.context.client.peername)
        log.info("refused QUIC to %s so the browser falls back to TCP", host)

    def done(self) -> None:
        MITMPROXY_SERVER_LOG.removeFilter(self._refusals)


def sni_without_trailing_dot(server: connection.Server, name: str | None) -> None:
    """The site's name without its trailing dot for mitmproxy's TLS to the site: OpenSSL refuses ``reddit.com.`` as
    the name to verify, so mitmproxy's TLS set-up failed and a page under that name never loaded. Left as it is
    otherwise (mitmproxy then picks the name itself)."""
    if name is None and server.address is not None:
        name = str(server.address[0])
    if name is not None and name.endswith("."):
        server.sni = name.rstrip(".")


class RefusedQuic(QuicTlsSettings):
    """QUIC settings that mean "no", whichever order the addons run in.

    mitmproxy's TLS addon leaves settings another addon provided alone (it checks ``is not None``), and its QUIC
    layer closes the connection before any handshake reply when the settings are falsy. Under ``breather serve``
    our addon runs after the TLS addon; as a ``mitmdump -s`` script it runs before it.
    """

    def __bool__(self) -> bool:
        return False


def quic_port(data: QuicTlsData) -> int:
    address = data.context.server.address
    return address[1] if address else 443
