"""Who may talk to the dashboard and the API, and how.

* Every request must name a loopback Host (or a configured LAN name in LAN mode): a DNS-rebinding page on another
  site cannot reach the dashboard through a name that happens to resolve to 127.0.0.1.
* Dashboard forms carry a CSRF token tied to the session, and a cross-site ``Origin`` is refused outright.
* The extension API needs a bearer token (stored hashed); CORS is answered only for paired extension origins.
* Rule changes, data deletion and approvals need the household passphrase, hashed with scrypt; failed attempts
  are rate-limited for the whole household (everything arrives from loopback, so per-IP limits would mean nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session
from sqlite_utils import Database

from breather.clocks import monotonic_including_sleep
from breather.dashboard import context
from breather.dashboard.db import get_db, utc_now_iso
from breather.dashboard.errors import ApiError

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
EXTENSION_SCHEMES = ("chrome-extension", "moz-extension")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- Host header --------------------------------------------------------------------------------------------------


def split_host(host_header: str) -> tuple[str, int | None]:
    """``"127.0.0.1:8765"`` → ``("127.0.0.1", 8765)``; ``"[::1]:80"`` → ``("[::1]", 80)``. Raises ValueError."""
    header = host_header.strip().lower()
    if not header:
        raise ValueError("empty Host header")
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            raise ValueError(f"unbalanced IPv6 Host header {host_header!r}")
        name, rest = header[: end + 1], header[end + 1 :]
    else:
        name, _, port_text = header.partition(":")
        rest = f":{port_text}" if port_text else ""
    if not rest:
        return name, None
    if not rest.startswith(":") or not rest[1:].isdigit():
        raise ValueError(f"malformed port in Host header {host_header!r}")
    return name, int(rest[1:])


def host_allowed(host_header: str, allowed_names: frozenset[str], port: int | None) -> bool:
    try:
        name, given_port = split_host(host_header)
    except ValueError:
        return False
    if name not in allowed_names:
        return False
    return port is None or given_port == port


def expected_port() -> int | None:
    """The configured port, else the running service's (known only once its server has bound, after the app was
    built), else None: any port, the name is still checked."""
    configured = current_app.config.get("WEB_PORT")
    if configured:
        return int(configured)
    runtime = current_app.config.get("RUNTIME")
    port = getattr(runtime, "web_port", None)
    return int(port) if port else None


def check_host() -> None:
    allowed = current_app.config["ALLOWED_HOSTS"]
    port = expected_port()
    if not host_allowed(request.host, allowed, port):
        raise ApiError(
            400,
            "BadHost",
            f"Host {request.host!r} is not this Breather dashboard; open it at http://127.0.0.1"
            + (f":{port}" if port else ""),
        )


# --- Sessions and CSRF --------------------------------------------------------------------------------------------


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return parts.netloc.lower() == request.host.lower() and parts.scheme in {"http", "https"}


def check_form_request() -> None:
    """Dashboard forms: refuse cross-site posts (Origin) and posts without the session's CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and not _same_origin(origin):
        raise ApiError(403, "CrossSiteRequest", f"a form posted from {origin} was refused")
    expected = session.get("csrf")
    given = request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(str(expected), given):
        raise ApiError(
            400,
            "CsrfTokenMissing",
            "this form has expired or did not come from the dashboard; reload the page and try again",
        )


# --- Passphrase ---------------------------------------------------------------------------------------------------

PASSPHRASE_KEY = "passphrase_hash"
MIN_PASSPHRASE_LENGTH = 8


@dataclass(frozen=True)
class ScryptCost:
    n: int = 2**15
    r: int = 8
    p: int = 1


def hash_passphrase(passphrase: str, cost: ScryptCost) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(passphrase, salt, cost)
    return f"scrypt${cost.n}${cost.r}${cost.p}${salt.hex()}${digest.hex()}"


def verify_passphrase(passphrase: str, stored: str) -> bool:
    scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(f"unknown passphrase hash scheme {scheme!r}")
    cost = ScryptCost(int(n), int(r), int(p))
    return hmac.compare_digest(_scrypt(passphrase, bytes.fromhex(salt_hex), cost), bytes.fromhex(digest_hex))


def _scrypt(passphrase: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=cost.n, r=cost.r, p=cost.p, maxmem=256 * 1024 * 1024, dklen=32
    )


class AttemptLimiter:
    """At most ``limit`` failures per ``window_s`` seconds; then every attempt is refused until the window passes.

    An attempt is counted as a failure up front (``take``), and uncounted when it proves right or no guess at all
    (``give_back``, or ``reset`` after the right passphrase): counted after the check, guesses sent at once all
    passed it while the first of them was still being verified.
    """

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = monotonic_including_sleep) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Count an attempt as a failure before it is checked: 0 when it may go ahead, else the seconds until one
        may (and nothing is counted)."""
        with self._lock:
            now = self._clock()
            wait = self._wait(now)
            if wait == 0.0:
                self._failures.append(now)
            return wait

    def give_back(self) -> None:
        """Uncount the latest ``take``: the attempt was no guess (an empty field, nothing to check against)."""
        with self._lock:
            if self._failures:
                self._failures.pop()

    def _wait(self, now: float) -> float:
        while self._failures and now - self._failures[0] >= self.window_s:
            self._failures.popleft()
        if len(self._failures) < self.limit:
            return 0.0
        return self.window_s - (now - self._failures[0])

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()


def passphrase_is_set(db: Database) -> bool:
    return bool(db.execute("select 1 from household where key = ?", [PASSPHRASE_KEY]).fetchone())


def new_passphrase_row(new: str, current: str | None) -> dict[str, str]:
    """The household row to write. First time: no current passphrase needed; afterwards it must be given."""
    if len(new) < MIN_PASSPHRASE_LENGTH:
        raise ApiError(400, "WeakPassphrase", f"choose a passphrase of at least {MIN_PASSPHRASE_LENGTH} characters")
    if passphrase_is_set(get_db()):
        require_passphrase(current or "")
    cost: ScryptCost = current_app.config["SCRYPT_COST"]
    return {"key": PASSPHRASE_KEY, "value": hash_passphrase(new, cost)}


def require_passphrase(given: str) -> None:
    """Raise a 4xx ApiError unless ``given`` is the household passphrase; count wrong ones against the limiter.

    Each attempt is counted before its scrypt check and uncounted only once it proves right (or proves no guess):
    counted after, 16 wrong guesses sent at once under waitress had 8 checked against a limit of 5.
    """
    limiter: AttemptLimiter = current_app.extensions["breather.passphrase_limiter"]
    wait = limiter.take()
    if wait > 0:
        raise ApiError(
            429,
            "TooManyAttempts",
            f"too many wrong passphrases; try again in {int(wait) + 1} seconds",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    try:
        stored = _stored_passphrase(given)
    except ApiError:
        limiter.give_back()
        raise
    if not verify_passphrase(given, stored):
        raise ApiError(403, "WrongPassphrase", "that is not the household passphrase; nothing was changed")
    limiter.reset()


def _stored_passphrase(given: str) -> str:
    """The household's passphrase hash, once there is one to check ``given`` against."""
    row = get_db().execute("select value from household where key = ?", [PASSPHRASE_KEY]).fetchone()
    if row is None:
        raise ApiError(403, "PassphraseNotSet", "set a household passphrase on the Setup page first")
    if not given:  # a field left empty is no guess: say what is missing, and do not count it against the limit
        raise ApiError(403, "PassphraseMissing", "enter the household passphrase; nothing was changed")
    return str(row[0])


# --- API tokens and CORS ------------------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(db: Database, profile: str, browser: str, origin: str | None) -> str:
    token = secrets.token_urlsafe(32)
    db.table("api_tokens").insert(
        {
            "token_hash": token_digest(token),
            "profile": profile,
            "browser": browser,
            "origin": origin,
            "created_at": utc_now_iso(),
            "last_seen_at": None,
            "revoked_at": None,
        }
    )
    return token


def revoke_token(db: Database, token: str) -> None:
    db.execute("update api_tokens set revoked_at = ? where token_hash = ?", [utc_now_iso(), token_digest(token)])


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """API views: a valid ``Authorization: Bearer`` token, whose profile lands in ``g.profile``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Unauthorized", "send the token from pairing as 'Authorization: Bearer <token>'")
        digest = token_digest(token.strip())
        row = (
            get_db()
            .execute(
                "select profile, last_seen_at from api_tokens where token_hash = ? and revoked_at is null", [digest]
            )
            .fetchone()
        )
        if row is None:
            raise ApiError(401, "Unauthorized", "this token is unknown or was revoked; pair the extension again")
        g.profile = row[0]
        _note_seen(digest, row[1])
        return view(*args, **kwargs)

    return wrapped


SEEN_EVERY = timedelta(minutes=5)


def _note_seen(digest: str, last_seen: str | None) -> None:
    """Keep "last seen" for the Setup page's list of paired browsers, written at most every few minutes and
    without waiting for it (the writer thread does it in its next batch)."""
    now = datetime.now(UTC)
    if last_seen and now - datetime.fromisoformat(last_seen) < SEEN_EVERY:
        return
    stamp = now.isoformat(timespec="seconds")
    context.writer().call(
        lambda db: db.execute("update api_tokens set last_seen_at = ? where token_hash = ?", [stamp, digest])
    )


def is_extension_origin(origin: str) -> bool:
    scheme, sep, rest = origin.partition("://")
    return bool(sep) and scheme in EXTENSION_SCHEMES and bool(rest) and "/" not in rest


def paired_origins(db: Database) -> set[str]:
    rows = db.execute("select distinct origin from api_tokens where revoked_at is null and origin is not null")
    return {row[0] for row in rows}


def cors_origin_allowed(origin: str, path: str) -> bool:
    if not is_extension_origin(origin):
        return False
    if path.endswith("/pair") or path.endswith("/openapi.json") or path.endswith("/pac"):
        return True
    return origin in paired_origins(get_db())


def add_cors_headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and request.path.startswith("/api/") and cors_origin_allowed(origin, request.path):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers.add("Vary", "Origin")
    return response


# --- Wiring -------------------------------------------------------------------------------------------------------


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def install(app: Flask) -> None:
    app.extensions["breather.passphrase_limiter"] = AttemptLimiter(
        app.config["PASSPHRASE_ATTEMPTS"], app.config["PASSPHRASE_WINDOW_S"]
    )
    app.extensions["breather.pairing_limiter"] = AttemptLimiter(10, 60.0)
    app.before_request(check_host)
    app.after_request(add_cors_headers)
    app.after_request(add_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
