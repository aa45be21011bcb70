"""The machine suspended, as its clocks see it: the clock that counts time asleep jumps, ``time.monotonic()`` (which
stops while suspended on Linux and macOS) does not."""

from __future__ import annotations

import sys
import time

import pytest

from breather.clocks import clock_id_including_sleep


def sleep_through(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """From now on, the clock that counts time asleep reads ``seconds`` later than it would have."""
    asleep = clock_id_including_sleep(sys.platform)
    assert asleep is not None, "here time.monotonic() counts time asleep itself: there is no suspend to tell apart"
    read = time.clock_gettime

    def clock_gettime(clock_id: int) -> float:
        return read(clock_id) + (seconds if clock_id == asleep else 0.0)

    monkeypatch.setattr(time, "clock_gettime", clock_gettime)
