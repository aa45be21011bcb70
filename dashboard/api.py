"""The extension API (``/api/v1``): thin views over ``breather.dashboard.pages.extension``.

Every answer is JSON; every error is ``{"error": Type, "message": ...}`` (see ``app._register_error_handlers``).
CORS preflights are Flask's automatic OPTIONS answers; ``security.add_cors_headers`` adds the CORS headers, and only
for paired extension origins.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for

from breather.dashboard import context, security
from breather.dashboard.db import get_db
from breather.dashboard.errors import ApiError
from breather.dashboard.openapi import openapi_document
from breather.dashboard.pages import extension, pairing
from breather.net import proxy_host_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says where the JSON broke."""
    if not request.mimetype or request.mimetype != "application/json":
        raise ApiError(415, "UnsupportedMediaType", "send the body as application/json")
    raw = request.get_data(as_text=True)
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "MalformedJson", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ApiError(400, "MalformedJson", "arrays or objects nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "MalformedJson", "the body must be a JSON object")
    return body


@bp.post("/pair")
def pair() -> Response:
    body = json_body()
    profile, token = pairing.redeem(
        context.write,
        code=extension.required_str(body, "code"),
        browser=extension.optional_str(body, "browser") or "unknown",
        origin=request.headers.get("Origin"),
        limiter=current_app.extensions["breather.pairing_limiter"],
        now=context.now(),
    )
    return jsonify({"token": token, "profile": profile})


@bp.get("/config")
@security.token_required
def config() -> Response:
    answer = extension.proxy_config(context.current_rules(), _settings_for_this_device(), context.runtime())
    answer["pac_url"] = url_for("api.pac", _external=True)
    return jsonify(answer)


@bp.get("/pac")
def pac() -> Response:
    script = extension.pac_script(context.current_rules(), _settings_for_this_device(), context.runtime())
    return Response(script, mimetype="application/x-ns-proxy-autoconfig")


def _settings_for_this_device() -> dict[str, Any]:
    """The settings with the proxy's address as the asking device reaches this machine: a proxy on every interface
    is at the name the device fetched this from, not at 127.0.0.1 (another device's own loopback)."""
    settings = current_app.config["SETTINGS"]
    name, _ = security.split_host(request.host)
    return {**settings, "listen_host": proxy_host_for(str(settings.get("listen_host", "127.0.0.1")), name)}


@bp.post("/heartbeat")
@security.token_required
def heartbeat() -> Response:
    beat = extension.parse_heartbeat(json_body())
    rules, runtime = context.current_rules(), context.runtime()
    not_recorded = extension.record_heartbeat(context.writer(), get_db(), rules, g.profile, beat, runtime)
    answer = _status_answer(beat.site)
    answer["recorded"] = not_recorded is None
    if not_recorded is not None:
        answer["not_recorded"] = not_recorded
    return jsonify(answer)


@bp.get("/status")
@security.token_required
def status() -> Response:
    return jsonify(_status_answer(request.args.get("site") or None))


def _status_answer(site: str | None) -> dict[str, Any]:
    rules, runtime = context.current_rules(), context.runtime()
    answer = extension.status_for(get_db(), rules, g.profile, runtime, context.now(), site=site)
    answer["config_version"] = extension.config_version(rules, _settings_for_this_device(), runtime)
    return answer


@bp.post("/events")
@security.token_required
def events() -> tuple[Response, int]:
    event = extension.parse_event(json_body())
    now = context.now()
    applied = extension.apply_break_event(context.runtime(), context.current_rules(), g.profile, event, now)
    if applied is None:
        return jsonify({"recorded": None, "snooze_running": True}), 200
    event = applied
    if not extension.record_event(context.writer(), get_db(), g.profile, event, now):
        return jsonify({"recorded": None, "already_asked": True}), 200
    return jsonify({"recorded": event.kind}), 201


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
