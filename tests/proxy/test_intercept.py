from __future__ import annotations

import re

import pytest
from mitmproxy.test import taddons, tflow

from breather.proxy import flows
from breather.proxy.intercept import Intercept, allow_patterns, host_pattern, site_domain
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


def test_site_domain_is_the_widest_rules_domain() -> None:
    assert site_domain("www.reddit.com", ["www.reddit.com", "reddit.com"]) == "reddit.com"
    assert site_domain("api.x.com", ["x.com", "api.x.com"]) == "x.com"


def test_alt_svc_is_stripped_so_browsers_stay_on_tcp(make_runtime) -> None:
    addon = Intercept(make_runtime())
    flow = tflow.tflow(resp=True)
    flow.response.headers["alt-svc"] = 'h3=":443"; ma=86400'
    addon.responseheaders(flow)
    assert "alt-svc" not in flow.response.headers
