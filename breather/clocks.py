"""A clock for durations promised to a person, which a closed laptop lid must not stretch.

``time.monotonic()`` stops while the machine is suspended on Linux and macOS. That is right for a short wait inside
one burst of work (a per-response time budget, a cache checked every few seconds), but wrong for "try again in 30
seconds" or the service's uptime: after a night asleep, the pause would still have its 30 awake seconds to run and the
uptime would be hours short. :func:`monotonic_including_sleep` counts the time asleep too.
"""

from __future__ import annotations

import sys
import time


def monotonic_including_sleep() -> float:
    """Seconds on a clock that never goes back (a change of the wall clock does not move it) and goes on counting
    while the machine is suspended or hibernating. Only differences between two readings mean anything.

    What each platform gives:

    - Linux: ``clock_gettime(CLOCK_BOOTTIME)``, CLOCK_MONOTONIC plus the time spent suspended (Linux 2.6.39 and
      later). ``time.monotonic()`` there is CLOCK_MONOTONIC, which stops while suspended.
    - macOS: ``clock_gettime(CLOCK_MONOTONIC)``, which Apple's clock_gettime(3) says goes on counting while the
      system is asleep. ``time.monotonic()`` there is ``mach_absolute_time()``, which does not (CPython issue 85475).
    - Windows: ``time.monotonic()`` itself, which counts sleep and hibernation already: it is ``GetTickCount64()``
      up to Python 3.12 (Microsoft: its elapsed time "includes time the system spends in sleep or hibernation") and
      ``QueryPerformanceCounter()`` from 3.13, which is reported to count it too (Swift's issue 63224).
    - Anywhere else, or where the clock above cannot be read: ``time.monotonic()``, counting sleep or not as that
      platform's does.
    """
    if _CLOCK_ID is None:
        return time.monotonic()
    return time.clock_gettime(_CLOCK_ID)


def clock_id_including_sleep(platform: str) -> int | None:
    """The ``clock_gettime`` clock that counts time asleep on ``platform`` (a ``sys.platform`` value), or None when
    ``time.monotonic()`` is the best there is."""
    if platform.startswith("linux"):
        return _readable(getattr(time, "CLOCK_BOOTTIME", None))
    if platform == "darwin":
        return _readable(getattr(time, "CLOCK_MONOTONIC", None))
    return None


def _readable(clock_id: int | None) -> int | None:
    """``clock_id`` when this machine reads it (a kernel older than the clock answers EINVAL), else None."""
    if clock_id is None:
        return None
    try:
        time.clock_gettime(clock_id)
    except OSError:
        return None
    return clock_id


_CLOCK_ID = clock_id_including_sleep(sys.platform)
