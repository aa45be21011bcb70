"""Time on a site counted from the site's own traffic, for a member whose overlay is not reporting.

Minutes come from the overlay's heartbeats (``LocalApi.heartbeat``) and the extension. Blocking the overlay's calls
(an ad-blocker rule on ``/__breather__/``), an app or a feed reader going through the proxy, or a page a service
worker serves have no overlay, and their time went uncounted, so the daily limit never came. Here the requests of
an intercepted site stand in for the heartbeats: while no overlay has been heard for that member on that site group
from that device for ``OVERLAY_SILENT``, the time between two of its requests at most ``TRAFFIC_GAP`` apart is
counted as use, into the store (source ``traffic``) and the in-memory session, as a heartbeat is. With the overlay
reporting nothing changes. The device (the client's address) keeps apart what one member does at once on two: a tab
left open on the laptop does not hide the phone app's minutes.

A page load gets ``OVERLAY_FIRST`` for its overlay to speak (its first heartbeat comes 30 s in): its time is held
meanwhile and counted only if the overlay stays silent, so an honest first half-minute is never counted twice or
early. Time the overlay's last heartbeat covered is never counted again; overlapping reports (the extension's) are
merged by the store, which counts a moment online once.

Only requests the site's own pages start are time on it: a browser says who started a request in
``Sec-Fetch-Site``, and another site's page that loads a pixel (Meta's ``www.facebook.com/tr``), an embedded post or
video, or a share button from an intercepted domain sends ``cross-site``. Such a request neither starts nor extends
a stretch (a reviewer's homework page on example.org, with a pixel from reddit every 10 s, closed reddit at its
1-minute limit, never opened), unless the page that made it is of the same site group (``bsky.app`` calling
``bsky.social``, said by its ``Origin`` or ``Referer``). A top-level page load counts whoever linked to it (the
member follows a link), and a request without the header (an app, a feed reader, curl) counts as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.local_api import HEARTBEAT_S, add_active_time
from breather.runtime import Runtime, group_name

log = logging.getLogger(__name__)

SOURCE = "traffic"
# Three missed heartbeats: the overlay is gone (blocked, or its page closed). A background tab's timers fire at
# most once a minute in Chromium, so an overlay that reports while hidden is still heard within this.
OVERLAY_SILENT = timedelta(seconds=90)
# How long a freshly loaded page's overlay has to send its first heartbeat (due 30 s after the page loads).
OVERLAY_FIRST = timedelta(seconds=45)
# Two requests further apart than this are two visits: the time between them is not use.
TRAFFIC_GAP = timedelta(seconds=60)
# Time is handed on in pieces of at least this much: a page load's hundred requests are not a hundred records.
COUNT_EVERY = timedelta(seconds=5)
# Entries idle this long are forgotten (looked at once a minute): memory stays bounded by who is online now.
FORGET_AFTER = timedelta(minutes=10)
SWEEP_EVERY = timedelta(minutes=1)
HEARTBEAT = timedelta(seconds=HEARTBEAT_S)
HEARTBEAT_CALL = "heartbeat"
# ``Sec-Fetch-Site`` of a request a page of the site itself started, or the member (``none``: typed, a bookmark)
STARTED_ON_THE_SITE = frozenset({"same-origin", "same-site", "none"})


@dataclass(slots=True)
class Stretch:
    """One member's run of requests to one site, none more than ``TRAFFIC_GAP`` after the one before."""

    last: datetime  # the latest request
    counted_to: datetime  # time before this is counted, or was never to be
    waiting_since: datetime | None  # the first page load whose overlay has not been heard yet


class TrafficTime:
    def __init__(self, runtime: Runtime, clock: Callable[[], datetime] | None = None) -> None:
        self.runtime = runtime
        self.clock = clock or (lambda: datetime.now(UTC))
        # (member, device, site) -> the run of requests going on
        self.stretches: dict[tuple[str, str, str], Stretch] = {}
        # (member, device, site group) -> the overlay's latest heartbeat on any of the group's sites
        self.overlay_heard: dict[tuple[str, str, str], datetime] = {}
        self._groups: dict[str, str] = {}
        self._groups_of: Any = None  # the rules the group cache was made from
        self._swept_at: datetime | None = None

    def request(self, flow: http.HTTPFlow) -> None:
        site = flows.site_of(flow)
        if site is None:
            return
        try:
            if flows.is_local_api(flow):
                self._note_overlay(flow, site)
            # a response already: refused (a block), or answered by Breather, not time on the site
            elif flow.response is None and self._started_by_the_site(flow, site):
                self._note_traffic(flow, site)
        except Exception:
            log.exception("counting time from the traffic of %s failed", site)
            self.runtime.counters.increment("passed_after_error")

    def _started_by_the_site(self, flow: http.HTTPFlow, site: str) -> bool:
        """Whether a page of the site (or of its group), the member, or a client that does not say started it."""
        headers = flow.request.headers
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is None or fetch_site.lower() in STARTED_ON_THE_SITE:
            return True
        if headers.get("sec-fetch-dest") == "document":
            return True
        initiator = initiator_host(flow)
        # not cached: the hosts of every page on the web that embeds the site would pile up
        return initiator is not None and group_name(self.runtime.current_rules(), initiator) == self._group(site)

    def _note_overlay(self, flow: http.HTTPFlow, site: str) -> None:
        """Any heartbeat LocalApi accepted, counted or not (a hidden or idle page): an overlay is alive there."""
        if flows.local_call_name(flow) != HEARTBEAT_CALL or flow.response is None or flow.response.status_code != 200:
            return
        self.overlay_heard[(self._profile(flow), device_of(flow), self._group(site))] = self.clock()

    def _note_traffic(self, flow: http.HTTPFlow, site: str) -> None:
        at = self.clock()
        self._sweep(at)
        profile, device = self._profile(flow), device_of(flow)
        key = (profile, device, site)
        stretch = self.stretches.get(key)
        page_load = flows.is_document_request(flow)
        if stretch is None or not timedelta(0) <= at - stretch.last <= TRAFFIC_GAP:
            self.stretches[key] = Stretch(at, at, at if page_load else None)
            return
        stretch.last = at
        heard = self.overlay_heard.get((profile, device, self._group(site)))
        if page_load and (stretch.waiting_since is None or (heard is not None and heard >= stretch.waiting_since)):
            stretch.waiting_since = at
        if heard is not None and at - heard <= OVERLAY_SILENT:
            return  # the overlay reports this time
        if self._overlay_may_still_speak(stretch, heard, at):
            return
        start = stretch.counted_to if heard is None else max(stretch.counted_to, heard + HEARTBEAT)
        if at - start < COUNT_EVERY:
            return
        stretch.counted_to = at
        self._count(profile, site, start, at)

    @staticmethod
    def _overlay_may_still_speak(stretch: Stretch, heard: datetime | None, at: datetime) -> bool:
        """A page loaded this stretch whose overlay has not yet had the time for its first heartbeat. Later page
        loads do not restart the wait: reloading every half minute must not keep the time uncounted."""
        waiting = stretch.waiting_since
        if waiting is None or (heard is not None and heard >= waiting):
            return False
        return at - waiting < OVERLAY_FIRST

    def _count(self, profile: str, site: str, start: datetime, end: datetime) -> None:
        """What a heartbeat does: the store's record, and the session the limits and breaks read at once."""
        from breather.store.model import Heartbeat

        seconds = (end - start).total_seconds()
        try:
            self.runtime.log_heartbeat(Heartbeat(profile, site, start, seconds, SOURCE))
        except ValueError as exc:
            log.warning("not logging time from traffic: %s", exc)
            return
        day = end.astimezone(self.runtime.current_rules().zone()).date().isoformat()
        self.runtime.sessions.update(profile, lambda session: add_active_time(session, site, day, end, seconds))

    def _profile(self, flow: http.HTTPFlow) -> str:
        return flows.profile_of(flow) or str(self.runtime.current_rules().default_profile)

    def _group(self, site: str) -> str:
        """The site's group: an overlay on ``bsky.app`` speaks for the same app's calls to ``bsky.social``."""
        rules = self.runtime.current_rules()
        if rules is not self._groups_of:
            self._groups, self._groups_of = {}, rules
        group = self._groups.get(site)
        if group is None:
            group = self._groups[site] = group_name(rules, site) or site
        return group

    def _sweep(self, at: datetime) -> None:
        if self._swept_at is not None and at - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = at
        for key in [key for key, stretch in self.stretches.items() if at - stretch.last > FORGET_AFTER]:
            del self.stretches[key]
        for key in [key for key, heard in self.overlay_heard.items() if at - heard > FORGET_AFTER]:
            del self.overlay_heard[key]


def initiator_host(flow: http.HTTPFlow) -> str | None:
    """The host of the page that made the request, as the browser says it (``Origin``, else ``Referer``); None when
    neither says (a page's ``no-referrer`` policy, or a sandboxed frame's ``null`` origin)."""
    for header in ("origin", "referer"):
        value = flow.request.headers.get(header)
        if value and value != "null":
            try:
                host = urlsplit(value).hostname
            except ValueError:
                continue
            if host:
                return host.rstrip(".")
    return None


def device_of(flow: http.HTTPFlow) -> str:
    """The client's address: one device (the proxy sees each device on the network at its own address)."""
    peer = flow.client_conn.peername
    return str(peer[0]) if peer else ""
