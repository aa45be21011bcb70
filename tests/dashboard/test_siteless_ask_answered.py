"""A yes to an ask for more time that names no site. Breather 0.1.0's extension asked "5 more minutes" with no
social tab in front and 0.1.0 stored the ask as it came; after the update the parent said yes and read "Said yes to
sam: more time on their sites until 14:10", and sam stayed at the limit everywhere. The yes lifts sam's limits on
every site of the rules until the time granted, never quiet hours, and a restart gives it back."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from breather import settings as breather_settings
from breather.paths import Paths
from breather.rules.watcher import RulesWatcher
from breather.runtime import Runtime
from breather.service import restore_what_still_runs
from breather.store.model import Event
from breather.store.writer import Writer
from tests.dashboard.conftest import PASSPHRASE, flat, form_token, set_passphrase, write_by_hand
from tests.proxy.test_grants_and_overrides import (
    QUIET_NOW,
    REDDIT_HOSTS,
    dashboard,
    family,
    read_the_store,
    use_up_the_limit,
    what_opens,
)

EVERY_HOST = (*REDDIT_HOSTS, "www.youtube.com")


@pytest.fixture
def make_runtime(breather_home: Path) -> Iterator[Callable[[str], Runtime]]:
    """A service's runtime on the test's home (each call a new start of the service), with a real writer."""
    writers: list[Writer] = []

    def make(rules: str) -> Runtime:
        paths = Paths.resolve(breather_home).ensure()
        paths.rules_file.write_text(rules, encoding="utf-8")
        writer = Writer(paths.database, flush_ms=50).start()
        writers.append(writer)
        settings = breather_settings.resolve({})
        return Runtime(paths=paths, settings=settings, rules=RulesWatcher(paths.rules_file), writer=writer)

    yield make
    for writer in writers:
        writer.close()


def sam_at_the_limit_with_a_siteless_ask(runtime: Runtime) -> None:
    """Sam past the limit on every site, and an ask with no site waiting, stored as 0.1.0 stored it."""
    use_up_the_limit(runtime, "sam")
    use_up_the_limit(runtime, "alex")
    assert [what_opens(runtime, "sam", host) for host in EVERY_HOST] == ["limit_reached"] * 4
    runtime.writer.event(Event("sam", "more_time_asked", datetime.now(UTC), detail={"minutes": 5}))
    assert runtime.writer.flush(5)


def say_yes_for_an_hour(client: FlaskClient) -> str:
    """The parent's yes on the Requests page; returns what the page then says."""
    set_passphrase(client)
    page = client.get("/requests").get_data(as_text=True)
    assert "sam asks for 5 more minutes on their sites" in flat(page)
    found = re.search(r"/requests/(\d+)/approve", page)
    assert found
    form = {"csrf_token": form_token(client, "/requests"), "grant": "60", "passphrase": PASSPHRASE}
    done = client.post(f"/requests/{found.group(1)}/approve", data=form, follow_redirects=True)
    said = re.search(r"Said yes to sam[^<]*", flat(done.get_data(as_text=True)))
    assert said, "no confirmation of the yes"
    return said.group(0)


def test_a_yes_to_an_ask_without_a_site_lifts_sams_limits_on_every_site(make_runtime) -> None:
    runtime = make_runtime(family())
    sam_at_the_limit_with_a_siteless_ask(runtime)

    said = say_yes_for_an_hour(dashboard(runtime))

    assert re.fullmatch(
        r"Said yes to sam: their time limits are lifted on every site until \d\d:\d\d; quiet hours still apply\.", said
    )
    assert [what_opens(runtime, "sam", host) for host in EVERY_HOST] == ["the site"] * 4
    assert what_opens(runtime, "alex") == "limit_reached", "the yes is sam's"
    write_by_hand(runtime.paths.rules_file, family(sam=QUIET_NOW))
    assert runtime.rules.reload()
    assert [what_opens(runtime, "sam", host) for host in EVERY_HOST] == ["quiet_hours"] * 4


def test_a_restart_gives_the_yes_back_on_every_site(make_runtime) -> None:
    before = make_runtime(family())
    sam_at_the_limit_with_a_siteless_ask(before)
    say_yes_for_an_hour(dashboard(before))
    assert before.writer.flush(5)

    after = make_runtime(family())  # a new service on the same home: nothing in memory
    restore_what_still_runs(after)
    read_the_store(after)

    assert [what_opens(after, "sam", host) for host in EVERY_HOST] == ["the site"] * 4


NEW_SITE = """
[sites.x]
adapter = "twitter"
domains = ["x.com"]
"""


def test_a_site_added_to_the_rules_during_the_yes_is_covered_too(make_runtime) -> None:
    """The yes is for every site: one added to the rules while it runs (at the limit too, since the daily limit
    counts every site) opened only after a restart brought the yes back."""
    runtime = make_runtime(family())
    sam_at_the_limit_with_a_siteless_ask(runtime)
    say_yes_for_an_hour(dashboard(runtime))

    write_by_hand(runtime.paths.rules_file, family() + NEW_SITE)
    assert runtime.rules.reload()

    assert what_opens(runtime, "alex", "x.com") == "limit_reached", "the new site is under the daily limit"
    assert what_opens(runtime, "sam", "x.com") == "the site"
    today = dashboard(runtime).get("/?member=sam").get_data(as_text=True)
    assert "every site: more time (yes) until" in flat(today)
