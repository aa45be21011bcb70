"""More time a parent said yes to: the approved asks kept in the store, and letting a site through for a member.

The proxy keeps a yes in memory only (``Session.overrides_until``, under the rules' site domain, lifting the limit
only); the store's ``time_answers`` rows are what a restart (``restore_grants``) and ``breather rules explain`` read
back. Shared by the dashboard's Requests page, the service and the command line, so it lives outside all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from breather.rules.model import host_in_domain
from breather.runtime import lift_block


@dataclass(frozen=True)
class Grant:
    """More time a parent approved (an answered ask) for one member on one site."""

    profile: str
    site: str
    until: datetime
    approved_at: datetime


def approved_grants(db: Database) -> list[Grant]:
    """Every approved ask with a site and an end, as stored (running or not)."""
    rows = db.execute(
        "select profile, site, granted_until, answered_at from time_answers "
        "where status = 'approved' and site is not null and granted_until is not null"
    ).fetchall()
    return [Grant(profile, site, _utc(until), _utc(answered)) for profile, site, until, answered in rows]


def _utc(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def restore_grants(runtime: Any, db: Database, now: datetime) -> int:
    """After a restart, every approved ask still running lets its site through again: the proxy keeps grants in
    memory only, and a user test lost a parent's yes to a restart. Returns how many were restored."""
    running = [grant for grant in approved_grants(db) if grant.until > now]
    for grant in running:
        let_through(runtime, grant.profile, grant.site, grant.until)
    return len(running)


def let_through(runtime: Any, profile: str, site: str, until: datetime) -> None:
    """Lift the member's limits on the site until ``until``; quiet hours still hold (docs/rules.md's order). The ask's
    host (the extension sends the tab's, ``www.reddit.com``) is kept as the site the proxy decides on (``reddit.com``),
    or the yes would never be found: a user test's approved ask changed nothing."""
    lift_block(runtime, profile, site, "limit_reached", until, granted=True)


def grants_the_site(grant: Grant, site: str) -> bool:
    """Whether ``grant`` is for ``site``, a rules site domain (``reddit.com``): the ask may name any host of it."""
    return host_in_domain(grant.site, site)
