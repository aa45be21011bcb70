"""`/healthz` (answered to any program on the machine) says where the rules are broken, not what was typed there."""

from __future__ import annotations

import json
from pathlib import Path

from breather.paths import Paths
from breather.rules.loader import default_rules_text
from breather.rules.watcher import RulesWatcher
from breather.runtime import Runtime


def test_a_broken_value_is_located_but_not_repeated(breather_home: Path) -> None:
    """A child's own words typed into rules.toml must not reach every program that asks `/healthz` how it is."""
    paths = Paths.resolve().ensure()
    good = default_rules_text()
    paths.rules_file.write_text(good, encoding="utf-8")
    watcher = RulesWatcher(paths.rules_file, last_good=paths.last_good_rules)
    runtime = Runtime(paths=paths, settings={"listen_host": "127.0.0.1"}, rules=watcher)

    assert 'daily_limit = "1h"' in good
    paths.rules_file.write_text(good.replace('daily_limit = "1h"', 'daily_limit = "crush on Alex from 9B"', 1))
    watcher.reload()

    health = runtime.health()  # the body /healthz serves
    said = health["rules"]["last_error"]
    assert said is not None and "rules.toml:" in said and "daily_limit" in said
    served = json.dumps(health)
    assert "crush" not in served and "9B" not in served
    assert "crush" in str(watcher.last_error)  # the person's own `breather rules check` still shows it
