"""Choices that hold for a while, given back to the proxy after a restart (and the blocks already logged).

The proxy keeps "continue anyway" (an override of a limit or of quiet hours) and "5 more minutes" (a snooze) in memory.
A user test restarted the service and the limit page came straight back, the snooze with it. Both choices are in the
event log already, so a start reads the recent ones and puts them back, each override lifting only the block it was
made at (the kind is in the event's detail); a parent's yes to more time is restored the same way from its answer
(``breather.grants.restore_grants``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlite_utils import Database

from breather.proxy.local_api import OVERRIDE_MINUTES
from breather.runtime import Runtime, Session, end_snoozes, lift_block, lifted_kind, running_overrides
from breather.store.model import iso
from breather.store.queries import last_break

# Longer than any override or snooze runs. (A restart also ends a run of snoozes older than this; live and at a
# restart, a break taken or a pause of a break's length ends one.)
LOOK_BACK = timedelta(hours=2)
# A logged block event -> the block it was (the proxy logs one per block, see ``Boundaries._first_block_in_a_while``).
BLOCK_KINDS = {"limit_reached": "limit_reached", "quiet_hours_blocked": "quiet_hours"}


def restore_recent_choices(runtime: Runtime, db: Database, now: datetime) -> int:
    """Put back overrides and snoozes still running at ``now`` (replaying the recent events in order, so a break
    taken after a snooze ends its run, as a pause of a break's length after it does). Returns how many are
    running."""
    rows = db.execute(
        "select profile, kind, site, at, detail from events "
        "where kind in ('limit_overridden', 'break_snoozed', 'break_taken', 'limit_reached', 'quiet_hours_blocked') "
        "and at >= ? order by at",
        [iso(now - LOOK_BACK)],
    ).fetchall()
    for profile, kind, site, at_text, detail in rows:
        at = datetime.fromisoformat(at_text)
        if kind == "limit_overridden" and site:
            until = at + timedelta(minutes=OVERRIDE_MINUTES)
            if until > now:
                lift_block(runtime, profile, site, lifted_kind(_detail(detail).get("kind")), until)
        elif kind == "break_snoozed":
            runtime.sessions.update(profile, partial(_snoozed, at=at, minutes=_minutes(detail)))
        elif kind == "break_taken":
            runtime.sessions.update(profile, _break_taken)
        elif kind in BLOCK_KINDS and site:
            # the block page may have been shown until the restart (each showing moves this time on; that is not
            # logged): counted from the restart, a block that held across it is not logged twice (a soak test)
            runtime.blocks_logged[(profile, site, BLOCK_KINDS[kind])] = max(at, now)
    running = 0
    for name in runtime.sessions.profiles():
        _end_snoozes_rested(runtime, db, name, now)
        session = runtime.sessions.read(name)
        # a parent's yes is restored (and counted) by ``restore_grants``
        running += sum(1 for key, _ in running_overrides(session, now) if not key.granted)
        running += 1 if session.snoozed_until is not None and session.snoozed_until > now else 0
    return running


def _detail(detail: str | None) -> dict[str, Any]:
    try:
        value = json.loads(detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _minutes(detail: str | None) -> int:
    value = _detail(detail).get("minutes", 0)
    return value if isinstance(value, int) else 0


def _snoozed(session: Session, at: datetime, minutes: int) -> None:
    session.snoozes_in_row += 1
    session.snoozed_until = at + timedelta(minutes=minutes)
    session.snoozed_at = at


def _break_taken(session: Session) -> None:
    end_snoozes(session)


def _end_snoozes_rested(runtime: Runtime, db: Database, profile: str, now: datetime) -> None:
    """The run of snoozes replayed ends if the store holds a pause of a break's length after its last snooze, as the
    running service decides (``breather.runtime.StoreUsage``)."""
    snoozed_at = runtime.sessions.read(profile).snoozed_at
    if snoozed_at is None:
        return
    rested = last_break(db, profile, now)
    if rested is not None and rested > snoozed_at:
        runtime.sessions.update(profile, end_snoozes)
