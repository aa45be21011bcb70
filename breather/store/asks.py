"""Asks for more time and their answers, read one way for everyone who shows them: the dashboard's Requests page,
Family and the weekly review, and the proxy's block page ("asked at 21:40, waiting" / "yes, until 22:40").

An ask is a ``more_time_asked`` event, and its answer is its own ``time_answers`` row (the Requests page writes one with
the reason and the grant). A ``more_time_granted`` / ``more_time_declined`` event for the same member and site after the
ask answers it only where no row does: stores whose answers were written as events alone (a demo home made before the
demo wrote ``time_answers`` rows, imported data). The Requests page writes such an event beside each row too, for the
events table's counts; that event echoes its own ask's row and answers no other ask (it did: a yes to one ask answered
every earlier ask of the member's for the site still waiting). ``time_answers`` is the dashboard's table
(``breather.dashboard.migrations``): before the dashboard has made it (a proxy run under plain ``mitmdump``), the answer
events alone answer.
"""

from __future__ import annotations

from sqlite_utils import Database

# The Requests page writes a row and its event at one moment: the row's time to the second, the event's to the
# microsecond (both UTC today, but compared as instants).
_ECHOES_A_ROW = """not exists (
      select 1 from time_answers echoed
      where echoed.profile = r.profile and coalesce(echoed.site, '') = coalesce(r.site, '')
        and abs(julianday(r.at) - julianday(echoed.answered_at)) < 2 / 86400.0
    )"""


def _answer_event(column: str, answer_rows: bool) -> str:
    """``column`` of the first answer event after the ask for the same member and site, leaving out the events that
    echo a ``time_answers`` row (``answer_rows``: the table exists)."""
    echo = f"and {_ECHOES_A_ROW}" if answer_rows else ""
    return f"""(
    select {column} from events r
    where r.kind in ('more_time_granted', 'more_time_declined') and r.profile = e.profile
      and coalesce(r.site, '') = coalesce(e.site, '') and r.at >= e.at {echo}
    order by r.at limit 1
  )"""


def _asks_sql(answer_rows: bool) -> str:
    def row(column: str) -> str:
        return f"a.{column}" if answer_rows else "null"

    event_status = _answer_event(
        "case r.kind when 'more_time_granted' then 'approved' else 'declined' end", answer_rows
    )
    join = "left join time_answers a on a.event_id = e.id" if answer_rows else ""
    return f"""
select e.id, e.profile, e.site, e.at, e.detail,
  coalesce({row("status")}, {event_status}) as status,
  {row("reason")} as reason, {row("granted_until")} as granted_until,
  coalesce({row("answered_at")}, {_answer_event("r.at", answer_rows)}) as answered_at
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
