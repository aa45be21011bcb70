"""The OpenAPI 3.1 document for ``/api/v1``, written by hand and checked against ``app.url_map`` by a test."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
BEARER: list[dict[str, list[str]]] = [{"token": []}]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Malformed JSON or an invalid field",
        401: "Missing, unknown or revoked token",
        403: "Wrong pairing code",
        415: "Body is not JSON",
        429: "Too many attempts",
    }
    return {str(code): _json(ERROR, words[code]) for code in codes}


def _operation(
    summary: str, ok: dict[str, Any], *errors: int, body: str | None = None, auth: bool = True
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {**ok, **_errors(*errors)}}
    if auth:
        operation["security"] = BEARER
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


CONFIG_VERSION = {
    "type": "string",
    "description": "a digest of the routed domains and the proxy's address: when the status's differs from the "
    "config's, fetch the config again",
}


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {"error": text, "message": text},
        },
        "PairRequest": {
            "type": "object",
            "required": ["code"],
            "properties": {"code": {"type": "string", "example": "ABCD-2345"}, "browser": text},
        },
        "PairAnswer": {"type": "object", "properties": {"token": text, "profile": text}},
        "Config": {
            "type": "object",
            "properties": {
                "proxy": {"type": "object", "properties": {"host": text, "port": {"type": "integer"}}},
                "domains": {"type": "array", "items": text},
                "pac_url": text,
                "extension_version": {
                    "type": "string",
                    "description": "the extension shipped with this service (absent when it is not beside it)",
                },
                "config_version": CONFIG_VERSION,
            },
        },
        "Heartbeat": {
            "type": "object",
            "required": ["site"],
            "properties": {
                "site": {"type": "string", "description": "a bare domain, never a URL"},
                "visible": {"type": "boolean"},
                "focused": {"type": "boolean"},
                "idle": {"enum": ["active", "idle", "locked"]},
                "at": {"type": "string", "format": "date-time"},
                "routed": {
                    "type": "boolean",
                    "description": "whether the extension sends the site through Breather: a routed site's tab shows "
                    "Breather's block page while a limit or quiet hours close it, which is not time on the site",
                },
            },
        },
        "HeartbeatAnswer": {
            "allOf": [{"$ref": "#/components/schemas/Status"}],
            "type": "object",
            "properties": {
                "recorded": {"type": "boolean", "description": "whether the heartbeat counts 30 s on the site"},
                "not_recorded": {"enum": ["not_in_use", "limit_reached", "quiet_hours"]},
            },
            "required": ["recorded"],
        },
        "Status": {
            "type": "object",
            "properties": {
                "profile": text,
                "minutes_today": {"type": "number"},
                "limit_minutes": {"type": ["integer", "null"]},
                "next_break_in_s": {"type": ["number", "null"]},
                "decision": {
                    "type": "object",
                    "properties": {"kind": text, "reason": text, "message": text},
                    "description": "kind: allow, break_due, limit_reached, quiet_hours; or not_in_rules, for a member "
                    "taken out of the rules (their own minutes, no limit: nothing applies to the name)",
                },
                "quiet_hours": {"type": "boolean"},
                "quiet_hours_change_in_s": {
                    "type": ["integer", "null"],
                    "description": "seconds until quiet hours next start (or end, while quiet); null: none set",
                },
                "through_proxy": {"type": ["boolean", "null"]},
                "config_version": CONFIG_VERSION,
            },
        },
        "Event": {
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {"enum": ["break_taken", "break_snoozed", "more_time_asked"]},
                "site": text,
                "minutes": {"type": "integer", "minimum": 1, "maximum": 240, "description": "more time asked for"},
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    paths = {
        "/api/v1/pair": {
            "post": _operation(
                "Exchange a pairing code from the Setup page for a token",
                {"200": _json({"$ref": "#/components/schemas/PairAnswer"}, "Paired")},
                400,
                403,
                415,
                429,
                body="PairRequest",
                auth=False,
            )
        },
        "/api/v1/config": {
            "get": _operation(
                "Where the proxy is and which domains go through it",
                {"200": _json({"$ref": "#/components/schemas/Config"}, "Proxy configuration")},
                401,
            )
        },
        "/api/v1/pac": {
            "get": {
                "summary": "Proxy auto-config: only the intercepted domains go to the proxy",
                "responses": {
                    "200": {
                        "description": "PAC script",
                        "content": {"application/x-ns-proxy-autoconfig": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/api/v1/heartbeat": {
            "post": _operation(
                "The tab in front: its site, visibility and idle state",
                {"200": _json({"$ref": "#/components/schemas/HeartbeatAnswer"}, "Status after the heartbeat")},
                400,
                401,
                415,
                body="Heartbeat",
            )
        },
        "/api/v1/status": {
            "get": _operation(
                "Today's minutes, the next break and the boundary decision in force",
                {"200": _json({"$ref": "#/components/schemas/Status"}, "Status")},
                401,
            )
        },
        "/api/v1/events": {
            "post": _operation(
                "Something the person did in the extension (a break taken, an ask for more time)",
                {
                    "201": _json({"type": "object", "properties": {"recorded": {"type": "string"}}}, "Recorded"),
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "recorded": {"type": "null"},
                                "already_asked": {"type": "boolean"},
                                "snooze_running": {"type": "boolean"},
                            },
                        },
                        "Nothing stored: the member's ask for that site still waits, or a snooze already runs",
                    ),
                    "409": _json(
                        ERROR,
                        "Snooze refused: no snoozes left in a row (NoMoreSnoozes), or no break is due (NoBreakDue)",
                    ),
                },
                400,
                401,
                415,
                body="Event",
            )
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Breather extension API", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": _schemas(), "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
