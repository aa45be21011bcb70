"""An answer to a HEAD request: the headers a GET would get, and no body (RFC 9110 9.3.2).

mitmproxy writes any body an addon puts on a response, whatever the method. Breather's own answers (the block page,
the 403 refusal, the 407 asking to sign in, another device's refusal, a local API answer) went out after a HEAD's
headers with their body, and on a kept-alive HTTP/1.1 connection the client read the next response's status line
from ``<!doctype html>`` (a review: h11/httpx, apps and link checkers saw an illegal status line). This step runs
last, on every response: an answer to a HEAD loses its body and keeps its headers, Content-Length (the length of the
body a GET gets) included.

A HEAD of a response Breather would edit on a GET (an HTML document gets the overlay; a feed's warnings, calm or
uplift may rewrite it) is answered by the site with the headers of the site's body. The ones an edited GET loses
(``bodies.drop_site_body_headers``: validators, ranges, content-encoding) go here too, and so does Content-Length:
the edited body's length cannot be known without the body.
"""

from __future__ import annotations

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.adapters import adapter_for
from breather.proxy.bodies import drop_site_body_headers


class HeadAnswers:
    def response(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or flow.request.method != "HEAD":
            return
        if response.raw_content:
            response.raw_content = b""  # not ``content``: that would set Content-Length to 0
        elif get_may_be_edited(flow, response):
            drop_site_body_headers(response)
            response.headers.pop("content-length", None)


def get_may_be_edited(flow: http.HTTPFlow, response: http.Response) -> bool:
    """Whether a GET of what this HEAD asked for could get a body Breather edited (see ``FeedWarnings.response`` and
    ``Overlay.response``): a whole body of an intercepted site, in a type the site's adapter reads (HTML only for a
    document)."""
    if flows.site_of(flow) is None or flows.is_breather_answer(flow) or not flows.has_full_body(response):
        return False
    if flows.media_type(response) == "text/html":
        return flows.asks_for_a_document(flow)
    adapter_name = str(flow.metadata.get(flows.ADAPTER, "generic"))
    return adapter_for(adapter_name, flow.request.path, flows.media_type(response)) is not None
