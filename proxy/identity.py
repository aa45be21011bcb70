"""Who is browsing: the proxy-auth user name, else the client's IP, else the default profile.

When any profile in the rules has proxy credentials, every client must sign in (HTTP ``Proxy-Authorization``
Basic), except a device whose IP a profile names in ``client_ips``; a CONNECT that signed in authenticates the
requests inside its tunnel. A profile with a ``user`` and no ``password`` is picked by that name alone, but only
while the proxy listens on loopback (one machine: the browser's proxy settings say who browses); beyond it a name
without a password proves nothing. The profile name lands in ``flow.metadata["breather.profile"]`` for the other
addons, and each request for a site Breather reads is noted in the profile's session (``last_seen``), which the
extension's status and the Setup page's live check read.
"""

from __future__ import annotations

import base64
import binascii
import logging
import weakref
from datetime import UTC, datetime
from typing import Any

from mitmproxy import connection, ctx, http

from breather.net import beyond_loopback, is_loopback, listen_hosts
from breather.proxy.flows import PROFILE, SITE
from breather.rules.passwords import verify_password
from breather.runtime import Runtime

log = logging.getLogger(__name__)

REALM = "Breather"


def parse_basic(header: str) -> tuple[str, str]:
    """``Basic dXNlcjpwYXNz`` → ``("user", "pass")``; anything else raises ValueError."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise ValueError("expected HTTP Basic credentials")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("credentials are not valid base64 UTF-8") from exc
    user, separator, password = decoded.partition(":")
    if not separator:
        raise ValueError("credentials have no ':' between user and password")
    return user, password


def credentials_of(rules: Any) -> dict[str, str]:
    return {p.user.casefold(): p.password for p in rules.profiles.values() if p.user and p.password}


def names_without_password(rules: Any) -> frozenset[str]:
    return frozenset(p.user.casefold() for p in rules.profiles.values() if p.user and not p.password)


def check_password(known: dict[str, str], user: str, password: str) -> bool:
    """The member's password from the rules, stored as a scrypt hash (or plain text in older files)."""
    stored = known.get(user.casefold())
    return stored is not None and verify_password(stored, password)


def auth_required_response() -> http.Response:
    return http.Response.make(
        407,
        b"Breather: sign in with your household member name and password.\n",
        {"Proxy-Authenticate": f'Basic realm="{REALM}"', "Content-Type": "text/plain; charset=utf-8"},
    )


def not_shared_response() -> http.Response:
    return http.Response.make(
        403,
        b"Breather: this proxy is shared only while household members sign in with a name and password, and the "
        b"rules give none. Set them with `breather rules password NAME`.\n",
        {"Content-Type": "text/plain; charset=utf-8"},
    )


class Identity:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.signed_in: weakref.WeakKeyDictionary[connection.Client, str] = weakref.WeakKeyDictionary()
        # Whether a name alone may pick a profile: no until mitmproxy says every server listens on loopback.
        self.names_suffice = False
        # Whether some server listens beyond loopback (then a client from elsewhere must sign in, or is turned away).
        self.shared = False

    def running(self) -> None:
        self._read_listen_hosts()

    def configure(self, updated: set[str]) -> None:
        if updated & {"listen_host", "listen_port", "mode"}:
            self._read_listen_hosts()

    def _read_listen_hosts(self) -> None:
        """From mitmproxy's options, where its servers really listen (``--listen-host``, ``--set listen_host`` or a
        mode's ``@host:port``), not from Breather's settings: under plain mitmdump those are not what listens."""
        options = ctx.options
        hosts = listen_hosts(options.mode, options.listen_host, options.listen_port)
        self.names_suffice = bool(hosts) and not beyond_loopback(hosts)
        self.shared = bool(beyond_loopback(hosts))

    def http_connect(self, flow: http.HTTPFlow) -> None:
        self._identify(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        self._identify(flow)
        self._note_seen(flow)

    def _note_seen(self, flow: http.HTTPFlow) -> None:
        """Every request for a site Breather reads counts as "Breather sees this browser's traffic", whatever comes
        of it: a page, a limit page served instead, a feed's JSON, a call of the overlay's."""
        profile, site = flow.metadata.get(PROFILE), flow.metadata.get(SITE)
        if flow.response is None and isinstance(profile, str) and isinstance(site, str):
            self.runtime.sessions.note_seen(profile, site, datetime.now(UTC))

    def _identify(self, flow: http.HTTPFlow) -> None:
        rules = self.runtime.current_rules()
        known = credentials_of(rules)
        client_ip = flow.client_conn.peername[0] if flow.client_conn.peername else None
        if self.shared and not known and not is_loopback(client_ip or ""):
            # The service refuses to start shared without passwords; an edit that removed the last one must not
            # open the proxy to the whole network as the default member.
            flow.response = not_shared_response()
            return
        user = self.signed_in.get(flow.client_conn)
        if user is None and self.names_suffice:
            user = self._named(flow, names_without_password(rules))
            if user is not None:
                self.signed_in[flow.client_conn] = user
        if known and user is None and not rules.profile_for(None, client_ip).client_ips:
            user = self._sign_in(flow, known)
            if user is None:
                flow.response = auth_required_response()
                return
            self.signed_in[flow.client_conn] = user
        flow.metadata[PROFILE] = rules.profile_for(user, client_ip).name

    def _named(self, flow: http.HTTPFlow, names: frozenset[str]) -> str | None:
        """The user name a browser sends for a profile that has no password (on loopback only)."""
        header = flow.request.headers.get("proxy-authorization")
        if header is None or not names:
            return None
        try:
            user, _password = parse_basic(header)
        except ValueError:
            return None
        if user.casefold() not in names:
            return None
        del flow.request.headers["proxy-authorization"]
        return user

    def _sign_in(self, flow: http.HTTPFlow, known: dict[str, str]) -> str | None:
        header = flow.request.headers.get("proxy-authorization")
        if header is None:
            return None
        try:
            user, password = parse_basic(header)
        except ValueError as exc:
            log.info("proxy sign-in refused: %s", exc)
            return None
        if not check_password(known, user, password):
            log.info("proxy sign-in refused for %r: wrong name or password", user)
            return None
        del flow.request.headers["proxy-authorization"]
        return user
