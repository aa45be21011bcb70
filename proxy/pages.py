"""Breather's own pages, served instead of a site during a limit or quiet hours.

The page answers with status 200 (it is a real page the person is meant to read, and a 4xx would make some sites'
service workers retry or show their own error) and ``Cache-Control: no-store`` (so the site's real page comes back
as soon as the boundary ends). Overriding takes a friction delay from the rules: the button counts down in the page,
and the proxy itself refuses an override token younger than the delay. Requests that are not page loads (a feed's
fetch, an image) get :func:`refusal_response` instead: nobody reads them as a page.

The page is served on the site's own origin, so the site's scripts could read it if it were loaded where they can
reach it. A page load in a frame (another site's embed, or the site's own hidden frame) therefore gets
:func:`framed_block_response`: the pause and where to choose, with no token and no buttons, so no script can press
"Open anyway" or ask for the member's answer with it. A tab's page holds the token, and refuses to be framed.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from string import Template
from typing import Any

from mitmproxy import http

from breather.proxy.adapters.htmlmark import pieces_html
from breather.proxy.asks import AskAnswer
from breather.proxy.breaks import HELPLINE_LEAD
from breather.proxy.overlay import asset
from breather.rules.crisis import contact_pieces

TITLES = {
    "limit_reached": "That's your time for today",
    "quiet_hours": "Quiet hours",
    "break_due": "Time for a breather",
}
SUGGESTIONS = {
    "limit_reached": "Maybe stretch, drink some water, or message a friend directly.",
    "quiet_hours": "The feed will still be here later. Rest well.",
    "break_due": "Look away from the screen for a moment.",
}
# how often an open block page asks whether someone answered the member's ask for more time
ASK_POLL_S = 15
# how often an open block page asks whether the site is open again (quiet hours over, a new day, a yes)
OPEN_CHECK_S = 60


@dataclass(frozen=True)
class BlockPage:
    kind: str
    site: str
    reason: str
    friction_s: int
    token: str
    can_ask: bool
    open_anyway: bool = True  # the member's ``open_anyway`` rule: False, and the page has no override button
    # the profile's crisis line (``breather.rules.crisis.CrisisLine``), offered in one line; None: no line
    crisis: Any = None


def new_token() -> str:
    return secrets.token_urlsafe(16)


def render_block_page(page: BlockPage, nonce: str) -> bytes:
    ask = (
        '<button type="button" class="breather-button breather-ask">Ask for more time</button>' if page.can_ask else ""
    )
    site = html.escape(page.site)
    friction_s = str(int(page.friction_s))
    text = Template(asset("block.html")).substitute(
        title=html.escape(TITLES.get(page.kind, "Breather")),
        kind=html.escape(page.kind),
        reason=html.escape(page.reason),
        suggestion=html.escape(SUGGESTIONS.get(page.kind, "")),
        helpline=helpline_note(page.crisis),
        site=site,
        token=html.escape(page.token),
        ask_button=ask,
        override_button=_override_button(site, friction_s) if page.open_anyway else "",
        no_override_note="" if page.open_anyway else _no_override_note(site, page.can_ask),
        poll_s=str(ASK_POLL_S),
        check_s=str(OPEN_CHECK_S),
        nonce=nonce,
        css=asset("overlay.css"),
    )
    return text.encode("utf-8")


def render_framed_block_page(kind: str, site: str, reason: str, crisis: Any, nonce: str) -> bytes:
    text = Template(asset("block_frame.html")).substitute(
        title=html.escape(TITLES.get(kind, "Breather")),
        kind=html.escape(kind),
        reason=html.escape(reason),
        helpline=helpline_note(crisis),
        site=html.escape(site),
        nonce=nonce,
        css=asset("overlay.css"),
    )
    return text.encode("utf-8")


def helpline_note(crisis: Any) -> str:
    """One gentle line with the helpline, its numbers ``tel:``/``sms:`` links (a user test: at night, after a run of
    self-harm posts, help was one dashboard visit away and the quiet-hours page did not say so)."""
    said = pieces_html(contact_pieces(crisis)) if crisis is not None else ""
    return f'<p class="breather-note breather-helpline">{html.escape(HELPLINE_LEAD)} {said}</p>' if said else ""


def _override_button(site: str, friction_s: str) -> str:
    return (
        f'<button type="button" class="breather-button breather-override" disabled data-delay="{friction_s}">'
        f'Open {site} anyway<span class="breather-wait"> (<span class="breather-countdown">{friction_s}</span>s)'
        "</span></button>"
    )


def _no_override_note(site: str, can_ask: bool) -> str:
    """Said instead of the override button when the member's rules switch "open anyway" off."""
    later = "If you need more time, you can ask for it." if can_ask else "It will still be here later."
    return f'<p class="breather-note breather-no-override">Opening {site} anyway is switched off for you. {later}</p>'


def block_response(page: BlockPage, refuse_frames: bool = False) -> http.Response:
    """The block page with its token and buttons. ``refuse_frames``: a tab's page, which no page may frame (another
    site could lay it under its own and have the member press "Open anyway" unknowing)."""
    nonce = secrets.token_urlsafe(18)
    policy = f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'"
    if refuse_frames:
        policy += "; frame-ancestors 'none'"
    return http.Response.make(200, render_block_page(page, nonce), page_headers(page.kind, policy))


def framed_block_response(kind: str, site: str, reason: str, crisis: Any = None) -> http.Response:
    """What a blocked site's page load in a frame gets: the calm message and "open it in its own tab", no token, no
    buttons and no script (the site's own script can read a frame of its origin)."""
    nonce = secrets.token_urlsafe(18)
    policy = f"default-src 'none'; style-src 'nonce-{nonce}'"
    return http.Response.make(
        200, render_framed_block_page(kind, site, reason, crisis, nonce), page_headers(kind, policy)
    )


def page_headers(kind: str, policy: str) -> dict[str, str]:
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": policy,
        "X-Breather": kind,
    }


def refusal_response(kind: str, site: str, message: str) -> http.Response:
    """What any request of a blocked site other than a page load gets (a feed's fetch, a script, an image, a
    WebSocket upgrade): a 403 clients treat as "not allowed" rather than "try again", saying why and until when.
    ``no-store``, so no cache or service worker keeps it past the block."""
    title = TITLES.get(kind, "Breather")
    body = f"Breather: {title} ({site}). {message} This request was not sent to {site}.\n"
    return http.Response.make(
        403,
        body.encode("utf-8"),
        {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Breather": kind},
    )


def ask_answer_message(ask: AskAnswer, now: datetime, zone: tzinfo) -> str:
    """What the block page says about the member's ask, in the household's clock: the parent's reason is their own
    words to this member, shown as they wrote it."""
    if ask.status == "approved":
        if ask.granted_until is None:
            return "Yes: more time"
        granted = f"Yes: more time until {clock(ask.granted_until, zone)}"
        return granted if now < ask.granted_until else f"{granted}, now over."
    if ask.status == "declined":
        answered = f" (from {clock(ask.answered_at, zone)})" if ask.answered_at is not None else ""
        return f"No: {ask.reason}{answered}" if ask.reason else f"No{answered}"
    return f"Asked at {clock(ask.asked_at, zone)}. No answer yet: this page will say it when it comes."


def clock(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return "midnight" if local.time() == time.min else local.strftime("%H:%M")
