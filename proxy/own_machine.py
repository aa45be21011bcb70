"""Other devices may not reach the machine Breather runs on through its proxy.

A member signed in from another device could ask the proxy for ``http://127.0.0.1:<web-port>/rules``: the dashboard
saw a loopback client and answered (a user test read the raw rules, with every member's password hash, and the data
export that way), and so would any service listening on this machine's loopback or on its own interface addresses.
Clients on loopback are left alone: the person at the machine can open those addresses directly anyway.

Refused for every other client: loopback, the unspecified address, this machine's interface addresses,
``localhost`` and ``*.localhost``, and names that resolve to any of those. Checked before anything is sent: a
CONNECT and an HTTP request get a 403 saying why, and any other server connection (any mode, any address an addon
set) is killed before it connects. Checked again on the address mitmproxy really connected to, since a name can
resolve differently a moment later (DNS rebinding): such a connection then carries nothing back (an HTTP answer is
cut off before its headers reach the client, a tunnel over it is killed as it starts).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Coroutine
from typing import Any

from mitmproxy import connection, http, tcp, udp
from mitmproxy.proxy import mode_specs, server_hooks

from breather.net import is_loopback, is_this_machine, names_this_machine
from breather.runtime import Runtime

log = logging.getLogger(__name__)

REFUSED = "own_machine_refused"
REASON = "Breather: the proxy does not carry requests from other devices to the computer it runs on."

Checking = Coroutine[Any, Any, None]  # a hook's answer when a name must be resolved first


def refusal_response() -> http.Response:
    return http.Response.make(
        403,
        (
            f"{REASON} Its dashboard and any other service of that computer stay out of reach of the proxy; "
            "open them on that computer itself.\n"
        ).encode(),
        {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
    )


async def resolves_here(host: str, port: int) -> bool:
    """Whether any address ``host`` resolves to is this machine's (a name that resolves nowhere reaches nothing)."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return any(is_this_machine(_address_of(info[4])) for info in found)


def _address_of(sockaddr: tuple[Any, ...]) -> str:
    """An IPv6 link-local address only names an interface with its scope."""
    scoped = len(sockaddr) == 4 and sockaddr[3]
    return f"{sockaddr[0]}%{sockaddr[3]}" if scoped else str(sockaddr[0])


def here_without_resolving(host: str) -> bool | None:
    """The answer when ``host`` needs no resolver: an IP address, or a name that always means loopback; else None."""
    if names_this_machine(host):
        return True
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None
    return is_this_machine(host)


class OwnMachine:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        # Server connections that reached this machine although the name was checked: they carry nothing back.
        self._cut: set[str] = set()

    def http_connect(self, flow: http.HTTPFlow) -> Checking | None:
        if flow.response is not None or _on_loopback(flow.client_conn):
            return None
        return self._check_flow(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> Checking | None:
        if flow.response is not None or _on_loopback(flow.client_conn):
            return None
        server = flow.server_conn
        if server.id in self._cut:
            self._refuse_flow(flow)
            return None
        if server.peername is not None and server.address == (flow.request.host, flow.request.port):
            return None  # the request goes over a connection checked when it was opened (an intercepted CONNECT)
        return self._check_flow(flow)

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> Checking | None:
        address = data.server.address
        if address is None or data.server.error or _on_loopback(data.client):
            return None
        host, port = str(address[0]), int(address[1])
        if _chosen_by_operator(data.client, host, port):
            return None
        here = here_without_resolving(host)
        if here is None:
            return self._refuse_server_if_here(data, host, port)
        if here:
            self._refuse_server(data)
        return None

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        peername, address = data.server.peername, data.server.address
        if peername is None or address is None or _on_loopback(data.client):
            return
        if _chosen_by_operator(data.client, str(address[0]), int(address[1])):
            return
        if is_this_machine(_address_of(peername)):
            self._cut.add(data.server.id)
            self._count_and_log(data.client)

    def server_disconnected(self, data: server_hooks.ServerConnectionHookData) -> None:
        self._cut.discard(data.server.id)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.server_conn.id in self._cut:
            flow.kill()

    # A tunnel over a cut connection is killed as it starts. Not a per-message hook: every addon with one is called
    # for every chunk of every tunnelled site (banking, mail), and the tunnel's throughput fell to 0.89x of plain
    # mitmproxy's in the benchmark.
    def tcp_start(self, flow: tcp.TCPFlow) -> None:
        if flow.server_conn.id in self._cut and flow.killable:
            flow.kill()

    def udp_start(self, flow: udp.UDPFlow) -> None:
        if flow.server_conn.id in self._cut and flow.killable:
            flow.kill()

    def _check_flow(self, flow: http.HTTPFlow) -> Checking | None:
        host, port = flow.request.host, flow.request.port
        if _chosen_by_operator(flow.client_conn, host, port):
            return None
        here = here_without_resolving(host)
        if here is None:
            return self._refuse_flow_if_here(flow, host, port)
        if here:
            self._refuse_flow(flow)
        return None

    async def _refuse_flow_if_here(self, flow: http.HTTPFlow, host: str, port: int) -> None:
        if await resolves_here(host, port) and flow.response is None:
            self._refuse_flow(flow)

    async def _refuse_server_if_here(self, data: server_hooks.ServerConnectionHookData, host: str, port: int) -> None:
        if await resolves_here(host, port):
            self._refuse_server(data)

    def _refuse_flow(self, flow: http.HTTPFlow) -> None:
        flow.response = refusal_response()
        self._count_and_log(flow.client_conn)

    def _refuse_server(self, data: server_hooks.ServerConnectionHookData) -> None:
        data.server.error = REASON
        self._count_and_log(data.client)

    def _count_and_log(self, client: connection.Client) -> None:
        self.runtime.counters.increment(REFUSED)
        where = client.peername[0] if client.peername else "an unknown address"
        log.warning(
            "refused a request from %s to this machine: other devices may not reach it through the proxy", where
        )


def _on_loopback(client: connection.Client) -> bool:
    return client.peername is not None and is_loopback(str(client.peername[0]))


def _chosen_by_operator(client: connection.Client, host: str, port: int) -> bool:
    """The upstream proxy or reverse-proxy target the proxy was started with: the operator's choice, not a client's."""
    mode = client.proxy_mode
    return isinstance(mode, mode_specs.UpstreamMode | mode_specs.ReverseMode) and (host, port) == mode.address
