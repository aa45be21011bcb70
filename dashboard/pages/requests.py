"""Asks for more time (``more_time_asked`` events) and the household's answers to them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlite_utils import Database

from breather.dashboard.errors import ApiError
from breather.grants import let_through
from breather.rules.model import Rules
from breather.store.asks import ASKS_WITH_ANSWERS
from breather.store.model import Event, iso
from breather.store.usage import Period, local_midnight, site_label

GRANTS = {"15": "15 minutes", "60": "1 hour", "rest": "the rest of today"}
PENDING_LOOKBACK = timedelta(days=2)


def ask_answers(db: Database, rules: Rules, period: Period) -> Counter[tuple[str, str | None]]:
    """(profile, "approved" / "declined" / None for not answered yet) -> asks for more time in the period, answered
    as the Requests page and the block page read them (``breather.store.asks``)."""
    zone = rules.zone()
    start = local_midnight(period.first, zone)
    end = local_midnight(period.last + timedelta(days=1), zone)
    rows = db.execute(f"select profile, status from ({ASKS_WITH_ANSWERS}) where at < ?", [iso(start), iso(end)])
    return Counter((profile, status) for profile, status in rows)


@dataclass(frozen=True)
class Ask:
    event_id: int
    profile: str
    site: str | None
    at: datetime
    minutes: int | None
    status: str = "pending"
    reason: str | None = None
    granted_until: datetime | None = None


def _ask(row: tuple[Any, ...]) -> Ask:
    event_id, profile, site, at, detail, status, reason, until, _answered_at = row
    minutes = json.loads(detail).get("minutes") if detail else None
    return Ask(
        int(event_id),
        profile,
        site,
        datetime.fromisoformat(at),
        minutes if isinstance(minutes, int) else None,
        status or "pending",
        reason,
        datetime.fromisoformat(until) if until else None,
    )


def pending(db: Database, now: datetime) -> list[Ask]:
    since = (now - PENDING_LOOKBACK).astimezone(UTC).isoformat()
    rows = db.execute(f"select * from ({ASKS_WITH_ANSWERS}) where status is null order by at", [since]).fetchall()
    return [_ask(row) for row in rows]


def answered(db: Database, now: datetime, zone: tzinfo, days: int = 7) -> list[Ask]:
    """The asks answered among those made in the ``days`` days ending today on the household's clock: the weekly
    review's days, so the list and the review's counts agree (a rolling 7 times 24 hours showed last Sunday's "no"
    beside today's on a Sunday, one more than the review counted)."""
    since = local_midnight(now.astimezone(zone).date() - timedelta(days=days - 1), zone).astimezone(UTC).isoformat()
    rows = db.execute(
        f"select * from ({ASKS_WITH_ANSWERS}) where status is not null order by at desc limit 50", [since]
    ).fetchall()
    return [_ask(row) for row in rows]


def when_asked(at: datetime, now: datetime, zone: tzinfo) -> str:
    """The ask's time on the household's clock: "today 14:05", "yesterday 21:40" or "Tue 24 Nov, 21:40"."""
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    return local.strftime("%a %-d %b, %H:%M")


def asked_on_an_earlier_day(ask: Ask, now: datetime, zone: tzinfo) -> bool:
    """An ask from yesterday evening answered this morning: a yes counts from now, and "the rest of the day" is
    today's rest, which the page must say (a user test read it as the evening asked about)."""
    return ask.at.astimezone(zone).date() < now.astimezone(zone).date()


def grant_labels(now: datetime, rules: Rules) -> dict[str, str]:
    """Each choice with the time it runs to, so nobody has to work out what "1 hour" means at 23:30."""
    labels = {}
    for choice, label in GRANTS.items():
        _, until = grant_until(choice, now, rules)
        labels[choice] = f"{label} (until {until_text(until, rules.zone())})"
    return labels


def until_text(until: datetime, zone: tzinfo) -> str:
    local = until.astimezone(zone)
    return "midnight" if local.time() == time.min else local.strftime("%H:%M")


def grant_until(choice: str, now: datetime, rules: Rules) -> tuple[int, datetime]:
    """(minutes, until) for "15", "60" or "rest" (until local midnight)."""
    if choice not in GRANTS:
        raise ApiError(400, "InvalidGrant", "approve for 15 minutes, 1 hour or the rest of the day")
    if choice == "rest":
        local = now.astimezone(rules.zone())
        midnight = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=rules.zone())
        return max(1, int((midnight - local).total_seconds() // 60)), midnight.astimezone(UTC)
    minutes = int(choice)
    return minutes, now + timedelta(minutes=minutes)


def find(db: Database, event_id: int) -> Ask:
    row = db.execute(ASKS_WITH_ANSWERS.replace("e.at >= ?", "e.id = ?"), [event_id]).fetchone()
    if row is None:
        raise ApiError(404, "UnknownRequest", f"there is no ask for more time numbered {event_id}")
    ask = _ask(row)
    if ask.status != "pending":
        raise ApiError(409, "AlreadyAnswered", f"this ask was already answered ({ask.status})")
    return ask


def answer_row(
    ask: Ask, status: str, now: datetime, reason: str | None, minutes: int | None, until: datetime | None
) -> dict[str, Any]:
    return {
        "event_id": ask.event_id,
        "profile": ask.profile,
        "site": ask.site,
        "answered_at": now.isoformat(timespec="seconds"),
        "status": status,
        "reason": reason,
        "granted_minutes": minutes,
        "granted_until": until.isoformat(timespec="seconds") if until else None,
    }


def answer_event(ask: Ask, status: str, now: datetime, minutes: int | None) -> Event:
    kind = "more_time_granted" if status == "approved" else "more_time_declined"
    detail = {"minutes": minutes} if minutes is not None else None
    return Event(ask.profile, kind, now, site=ask.site, detail=detail)


def apply_grant(runtime: Any, ask: Ask, until: datetime) -> None:
    """Tell the running proxy at once: the site's limit (and quiet hours, when the ask was made during them) is lifted
    for this member until ``until``, under the site the proxy decides on whichever host the ask named; an ask that
    named no site has the limits lifted on every site, never quiet hours (``breather.grants.let_through``)."""
    let_through(runtime, ask.profile, ask.site, until, ask.at)


def said_yes(ask: Ask, until: datetime, rules: Rules) -> str:
    """What the parent reads after a yes, saying what the yes lifts."""
    when = until_text(until, rules.zone())
    if ask.site is None:
        return (
            f"Said yes to {ask.profile}: their time limits are lifted on every site until {when}; "
            "quiet hours still apply."
        )
    return f"Said yes to {ask.profile}: more time on {site_label(rules, ask.site)} until {when}."
