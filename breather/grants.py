"""More time a parent said yes to: the approved asks kept in the store, and letting a site through for a member.

The proxy keeps a yes in memory only (``Session.overrides_until``, under the rules' site domain); the store's
``time_answers`` rows are what a restart (``restore_grants``) and ``breather rules explain`` read back. Shared by the
dashboard's Requests page, the service and the command line, so it lives outside all three.

An ask may name no site (Breather 0.1.0's extension asked "5 more minutes" with no social tab in front): a yes to it
lifts the member's limits on every site of the rules, and never quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from breather.rules.decisions import decide
from breather.rules.model import Rules, host_in_domain
from breather.runtime import EVERY_SITE, lift_block


@dataclass(frozen=True)
class Grant:
    """More time a parent approved (an answered ask) for one member on one site, or on every site."""

    profile: str
    site: str | None  # None: the ask named no site, and the yes is for every site
    until: datetime
    approved_at: datetime
    # when the ask was made, for the quiet hours it may open: None when the ask's event is gone (records past their
    # retention) or the ask named no site (a yes to it opens no quiet hours)
    asked_at: datetime | None = None


def approved_grants(db: Database) -> list[Grant]:
    """Every approved ask with an end, as stored (running or not)."""
    rows = db.execute(
        "select a.profile, a.site, a.granted_until, a.answered_at, case when a.site is null then null else e.at end "
        "from time_answers a left join events e on e.id = a.event_id "
        "where a.status = 'approved' and a.granted_until is not null"
    ).fetchall()
    return [
        Grant(profile, site, _utc(until), _utc(answered), _utc(asked) if asked else None)
        for profile, site, until, answered, asked in rows
    ]


def _utc(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def restore_grants(runtime: Any, db: Database, now: datetime) -> int:
    """After a restart, every approved ask still running lets its site through again: the proxy keeps grants in
    memory only, and a user test lost a parent's yes to a restart. Returns how many were restored."""
    running = [grant for grant in approved_grants(db) if grant.until > now]
    for grant in running:
        let_through(runtime, grant.profile, grant.site, grant.until, grant.asked_at)
    return len(running)


def let_through(
    runtime: Any, profile: str, site: str | None, until: datetime, asked_at: datetime | None = None
) -> None:
    """Let the member use the site until ``until``: past its limits, and past quiet hours too when the ask was made
    during them (a user test's child asked from the quiet-hours page, a parent said yes, and the page stayed shut
    while saying "Yes"). A yes to an ask at the limit does not open quiet hours that begin later (docs/rules.md's
    order). The ask's host (the extension sends the tab's, ``www.reddit.com``) is kept as the site the proxy decides
    on (``reddit.com``), or the yes would never be found: a user test's approved ask changed nothing. With no site,
    the limits are lifted on every site of the rules (:func:`lift_limits_everywhere`)."""
    if getattr(runtime, "sessions", None) is None:  # no proxy running in this process: the store row is the yes
        return
    if site is None:
        lift_limits_everywhere(runtime, profile, until)
        return
    lift_block(runtime, profile, site, "limit_reached", until, granted=True)
    if asked_at is not None and asked_in_quiet_hours(runtime.current_rules(), profile, site, asked_at):
        lift_block(runtime, profile, site, "quiet_hours", until, granted=True)


def lift_limits_everywhere(runtime: Any, profile: str, until: datetime) -> None:
    """A yes to an ask that named no site: the member's limits are lifted on every site, those added to the rules
    while it runs too, as a yes for each site would lift them, and quiet hours stay (the Requests page said "more
    time on their sites" and lifted nothing)."""
    lift_block(runtime, profile, EVERY_SITE, "limit_reached", until, granted=True)


def asked_in_quiet_hours(rules: Rules, profile: str, site: str, asked_at: datetime) -> bool:
    """Whether quiet hours kept ``profile`` off ``site`` when they asked (quiet hours depend on the clock alone)."""
    if profile not in rules.profiles:
        return False
    return decide(rules, profile, site, asked_at).kind == "quiet_hours"


def grants_the_site(grant: Grant, site: str) -> bool:
    """Whether ``grant`` is for ``site``, a rules site domain (``reddit.com``): the ask may name any host of it; a
    yes to an ask that named no site is for every site."""
    return grant.site is None or host_in_domain(grant.site, site)
