"""A site adapter's name lives on both sides: the rules list the names a rules file may use
(``breather.rules.model.ADAPTERS``, which must not import the proxy) and the proxy's registry maps names to the
adapters that read responses. A name on one side only is a silent gap: ``breather rules check`` refuses the site
("unknown adapter"), or accepts it while the proxy never reads its posts. Steps: docs/adapters.md, "Adding a site".
"""

from __future__ import annotations

import pytest

from breather.proxy.adapters.registry import ADAPTER_NAMES, adapter_for
from breather.rules.loader import parse_rules
from breather.rules.model import ADAPTERS

CONTENT_TYPES = ("application/json", "text/html; charset=utf-8", "text/event-stream")


def rules_naming(adapter: str) -> str:
    return f'[sites.site]\nadapter = "{adapter}"\ndomains = ["example.org"]\n\n[profiles.me]\ndefault = true\n'


def test_a_rules_file_may_name_exactly_the_adapters_the_proxy_has() -> None:
    only_in_the_rules = set(ADAPTERS) - set(ADAPTER_NAMES)  # accepted, then its posts are never read
    only_in_the_proxy = set(ADAPTER_NAMES) - set(ADAPTERS)  # `breather rules check`: unknown adapter
    assert (only_in_the_rules, only_in_the_proxy) == (set(), set())


@pytest.mark.parametrize("name", ADAPTERS)
def test_every_adapter_a_rules_file_accepts_reads_some_response(name: str) -> None:
    group = parse_rules(rules_naming(name)).groups[0]
    assert group.adapter == name
    assert any(adapter_for(group.adapter, "/", content_type) for content_type in CONTENT_TYPES)


@pytest.mark.parametrize("name", ADAPTER_NAMES)
def test_xhtml_pages_are_read_by_no_adapter(name: str) -> None:
    """Warnings are HTML markup: in an XML page they make the browser refuse the whole page."""
    assert adapter_for(name, "/", "application/xhtml+xml; charset=utf-8") is None
