"""Who is browsing: the proxy-auth user name, else the client's IP, else the default profile.

When any profile in the rules has proxy credentials, every client must sign in (HTTP ``Proxy-Authorization``
Basic), except a device whose IP a profile names in ``client_ips``; a CONNECT that signed in authenticates the
requests inside its tunnel. A profile with a ``user`` and no ``password`` is picked by that name alone, but only
while the proxy listens on loopback (one machine: the browser's proxy settings say who browses); beyond it a name
without a password proves nothing. The profile name lands in ``flow.metadata["breather.profile"]`` for the other
addons, and each request for a site Breather reads is noted in the profile's session (``last_seen``), which the
extension's status and the Setup page's live check read.

Failed sign-ins are limited per client IP and per member name (:class:`SignInLimits`): after a few, sign-ins from
that client or for that name are refused unchecked for a pause that doubles with each further failure. A hashed
password costs a scrypt check (~25 ms of CPU), so those run on one worker thread, never on mitmproxy's event loop:
a flood of guesses queues there while every other flow goes on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mitmproxy import connection, ctx, http

from breather.net import beyond_loopback, is_loopback, listen_hosts
from breather.proxy.flows import PROFILE, SITE
from breather.rules.passwords import is_hashed, verify_password
from breather.runtime import Runtime

log = logging.getLogger(__name__)

REALM = "Breather"

# Failed sign-ins: FREE_FAILURES of them, then a pause that doubles with each further failure, up to MAX_PAUSE_S.
FREE_FAILURES = 5
FIRST_PAUSE_S = 30.0
MAX_PAUSE_S = 15 * 60.0
FORGET_AFTER_S = 60 * 60.0  # a client or name with no failure (and no pause) for this long starts afresh
MAX_TRACKED = 1024  # clients (or names) remembered at most; a flood of new ones pushes out the oldest

Checking = Coroutine[Any, Any, None]  # a hook's answer when it must wait for a password check


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


def member_names(rules: Any) -> frozenset[str]:
    return frozenset(p.user.casefold() for p in rules.profiles.values() if p.user)


def auth_required_response(paused_s: float = 0.0) -> http.Response:
    headers = {"Proxy-Authenticate": f'Basic realm="{REALM}"', "Content-Type": "text/plain; charset=utf-8"}
    if paused_s <= 0:
        return http.Response.make(407, b"Breather: sign in with your household member name and password.\n", headers)
    seconds = math.ceil(paused_s)
    text = f"Breather: too many wrong sign-ins from this device or for this name; try again in {seconds} seconds.\n"
    return http.Response.make(407, text.encode(), {**headers, "Retry-After": str(seconds)})


def not_shared_response() -> http.Response:
    return http.Response.make(
        403,
        b"Breather: this proxy is shared only while household members sign in with a name and password, and the "
        b"rules give none. Set them with `breather rules password NAME`.\n",
        {"Content-Type": "text/plain; charset=utf-8"},
    )


@dataclass
class _Failures:
    count: int = 0
    last_at: float = 0.0
    paused_until: float = 0.0

    def forgotten_at(self) -> float:
        return max(self.last_at, self.paused_until) + FORGET_AFTER_S


class _FailureBook:
    """Failed sign-ins per key (a client IP, or a member name), the least recently failed first."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Failures] = OrderedDict()

    def paused_for(self, key: str, now: float) -> float:
        entry = self._entries.get(key)
        return max(0.0, entry.paused_until - now) if entry is not None else 0.0

    def failed(self, key: str, now: float) -> tuple[int, float]:
        """Count a failure; the failures so far and the pause this one starts (0 for none)."""
        self._drop_forgotten(now)
        entry = self._entries.pop(key, None) or _Failures()
        entry.count += 1
        entry.last_at = now
        self._entries[key] = entry
        if len(self._entries) > MAX_TRACKED:
            self._entries.popitem(last=False)
        if entry.count < FREE_FAILURES:
            return entry.count, 0.0
        doublings = min(entry.count - FREE_FAILURES, 16)  # past the cap anyway; keeps 2**n small
        pause = min(FIRST_PAUSE_S * 2**doublings, MAX_PAUSE_S)
        entry.paused_until = now + pause
        return entry.count, pause

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def _drop_forgotten(self, now: float) -> None:
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.forgotten_at() > now:
                return
            self._entries.popitem(last=False)


class SignInLimits:
    """Failed proxy sign-ins, counted per client IP and per member name. After :data:`FREE_FAILURES` for either,
    every sign-in from that client or for that name is refused without checking the password, the right one too
    (otherwise the pause would still answer guesses), for 30 s, then double that after each further failure, up to
    15 minutes. A right password clears its client and its name. Thread-safe: checks finish on a worker thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._clients = _FailureBook()
        self._members = _FailureBook()  # only names in the rules: made-up names count against the client alone

    def paused_for(self, client: str, member: str | None) -> float:
        """Seconds until a sign-in from ``client`` for ``member`` is checked again; 0 when it is checked now."""
        with self._lock:
            now = self._clock()
            by_member = self._members.paused_for(member, now) if member is not None else 0.0
            by_client = self._clients.paused_for(client, now) if _counted_by_address(client) else 0.0
            return max(by_client, by_member)

    def failed(self, client: str, member: str | None) -> None:
        with self._lock:
            now = self._clock()
            client_count, client_pause = self._clients.failed(client, now) if _counted_by_address(client) else (0, 0.0)
            member_count, member_pause = self._members.failed(member, now) if member is not None else (0, 0.0)
        if client_pause:
            log.warning(
                "%d failed proxy sign-ins from %s: sign-ins from there are refused for %d s",
                client_count,
                client,
                client_pause,
            )
        if member_pause:
            log.warning(
                "%d failed proxy sign-ins as %r: sign-ins for that name are refused for %d s",
                member_count,
                member,
                member_pause,
            )

    def succeeded(self, client: str, member: str | None) -> None:
        with self._lock:
            self._clients.forget(client)
            if member is not None:
                self._members.forget(member)


def _counted_by_address(client: str) -> bool:
    """Everyone browsing on the household machine itself shares 127.0.0.1: counting failures by that address would
    let one member's wrong guesses lock every other member out. There only the member name is counted."""
    return not is_loopback(client)


@dataclass(frozen=True)
class _Attempt:
    """A sign-in to check: the client's IP (``None`` when mitmproxy does not know it) and what it sent."""

    client_ip: str | None
    user: str
    password: str
    stored: str | None  # the member's password from the rules; None for a name no member has
    a_members_name: bool  # whether the name is a member's user name in the rules (with a password or not)

    @property
    def client(self) -> str:
        return self.client_ip or "an unknown address"

    @property
    def member(self) -> str | None:
        return self.user.casefold() if self.stored is not None else None

    @property
    def named(self) -> str:
        """The name as a log may show it. A name no member has may be a password typed into the name field (a user
        test found a parent's password in the log that way): only a member's user name is written out."""
        return repr(self.user) if self.a_members_name else "a name that is no member's"

    @property
    def costly(self) -> bool:
        return self.stored is not None and is_hashed(self.stored)

    def right(self) -> bool:
        """The member's password from the rules, stored as a scrypt hash (or plain text in older files)."""
        return self.stored is not None and verify_password(self.stored, self.password)


class Identity:
    def __init__(self, runtime: Runtime, limits: SignInLimits | None = None) -> None:
        self.runtime = runtime
        self.signed_in: weakref.WeakKeyDictionary[connection.Client, str] = weakref.WeakKeyDictionary()
        # Whether a name alone may pick a profile: no until mitmproxy says every server listens on loopback.
        self.names_suffice = False
        # Whether some server listens beyond loopback (then a client from elsewhere must sign in, or is turned away).
        self.shared = False
        self.limits = limits if limits is not None else SignInLimits()
        # One thread: scrypt checks queue up (one 16 MB hash at a time) and each sees the failures counted before it.
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="breather-sign-in")

    def running(self) -> None:
        self._read_listen_hosts()

    def configure(self, updated: set[str]) -> None:
        if updated & {"listen_host", "listen_port", "mode"}:
            self._read_listen_hosts()

    def done(self) -> None:
        self._checker.shutdown(wait=False, cancel_futures=True)

    def _read_listen_hosts(self) -> None:
        """From mitmproxy's options, where its servers really listen (``--listen-host``, ``--set listen_host`` or a
        mode's ``@host:port``), not from Breather's settings: under plain mitmdump those are not what listens."""
        options = ctx.options
        hosts = listen_hosts(options.mode, options.listen_host, options.listen_port)
        beyond = beyond_loopback(hosts)
        self.names_suffice = bool(hosts) and not beyond
        self.shared = bool(beyond)

    # The hooks answer at once, except when a hashed password must be checked: then they return a coroutine, which
    # mitmproxy awaits before the next addon sees the flow.

    def http_connect(self, flow: http.HTTPFlow) -> Checking | None:
        return self._identify(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> Checking | None:
        if flow.response is not None:
            return None
        checking = self._identify(flow)
        if checking is not None:
            return self._note_seen_after(checking, flow)
        self._note_seen(flow)
        return None

    async def _note_seen_after(self, checking: Checking, flow: http.HTTPFlow) -> None:
        await checking
        self._note_seen(flow)

    def _note_seen(self, flow: http.HTTPFlow) -> None:
        """Every request for a site Breather reads counts as "Breather sees this browser's traffic", whatever comes
        of it: a page, a limit page served instead, a feed's JSON, a call of the overlay's."""
        profile, site = flow.metadata.get(PROFILE), flow.metadata.get(SITE)
        if flow.response is None and isinstance(profile, str) and isinstance(site, str):
            self.runtime.sessions.note_seen(profile, site, datetime.now(UTC))

    def _identify(self, flow: http.HTTPFlow) -> Checking | None:
        rules = self.runtime.current_rules()
        known = credentials_of(rules)
        client_ip = flow.client_conn.peername[0] if flow.client_conn.peername else None
        if self.shared and not known and not is_loopback(client_ip or ""):
            # The service refuses to start shared without passwords; an edit that removed the last one must not
            # open the proxy to the whole network as the default member.
            flow.response = not_shared_response()
            return None
        user = self.signed_in.get(flow.client_conn)
        if user is None and self.names_suffice:
            user = self._named(flow, names_without_password(rules))
            if user is not None:
                self.signed_in[flow.client_conn] = user
        # The proxy-auth user first, else the device's address: credentials sent from a device the rules name by
        # address are still checked, and pick their member when right.
        signs_in = "proxy-authorization" in flow.request.headers or not rules.profile_for(None, client_ip).client_ips
        if known and user is None and signs_in:
            return self._sign_in(flow, rules, known, client_ip)
        _drop_credentials(flow)
        flow.metadata[PROFILE] = rules.profile_for(user, client_ip).name
        return None

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
        _drop_credentials(flow)
        return user

    def _sign_in(
        self, flow: http.HTTPFlow, rules: Any, known: dict[str, str], client_ip: str | None
    ) -> Checking | None:
        attempt = self._attempt(flow, known, member_names(rules), client_ip)
        if attempt is None:
            return None
        if attempt.costly:
            return self._check_off_loop(flow, rules, attempt)
        self._settle(flow, rules, attempt, self._verdict(attempt))
        return None

    def _attempt(
        self, flow: http.HTTPFlow, known: dict[str, str], members: frozenset[str], client_ip: str | None
    ) -> _Attempt | None:
        """What the client sent, when it is worth checking; otherwise None, with the 407 already set."""
        header = flow.request.headers.get("proxy-authorization")
        if header is None:
            flow.response = auth_required_response()
            return None
        try:
            user, password = parse_basic(header)
        except ValueError as exc:
            log.info("proxy sign-in refused: %s", exc)
            flow.response = auth_required_response()
            return None
        folded = user.casefold()
        attempt = _Attempt(client_ip, user, password, known.get(folded), folded in members)
        paused = self.limits.paused_for(attempt.client, attempt.member)
        if paused > 0:
            flow.response = auth_required_response(paused)
            return None
        return attempt

    async def _check_off_loop(self, flow: http.HTTPFlow, rules: Any, attempt: _Attempt) -> None:
        verdict = await asyncio.get_running_loop().run_in_executor(self._checker, self._verdict, attempt)
        self._settle(flow, rules, attempt, verdict)

    def _verdict(self, attempt: _Attempt) -> bool:
        """Whether the password is right. A wrong one counts as a failure; none is checked once the failures
        checked while this attempt waited its turn started a pause."""
        if self.limits.paused_for(attempt.client, attempt.member) > 0:
            return False
        if attempt.right():
            self.limits.succeeded(attempt.client, attempt.member)
            return True
        log.info("proxy sign-in refused for %s: wrong name or password", attempt.named)
        self.limits.failed(attempt.client, attempt.member)
        return False

    def _settle(self, flow: http.HTTPFlow, rules: Any, attempt: _Attempt, right: bool) -> None:
        if not right:
            flow.response = auth_required_response(self.limits.paused_for(attempt.client, attempt.member))
            return
        _drop_credentials(flow)
        self.signed_in[flow.client_conn] = attempt.user
        flow.metadata[PROFILE] = rules.profile_for(attempt.user, attempt.client_ip).name


def _drop_credentials(flow: http.HTTPFlow) -> None:
    """A member's proxy sign-in is Breather's, never the site's: browsers send it with every plain-HTTP request
    through a proxy that asked for it, and mitmproxy would pass it on (a review found a member's password reaching
    every ``http://`` site from the second request of a signed-in connection)."""
    flow.request.headers.pop("proxy-authorization", None)
