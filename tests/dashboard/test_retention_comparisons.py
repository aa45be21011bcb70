"""A comparison with a period retention has deleted: the members' ``profiles`` rows are never pruned, so the pages
took the deleted days for days of no use, and the same 30 minutes every evening read as thousands of per cent more."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from flask import Flask

from breather import scheduler
from breather.dashboard import context
from breather.store.model import Heartbeat
from breather.store.writer import Writer
from tests.dashboard.conftest import NOW, dashboard_app, flat

RULES = """\
[household]
timezone = "UTC"
retention_days = {days}

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com"]

[profiles.parent]
default = true

[profiles.teen]
user = "teen"
"""


@pytest.fixture
def household(breather_home: Path) -> Iterator[object]:
    """``make(retention_days, days)``: the teen on reddit 30 minutes every evening for ``days`` days up to today,
    then this morning's 03:30 prune; returns the dashboard on that home."""
    apps: list[Flask] = []

    def make(retention_days: int, days: int) -> Flask:
        rules_file = breather_home / "config" / "rules.toml"
        rules_file.parent.mkdir(parents=True, exist_ok=True)
        rules_file.write_text(RULES.format(days=retention_days), encoding="utf-8")
        app = next(dashboard_app(breather_home))
        apps.append(app)
        writer = Writer(app.config["DATABASE"], flush_ms=20).start()
        for back in reversed(range(days)):  # oldest first, as they happened
            evening = NOW.replace(hour=19) - timedelta(days=back)
            writer.heartbeat(Heartbeat("teen", "www.reddit.com", evening, duration_s=30 * 60))
        assert writer.flush(10)
        writer.call(scheduler.SCHEDULER_MIGRATIONS.apply).result(10)
        pruned_at = NOW.replace(hour=3, minute=30)
        writer.call(lambda db: scheduler.prune_old_data(db, pruned_at, retention_days, UTC)).result(10)
        writer.close()
        return app

    yield make
    for app in apps:
        context.close_own_writer(app)


def test_history_with_the_default_retention_does_not_compare_with_deleted_days(household) -> None:
    app = household(retention_days=90, days=200)
    page = flat(app.test_client().get("/history?days=90&member=teen").get_data(as_text=True))
    change = re.search(r'id="history-change">([^<]*)<', page)
    assert change is not None
    assert "more than" not in change.group(1), change.group(1)
    # why, in words: the days before were deleted, not unwatched (a user test read "Breather was not keeping records")
    assert "records are kept 90 days (on the Data page), so the period before is gone" in change.group(1)
    thirty = flat(app.test_client().get("/history?days=30&member=teen").get_data(as_text=True))
    kept = re.search(r'id="history-change">([^<]*)<', thirty)
    assert kept is not None and "nothing to compare" not in kept.group(1), "30 days before are kept: compared"


def test_the_weekly_review_with_a_one_week_retention_does_not_ask_what_changed(household) -> None:
    app = household(retention_days=7, days=60)
    client = app.test_client()
    review = flat(client.get("/review").get_data(as_text=True))
    points = re.search(r'id="talking-points">(.*?)</ol>', review)
    assert points is not None
    assert "What changed?" not in points.group(1), points.group(1)
    family = flat(client.get("/family").get_data(as_text=True))
    teen = family.split(">teen</h2>", 1)[1].split("</article>", 1)[0]
    compared = re.search(r"<dt>Change</dt><dd>([^<]*)</dd>", teen)
    assert compared is not None
    assert "more than" not in compared.group(1), compared.group(1)
