"""Calm on Mastodon's live WebSocket stream, which is how its web client gets new posts and notifications.

A WebSocket outlives the request that opened it, so whether calm applies is decided again as messages arrive (at
most every ``RECHECK_S`` seconds per connection), on the rules' own decision: calm applies where quiet hours or a limit
are in force and the site is open past them (an override, a grant), and the stream goes back to byte-for-byte when
they end. While the block itself holds, ``Boundaries`` drops every message before it gets here. Server messages are
calmed by :func:`breather.proxy.calm_stream.calm_socket_message`: counters zeroed in statuses, conversations read,
notifications held back. Anything unexpected leaves the message as it came (fail open) and is counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.boundaries import BLOCKING, Boundaries
from breather.proxy.calm_stream import calm_socket_message
from breather.runtime import Runtime

log = logging.getLogger(__name__)

RECHECK_S = 15.0
CALM_UNTIL = "breather.calm_live"  # flow.metadata: (calm now?, monotonic time of the next check)

Decide = Callable[..., Any]
"""``Boundaries.decide``: (profile, site, at, past_overrides=...) -> decision."""


class CalmLive:
    def __init__(self, runtime: Runtime, decide: Decide | None = None) -> None:
        self.runtime = runtime
        self.decide = decide or Boundaries(runtime).decide

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None or not flow.websocket.messages:
            return
        if flow.metadata.get(flows.ADAPTER) != "mastodon" or flows.site_of(flow) is None:
            return
        message = flow.websocket.messages[-1]
        if message.from_client or not message.is_text or message.dropped:
            return
        try:
            if not self._calm_now(flow):
                return
            verdict = calm_socket_message(message.text)
        except Exception:
            log.exception("calm failed on a stream message from %s; sending it as it was", flow.request.host)
            self.runtime.counters.increment("passed_after_error")
            return
        if verdict is None:
            return
        if verdict.hold:
            message.drop()
        elif verdict.text is not None:
            message.text = verdict.text

    def _calm_now(self, flow: http.HTTPFlow) -> bool:
        now = time.monotonic()
        cached = flow.metadata.get(CALM_UNTIL)
        if isinstance(cached, tuple) and now < cached[1]:
            return bool(cached[0])
        calm = self._calm_for(flow)
        flow.metadata[CALM_UNTIL] = (calm, now + RECHECK_S)
        return calm

    def _calm_for(self, flow: http.HTTPFlow) -> bool:
        rules = self.runtime.current_rules()
        profile_name = flows.profile_of(flow) or rules.default_profile
        if not rules.profile(profile_name).calm:
            return False
        site = flows.site_of(flow) or ""
        return self.decide(profile_name, site, datetime.now(UTC), past_overrides=False).kind in BLOCKING
