"""Who is browsing: the proxy-auth user name, else the client's IP, else the default profile.

When any profile in the rules has proxy credentials, every client must sign in (HTTP ``Proxy-Authorization``
Basic), except a device whose IP a profile names in ``client_ips``; a CONNECT that signed in authenticates the
requests inside its tunnel. A profile with a ``user`` and no ``password`` is picked by that name alone, but only
while the proxy listens on loopback (one machine: the browser's proxy settings say who browses); beyond it a name
without a password proves nothing. The profile name lands in ``flow.metadata["breather.profile"]`` for the other
addons, and each request for a site Breather reads is noted in the profile's session (``last_seen``), which the
extension's status and the Setup page's live check read.

Failed sign-ins are limited per client IP and per name (:class:`SignInLimits`): after a few, sign-ins from that
client or for that name are refused unchecked for a pause that doubles with each further failure. A hashed password
costs a scrypt check (~25 ms of CPU), so those run on one worker thread, never on mitmproxy's event loop: a flood of
guesses queues there while every other flow goes on. Once any member's password is hashed, every wrong sign-in costs
that check, for a name no member has too: how long a 407 takes must not tell which names are the members'.

A sign-in lasts as long as its connection, but only while the rules still give its name the password it signed in
with: once a rules edit removes the member or changes the password, the connection's next request must sign in again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import secrets
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mitmproxy import connection, ctx, http

from breather.clocks import monotonic_including_sleep
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
MAX_ADDRESSES_PER_NAME = 64  # a name's failures kept apart by client address; more addresses count for the name alone

Checking = Coroutine[Any, Any, None]  # a hook's answer when it must wait for a password check


def parse_basic(header: str) -> tuple[str, str]:
    """``Basic dXNlcjpwYXNz`` → ``("user", "pass")``; anything else raises ValueError."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise ValueError("expected HTTP Basic credentials")
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError("credentials are not valid base64") from exc
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        # ISO-8859-1, what Basic meant before RFC 7617 and what some clients still send whatever the challenge asks:
        # "zoë" as b"zo\xeb" is no UTF-8, and a member with a letter outside ASCII in her user name never signed in.
        decoded = raw.decode("latin-1")
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


def stored_passwords(rules: Any) -> dict[str, str | None]:
    """Every member's user name (case folded) and its password from the rules, None for a member without one."""
    return {p.user.casefold(): p.password or None for p in rules.profiles.values() if p.user}


def hash_parameters(rules: Any) -> str | None:
    """The scrypt parameters of a member's hashed password, such as ``scrypt:16384:8:1``; None when none is hashed."""
    hashed = sorted(p.password for p in rules.profiles.values() if p.user and p.password and is_hashed(p.password))
    return hashed[0].split("$", 1)[0] if hashed else None


def decoy_hash(parameters: str) -> str:
    """A hash no password matches, with ``parameters``: checking a sign-in against it costs what a member's does."""
    return f"{parameters}${secrets.token_hex(16)}${'0' * 64}"


def auth_required_response(paused_s: float = 0.0) -> http.Response:
    # charset: RFC 7617's way of asking the browser for the user name and password in UTF-8
    challenge = f'Basic realm="{REALM}", charset="UTF-8"'
    headers = {"Proxy-Authenticate": challenge, "Content-Type": "text/plain; charset=utf-8"}
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
    # For a name: how many of its failures came from each client address, so that a right sign-in forgives only
    # those made where it was made (the member's own typos), never a guesser's elsewhere.
    by_address: dict[str, int] = field(default_factory=dict)

    def forgotten_at(self) -> float:
        return max(self.last_at, self.paused_until) + FORGET_AFTER_S

    def note_address(self, client: str) -> None:
        if client in self.by_address or len(self.by_address) < MAX_ADDRESSES_PER_NAME:
            self.by_address[client] = self.by_address.get(client, 0) + 1

    def forgive_address(self, client: str) -> None:
        self.count -= self.by_address.pop(client, 0)


class _FailureBook:
    """Failed sign-ins per key (a client IP, or a name), the least recently failed first."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Failures] = OrderedDict()

    def paused_for(self, key: str, now: float) -> float:
        entry = self._entries.get(key)
        return max(0.0, entry.paused_until - now) if entry is not None else 0.0

    def failed(self, key: str, now: float, client: str | None = None) -> tuple[int, float]:
        """Count a failure (for a name: made from ``client``); the failures so far and the pause this one starts (0
        for none)."""
        self._drop_forgotten(now)
        entry = self._entries.pop(key, None) or _Failures()
        entry.count += 1
        entry.last_at = now
        if client is not None:
            entry.note_address(client)
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

    def forgive(self, key: str, client: str) -> None:
        """Forget the failures for ``key`` made from ``client``; the others keep the pause they have reached."""
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.forgive_address(client)
        if entry.count <= 0:
            del self._entries[key]

    def _drop_forgotten(self, now: float) -> None:
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.forgotten_at() > now:
                return
            self._entries.popitem(last=False)


class SignInLimits:
    """Failed proxy sign-ins, counted per client IP and per name. After :data:`FREE_FAILURES` for either, every
    sign-in from that client or for that name is refused without checking the password, the right one too
    (otherwise the pause would still answer guesses), for 30 s, then double that after each further failure, up to
    15 minutes. A right password clears its client, and its member name's failures made from that client: not those
    from elsewhere (a guesser's go on counting while the member browses). Thread-safe: checks finish on a worker
    thread.

    A name no member has (``stranger``) is counted and paused like a member's, so the answers do not tell the two
    apart, but in a book of its own: a flood of made-up names never pushes a member's failures out."""

    def __init__(self, clock: Callable[[], float] = monotonic_including_sleep) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._clients = _FailureBook()
        self._members = _FailureBook()
        self._strangers = _FailureBook()

    def paused_for(self, client: str, member: str | None, stranger: str | None = None) -> float:
        """Seconds until a sign-in from ``client`` for ``member`` (or for the name no member has, ``stranger``) is
        checked again; 0 when it is checked now."""
        with self._lock:
            now = self._clock()
            by_member = self._members.paused_for(member, now) if member is not None else 0.0
            by_stranger = self._strangers.paused_for(stranger, now) if stranger is not None else 0.0
            by_client = self._clients.paused_for(client, now) if _counted_by_address(client) else 0.0
            return max(by_client, by_member, by_stranger)

    def failed(self, client: str, member: str | None, stranger: str | None = None) -> None:
        with self._lock:
            now = self._clock()
            client_count, client_pause = self._clients.failed(client, now) if _counted_by_address(client) else (0, 0.0)
            member_count, member_pause = self._members.failed(member, now, client) if member is not None else (0, 0.0)
            if stranger is not None:
                self._strangers.failed(stranger, now)
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
                self._members.forgive(member, client)


def _counted_by_address(client: str) -> bool:
    """Everyone browsing on the household machine itself shares 127.0.0.1: counting failures by that address would
    let one member's wrong guesses lock every other member out. There only the member name is counted."""
    return not is_loopback(client)


@dataclass(frozen=True)
class _SignedIn:
    """A connection's sign-in: the name, and the password the rules gave it then (as the rules hold it: a hash, or
    None for a name that needs none on loopback)."""

    user: str
    stored: str | None


@dataclass(frozen=True)
class _Attempt:
    """A sign-in to check: the client's IP (``None`` when mitmproxy does not know it) and what it sent."""

    client_ip: str | None
    user: str
    password: str
    stored: str | None  # the member's password from the rules; None for a name no member has
    a_members_name: bool  # whether the name is a member's user name in the rules (with a password or not)
    decoy: str | None  # what a wrong sign-in is checked against when no member's hash is (see :func:`decoy_hash`)

    @property
    def client(self) -> str:
        return self.client_ip or "an unknown address"

    @property
    def member(self) -> str | None:
        return self.user.casefold() if self.stored is not None else None

    @property
    def stranger(self) -> str | None:
        """The name, for the sign-in limits, when no member signs in with it (a made-up one, or a password typed into
        the name field): counted apart from the members' names, never logged."""
        return self.user.casefold() if self.stored is None else None

    @property
    def named(self) -> str:
        """The name as a log may show it. A name no member has may be a password typed into the name field (a user
        test found a parent's password in the log that way): only a member's user name is written out."""
        return repr(self.user) if self.a_members_name else "a name that is no member's"

    @property
    def costly(self) -> bool:
        """Whether checking it runs scrypt: a member's hashed password; any other wrong sign-in when some member's
        password is hashed. A right plain-text password answers at once: its speed tells only who already knows."""
        if self.stored is not None and is_hashed(self.stored):
            return True
        return self.decoy is not None and not self.right_in_plain_text()

    def right_in_plain_text(self) -> bool:
        return self.stored is not None and not is_hashed(self.stored) and verify_password(self.stored, self.password)

    def right(self) -> bool:
        """The member's password from the rules, stored as a scrypt hash (or plain text in older files). A wrong one
        that is not a member's hash costs the decoy's scrypt check, so it takes as long as a member's."""
        if self.stored is not None and is_hashed(self.stored):
            return verify_password(self.stored, self.password)
        if self.right_in_plain_text():
            return True
        if self.decoy is not None:
            verify_password(self.decoy, self.password)  # its answer is always no; its cost is the point
        return False


class Identity:
    def __init__(self, runtime: Runtime, limits: SignInLimits | None = None) -> None:
        self.runtime = runtime
        self.signed_in: weakref.WeakKeyDictionary[connection.Client, _SignedIn] = weakref.WeakKeyDictionary()
        # Whether a name alone may pick a profile: no until mitmproxy says every server listens on loopback.
        self.names_suffice = False
        # Whether some server listens beyond loopback (then a client from elsewhere must sign in, or is turned away).
        self.shared = False
        self.limits = limits if limits is not None else SignInLimits()
        # One thread: scrypt checks queue up (one 16 MB hash at a time) and each sees the failures counted before it.
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="breather-sign-in")
        self._decoys: dict[str, str] = {}  # a decoy hash per scrypt parameters: see decoy_hash

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
        user = self._still_signed_in(flow.client_conn, rules)
        if user is None and self.names_suffice:
            user = self._named(flow, names_without_password(rules))
            if user is not None:
                self._remember_sign_in(flow.client_conn, user, None)
        # The proxy-auth user first, else the device's address: credentials sent from a device the rules name by
        # address are still checked, and pick their member when right.
        signs_in = "proxy-authorization" in flow.request.headers or not rules.profile_for(None, client_ip).client_ips
        if known and user is None and signs_in:
            return self._sign_in(flow, rules, known, client_ip)
        # (A connection whose sign-in no longer holds reaches here only when the rules ask no one to sign in, or its
        # device is named by address: then it browses as a new connection from there would.)
        _drop_credentials(flow)
        flow.metadata[PROFILE] = rules.profile_for(user, client_ip).name
        return None

    def _still_signed_in(self, client: connection.Client, rules: Any) -> str | None:
        """The name this connection signed in with, while the rules still give it the password it signed in with.
        Once a rules edit removes the member or changes the password, the sign-in is forgotten and the connection
        must sign in again, as a new one must: a name no longer in the rules would otherwise pick the default
        profile (a parent's, often with no limit)."""
        signed_in = self.signed_in.get(client)
        if signed_in is None:
            return None
        passwords = stored_passwords(rules)
        folded = signed_in.user.casefold()
        if folded in passwords and passwords[folded] == signed_in.stored:
            return signed_in.user
        del self.signed_in[client]
        log.info("a connection signed in as %r must sign in again: the rules changed that member", signed_in.user)
        return None

    def _remember_sign_in(self, client: connection.Client, user: str, stored: str | None) -> None:
        self.signed_in[client] = _SignedIn(user, stored or None)

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
        attempt = self._attempt(flow, rules, known, member_names(rules), client_ip)
        if attempt is None:
            return None
        if attempt.costly:
            return self._check_off_loop(flow, rules, attempt)
        self._settle(flow, rules, attempt, self._verdict(attempt))
        return None

    def _attempt(
        self, flow: http.HTTPFlow, rules: Any, known: dict[str, str], members: frozenset[str], client_ip: str | None
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
        attempt = _Attempt(client_ip, user, password, known.get(folded), folded in members, self._decoy(rules))
        paused = self.limits.paused_for(attempt.client, attempt.member, attempt.stranger)
        if paused > 0:
            flow.response = auth_required_response(paused)
            return None
        return attempt

    def _decoy(self, rules: Any) -> str | None:
        """What a wrong sign-in for a name without a hashed password is checked against; None when no member's
        password is hashed (then no sign-in runs scrypt, and none needs to)."""
        parameters = hash_parameters(rules)
        if parameters is None:
            return None
        decoy = self._decoys.get(parameters)
        if decoy is None:
            if len(self._decoys) >= 8:  # only a rules file sets parameters: a few at most, kept bounded anyway
                self._decoys.clear()
            decoy = self._decoys[parameters] = decoy_hash(parameters)
        return decoy

    async def _check_off_loop(self, flow: http.HTTPFlow, rules: Any, attempt: _Attempt) -> None:
        verdict = await asyncio.get_running_loop().run_in_executor(self._checker, self._verdict, attempt)
        self._settle(flow, rules, attempt, verdict)

    def _verdict(self, attempt: _Attempt) -> bool:
        """Whether the password is right. A wrong one counts as a failure; none is checked once the failures
        checked while this attempt waited its turn started a pause."""
        if self.limits.paused_for(attempt.client, attempt.member, attempt.stranger) > 0:
            return False
        if attempt.right():
            self.limits.succeeded(attempt.client, attempt.member)
            return True
        log.info("proxy sign-in refused for %s: wrong name or password", attempt.named)
        self.limits.failed(attempt.client, attempt.member, attempt.stranger)
        return False

    def _settle(self, flow: http.HTTPFlow, rules: Any, attempt: _Attempt, right: bool) -> None:
        if not right:
            paused = self.limits.paused_for(attempt.client, attempt.member, attempt.stranger)
            flow.response = auth_required_response(paused)
            return
        _drop_credentials(flow)
        self._remember_sign_in(flow.client_conn, attempt.user, attempt.stored)
        flow.metadata[PROFILE] = rules.profile_for(attempt.user, attempt.client_ip).name


def _drop_credentials(flow: http.HTTPFlow) -> None:
    """A member's proxy sign-in is Breather's, never the site's: browsers send it with every plain-HTTP request
    through a proxy that asked for it, and mitmproxy would pass it on (a review found a member's password reaching
    every ``http://`` site from the second request of a signed-in connection)."""
    flow.request.headers.pop("proxy-authorization", None)
