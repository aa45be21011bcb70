"""Another device may not reach the Breather machine itself through the proxy; the machine's own users may."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from mitmproxy import connection
from mitmproxy.proxy import mode_specs, server_hooks
from mitmproxy.test import tflow

from breather.net import is_this_machine, names_this_machine
from breather.proxy.own_machine import REASON, REFUSED, OwnMachine

OTHER_DEVICE = "192.168.1.50"


def this_machines_network_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent
        return str(probe.getsockname()[0])


def run(answer: Any) -> None:
    """A hook's answer: nothing, or a coroutine mitmproxy would await (a name being resolved)."""
    if answer is not None:
        asyncio.run(answer)


def request_from(client_ip: str, url: str) -> tflow.http.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.peername = (client_ip, 50000)
    flow.request.url = url
    return flow


def server_data(client_ip: str, address: tuple[str, int]) -> server_hooks.ServerConnectionHookData:
    client = tflow.tclient_conn()
    client.peername = (client_ip, 50000)
    return server_hooks.ServerConnectionHookData(server=connection.Server(address=address), client=client)


@pytest.mark.parametrize(
    ("address", "here"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("203.0.113.7", False),  # TEST-NET-3: never any machine's own
        ("8.8.8.8", False),
        ("224.0.0.1", False),
        ("not an address", False),
    ],
)
def test_what_counts_as_this_machine(address: str, here: bool) -> None:
    assert is_this_machine(address) is here


def test_this_machine_s_network_address_counts_and_its_neighbour_s_does_not() -> None:
    own = this_machines_network_address()
    assert is_this_machine(own) and is_this_machine(f"::ffff:{own}")
    neighbour = own.rsplit(".", 1)[0] + (".9" if not own.endswith(".9") else ".10")
    assert not is_this_machine(neighbour)


def test_where_any_address_can_be_bound_the_machine_s_name_is_looked_up_once_not_per_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With non-local binds allowed (ip_nonlocal_bind, some VPN and cloud hosts) binding proves nothing, so the
    machine's own name is resolved; on the proxy's event loop, once per connection, that stalled every site."""
    import breather.net

    monkeypatch.setattr(breather.net, "_can_bind", lambda family, address: True)
    monkeypatch.setattr(breather.net, "_named_cache", None)
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def counting(host: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    own = this_machines_network_address()
    answers = {is_this_machine(own) for _ in range(50)} | {is_this_machine("203.0.113.7") for _ in range(50)}

    assert answers == {True, False}  # still right both ways
    assert lookups.count(socket.gethostname()) == 1


def test_localhost_names_mean_this_machine() -> None:
    assert names_this_machine("localhost") and names_this_machine("LocalHost.") and names_this_machine("a.localhost")
    assert not names_this_machine("localhost.example") and not names_this_machine("mylocalhost")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/rules",
        "http://localhost:8765/data",
        "http://[::1]:8765/rules",
        "http://0.0.0.0:5432/",
        "http://2130706433:8765/rules",  # 127.0.0.1 as one number: only the resolver makes it loopback
    ],
)
def test_another_device_asking_for_this_machine_gets_a_403_and_is_counted(make_runtime, caplog, url: str) -> None:
    runtime = make_runtime()
    own_machine = OwnMachine(runtime)
    assert runtime.counters.snapshot()[REFUSED] == 0
    flow = request_from(OTHER_DEVICE, url)
    with caplog.at_level(logging.INFO, logger="breather.proxy.own_machine"):
        run(own_machine.requestheaders(flow))
    assert flow.response is not None and flow.response.status_code == 403
    assert flow.response.get_text().startswith(REASON)
    assert runtime.counters.get(REFUSED) == 1
    assert f"refused a request from {OTHER_DEVICE} to this machine" in caplog.text
    assert "8765" not in caplog.text and "/rules" not in caplog.text and "/data" not in caplog.text


def test_a_connect_to_this_machine_s_network_address_is_refused(make_runtime) -> None:
    own_machine = OwnMachine(make_runtime())
    flow = request_from(OTHER_DEVICE, "http://example.org/")
    flow.request.method, flow.request.host, flow.request.port = "CONNECT", this_machines_network_address(), 8765
    run(own_machine.http_connect(flow))
    assert flow.response is not None and flow.response.status_code == 403


def test_the_machine_s_own_users_and_other_sites_are_left_alone(make_runtime) -> None:
    runtime = make_runtime()
    own_machine = OwnMachine(runtime)
    at_the_machine = request_from("127.0.0.1", "http://127.0.0.1:8765/rules")
    run(own_machine.requestheaders(at_the_machine))
    elsewhere = request_from(OTHER_DEVICE, "http://203.0.113.7/")
    run(own_machine.requestheaders(elsewhere))
    assert at_the_machine.response is None and elsewhere.response is None
    assert runtime.counters.get(REFUSED) == 0


def test_a_flow_another_addon_already_answered_is_not_counted(make_runtime) -> None:
    runtime = make_runtime()
    flow = request_from(OTHER_DEVICE, "http://127.0.0.1:8765/rules")
    flow.response = tflow.tresp(status_code=407)
    run(OwnMachine(runtime).requestheaders(flow))
    assert flow.response.status_code == 407 and runtime.counters.get(REFUSED) == 0


def test_any_server_connection_to_this_machine_is_killed_before_it_connects(make_runtime) -> None:
    """Every mode (SOCKS5, WireGuard...) and any address an addon set meet this check."""
    own_machine = OwnMachine(make_runtime())
    for address in [("127.0.0.1", 8765), ("localhost", 22), ("2130706433", 8765)]:
        refused = server_data(OTHER_DEVICE, address)
        run(own_machine.server_connect(refused))
        assert refused.server.error == REASON, address
    allowed = server_data("127.0.0.1", ("127.0.0.1", 8765))
    run(own_machine.server_connect(allowed))
    assert allowed.server.error is None


def test_the_upstream_proxy_the_operator_chose_on_this_machine_stays_reachable(make_runtime) -> None:
    own_machine = OwnMachine(make_runtime())
    chosen = server_data(OTHER_DEVICE, ("127.0.0.1", 3128))
    chosen.client.proxy_mode = mode_specs.ProxyMode.parse("upstream:http://127.0.0.1:3128")
    run(own_machine.server_connect(chosen))
    assert chosen.server.error is None
    other_port = server_data(OTHER_DEVICE, ("127.0.0.1", 8765))
    other_port.client.proxy_mode = chosen.client.proxy_mode
    run(own_machine.server_connect(other_port))
    assert other_port.server.error == REASON


def test_a_name_that_reached_this_machine_after_all_carries_nothing_back(make_runtime) -> None:
    """DNS rebinding: the name resolved elsewhere when checked, and to loopback when mitmproxy connected."""
    runtime = make_runtime()
    own_machine = OwnMachine(runtime)
    data = server_data(OTHER_DEVICE, ("rebound.example", 80))
    data.server.peername = ("127.0.0.1", 80)
    own_machine.server_connected(data)
    assert runtime.counters.get(REFUSED) == 1

    answer = request_from(OTHER_DEVICE, "http://rebound.example/rules")
    answer.server_conn = data.server
    answer.response = tflow.tresp(content=b"the rules, with password hashes")
    own_machine.responseheaders(answer)
    assert answer.error is not None and answer.error.msg == answer.error.KILLED_MESSAGE

    tunnel = tflow.ttcpflow()
    tunnel.client_conn.peername = (OTHER_DEVICE, 50000)
    tunnel.server_conn = data.server
    tunnel.live = True
    own_machine.tcp_start(tunnel)
    assert tunnel.error is not None and tunnel.error.msg == tunnel.error.KILLED_MESSAGE

    own_machine.server_disconnected(data)
    later = tflow.ttcpflow()
    later.server_conn = data.server
    later.live = True
    own_machine.tcp_start(later)
    assert later.error is None
