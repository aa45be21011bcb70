"""Small questions every Breather addon asks about a flow, answered once.

Marks that addons leave for each other live in ``flow.metadata`` under the keys below.
"""

from __future__ import annotations

import re
import secrets

from mitmproxy import http

PROFILE = "breather.profile"
SITE = "breather.site"
ADAPTER = "breather.adapter"
NONCE = "breather.nonce"
BREAK_DUE = "breather.break_due"
HIDDEN_TOPICS = "breather.hidden_topics"
CALM_WINDOW = "breather.calm_window"  # the profile has calm on and quiet hours or a limit are in force
OWN_PAGE = "breather.own_page"
# The digest of the rules a response's body was read under (``validators.judged_state``), set when it is read.
JUDGED_UNDER = "breather.judged_under"
# A step gave up on part of the response (the classify budget ran out, a step failed and put the original back): what
# went out may not be what reading it whole gives, so it must not be kept as that.
READ_IN_PART = "breather.read_in_part"
LOCAL_PREFIX = "/__breather__/"


def is_local_api(flow: http.HTTPFlow) -> bool:
    return flow.request.path.startswith(LOCAL_PREFIX)


def local_call_name(flow: http.HTTPFlow) -> str:
    """``heartbeat`` for ``/__breather__/heartbeat?...``."""
    return flow.request.path[len(LOCAL_PREFIX) :].split("?", 1)[0]


def is_breather_answer(flow: http.HTTPFlow) -> bool:
    """A response Breather made itself (block page, local API): later response steps leave it alone."""
    return bool(flow.metadata.get(OWN_PAGE)) or is_local_api(flow)


def is_document_request(flow: http.HTTPFlow) -> bool:
    """A top-level page load: what a person navigates to, as opposed to the scripts, images and XHRs of a page.

    Browsers say so in ``Sec-Fetch-Dest``; for clients that do not send it (curl, old browsers) a GET that prefers
    HTML counts as a document.
    """
    return flow.request.method == "GET" and asks_for_a_document(flow)


def asks_for_a_document(flow: http.HTTPFlow) -> bool:
    """What :func:`is_document_request` asks, whatever the method: a HEAD of a page asks what its GET would get."""
    request = flow.request
    if is_local_api(flow):
        return False
    dest = request.headers.get("sec-fetch-dest")
    if dest is not None:
        return dest == "document"
    return "text/html" in request.headers.get("accept", "")


PAGE_DESTINATIONS = frozenset({"document", "iframe", "frame"})


def is_page_load(flow: http.HTTPFlow) -> bool:
    """A page a person sees: a tab's document or one in a frame (another site's ``<iframe>``, an embed), whatever
    the method (a form sent is a page load too). What gets Breather's block page during a block; every other request
    gets a short refusal. Without ``Sec-Fetch-Dest``, as :func:`is_document_request` judges."""
    if is_local_api(flow):
        return False
    dest = flow.request.headers.get("sec-fetch-dest")
    if dest is not None:
        return dest in PAGE_DESTINATIONS
    return is_document_request(flow)


def media_type(message: http.Message) -> str:
    return message.headers.get("content-type", "").split(";", 1)[0].strip().lower()


# The WHATWG Encoding Standard's labels for UTF-16LE and UTF-16BE.
UTF16_LABELS = frozenset(
    {"utf-16", "utf-16le", "utf-16be", "unicode", "unicodefeff", "unicodefffe", "csunicode", "ucs-2", "iso-10646-ucs-2"}
)
CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';\s]+)""", re.IGNORECASE)


def charset(message: http.Message) -> str:
    """The ``charset`` its content type declares (lower case), or an empty string."""
    found = CHARSET.search(message.headers.get("content-type", ""))
    return found.group(1).lower() if found is not None else ""


def is_utf16(message: http.Message, body: bytes) -> bool:
    """Whether a browser reads ``body`` as UTF-16: its byte order mark says so (a UTF-8 one wins over the header, as
    in the browser), or its declared charset does. ASCII markup spliced into such a body garbles the whole page."""
    if body.startswith(b"\xef\xbb\xbf"):
        return False
    return body.startswith((b"\xff\xfe", b"\xfe\xff")) or charset(message) in UTF16_LABELS


# Success answers whose body is the whole resource. Not 204/205 (no body: one added breaks HTTP/1 framing), 206 (a
# byte range: its Content-Range would no longer match) or 226 (a delta).
FULL_BODY_STATUSES = frozenset({200, 203})


def has_full_body(response: http.Response) -> bool:
    """A success answer whose body is the whole resource: the only kind Breather may edit."""
    return response.status_code in FULL_BODY_STATUSES


def is_html_document_response(flow: http.HTTPFlow) -> bool:
    """A full HTML body answering a document request: the only kind of response that gets the overlay."""
    response = flow.response
    if response is None or not has_full_body(response):
        return False
    return media_type(response) == "text/html" and is_document_request(flow)


def nonce_for(flow: http.HTTPFlow) -> str:
    """One CSP nonce per response, shared by everything Breather injects into it."""
    value = flow.metadata.get(NONCE)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(18)
        flow.metadata[NONCE] = value
    return value


def profile_of(flow: http.HTTPFlow) -> str | None:
    value = flow.metadata.get(PROFILE)
    return value if isinstance(value, str) else None


def site_of(flow: http.HTTPFlow) -> str | None:
    value = flow.metadata.get(SITE)
    return value if isinstance(value, str) else None
