"""The Setup page: trusting the CA, the proxy settings per member, and the live "does it go through?" check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from breather.rules.model import Rules, host_in_domain
from breather.rules.passwords import is_hashed
from breather.store.model import iso

LIVE_CHECK_WINDOW = timedelta(minutes=5)
DEFAULT_CHECK_HOST = "reddit.com"

# Steps to trust the Breather CA, per system and browser (Chrome/Edge on Windows and macOS use the system store).
TRUST_STEPS: dict[str, list[str]] = {
    "Windows (Chrome, Edge)": [
        "Download the certificate below and double-click it.",
        'Choose "Install Certificate…", "Current User", then "Place all certificates in the following store".',
        'Pick "Trusted Root Certification Authorities", finish, and confirm the security warning.',
        "Restart the browser.",
    ],
    "macOS (Safari, Chrome)": [
        "Download the certificate and double-click it: Keychain Access opens.",
        'Add it to the "login" keychain, then double-click "mitmproxy" in the list (the name the CA carries).',
        'Open "Trust" and set "When using this certificate" to "Always Trust". Close and enter your password.',
    ],
    "Linux (Chrome, Chromium)": [
        "Download the certificate.",
        'Run: certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n Breather -i breather-ca.pem',
        "Restart the browser.",
    ],
    "Firefox (any system)": [
        "Open Settings → Privacy & Security → Certificates → View Certificates.",
        'Under "Authorities" choose "Import…", pick the downloaded file.',
        'Tick "Trust this CA to identify websites" and confirm.',
    ],
    "Android and iPhone (a household proxy, see 2.)": [
        "Set the phone's Wi-Fi proxy to this computer (address and port in 2.). iPhone: turn on Authentication and "
        "enter the member's user and password. Android has no field for them: its browser asks the first time, but "
        "apps cannot, so give the phone a fixed address in the router and list it in the member's client_ips.",
        "On the phone, open http://mitm.it and download the certificate for its system (the proxy answers that "
        "address itself; it is this computer's certificate).",
        "Android: Settings → Security → Encryption & credentials → Install a certificate → CA certificate.",
        "iPhone: install the profile in Settings, then enable it in General → About → Certificate Trust Settings.",
    ],
}


# --- Where other devices find the proxy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberSettings:
    name: str
    user: str | None
    password: str | None
    client_ips: tuple[str, ...]
    is_default: bool

    @property
    def password_hashed(self) -> bool:
        return self.password is not None and is_hashed(self.password)


def member_settings(rules: Rules) -> list[MemberSettings]:
    return [
        MemberSettings(
            name=profile.name,
            user=profile.user,
            password=profile.password,
            client_ips=tuple(str(network) for network in profile.client_ips),
            is_default=profile.is_default,
        )
        for profile in rules.profiles.values()
    ]


@dataclass(frozen=True)
class LiveCheck:
    host: str
    answer: bool | None  # None: Breather is not running, so nothing can be said
    message: str


def live_check(db: Database, rules: Rules, runtime: Any, host: str | None, now: datetime) -> LiveCheck | None:
    """Has the running proxy seen traffic for ``host`` lately, from any member?

    Two records only the proxy makes: its in-memory sessions (every request it sees for a rules site: pages, blocked
    pages, feeds' JSON, overlay calls) and the activity it logs for each page it passes (``source`` proxy or overlay;
    the extension's own reports do not count as "through").
    """
    if host is None:
        return None
    wanted = host.strip().lower() or DEFAULT_CHECK_HOST
    sessions = getattr(runtime, "sessions", None)
    if sessions is None:
        return LiveCheck(wanted, None, "Breather is not running, so nothing goes through it. Start it and try again.")
    group = rules.group_named(wanted)  # a site's name, as the pages say it ("hackernews"), stands for its domains
    domains = group.domains if group is not None else (wanted,)
    seen = [
        at
        for name in rules.profiles
        for site, at in sessions.read(name).last_seen.items()
        if any(host_in_domain(site, domain) for domain in domains)
    ]
    logged = [at for domain in domains if (at := _latest_proxied(db, domain, now)) is not None]
    latest = max([*seen, *logged], default=None)
    if latest is not None and now - latest <= LIVE_CHECK_WINDOW:
        seconds = max(0, int((now - latest).total_seconds()))
        return LiveCheck(wanted, True, f"Yes: Breather saw {wanted} {seconds} seconds ago.")
    return LiveCheck(
        wanted,
        False,
        f"No: nothing from {wanted} reached Breather in the last 5 minutes. Open {wanted} in the browser you set up "
        "(with the extension or the proxy settings below), then check again.",
    )


def _latest_proxied(db: Database, host: str, now: datetime) -> datetime | None:
    since = iso(now - LIVE_CHECK_WINDOW)
    row = db.execute(
        "select max([end]) from activity where [end] >= ? and source in ('proxy', 'overlay', 'traffic') "
        "and (site = ? or site like ?)",
        [since, host, f"%.{host}"],
    ).fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None
