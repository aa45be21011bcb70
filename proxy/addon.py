"""Breather's mitmproxy addons, in the order they see each flow.

``breather serve`` calls :func:`make_addons` with its runtime. The file also works on its own as
``mitmdump -s proxy/addon.py``: then it builds a runtime from the default Breather home (rules file, usage store)
and starts/stops the rules watcher and the store writer with mitmproxy.
"""

from __future__ import annotations

import logging
from typing import Any

from breather.proxy.boundaries import Boundaries
from breather.proxy.calm_live import CalmLive
from breather.proxy.feed_warnings import FeedWarnings
from breather.proxy.identity import Identity
from breather.proxy.intercept import Intercept
from breather.proxy.lifecycle import Lifecycle
from breather.proxy.live_events import LiveEvents
from breather.proxy.local_api import LocalApi
from breather.proxy.overlay import Overlay
from breather.runtime import Runtime, StoreUsage

log = logging.getLogger(__name__)


def make_addons(runtime: Runtime) -> list[Any]:
    """Intercept (which site) → Identity (who) → LocalApi (answers /__breather__/) → Boundaries (limits, quiet
    hours, breaks) → FeedWarnings (content warnings) → LiveEvents (the same on
    server-sent event streams, streamed live) → CalmLive (calm on live WebSocket streams) → Overlay
    (injected last, into the final HTML) → Lifecycle."""
    boundaries = Boundaries(runtime)
    feed_warnings = FeedWarnings(runtime)
    return [
        Intercept(runtime),
        Identity(runtime),
        LocalApi(runtime, decide=boundaries.decide),
        boundaries,
        feed_warnings,
        LiveEvents(runtime, feed_warnings),
        CalmLive(runtime, decide=boundaries.decide),
        Overlay(runtime),
        Lifecycle(runtime),
    ]


class Standalone:
    """Owns the runtime's threads when the addons run inside plain mitmdump rather than ``breather serve``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.usage = StoreUsage(runtime)

    def running(self) -> None:
        self.runtime.rules.start()
        self.usage.start()

    def done(self) -> None:
        self.usage.stop()
        self.runtime.rules.stop()
        if self.runtime.writer is not None:
            self.runtime.writer.close()


def standalone_addons() -> list[Any]:
    from breather import settings as breather_settings
    from breather.paths import Paths
    from breather.service import build_runtime

    runtime = build_runtime(Paths.resolve(), breather_settings.resolve())
    return [Standalone(runtime), *make_addons(runtime)]


if __name__.startswith("__mitmproxy_script__"):
    addons = standalone_addons()
