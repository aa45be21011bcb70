"""Marks the proxy as up once mitmproxy listens, and records the real ports for ``run``/``open``/``status``."""

from __future__ import annotations

import logging

from mitmproxy import ctx

from breather.runtime import Runtime

log = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def running(self) -> None:
        unknown = sorted(ctx.options.deferred)
        if unknown:
            # Logged as an error during start-up, so mitmproxy's error check stops the service, as mitmdump would.
            log.error("unknown mitmproxy option(s) given with --set: %s", ", ".join(unknown))
            return
        proxyserver = ctx.master.addons.get("proxyserver")
        addresses = proxyserver.listen_addrs() if proxyserver is not None else []
        if addresses:
            self.runtime.proxy_port = int(addresses[0][1])
        self.runtime.proxy_ready.set()
        log.info("proxy listening on port %s", self.runtime.proxy_port)
        if self.runtime.web_port is not None:
            from breather.service import write_service_file

            write_service_file(self.runtime)

    def done(self) -> None:
        self.runtime.proxy_ready.clear()
