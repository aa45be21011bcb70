"""Choices that hold for a while, given back to the proxy after a restart.

The proxy keeps "continue anyway" (an override of a limit or quiet hours) and "5 more minutes" (a snooze) in memory.
A user test restarted the service and the limit page came straight back, the snooze with it. Both choices are in the
event log already, so a start reads the recent ones and puts them back; a parent's yes to more time is restored the
same way from its answer (``breather.grants.restore_grants``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial

from sqlite_utils import Database

from breather.proxy.local_api import OVERRIDE_MINUTES
from breather.runtime import Runtime, Session
from breather.store.model import iso

# Longer than any override or snooze runs. (A restart ends a run of snoozes older than this; live, only a break
# taken ends one.)
LOOK_BACK = timedelta(hours=2)


def restore_recent_choices(runtime: Runtime, db: Database, now: datetime) -> int:
    """Put back overrides and snoozes still running at ``now`` (replaying the recent events in order, so a break
    taken after a snooze ends its run). Returns how many are running."""
    rows = db.execute(
        "select profile, kind, site, at, detail from events "
        "where kind in ('limit_overridden', 'break_snoozed', 'break_taken') and at >= ? order by at",
        [iso(now - LOOK_BACK)],
    ).fetchall()
    for profile, kind, site, at_text, detail in rows:
        at = datetime.fromisoformat(at_text)
        if kind == "limit_overridden" and site:
            runtime.sessions.update(profile, partial(_overridden, site=site, at=at, now=now))
        elif kind == "break_snoozed":
            runtime.sessions.update(profile, partial(_snoozed, at=at, minutes=_minutes(detail)))
        elif kind == "break_taken":
            runtime.sessions.update(profile, _break_taken)
    running = 0
    for name in runtime.sessions.profiles():
        session = runtime.sessions.read(name)
        running += sum(1 for until in session.overrides_until.values() if until > now)
        running += 1 if session.snoozed_until is not None and session.snoozed_until > now else 0
    return running


def _overridden(session: Session, site: str, at: datetime, now: datetime) -> None:
    until = at + timedelta(minutes=OVERRIDE_MINUTES)
    if until > now and until > session.overrides_until.get(site, until - timedelta(seconds=1)):
        session.overrides_until[site] = until


def _minutes(detail: str | None) -> int:
    try:
        value = json.loads(detail or "{}").get("minutes", 0)
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) else 0


def _snoozed(session: Session, at: datetime, minutes: int) -> None:
    session.snoozes_in_row += 1
    session.snoozed_until = at + timedelta(minutes=minutes)


def _break_taken(session: Session) -> None:
    session.snoozes_in_row = 0
    session.snoozed_until = None
