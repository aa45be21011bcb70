"""A mitmproxy addon for the end-to-end tests: send chosen host names to the local test upstream.

Loaded with ``breather serve -s tests/e2e/upstream_map.py``. ``BREATHER_TEST_UPSTREAM`` is ``127.0.0.1:PORT`` and
``BREATHER_TEST_HOSTS`` a comma-separated list of names. Only the TCP address changes: the TLS server name and
the Host header stay the real ones, so the upstream answers as (and with a certificate for) the real site. Works
both for intercepted hosts and for tunnelled ones.
"""

from __future__ import annotations

import os

from mitmproxy.proxy import server_hooks


class UpstreamMap:
    def __init__(self) -> None:
        host, _, port = os.environ["BREATHER_TEST_UPSTREAM"].rpartition(":")
        self.target = (host, int(port))
        self.hosts = {name.strip().lower() for name in os.environ["BREATHER_TEST_HOSTS"].split(",") if name.strip()}

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        address = data.server.address
        # a trailing dot names the same host, as DNS resolves it
        if address is None or str(address[0]).lower().rstrip(".") not in self.hosts:
            return
        data.server.address = self.target


addons = [UpstreamMap()]
