"""Inject the Breather overlay (heartbeats, break interstitial) into HTML documents (200/203) of intercepted sites.

The overlay's ``<style>`` and ``<script>`` carry a per-response nonce that is added to the page's CSP (its headers and
any ``<meta http-equiv="Content-Security-Policy">`` in its head), so the page's own policy keeps protecting it. The
content warnings allow the same nonce themselves when they mark a page (``FeedWarnings``), so "Show post" works on a
page the overlay leaves alone. Anything that is not a whole HTML document (a 404 page, a 206 range, an HTML fragment
fetched by script, a streamed body) is left alone.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.adapters.htmljump import first_markup
from breather.proxy.adapters.htmlmark import prologue_end
from breather.proxy.bodies import decoded_body, is_streamed, replace_body
from breather.proxy.breaks import helpline
from breather.proxy.csp import add_nonce_to_headers, add_nonce_to_meta
from breather.proxy.safety import original_on_error
from breather.runtime import Runtime

HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
BODY_START = re.compile(rb"<body\b[^<>]*>", re.IGNORECASE)  # no "<" inside: linear on a run of unclosed "<body"


@cache
def asset(name: str) -> str:
    return resources.files("breather.proxy").joinpath("assets", name).read_text(encoding="utf-8")


def overlay_markup(nonce: str, config: dict[str, Any]) -> bytes:
    data = html.escape(json.dumps(config, separators=(",", ":")), quote=True)
    markup = (
        f'<style nonce="{nonce}" id="breather-overlay-style">{asset("overlay.css")}</style>'
        f'<script nonce="{nonce}" id="breather-overlay" data-breather="{data}">{asset("overlay.js")}</script>'
    )
    return markup.encode("utf-8")


def calm_markup(nonce: str) -> bytes:
    """Calm mode's stylesheet (counters and badges in the page) and script (counters inside open shadow roots)."""
    markup = (
        f'<style nonce="{nonce}" id="breather-calm-style">{asset("calm.css")}</style>'
        f'<script nonce="{nonce}" id="breather-calm-script">{asset("calm.js")}</script>'
    )
    return markup.encode("utf-8")


def inject(body: bytes, markup: bytes) -> bytes:
    """Before ``</head>``, else just after ``<body …>``, else after the page's prologue (its BOM, doctype and
    ``<html …>`` tag: see ``prologue_end``); never inside the page's own scripts, styles or comments (a ``</head>``
    in a script's string is not the head's end)."""
    match = first_markup(HEAD_END, body)
    at = match.start() if match is not None else None
    if at is None:
        match = first_markup(BODY_START, body)
        at = match.end() if match is not None else prologue_end(body)
    # One copy of the page (a view of each half, joined), not two: "a + b + c" copies the long tail twice.
    page = memoryview(body)
    return b"".join((page[:at], markup, page[at:]))


class Overlay:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.response is None or flows.site_of(flow) is None or flows.is_breather_answer(flow):
            return
        if not flows.is_html_document_response(flow) or is_streamed(flow.response):
            return
        with original_on_error(self.runtime, flow, "overlay"):
            self._inject(flow, flow.response)

    def _inject(self, flow: http.HTTPFlow, response: http.Response) -> None:
        cap = self.runtime.settings["body_size_cap"]
        body = decoded_body(response, cap)
        if body is None or len(body) > cap or flows.is_utf16(response, body):
            return
        nonce = flows.nonce_for(flow)
        config = self._config(flow)
        markup = overlay_markup(nonce, config) + self._calm_markup(flow, nonce)
        replace_body(response, inject(add_nonce_to_meta(body, nonce), markup))
        add_nonce_to_headers(response, nonce)

    def _calm_markup(self, flow: http.HTTPFlow, nonce: str) -> bytes:
        """Calm mode: counters and badges hidden on the page while quiet hours or a limit are in force."""
        return calm_markup(nonce) if flow.metadata.get(flows.CALM_WINDOW) else b""

    def _config(self, flow: http.HTTPFlow) -> dict[str, Any]:
        due = flow.metadata.get(flows.BREAK_DUE)
        config: dict[str, Any] = {"heartbeat_s": 30, "pause_s": 8}
        if isinstance(due, dict):
            config.update(
                break_due=True,
                reason=due.get("reason", ""),
                break_kind=due.get("kind", "cadence"),
                snooze_allowed=due.get("snooze_allowed", True),
                snooze_minutes=due.get("snooze_minutes", 5),
            )
        # A heavy run can also be reported by a heartbeat after the page loaded: the helpline its break screen
        # offers comes with every page.
        rules = self.runtime.current_rules()
        found = helpline(rules.profile(flows.profile_of(flow) or rules.default_profile), self.runtime.paths.config_dir)
        if found is not None:
            config["helpline"] = found
        return config
