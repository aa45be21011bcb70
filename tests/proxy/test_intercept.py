from __future__ import annotations

import logging
import re

import pytest
from mitmproxy import udp
from mitmproxy.flow import Error
from mitmproxy.options import Options
from mitmproxy.proxy.context import Context
from mitmproxy.proxy.layers.quic import QuicTlsData, QuicTlsSettings
from mitmproxy.test import taddons, tflow

from breather.proxy import flows
from breather.proxy.intercept import (
    Intercept,
    RefusalNotAnError,
    RefusedQuic,
    allow_patterns,
    host_pattern,
)
from breather.rules.model import site_domain
from tests.proxy.conftest import rules_text


def matches(pattern: str, target: str) -> bool:
    return re.search(pattern, target, re.IGNORECASE) is not None


def test_a_domain_pattern_takes_the_domain_and_its_subdomains_only() -> None:
    pattern = host_pattern("reddit.com")
    assert matches(pattern, "reddit.com:443")
    assert matches(pattern, "old.reddit.com:443")
    assert matches(pattern, "OAUTH.Reddit.com:443")
    assert not matches(pattern, "notreddit.com:443")
    assert not matches(pattern, "reddit.com.evil.example:443")
    assert not matches(pattern, "example.com:443")


def test_a_bad_domain_is_refused_with_its_value() -> None:
    with pytest.raises(ValueError, match=re.escape("not a domain name: 'https://reddit.com'")):
        host_pattern("https://reddit.com")


def test_allow_hosts_come_from_the_rules_and_follow_a_reload(make_runtime) -> None:
    runtime = make_runtime()
    addon = Intercept(runtime)
    with taddons.context(addon) as tctx:
        addon.apply_rules()
        assert tctx.options.allow_hosts == allow_patterns(runtime.current_rules().intercepted_domains())
        assert addon.is_intercepted("old.reddit.com", 443)
        assert not addon.is_intercepted("bank.example", 443)

        runtime.paths.rules_file.write_text(rules_text().replace('"mastodon.social"', '"fosstodon.org"'))
        assert runtime.rules.reload()
        addon.apply_rules()
        assert addon.is_intercepted("fosstodon.org", 443)
        assert not addon.is_intercepted("mastodon.social", 443)
        assert any("fosstodon" in pattern for pattern in tctx.options.allow_hosts)


def test_requests_are_tagged_with_the_rules_domain_and_adapter(make_runtime) -> None:
    runtime = make_runtime()
    addon = Intercept(runtime)
    flow = tflow.tflow()
    flow.request.host = "old.reddit.com"
    addon.requestheaders(flow)
    assert flow.metadata[flows.SITE] == "reddit.com"
    assert flow.metadata[flows.ADAPTER] == "reddit"

    other = tflow.tflow()
    other.request.host = "bank.example"
    addon.requestheaders(other)
    assert flows.SITE not in other.metadata
    assert runtime.counters.get("flows_seen") == 2


def test_a_failure_to_find_the_site_passes_the_request_through_untouched_and_is_counted(
    make_runtime, monkeypatch
) -> None:
    """An exception in any hook is counted in /healthz (``passed_after_error``), not only logged by mitmproxy."""
    runtime = make_runtime()
    monkeypatch.setattr(runtime, "current_rules", lambda: 1 / 0)
    flow = tflow.tflow()
    flow.request.host = "old.reddit.com"
    Intercept(runtime).requestheaders(flow)
    assert flows.SITE not in flow.metadata and flow.response is None
    assert runtime.counters.get("passed_after_error") == 1


def test_site_domain_is_the_widest_rules_domain() -> None:
    assert site_domain("www.reddit.com", ["www.reddit.com", "reddit.com"]) == "reddit.com"
    assert site_domain("api.x.com", ["x.com", "api.x.com"]) == "x.com"


def test_alt_svc_is_stripped_so_browsers_stay_on_tcp(make_runtime) -> None:
    addon = Intercept(make_runtime())
    flow = tflow.tflow(resp=True)
    flow.response.headers["alt-svc"] = 'h3=":443"; ma=86400'
    addon.responseheaders(flow)
    assert "alt-svc" not in flow.response.headers


def udp_flow_to(address: tuple[str, int], sni: str | None) -> udp.UDPFlow:
    flow = tflow.tudpflow()
    flow.server_conn.address = address
    flow.server_conn.sni = sni
    return flow


def test_udp_to_an_intercepted_site_is_dropped_and_other_udp_is_left_alone(make_runtime) -> None:
    addon = Intercept(make_runtime())
    with taddons.context(addon):
        addon.apply_rules()
        by_sni = udp_flow_to(("203.0.113.7", 443), "www.reddit.com")
        by_address = udp_flow_to(("old.reddit.com", 443), None)
        other = udp_flow_to(("quic.bank.example", 443), "quic.bank.example")
        for flow in (by_sni, by_address, other):
            addon.udp_start(flow)

    for dropped in (by_sni, by_address):
        assert dropped.error is not None and dropped.error.msg == Error.KILLED_MESSAGE
        assert not dropped.live
    assert other.error is None and other.live


def quic_data_for(sni: str, provided: QuicTlsSettings | None) -> QuicTlsData:
    client = tflow.tclient_conn()
    client.sni = sni
    context = Context(client, Options())
    context.server.address = (sni, 443)
    return QuicTlsData(client, context, settings=provided)


@pytest.mark.parametrize("provided", [None, QuicTlsSettings()], ids=["before-tls-addon", "after-tls-addon"])
def test_quic_with_an_intercepted_site_gets_settings_that_refuse_it(make_runtime, provided) -> None:
    addon = Intercept(make_runtime())
    with taddons.context(addon):
        addon.apply_rules()
        refused = quic_data_for("www.reddit.com", provided)
        other = quic_data_for("quic.bank.example", provided)
        addon.quic_start_client(refused)
        addon.quic_start_client(other)

    assert isinstance(refused.settings, RefusedQuic) and not refused.settings
    assert other.settings is provided


def test_only_the_refusals_breather_made_are_taken_out_of_the_error_log() -> None:
    refusals = RefusalNotAnError()
    refusals.refused.append(("127.0.0.1", 5000))

    def record(client: tuple[str, int]) -> logging.LogRecord:
        made = logging.LogRecord(
            "mitmproxy.proxy.server", logging.ERROR, __file__, 1, RefusalNotAnError.MESSAGE, (), None
        )
        made.client = client
        return made

    ours, theirs = record(("127.0.0.1", 5000)), record(("127.0.0.1", 6000))
    assert refusals.filter(ours) and refusals.filter(theirs), "nothing is dropped, only re-levelled"
    assert (ours.levelno, theirs.levelno) == (logging.DEBUG, logging.ERROR)
    again = record(("127.0.0.1", 5000))
    refusals.filter(again)
    assert again.levelno == logging.ERROR, "each refusal covers one handshake"
