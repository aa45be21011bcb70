"""Where mitmproxy really listens decides who may use the proxy: a name alone picks a profile only on loopback, and
under plain mitmdump a client reaching the proxy beyond loopback is served only when the rules ask who browses.
The real mitmdump runs in ``tests/e2e/test_proxy_mitmdump_listen.py``; these pin the decisions one by one."""

from __future__ import annotations

import base64

import pytest
from mitmproxy import hooks
from mitmproxy.proxy import mode_specs
from mitmproxy.test import taddons, tflow

from breather.net import is_loopback, listen_hosts
from breather.proxy import flows
from breather.proxy.addon import Standalone
from breather.proxy.identity import Identity
from tests.proxy.conftest import rules_text

NAME_ONLY = '[profiles.maya]\nuser = "maya"\n'
WITH_PASSWORD = '[profiles.sam]\nuser = "sam"\npassword = "correct horse"\n'


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("", False),  # mitmproxy's "every interface"
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.2", False),
        ("breather.example", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_mode_s_own_host_wins_over_listen_host_and_local_mode_listens_nowhere() -> None:
    modes = ["regular", "socks5@0.0.0.0:1080", "regular@8081", "local"]
    assert listen_hosts(modes, "127.0.0.1", 8080) == ["127.0.0.1", "0.0.0.0", "127.0.0.1"]


def name_only_flow() -> tflow.http.HTTPFlow:
    flow = tflow.tflow()
    flow.request.headers["proxy-authorization"] = "Basic " + base64.b64encode(b"maya:").decode()
    return flow


def test_a_name_alone_picks_a_profile_once_mitmproxy_says_it_listens_on_loopback(make_runtime) -> None:
    """``breather serve`` sets the listen host when it builds mitmproxy's options, so no configure event carries it:
    the running event does."""
    identity = Identity(make_runtime(rules_text(extra_profiles=NAME_ONLY)))
    with taddons.context(identity) as tctx:
        tctx.options.update(listen_host="127.0.0.1")
        tctx.master.addons.invoke_addon_sync(identity, hooks.RunningHook())
    flow = name_only_flow()
    identity.requestheaders(flow)
    assert flow.metadata[flows.PROFILE] == "maya"


def test_a_mode_listening_beyond_loopback_makes_a_name_alone_prove_nothing(make_runtime) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=NAME_ONLY + WITH_PASSWORD)))
    with taddons.context(identity) as tctx:
        tctx.configure(identity, listen_host="127.0.0.1", mode=["regular", "socks5@0.0.0.0:1080"])
    flow = name_only_flow()
    identity.http_connect(flow)
    assert flow.response is not None and flow.response.status_code == 407


def client_at(sockname: str) -> tflow.connection.Client:
    client = tflow.tclient_conn()
    client.sockname = (sockname, 8080)
    client.proxy_mode = mode_specs.ProxyMode.parse("regular")
    return client


def test_under_mitmdump_a_client_reaching_a_listener_moved_to_loopback_is_cut_off(make_runtime) -> None:
    """mitmproxy binds every interface before it loads the script; until Breather has bound it again on loopback,
    a client from the network must not be served."""
    standalone = Standalone(make_runtime(rules_text(extra_profiles=WITH_PASSWORD)))
    with taddons.context(standalone) as tctx:
        tctx.configure(standalone, listen_host="127.0.0.1")
        from_the_network, from_this_machine = client_at("192.168.1.20"), client_at("127.0.0.1")
        standalone.client_connected(from_the_network)
        standalone.client_connected(from_this_machine)
    assert from_the_network.error is not None
    assert from_this_machine.error is None


def test_under_mitmdump_beyond_loopback_clients_are_served_only_while_the_rules_ask_who_browses(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_profiles=WITH_PASSWORD))
    standalone = Standalone(runtime)
    with taddons.context(standalone) as tctx:
        tctx.configure(standalone, listen_host="0.0.0.0")
        signed_in_household = client_at("192.168.1.20")
        standalone.client_connected(signed_in_household)
        assert signed_in_household.error is None

        runtime.paths.rules_file.write_text(rules_text())  # the passwords are gone
        assert runtime.rules.reload()
        anyone = client_at("192.168.1.20")
        standalone.client_connected(anyone)
        assert anyone.error is not None


def test_under_mitmdump_a_port_still_held_a_moment_is_bound_again_on_loopback(make_runtime) -> None:
    """mitmproxy keeps a server that failed to bind, and asked to set its servers up again it sees nothing to do: a
    port held a moment longer (a UDP socket just closed, in CI) left mitmdump listening nowhere. Here a real
    mitmproxy server finds its port taken, and Breather binds it once the port is free."""
    import asyncio
    import socket

    from mitmproxy.addons.proxyserver import Proxyserver

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    standalone, proxyserver = Standalone(make_runtime()), Proxyserver()

    async def scenario() -> bool:
        with taddons.context(proxyserver, standalone) as tctx:
            tctx.configure(proxyserver, mode=[f"regular@127.0.0.1:{port}"], server=True)
            asyncio.get_running_loop().call_later(0.3, holder.close)  # the port comes free part-way
            await standalone._bind_again()
            running = all(server.is_running for server in proxyserver.servers) and len(proxyserver.servers) == 1
            await proxyserver.servers.update([])
            return running

    try:
        assert asyncio.run(scenario())
    finally:
        holder.close()
