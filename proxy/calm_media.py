"""Which calm applies to which kind of response body: JSON APIs, Mastodon's event stream, YouTube's HTML data.

Pure: no mitmproxy, no I/O. Other HTML pages are calmed in the browser instead (``calm.css`` and ``calm.js``,
injected by :mod:`breather.proxy.overlay`), because their counters are drawn from markup the page's own script owns.
"""

from __future__ import annotations

from breather.proxy.adapters.registry import is_json
from breather.proxy.calm import calm_body
from breather.proxy.calm_stream import calm_stream
from breather.proxy.calm_youtube import calm_page

EVENT_STREAM = "text/event-stream"
# Not application/xhtml+xml: an XML page is passed through untouched (edits made for HTML could break its parsing).
HTML_TYPES = frozenset({"text/html"})


def is_calmable(media: str) -> bool:
    """Whether a body of this media type can be calmed on the proxy (as opposed to by the injected stylesheet)."""
    return is_json(media) or media == EVENT_STREAM or media in HTML_TYPES


def calm_response(body: bytes, adapter_name: str, path: str, media: str) -> bytes | None:
    """The body with counters and badges hidden, or None when there is nothing to hide (send the original)."""
    if media == EVENT_STREAM:
        return calm_stream(body) if adapter_name == "mastodon" else None
    if media in HTML_TYPES:
        return calm_page(body) if adapter_name == "youtube" else None
    if is_json(media):
        return calm_body(body, adapter_name, path)
    return None
