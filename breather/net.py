"""Where the proxy listens, for the rule both ``breather serve`` and the addons under plain mitmdump keep: beyond
loopback the proxy must ask who is using it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


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
