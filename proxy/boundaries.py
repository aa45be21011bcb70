"""Limits, quiet hours and break reminders, decided on each request to an intercepted site.

The decision itself is ``breather.rules.decisions.decide`` (pure), fed with the profile's in-memory usage, past the
member's running overrides and grants. During a limit or quiet hours no request reaches the site: a page load (a
tab's or a frame's, an ``<embed>``'s or an ``<object>``'s) gets Breather's block page (in a frame, one without its
token or buttons: the site's own script can read a frame of its origin), anything else (a script's fetch, an image,
a WebSocket upgrade, a client that does not say) a short 403, and a WebSocket or event stream opened before the
block began carries nothing more while it holds. A break that is due, or a heavy run of distressing posts, is marked
on the flow so the overlay shows the break interstitial. Topic quiet hours are passed on to the content-warning
step. Fail closed: a boundary holds even when something else on the page breaks.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.breaks import due_break
from breather.proxy.feed_warnings import crisis_for
from breather.proxy.pages import BlockPage, block_response, framed_block_response, new_token, refusal_response
from breather.runtime import PendingOverride, Runtime, Session, decide_past_overrides, usage_for

log = logging.getLogger(__name__)

BLOCKING = {"limit_reached": "limit_reached", "quiet_hours": "quiet_hours_blocked"}
# A block page reloaded within this long is the same block, logged once (the weekly review counts blocks, not reloads).
BLOCK_EVENT_GAP = timedelta(minutes=30)
# How long a block page's "open anyway" and "ask" keep working without a reload.
BLOCK_TOKEN_LIFETIME = timedelta(hours=12)
# ...and how many block pages are remembered at most: one token per page load, and a soak test reloaded the block
# page for hours (the oldest pages go first; a page that old asks for a reload).
MOST_BLOCK_TOKENS = 500
# /healthz: requests of a blocked site answered with a refusal instead of the site (not page loads: pages_served)
REFUSED = "requests_refused"
# A WebSocket or event stream outlives its request: whether its site is blocked is asked again at most this often.
STREAM_RECHECK_S = 5.0
HELD_UNTIL = "breather.held"  # flow.metadata: (blocked now?, monotonic time of the next check)
# ``Sec-Fetch-Dest`` of a page shown inside another page: it gets the block page without a token or buttons
FRAME_DESTINATIONS = frozenset({"iframe", "frame", "embed", "object"})


class Boundaries:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def decide(self, profile_name: str, site: str, at: datetime, past_overrides: bool = True) -> Any:
        """What the member meets on ``site`` at ``at``: the rules' decision, past their running overrides and grants
        (each lifts only the block it was given at). Page loads, every other request, the overlay's heartbeats and
        live streams all ask here, so a tab, a page load and the extension's status agree (and breaks run during
        extra time). ``past_overrides=False``: the rules' own decision, which calm reads (a site open past a block
        is calmed)."""
        rules_say, met = self._decisions(profile_name, site, at)
        return met if past_overrides else rules_say

    def _decisions(self, profile_name: str, site: str, at: datetime) -> tuple[Any, Any]:
        """The rules' own decision and what the member meets past overrides and grants (one and the same unless
        the rules block)."""
        from breather.rules.decisions import decide

        rules = self.runtime.current_rules()
        profile = rules.profile(profile_name)
        session = self.runtime.sessions.read(profile_name)
        usage = usage_for(session, rules, at)
        decision = decide(rules, profile, site, at, usage)
        if decision.kind not in BLOCKING:
            return decision, decision
        return decision, decide_past_overrides(rules, profile, site, at, usage, session)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """A body over the size cap is streamed to the site as it arrives, before ``request`` runs: a blocked site's
        upload is cut off here instead (mitmproxy cannot answer a request it already streams)."""
        site = flows.site_of(flow)
        if not flow.request.stream or flow.response is not None or site is None or flows.is_local_api(flow):
            return
        if self.blocked_now(flow):
            log.info("cut off a large upload to %s: the site is blocked now", site)
            flow.kill()
            self.runtime.counters.increment(REFUSED)

    def request(self, flow: http.HTTPFlow) -> None:
        site = flows.site_of(flow)
        if flow.response is not None or site is None or flows.is_local_api(flow):
            return
        try:
            self._apply(flow, site)
        except Exception:
            log.exception("deciding boundaries for %s failed; letting the request through", site)
            self.runtime.counters.increment("passed_after_error")

    def _apply(self, flow: http.HTTPFlow, site: str) -> None:
        rules = self.runtime.current_rules()
        profile = flows.profile_of(flow) or rules.default_profile
        now = datetime.now(UTC)
        rules_say, decision = self._decisions(profile, site, now)
        flow.metadata[flows.HIDDEN_TOPICS] = frozenset(getattr(decision, "hidden_topics", ()) or ())
        # calm takes the pull out of a site the rules would block, seen past an override or a grant
        flow.metadata[flows.CALM_WINDOW] = rules_say.kind in BLOCKING and rules.profile(profile).calm
        document = flows.is_document_request(flow)
        if document:
            self.runtime.counters.increment("documents_seen")
        if decision.kind in BLOCKING:
            # Not a visit: time in front of Breather's own page is not time on the site.
            if flows.is_page_load(flow) or is_frame_load(flow):
                self._block(flow, rules.profile(profile), site, decision, now)
            else:
                self._refuse(flow, site, decision)
            return
        if not document:
            return
        self._log_visit(profile, site, now)
        self._mark_break(flow, profile, self.runtime.sessions.read(profile), decision, now)

    def _block(self, flow: http.HTTPFlow, profile: Any, site: str, decision: Any, now: datetime) -> None:
        # A HEAD gets the page's headers only (``HeadAnswers`` drops the body): nobody meets that page, so it issues
        # no token, logs no block and counts as a refused request, not a page served.
        seen = flow.request.method != "HEAD"
        crisis = crisis_for(profile, self.runtime.paths.config_dir)
        if is_frame_load(flow):
            flow.response = framed_block_response(decision.kind, site, decision.message, crisis)
        else:
            page = BlockPage(
                kind=decision.kind,
                site=site,
                reason=decision.message,
                friction_s=int(decision.friction_delay.total_seconds()),
                # a token the proxy does not know still has a real one's length: so has the HEAD's Content-Length
                token=self._issue_token(profile.name, site, decision, now) if seen else new_token(),
                can_ask=len(self.runtime.current_rules().profiles) > 1,
                open_anyway=profile.open_anyway,
                crisis=crisis,
            )
            # without the header (an older browser) a frame cannot be told from a tab: framing stays allowed
            flow.response = block_response(page, refuse_frames=flow.request.headers.get("sec-fetch-dest") == "document")
        flow.metadata[flows.OWN_PAGE] = True
        if not seen:
            self.runtime.counters.increment(REFUSED)
            return
        self.runtime.counters.increment("pages_served")
        if self._first_block_in_a_while(profile.name, site, decision.kind, now):
            self._event(profile.name, BLOCKING[decision.kind], site, now)

    def _issue_token(self, profile: str, site: str, decision: Any, now: datetime) -> str:
        """The token a tab's block page presses "Open anyway" and asks for the answer with."""
        token = new_token()
        self._forget_old_tokens(now)
        self.runtime.block_tokens[token] = PendingOverride(
            token, profile, site, decision.kind, now, decision.friction_delay
        )
        return token

    def _refuse(self, flow: http.HTTPFlow, site: str, decision: Any) -> None:
        """A script's request, an image, a WebSocket upgrade: a short 403, never the site. Counted, not logged as an
        event: a blocked page's scripts retry many times a minute, and the weekly review counts blocks, which the
        block page logs."""
        flow.response = refusal_response(decision.kind, site, decision.message)
        flow.metadata[flows.OWN_PAGE] = True
        self.runtime.counters.increment(REFUSED)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        """A WebSocket opened before the block began (a tab left open) carries nothing either way while the block
        holds; its messages flow again once it ends (an override, a grant, the end of quiet hours)."""
        if flow.websocket is None or not flow.websocket.messages or flows.site_of(flow) is None:
            return
        message = flow.websocket.messages[-1]
        if not message.dropped and self.blocked_now(flow):
            message.drop()

    def blocked_now(self, flow: http.HTTPFlow) -> bool:
        """For a connection that outlives its request (a WebSocket, an event stream): whether its site is blocked
        for the flow's member now, asked again at most every ``STREAM_RECHECK_S`` seconds. A failure to decide lets
        it through, as for a request."""
        now = time.monotonic()
        cached = flow.metadata.get(HELD_UNTIL)
        if isinstance(cached, tuple) and now < cached[1]:
            return bool(cached[0])
        site = flows.site_of(flow)
        if site is None:
            return False
        try:
            profile = flows.profile_of(flow) or self.runtime.current_rules().default_profile
            blocked = self.decide(profile, site, datetime.now(UTC)).kind in BLOCKING
        except Exception:
            log.exception("deciding boundaries for a live connection to %s failed; letting it through", site)
            self.runtime.counters.increment("passed_after_error")
            blocked = False
        if blocked and not (isinstance(cached, tuple) and cached[0]):
            log.info("holding a live connection to %s: the site is blocked now", site)
        flow.metadata[HELD_UNTIL] = (blocked, now + STREAM_RECHECK_S)
        return blocked

    def _forget_old_tokens(self, now: datetime) -> None:
        """A block page's token is kept while the page may still be open; without this, every block page ever shown
        would stay in memory for the service's life."""
        tokens = self.runtime.block_tokens
        for token in [token for token, page in tokens.items() if now - page.issued_at > BLOCK_TOKEN_LIFETIME]:
            tokens.pop(token, None)
        # room for the page about to be shown; insertion order puts the oldest first
        for token in list(tokens)[: max(0, len(tokens) + 1 - MOST_BLOCK_TOKENS)]:
            tokens.pop(token, None)

    def _first_block_in_a_while(self, profile: str, site: str, kind: str, now: datetime) -> bool:
        """One event per block, not per reload of the block page: again only after BLOCK_EVENT_GAP."""
        key = (profile, site, kind)
        last = self.runtime.blocks_logged.get(key)
        self.runtime.blocks_logged[key] = now
        return last is None or now - last >= BLOCK_EVENT_GAP

    def _mark_break(self, flow: http.HTTPFlow, profile: str, session: Session, decision: Any, now: datetime) -> None:
        max_snoozes = self.runtime.current_rules().profile(profile).max_snoozes
        due = due_break(session, decision, max_snoozes, now)
        if due is not None:
            flow.metadata[flows.BREAK_DUE] = due.to_dict()
        elif session.break_on_screen is not None:
            self.runtime.sessions.break_no_longer_due(profile)

    def _log_visit(self, profile: str, site: str, now: datetime) -> None:
        from breather.store.model import Heartbeat

        try:
            self.runtime.log_heartbeat(Heartbeat(profile, site, now, 0.0, "proxy"))
        except ValueError as exc:
            log.warning("not logging a visit: %s", exc)

    def _event(self, profile: str, kind: str, site: str, now: datetime) -> None:
        from breather.store.model import Event

        try:
            self.runtime.log_event(Event(profile, kind, now, site))
        except ValueError as exc:
            log.warning("not logging %s: %s", kind, exc)


def is_frame_load(flow: http.HTTPFlow) -> bool:
    """A page of the site asked for inside another page, as the browser says in ``Sec-Fetch-Dest``."""
    return not flows.is_local_api(flow) and flow.request.headers.get("sec-fetch-dest") in FRAME_DESTINATIONS
