"""The clock for durations promised to a person counts the hours a laptop spends asleep; time.monotonic() does not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from breather.clocks import clock_id_including_sleep, monotonic_including_sleep
from breather.paths import Paths
from breather.runtime import Runtime
from tests.breather.suspend import sleep_through

NIGHT_S = 8 * 3600.0


def test_a_night_asleep_counts_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    before, awake_before = monotonic_including_sleep(), time.monotonic()
    sleep_through(monkeypatch, NIGHT_S)
    after, awake_after = monotonic_including_sleep(), time.monotonic()
    assert after - before >= NIGHT_S
    assert awake_after - awake_before < 60


def test_each_platform_reads_the_clock_that_counts_sleep_there() -> None:
    assert clock_id_including_sleep("linux") == time.CLOCK_BOOTTIME
    assert clock_id_including_sleep("darwin") == time.CLOCK_MONOTONIC  # time.monotonic() is mach_absolute_time() there
    assert clock_id_including_sleep("win32") is None  # time.monotonic() counts sleep there already


def test_healthz_uptime_includes_a_night_asleep(breather_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = Runtime(paths=Paths.resolve().ensure(), settings={"listen_host": "127.0.0.1"}, rules=None)
    sleep_through(monkeypatch, NIGHT_S)
    assert runtime.health()["uptime_s"] >= NIGHT_S
