"""Answers ``/__breather__/…`` on every intercepted site itself; those requests never reach the site.

The overlay and Breather's pages call it on the page's own origin: heartbeats (while the page is visible and in
use), reveals, snoozes, breaks taken, overrides after the friction delay, and asks for more time. Every call must be
a POST with ``X-Breather: 1`` (a header a cross-site form cannot send), and bodies are small JSON objects.

Any script on the site's page can make these calls too, so nothing it sends is stored as free text: a reveal's
category must be one Breather shows this member, a break's reason one the overlay sends; anything else is refused
with a 400 naming the field, and the refused value is neither stored nor logged. An ask for more time, and the
answer to it, need the token of the member's block page for the site (a 403 without it), so the site's own script
cannot file asks in the member's name while no block page is shown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from mitmproxy import http

from breather.grants import let_through
from breather.proxy import flows
from breather.proxy.asks import AskAnswer, AskAnswers
from breather.proxy.boundaries import BLOCKING, Boundaries
from breather.proxy.break_exercise import OVERRIDE_NAME, available_exercises, exercise_for_break
from breather.proxy.breaks import BreakKind, DueBreak, due_break
from breather.proxy.feed_warnings import event_label
from breather.proxy.pages import ask_answer_message
from breather.rules.decisions import quiet_hours_at, wall_clock_instant
from breather.rules.exercises import Exercise
from breather.rules.model import CATEGORIES, CUSTOM_CATEGORY, OWN_TOPIC_PREFIX, Profile
from breather.runtime import (
    NO_MORE_SNOOZES,
    PendingOverride,
    Runtime,
    Session,
    ShownBreak,
    begin_break,
    cut_break_short,
    lift_block,
    lifted_kind,
    pause_was_a_break,
    paused_for_a_break,
    snooze_break,
)
from breather.store.model import as_label
from breather.store.usage import local_midnight

log = logging.getLogger(__name__)

MAX_BODY = 4096
HEARTBEAT_S = 30.0
OVERRIDE_MINUTES = 15
# What the overlay sends as a break's reason: the kind of the break on screen (overlay.js, ``post("break-shown")``).
BREAK_REASONS: tuple[str, ...] = get_args(BreakKind)
DEFAULT_BREAK_REASON = "cadence"


class ApiError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_response(status: int, body: dict[str, Any]) -> http.Response:
    return http.Response.make(
        status,
        json.dumps(body).encode("utf-8"),
        {"Content-Type": "application/json", "Cache-Control": "no-store"},
    )


def parse_body(request: http.Request) -> dict[str, Any]:
    """A small JSON object, or ApiError(400) saying what is wrong with it."""
    raw = request.raw_content or b""
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"body over {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"body is not JSON: {exc}") from exc
    except RecursionError:
        raise ApiError(400, "body is not JSON this API reads: nested too deeply") from None
    if not isinstance(value, dict):
        raise ApiError(400, "body must be a JSON object")
    return value


def warning_categories(profile: Profile) -> frozenset[str]:
    """The categories a warning can carry for this member, as the classifier names them: the shipped ones,
    ``custom`` (their own keywords; also what reveal.js sends for a warning without one) and ``keyword:<topic>`` for
    each named topic (a warning titled "Breather: <topic>")."""
    return frozenset((*CATEGORIES, CUSTOM_CATEGORY, *(OWN_TOPIC_PREFIX + topic for topic in profile.topics)))


class LocalApi:
    def __init__(self, runtime: Runtime, decide: Callable[[str, str, datetime], Any] | None = None) -> None:
        self.runtime = runtime
        self.decide = decide or Boundaries(runtime).decide
        self.routes: dict[str, Callable[[str, str, dict[str, Any], datetime], dict[str, Any]]] = {
            "heartbeat": self.heartbeat,
            "reveal": self.reveal,
            "break-shown": self.break_shown,
            "snooze": self.snooze,
            "break": self.take_break,
            "override": self.override,
            "more-time": self.more_time,
            "ask-status": self.ask_status,
        }
        self.asks = AskAnswers(runtime.paths.database)
        # The last ask for more time this proxy stored, per member and site: the store may not have it yet.
        self._asked: dict[tuple[str, str], datetime] = {}

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """A call with a body over the size cap would be streamed to the site before ``request`` answers it: no call
        of Breather's is that big, so it is cut off here and never reaches the site."""
        if flow.request.stream and flow.response is None and flows.is_local_api(flow) and flows.site_of(flow):
            log.info("cut off an oversized Breather call on %s", flows.site_of(flow))
            flow.kill()

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or not flows.is_local_api(flow) or flows.site_of(flow) is None:
            return
        self.runtime.counters.increment("local_api_calls")
        try:
            flow.response = json_response(200, self._answer(flow))
        except ApiError as exc:
            flow.response = json_response(exc.status, {"error": type(exc).__name__, "message": str(exc)})
        except Exception as exc:  # a bug here must still never forward the call to the site
            # the call's name only: its query is the page's, not for the log
            log.exception("local API call %s failed", flows.local_call_name(flow))
            self.runtime.counters.increment("passed_after_error")
            flow.response = json_response(500, {"error": type(exc).__name__, "message": "Breather had a problem"})

    def _answer(self, flow: http.HTTPFlow) -> dict[str, Any]:
        name = flows.local_call_name(flow)
        handler = self.routes.get(name)
        if handler is None:
            raise ApiError(404, f"no such Breather call: {name!r}")
        if flow.request.method != "POST" or flow.request.headers.get("x-breather") != "1":
            raise ApiError(403, "Breather calls are POSTs with the X-Breather header")
        profile = flows.profile_of(flow) or self.runtime.current_rules().default_profile
        site = flows.site_of(flow) or ""
        return handler(profile, site, parse_body(flow.request), datetime.now(UTC))

    def _event(self, profile: str, kind: str, site: str, at: datetime, **extra: Any) -> None:
        from breather.store.model import Event

        try:
            self.runtime.log_event(Event(profile, kind, at, site or None, **extra))
        except ValueError:
            # The store's message quotes the value it refused: never written out, it may be what a page's script sent.
            log.warning("not logging %s on %s: the store refused one of its values", kind, site)

    def heartbeat(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        if body.get("visible") is False or body.get("active") is False:
            # Counted as no use, but answered: an idle tab, a page back by the Back button and an open block page
            # each learn whether a page load of the site would now be blocked.
            return {"ok": True, "counted": False, "blocked": self.decide(profile, site, at).kind in BLOCKING}
        from breather.store.model import Heartbeat

        self.runtime.log_heartbeat(Heartbeat(profile, site, at, HEARTBEAT_S, "overlay"))
        day = at.astimezone(self.runtime.current_rules().zone()).date().isoformat()
        self.runtime.sessions.update(profile, lambda s: add_active_time(s, site, day, at, HEARTBEAT_S))
        return {"ok": True, "counted": True, **self.break_status(profile, site, at)}

    def break_status(self, profile: str, site: str, at: datetime) -> dict[str, Any]:
        """What the overlay does next: reload the page when a page load of the site would now get Breather's block
        page (a limit reached or quiet hours begun while the tab was open), else show the break that is due."""
        session = self.runtime.sessions.read(profile)
        decision = self.decide(profile, site, at)
        blocked = decision.kind in BLOCKING  # past running overrides and grants: what a page load would meet
        due = self._due_break(session, profile, site, at, decision)
        if due is None:
            if session.break_on_screen is not None:
                self.runtime.sessions.break_no_longer_due(profile)
            return {"blocked": blocked, "break_due": False, **snooze_running(session, at)}
        return {"blocked": blocked, "break_due": True, **due.to_dict()}

    def _due_break(
        self, session: Session, profile: str, site: str, at: datetime, decision: Any = None
    ) -> DueBreak | None:
        max_snoozes = self.runtime.current_rules().profile(profile).max_snoozes
        made = decision if decision is not None else self.decide(profile, site, at)
        return due_break(session, made, max_snoozes, at)

    def reveal(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        category = body.get("category")
        if not isinstance(category, str) or not category:
            raise ApiError(400, 'reveal needs {"category": "<category>"}')
        if category not in warning_categories(self.runtime.current_rules().profile(profile)):
            raise ApiError(400, 'reveal: "category" is not a warning category Breather shows you')
        self._event(profile, "warning_revealed", site, at, category=event_label(category))
        return {"ok": True}

    def break_shown(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Log the break and hand the overlay this break's self-care exercise.

        A break screen reloaded, or shown in a second tab, is the same break: logged once (the weekly review counts
        breaks suggested, not page loads) and with the same exercise. A new one starts once it is taken, snoozed or
        no longer due, or when its reason changes. (The proxy's hooks run one at a time, so reading the session and
        then updating it cannot interleave with another call.)
        """
        reason = body.get("reason", DEFAULT_BREAK_REASON)
        if reason not in BREAK_REASONS:
            raise ApiError(400, f'break-shown: "reason" must be one of {", ".join(BREAK_REASONS)}')
        shown = self.runtime.sessions.read(profile).break_on_screen
        same_break = shown is not None and shown.reason == reason
        exercise = self._exercise_named(shown.exercise) if shown is not None and same_break else None
        if exercise is None:
            exercise = exercise_for_break(self.runtime, profile, at)
            on_screen = ShownBreak(reason, exercise.id)
            self.runtime.sessions.update(profile, lambda s: setattr(s, "break_on_screen", on_screen))
        if not same_break:
            detail = {"reason": reason, "exercise": as_label(exercise.id)}
            self._event(profile, "break_shown", site, at, detail=detail)
        return {"ok": True, "exercise": exercise.to_dict()}

    def _exercise_named(self, exercise_id: str) -> Exercise | None:
        """The exercise still on offer under that id (None if the person's exercises file changed meanwhile)."""
        exercises = available_exercises(self.runtime.paths.config_dir / OVERRIDE_NAME)
        return next((exercise for exercise in exercises if exercise.id == exercise_id), None)

    def snooze(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Snooze the break on screen, if its rules allow it (the overlay hides the button otherwise; this call is
        the boundary). A second tab's button while a snooze runs is answered with that snooze, not another one. With
        no break due (a break screen left up overnight, its break taken in the extension) nothing is snoozed, counted
        or logged: the answer says so, and the overlay takes its screen down."""
        session = self.runtime.sessions.read(profile)
        running = snooze_running(session, at)
        if running:
            return {"ok": True, **running}
        due = self._due_break(session, profile, site, at)
        if due is None:
            self.runtime.sessions.break_no_longer_due(profile)
            return {"ok": True, "break_due": False}
        if not due.snooze_allowed:
            raise ApiError(409, NO_MORE_SNOOZES)

        length = self.runtime.sessions.update(profile, lambda session: snooze_break(session, at))
        self._event(profile, "break_snoozed", site, at, detail={"minutes": int(length.total_seconds() // 60)})
        return {"ok": True, "snoozed_for_s": int(length.total_seconds())}

    def take_break(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        length = self.runtime.current_rules().profile(profile).break_length
        self.runtime.sessions.update(profile, lambda session: begin_break(session, at, length))
        self._event(profile, "break_taken", site, at)
        return {"ok": True}

    def override(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        pending = self.runtime.block_tokens.pop(str(body.get("token", "")), None)
        if pending is None or pending.profile != profile:
            raise ApiError(403, "this page is out of date; reload it")
        if not self.runtime.current_rules().profile(profile).open_anyway:
            self.runtime.block_tokens[pending.token] = pending  # the page still asks for more time with it
            raise ApiError(403, "Opening sites anyway is switched off for you in Breather's rules.")
        waited = at - pending.issued_at
        if waited < pending.friction:
            self.runtime.block_tokens[pending.token] = pending
            left = int((pending.friction - waited).total_seconds()) + 1
            return {"ok": False, "message": f"Take {left} more seconds to think it over."}
        until = at + timedelta(minutes=OVERRIDE_MINUTES)
        lift_block(self.runtime, profile, pending.site, lifted_kind(pending.kind), until)
        self._event(profile, "limit_overridden", pending.site, at, detail={"kind": pending.kind})
        return {"ok": True, "until": until.isoformat()}

    def more_time(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Store the ask made on the member's block page for this site, unless one by this member for this site is
        still waiting for an answer: the block page's button asks once, but the call asked 50 times from a console put
        53 cards on the Requests page, each to answer with the passphrase. A yes or a no leaves the member free to ask
        again. Any script on the site's page can make this call, so it needs the token of the member's block page for
        the site, as ``ask_status`` does (the site's own script filed asks in the member's name with no block page
        shown), checked before the minutes. Asking keeps the token: the page goes on polling ``ask-status`` with it."""
        page = self._block_page(profile, site, body)
        minutes = body.get("minutes", 15)
        if not isinstance(minutes, int) or not 1 <= minutes <= 240:
            raise ApiError(400, "minutes must be a whole number from 1 to 240")
        waiting = self._waiting_ask(page)
        if waiting is not None:
            asked = waiting.astimezone(self.runtime.current_rules().zone())
            return {
                "ok": True,
                "already_asked": True,
                "message": f"You already asked at {asked:%H:%M}, and it is waiting for an answer: asking again "
                "sends nothing more. Someone in your household can say yes in Breather's dashboard.",
            }
        self._event(profile, "more_time_asked", site, at, detail={"minutes": minutes})
        self._asked[(profile, site)] = at
        return {"ok": True, "message": "Asked. Someone in your household can say yes in Breather's dashboard."}

    def _waiting_ask(self, page: PendingOverride) -> datetime | None:
        """When the page's member made their ask for its site still waiting (since the block on the page began), or
        None. The store says whether it was answered; an ask made here a moment ago may not be written there yet, so
        the last one this proxy stored counts too. The read runs on the asks' worker, waiting a moment at most, as
        ``ask_status`` does; a busy store leaves only the proxy's own memory to go by."""
        since = block_began(self.runtime.current_rules(), page)
        mine = self._asked.get((page.profile, page.site))
        mine = mine if mine is not None and mine >= since else None
        try:
            stored = self.asks.latest(page.profile, page.site, since)
        except TimeoutError:
            return mine
        if stored is not None and stored.status is None:
            return stored.asked_at
        if mine is not None and (stored is None or stored.asked_at < mine):
            return mine  # not in the store yet
        return None

    def _block_page(self, profile: str, site: str, body: dict[str, Any]) -> PendingOverride:
        """The block page the call's token belongs to, if one was shown as a tab's own page to this member for this
        site, else ApiError(403). The token stays kept: the page uses it again."""
        page = self.runtime.block_tokens.get(str(body.get("token", "")))
        if page is None or page.profile != profile or page.site != site:
            raise ApiError(403, "this page is out of date; reload it")
        return page

    def ask_status(self, profile: str, site: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        """The answer to the member's latest ask for more time on this site since the block on the page began, for
        the block page to say, and whether the page may reload into the site now. Only a block page shown as a tab's
        own page holds a token: one answered to a frame has none, so the site's own script cannot load its origin in
        a hidden frame and take the token to read a parent's words to the member. It can still read the token of a
        tab it opens itself (a popup the member sees open), or of a page load its service worker passes on
        (docs/proxy.md, known limits)."""
        pending = self._block_page(profile, site, body)
        rules = self.runtime.current_rules()
        zone = rules.zone()
        try:
            ask = self.asks.latest(profile, site, block_began(rules, pending))
        except TimeoutError:
            raise ApiError(503, "Breather's store is busy; ask again in a moment") from None
        if ask is None:
            return {"ok": True, "answer": "none"}
        answer = {"approved": "yes", "declined": "no"}.get(ask.status or "", "waiting")
        running = answer == "yes" and (ask.granted_until is None or at < ask.granted_until)
        if running:
            self._apply_stored_yes(profile, ask)
        open_now = running and self.decide(profile, site, at).kind not in BLOCKING
        return {
            "ok": True,
            "answer": answer,
            "message": ask_answer_message(ask, at, zone),
            "asked_at": ask.asked_at.isoformat(),
            "reload": open_now,
        }

    def _apply_stored_yes(self, profile: str, ask: AskAnswer) -> None:
        """The dashboard stores a yes and then tells the proxy: a poll in between read "yes" with the site still shut,
        and the block page, taking the answer as final, never reloaded. The stored yes is the parent's word (as after
        a restart, ``breather.grants.restore_grants``): applying it again changes nothing."""
        if ask.host is not None and ask.granted_until is not None:
            let_through(self.runtime, profile, ask.host, ask.granted_until, ask.asked_at)


def block_began(rules: Any, pending: PendingOverride) -> datetime:
    """When the block a block page shows began, so the page hears the asks made at that block and no older one: the
    start of the quiet hours it was shown in, or of the day whose limit it shows. Not the poll's own day: an ask at
    23:55 answered at 00:05 must still reach the page (a user test's page said "No answer yet" for ever)."""
    zone = rules.zone()
    shown = pending.issued_at.astimezone(zone)
    if pending.kind == "quiet_hours" and pending.profile in rules.profiles:
        quiet = quiet_hours_at(rules.profile(pending.profile).quiet_hours, shown)
        if quiet is not None:
            window = quiet[0]
            day = shown.date() if shown.weekday() == window.day else shown.date() - timedelta(days=1)
            return wall_clock_instant(day, window.start, zone)  # a start the clock skipped: when it jumped past it
    return local_midnight(shown.date(), zone)


def snooze_running(session: Session, at: datetime) -> dict[str, int]:
    """``{"snoozed_for_s": <time left>}`` while a snooze runs, else nothing: a second tab's break screen (or its
    button) says when the next reminder comes."""
    if session.snoozed_until is None or at >= session.snoozed_until:
        return {}
    return {"snoozed_for_s": int((session.snoozed_until - at).total_seconds())}


def add_active_time(session: Session, site: str, day: str, at: datetime, seconds: float) -> None:
    """Count ``seconds`` of active use; ``day`` is today's date in the household zone (a new day starts at zero). Use
    after a pause of a break's length starts a new run of active use and of snoozes (the store says so too at its
    next read)."""
    if paused_for_a_break(session, at - timedelta(seconds=seconds)):
        pause_was_a_break(session)
    cut_break_short(session, at - timedelta(seconds=seconds), at)
    if session.day != day:
        session.day = day
        session.seconds_today = {}
    session.seconds_today[site] = session.seconds_today.get(site, 0.0) + seconds
    session.active_since_break_s += seconds
    session.last_seen[site] = at
    session.last_active_at = at
