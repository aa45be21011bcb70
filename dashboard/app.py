"""The Flask application factory (flaskr style): the dashboard pages, the extension API and ``/healthz``."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from breather import settings as settings_module
from breather.dashboard import db, security
from breather.dashboard.errors import ApiError
from breather.dashboard.security import LOOPBACK_NAMES, ScryptCost
from breather.paths import Paths
from breather.store.writer import StoreUnwritable

# what a change the store could not save says, by ``StoreUnwritable.trouble``
STORE_TROUBLE = {
    "locked": "Another program has the usage file locked (a sqlite3 shell, DB Browser with unsaved changes); nothing "
    "was changed. Close it, or save its changes, and try again.",
    "full": "The disk is full; nothing was changed. Free some space and try again.",
    "read_only": "The usage file cannot be written (it or its folder is read-only); nothing was changed.",
    "io_error": "The disk reported an error writing the usage file; nothing was changed. Try again.",
    "damaged": "The usage file is damaged; nothing was changed. Move it aside (Breather then starts a new one).",
}


def create_app(test_config: dict[str, Any] | None = None, runtime: Any = None) -> Flask:
    """Build the app. With a ``runtime`` (``breather serve``) it shares the service's paths, settings, rules and
    writer; without one (tests, ``flask run``) it reads the home given by ``HOME`` or ``BREATHER_HOME``."""
    app = Flask(__name__, instance_relative_config=False)
    config = dict(test_config or {})
    paths = runtime.paths if runtime is not None else Paths.resolve(config.get("HOME"))
    paths.ensure()
    service_settings = runtime.settings if runtime is not None else settings_module.resolve()
    app.config.from_mapping(_defaults(paths, service_settings, runtime))
    app.config.update(config)
    app.config["ALLOWED_HOSTS"] = frozenset(app.config["ALLOWED_HOSTS"])

    db.connect(app.config["DATABASE"]).close()
    db.install(app)
    security.install(app)
    _register_error_handlers(app)
    _register_blueprints(app)
    app.context_processor(_shared_template_values)
    return app


def _shared_template_values() -> dict[str, Any]:
    """What every page may show: a problem in the rules file, while the last good rules stay in force, a hand edit's
    loosening waiting out its cooling-off, and a usage store that cannot save right now."""
    from breather.dashboard.context import rules_held, rules_problem, store_trouble

    return {"rules_problem": rules_problem(), "rules_held": rules_held(), "store_trouble": store_trouble()}


def _defaults(paths: Paths, service_settings: dict[str, Any], runtime: Any) -> dict[str, Any]:
    return {
        "PATHS": paths,
        "SETTINGS": service_settings,
        "RUNTIME": runtime,
        "DATABASE": str(paths.database),
        "SECRET_KEY": _secret_key(paths.state_dir / "dashboard.secret"),
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_NAME": "breather_session",
        "ALLOWED_HOSTS": _allowed_host_names(service_settings),
        "WEB_PORT": None,  # None: the runtime's port once it is bound (see security.expected_port)
        "SCRYPT_COST": ScryptCost(),
        "PASSPHRASE_ATTEMPTS": 5,
        "PASSPHRASE_WINDOW_S": 300.0,
        "PAIRING_CODE_TTL_S": 600,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }


def _allowed_host_names(service_settings: dict[str, Any]) -> set[str]:
    """Loopback names always; in LAN mode also the address listened on and this machine's names."""
    names = set(LOOPBACK_NAMES)
    listen_host = str(service_settings.get("listen_host", "127.0.0.1"))
    if listen_host not in LOOPBACK_NAMES:
        hostname = socket.gethostname().lower()
        names |= {listen_host.lower(), hostname, f"{hostname}.local"}
        names.discard("0.0.0.0")
    return names


def _secret_key(path: Path) -> str:
    """A per-home secret, kept so sessions survive a restart; readable only by the owner."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    if _wants_json():
        response = jsonify({"error": kind, "message": message})
    else:
        response = Response(
            render_template("error.html", status=status, kind=kind, message=message), mimetype="text/html"
        )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return _error_response(exc.status, exc.kind, exc.message, exc.headers)

    @app.errorhandler(StoreUnwritable)
    def store_unwritable(exc: StoreUnwritable) -> Response:
        # a lock or a full disk passes: said as such, not as Flask's "the server is overloaded or there is an error"
        return _error_response(503, "StoreUnwritable", STORE_TROUBLE.get(exc.trouble, STORE_TROUBLE["locked"]))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        kind = type(exc).__name__
        return _error_response(exc.code or 500, kind, exc.description or kind)


def _register_blueprints(app: Flask) -> None:
    from breather.dashboard import api, learn_views, manage, views

    app.register_blueprint(views.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(learn_views.bp)
    app.register_blueprint(api.bp)
