"""Where the proxy listens, for the rule both ``breather serve`` and the addons under plain mitmdump keep: beyond
loopback the proxy must ask who is using it."""

from __future__ import annotations

import ipaddress
import socket
import time
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


# Never assigned to an interface (TEST-NET-3, RFC 5737; the IPv6 documentation prefix, RFC 3849): when the system
# lets a socket bind one of these, it binds any address at all, and binding tells nothing about this machine.
_NEVER_LOCAL = {socket.AF_INET: "203.0.113.1", socket.AF_INET6: "2001:db8::1"}
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host on this network": a connection to it stays here


def names_this_machine(host: str) -> bool:
    """``localhost`` and every ``*.localhost`` name (RFC 6761), which resolvers answer with loopback."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def is_this_machine(address: str) -> bool:
    """Whether a connection to the IP address ``address`` reaches this machine itself: loopback, the unspecified
    address, or one of its interface addresses (any it could bind; stdlib has no list of interface addresses)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    if mapped is not None:
        ip, address = mapped, str(mapped)
    if ip.is_loopback or ip.is_unspecified or ip in _THIS_NETWORK:
        return True
    if ip.is_multicast:
        return False
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    if not _can_bind(family, address):
        return False
    return not _can_bind(family, _NEVER_LOCAL[family]) or str(ip) in _named_addresses()


def _can_bind(family: socket.AddressFamily, address: str) -> bool:
    try:
        sockaddr = socket.getaddrinfo(address, 0, family, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)[0][4]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind(sockaddr)
    except OSError:  # EADDRNOTAVAIL: no interface has it (a link-local address without its scope: EINVAL)
        return False
    return True


# How long the addresses below are trusted: the proxy asks for every connection to an address, on its event loop, and
# looking the machine's name up can block; a machine changes its addresses far less often than this.
NAMED_ADDRESSES_TTL_S = 30.0
_named_cache: tuple[float, frozenset[str]] | None = None


def _named_addresses() -> frozenset[str]:
    """Where binding proves nothing (non-local binds allowed): the addresses this machine's name and its default
    route give, looked up at most once per ``NAMED_ADDRESSES_TTL_S``."""
    global _named_cache
    now = time.monotonic()
    if _named_cache is None or now - _named_cache[0] >= NAMED_ADDRESSES_TTL_S:
        _named_cache = (now, frozenset(_look_up_named_addresses()))
    return _named_cache[1]


def _look_up_named_addresses() -> set[str]:
    addresses = {address} if (address := _lan_address()) else set()
    try:
        found = socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM)
    except OSError:
        return addresses
    return addresses | {str(info[4][0]).split("%")[0] for info in found}
