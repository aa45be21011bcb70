"""The least any content-rewriting proxy must do, as a mitmdump addon: the proxy benchmark's third contender.

Breather's latency targets compare it with mitmproxy copying bytes. A proxy that warns on posts must at least
decompress what it reads, and one that adds an overlay to a page must send a changed body; re-compressing it costs
more than sending it as it is, so (like Breather) this floor sends the changed body uncompressed. For each
response of the benchmark's intercepted hosts it therefore:

- decodes the body (gzip and brotli cost their decompression here, as they do in Breather);
- for an HTML document, inserts one ``<script>`` tag after ``<head>`` and sends the result uncompressed;
- for anything else, only reads the decoded bytes and sends the original response unchanged.

No posts are found or classified. Loaded with ``mitmdump -s bench/rewrite_floor.py`` by ``python -m bench proxy``.
"""

from __future__ import annotations

from mitmproxy import http

FLOOR_HOSTS = frozenset({"news.ycombinator.com", "oauth.reddit.com"})
OVERLAY_TAG = b'<script src="/__floor__/overlay.js"></script>'


class RewriteFloor:
    def response(self, flow: http.HTTPFlow) -> None:
        if flow.response is None or flow.request.pretty_host not in FLOOR_HOSTS:
            return
        body = flow.response.get_content(strict=False) or b""
        if "text/html" not in flow.response.headers.get("content-type", ""):
            return
        head = body.find(b"<head>")
        at = head + len(b"<head>") if head >= 0 else 0
        flow.response.headers.pop("content-encoding", None)
        flow.response.content = body[:at] + OVERLAY_TAG + body[at:]


addons = [RewriteFloor()]
