"""A page sent without a Content-Type, read as the browser reads it.

A browser shows a page load that comes without a Content-Type as HTML when its first bytes look like HTML (the WHATWG
MIME Sniffing standard's "rules for identifying an unknown MIME type"). Breather read no type as nothing to read: a
review had Chromium show such a page's distressing comment in plain view, with no warning and no overlay. This step
runs before the content warnings and gives such a page ``Content-Type: text/html`` when its first bytes are HTML by
the rule the browsers agree on, so the warnings and the overlay read it and the browser shows what it would have
shown anyway.

The rule (``sniffs_as_html``): within the first 512 bytes (Chromium looks no further), after any whitespace, one of
the standard's HTML patterns in any case (``<!DOCTYPE HTML``, ``<HTML``, ``<HEAD``, ``<SCRIPT``, ``<IFRAME``,
``<H1``, ``<DIV``, ``<FONT``, ``<TABLE``, ``<A``, ``<STYLE``, ``<TITLE``, ``<B``, ``<BODY``, ``<BR``, ``<P``,
``<!--``) followed by a space or ``>``. A byte order mark first is not skipped: Chromium shows ``<BOM><!doctype html>``
as text. Chromium also takes a pattern followed by anything (``<pre>``, ``<aside>``), the standard and Firefox do not:
such a page stays unread rather than have Breather turn a page some browser shows as text into HTML. With
``X-Content-Type-Options: nosniff`` browsers show it as text, and it is left alone.
"""

from __future__ import annotations

import logging
import re

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.bodies import decode_body, is_streamed
from breather.runtime import Runtime

log = logging.getLogger(__name__)

SNIFF_BYTES = 512
HTML_START = re.compile(
    rb"[\t\n\x0c\r ]*<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[ >]",
    re.IGNORECASE,
)


def sniffs_as_html(body: bytes) -> bool:
    """Whether a browser shows ``body``, sent without a Content-Type, as HTML (see the module docstring)."""
    return HTML_START.match(body[:SNIFF_BYTES]) is not None


class SniffedDocuments:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def response(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or response.headers.get("content-type", "").strip():
            return
        if not self._sniffed_as_a_browser_would(flow, response):
            return
        body = self._body(response)
        if body is not None and sniffs_as_html(body):
            log.debug("a page from %s without a Content-Type reads as HTML", flow.request.host)
            response.headers["content-type"] = "text/html"

    @staticmethod
    def _sniffed_as_a_browser_would(flow: http.HTTPFlow, response: http.Response) -> bool:
        """A whole page load of an intercepted site that the browser may sniff."""
        return (
            flows.site_of(flow) is not None
            and not flows.is_breather_answer(flow)
            and flows.has_full_body(response)
            and flows.is_document_request(flow)
            and response.headers.get("x-content-type-options", "").split(",")[0].strip().lower() != "nosniff"
        )

    def _body(self, response: http.Response) -> bytes | None:
        """The body decoded as the content warnings will decode it (their decode is then the one kept), or None."""
        cap = self.runtime.settings["body_size_cap"]
        if is_streamed(response) or response.raw_content is None or len(response.raw_content) > cap:
            return None
        return decode_body(response, cap).body
