"""Where the proxy listens, for the rule both ``breather serve`` and the addons under plain mitmdump keep: beyond
loopback the proxy must ask who is using it."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

EVERY_INTERFACE = frozenset({"0.0.0.0", "::", "[::]", ""})
# TEST-NET-1 (RFC 5737): routed like any outside address, never answered; a UDP "connect" to it sends nothing.
_ROUTE_PROBE = ("192.0.2.1", 9)


def is_loopback(host: str) -> bool:
    """``""`` is mitmproxy's "every interface", so not loopback; ``::ffff:127.0.0.1`` is (Python 3.12 says no)."""
    if host in {"localhost", ""}:
        return host == "localhost"
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def listen_hosts(modes: Iterable[str], listen_host: str, listen_port: int | None) -> list[str]:
    """The host each of mitmproxy's servers binds: a mode's own ``@host:port`` wins over ``listen_host``. Modes that
    bind nothing (``local``) are left out, and so are specs mitmproxy itself will reject."""
    from mitmproxy.proxy import mode_specs

    hosts = []
    for spec in modes:
        try:
            mode = mode_specs.ProxyMode.parse(spec)
        except ValueError:
            continue
        if mode.listen_port(listen_port) is not None:
            hosts.append(mode.listen_host(listen_host))
    return hosts


def beyond_loopback(hosts: Iterable[str]) -> list[str]:
    return [host for host in hosts if not is_loopback(host)]


def address_for_other_devices(listen_host: str) -> str | None:
    """The proxy's address as another device on the network writes it in its settings; None when the proxy listens
    on loopback only (no other device can use it)."""
    if is_loopback(listen_host.strip("[]")):
        return None
    if listen_host not in EVERY_INTERFACE:
        return listen_host
    return _lan_address() or f"{socket.gethostname().lower()}.local"


def _lan_address() -> str | None:
    """This machine's address on the network its default route leads to."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_ROUTE_PROBE)
            address = str(probe.getsockname()[0])
    except OSError:  # no route at all: no network to be reached on
        return None
    return None if is_loopback(address) or address in EVERY_INTERFACE else address


def proxy_host_for(listen_host: str, dashboard_name: str) -> str:
    """The proxy's address for the device that asked, which reached the dashboard by ``dashboard_name`` (its Host
    header's name, which ``security.check_host`` allowed): on every interface, that same name (its own machine's
    loopback, or this machine's name on the network); otherwise the one address the proxy listens on."""
    if listen_host not in EVERY_INTERFACE:
        return listen_host
    return "127.0.0.1" if dashboard_name == "localhost" or is_loopback(dashboard_name.strip("[]")) else dashboard_name
