"""Under plain ``mitmdump -s proxy/addon.py`` Breather's settings that mean something inside a running proxy are
mitmproxy options (``--set breather_body_size_cap=…``): declared from ``breather.settings``, defaulting to what the
``BREATHER_*`` variables say, checked by the settings' own parsers. The real mitmdump runs in
``tests/e2e/test_proxy_mitmdump.py``."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from breather.proxy import addon
from breather.proxy.addon import Standalone
from breather.proxy.feed_warnings import FeedWarnings
from breather.settings import setting
from breather.store.model import Event
from tests.proxy.test_feed_warnings import DISTRESSING, GENEROUS, listing, posts, reddit_flow

PROXY_SETTINGS = ("body_size_cap", "classify_budget_ms", "log_level", "writer_flush_ms")


@pytest.fixture(autouse=True)
def breather_log_levels() -> Iterator[None]:
    """``breather_log_level`` sets the level of Breather's loggers, which outlive the test."""
    loggers = [logging.getLogger(name) for name in addon.BREATHER_LOGGERS]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def marked(runtime: Any, flow: Any) -> list[bool]:
    asyncio.run(FeedWarnings(runtime).response(flow))
    return [post.get("spoiler", False) for post in posts(flow)]


def test_each_setting_a_running_proxy_reads_is_an_option_with_the_setting_s_help(make_runtime) -> None:
    standalone = Standalone(make_runtime())
    with taddons.context(standalone) as tctx:
        for name in PROXY_SETTINGS:
            option = tctx.options._options[f"breather_{name}"]
            assert option.help == setting(name).help
            assert option.default == str(setting(name).default)
        # mitmproxy's own listen_host and listen_port say where mitmdump listens, and it serves no dashboard
        assert not {"breather_listen_host", "breather_proxy_port", "breather_web_port"} & set(tctx.options.keys())


def test_the_options_default_to_what_the_environment_says(make_runtime, monkeypatch) -> None:
    monkeypatch.setenv("BREATHER_BODY_SIZE_CAP", "1234")
    monkeypatch.setenv("BREATHER_LOG_LEVEL", "warning")
    standalone = Standalone(make_runtime())
    with taddons.context(standalone) as tctx:
        assert tctx.options.breather_body_size_cap == "1234"
        assert tctx.options.breather_log_level == "WARNING"


def test_a_small_body_size_cap_lets_a_feed_pass_unchanged_and_counted(make_runtime) -> None:
    runtime = make_runtime(**GENEROUS)
    standalone = Standalone(runtime)
    assert marked(runtime, reddit_flow(listing(DISTRESSING))) == [True]
    with taddons.context(standalone) as tctx:
        tctx.configure(standalone, breather_body_size_cap="100")
    flow = reddit_flow(listing(DISTRESSING))
    before = flow.response.raw_content
    assert marked(runtime, flow) == [False]
    assert flow.response.raw_content == before
    assert runtime.settings["body_size_cap"] == 100
    assert runtime.counters.get("passed_over_cap") == 1


def test_a_spent_classify_budget_leaves_the_rest_of_the_feed_unmarked(make_runtime) -> None:
    runtime = make_runtime(**GENEROUS)
    standalone = Standalone(runtime)
    titles = (DISTRESSING, DISTRESSING + " again", DISTRESSING + " and again")
    assert marked(runtime, reddit_flow(listing(*titles))) == [True, True, True]
    with taddons.context(standalone) as tctx:
        tctx.configure(standalone, breather_classify_budget_ms="0")
    assert marked(runtime, reddit_flow(listing(*titles))) == [True, False, False]
    assert runtime.counters.get("classify_budget_hit") == 1


def test_the_log_level_quiets_breather_s_loggers(make_runtime) -> None:
    runtime = make_runtime()
    standalone = Standalone(runtime)
    feed_log = logging.getLogger("breather.proxy.feed_warnings")
    with taddons.context(standalone) as tctx:
        tctx.configure(standalone, breather_log_level="info")
        assert feed_log.isEnabledFor(logging.INFO)
        tctx.configure(standalone, breather_log_level="warning")
    assert not feed_log.isEnabledFor(logging.INFO)
    assert feed_log.isEnabledFor(logging.WARNING)
    assert runtime.settings["log_level"] == "WARNING"


def events_stored(runtime: Any) -> int:
    with sqlite3.connect(runtime.paths.database) as connection:
        return int(connection.execute("select count(*) from events").fetchone()[0])


def stored_within(runtime: Any, count: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while events_stored(runtime) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_the_writer_commits_at_the_new_flush_interval(make_runtime) -> None:
    runtime = make_runtime()
    standalone = Standalone(runtime)
    event = Event(profile="me", kind="warning_shown", at=datetime.now(UTC), site="reddit.com")
    with taddons.context(standalone) as tctx:
        tctx.configure(standalone, breather_writer_flush_ms="20")
        runtime.log_event(event)
        assert stored_within(runtime, 1, 5)
        tctx.configure(standalone, breather_writer_flush_ms="600000")  # ten minutes
        runtime.log_event(event)
        assert not stored_within(runtime, 2, 1)
    assert runtime.settings["writer_flush_ms"] == 600000


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "breather_classify_budget_ms",
            "-5",
            "breather_classify_budget_ms: expected a whole number (0 or more), got '-5'",
        ),
        ("breather_body_size_cap", "4MB", "breather_body_size_cap: expected a whole number (0 or more), got '4MB'"),
        ("breather_writer_flush_ms", "0", "breather_writer_flush_ms: expected a whole number (1 or more), got '0'"),
        ("breather_log_level", "loud", "breather_log_level: expected one of DEBUG, INFO, WARNING, ERROR, got 'loud'"),
    ],
)
def test_a_bad_value_is_refused_by_name_and_the_old_one_stays(make_runtime, option, value, message) -> None:
    runtime = make_runtime()
    standalone = Standalone(runtime)
    before = dict(runtime.settings)
    with taddons.context(standalone) as tctx:
        old = getattr(tctx.options, option)
        with pytest.raises(exceptions.OptionsError) as refused:
            tctx.configure(standalone, **{option: value})
        assert str(refused.value) == message
        assert getattr(tctx.options, option) == old
    assert runtime.settings == before


def test_one_bad_value_among_several_changes_none_of_them(make_runtime) -> None:
    runtime = make_runtime()
    standalone = Standalone(runtime)
    with taddons.context(standalone) as tctx:
        with pytest.raises(exceptions.OptionsError, match="breather_log_level"):
            tctx.configure(standalone, breather_body_size_cap="100", breather_log_level="loud")
        assert tctx.options.breather_body_size_cap == str(setting("body_size_cap").default)
    assert runtime.settings["body_size_cap"] == setting("body_size_cap").default
