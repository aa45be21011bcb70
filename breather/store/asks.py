"""Asks for more time and their answers, read one way for everyone who shows them: the dashboard's Requests page,
Family and the weekly review, and the proxy's block page ("asked at 21:40, waiting" / "yes, until 22:40").

An ask is a ``more_time_asked`` event. It is answered by a ``time_answers`` row (the Requests page writes one with the
reason and the grant), or else by a later ``more_time_granted`` / ``more_time_declined`` event for the same member and
site from anywhere else (imported or demo data). ``time_answers`` is the dashboard's table
(``breather.dashboard.migrations``): before the dashboard has made it (a proxy run under plain ``mitmdump``), the
answer events alone answer.
"""

from __future__ import annotations

from sqlite_utils import Database


def _answer_event(column: str) -> str:
    """``column`` of the first answer event after the ask, for the same member and site."""
    return f"""(
    select {column} from events r
    where r.kind in ('more_time_granted', 'more_time_declined') and r.profile = e.profile
      and coalesce(r.site, '') = coalesce(e.site, '') and r.at >= e.at
    order by r.at limit 1
  )"""


def _asks_sql(answer_rows: bool) -> str:
    def row(column: str) -> str:
        return f"a.{column}" if answer_rows else "null"

    event_status = _answer_event("case r.kind when 'more_time_granted' then 'approved' else 'declined' end")
    join = "left join time_answers a on a.event_id = e.id" if answer_rows else ""
    return f"""
select e.id, e.profile, e.site, e.at, e.detail,
  coalesce({row("status")}, {event_status}) as status,
  {row("reason")} as reason, {row("granted_until")} as granted_until,
  coalesce({row("answered_at")}, {_answer_event("r.at")}) as answered_at
from events e {join}
where e.kind = 'more_time_asked' and e.at >= ?
"""


# Every ask since the one parameter (an ISO instant), one row each: id, profile, site, at, detail, status, reason,
# granted_until, answered_at; ``status`` is ``approved``, ``declined`` or null while nobody has answered.
ASKS_WITH_ANSWERS = _asks_sql(answer_rows=True)
_ASKS_ANSWERED_BY_EVENTS = _asks_sql(answer_rows=False)


def asks_since_sql(db: Database) -> str:
    """:data:`ASKS_WITH_ANSWERS`, or the same read by answer events alone where ``time_answers`` does not exist."""
    return ASKS_WITH_ANSWERS if db["time_answers"].exists() else _ASKS_ANSWERED_BY_EVENTS
