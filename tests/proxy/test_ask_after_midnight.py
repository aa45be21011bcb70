"""An open block page hears the answer to an ask made at that block, whatever the clock says when the answer comes: a
user test asked at 23:55, a parent said "1 hour" at 00:05, and the page said "Asked at 23:55. No answer yet" for
ever (it looked for asks since the poll's own midnight). Nor does a page show an older ask made at another block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from breather.dashboard.db import connect
from breather.dashboard.pages import requests
from breather.proxy.local_api import LocalApi
from breather.runtime import PendingOverride, Runtime
from tests.proxy.conftest import rules_text

QUIET_23_TO_7 = '[profiles.me.quiet_hours]\ndaily = "23:00-07:00"'
LONDON = rules_text(extra_me=QUIET_23_TO_7).replace('timezone = "UTC"', 'timezone = "Europe/London"')


def utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC)  # London is on UTC in November


def block_page_shown(runtime: Runtime, kind: str, at: datetime) -> str:
    """The block page the proxy served at ``at`` (its token, as ``Boundaries`` keeps it)."""
    token = f"{kind}-{at:%Y%m%d-%H%M}"
    runtime.block_tokens[token] = PendingOverride(token, "me", "reddit.com", kind, at, timedelta(seconds=10))
    return token


def ask(runtime: Runtime, api: LocalApi, token: str, at: datetime) -> None:
    """The member presses "Ask for more time" on the block page ``token`` belongs to."""
    api.more_time("me", "reddit.com", {"token": token, "minutes": 15}, at)
    assert runtime.writer.flush(5)


def answer(runtime: Runtime, at: datetime, status: str, grant: str = "", reason: str | None = None) -> None:
    """A parent answers the waiting ask on the Requests page at ``at`` (the dashboard's own steps)."""
    db = connect(str(runtime.paths.database))
    waiting = requests.pending(db, at)[0]
    minutes, until = requests.grant_until(grant, at, runtime.current_rules()) if grant else (None, None)
    with db.conn:
        db.table("time_answers").insert(requests.answer_row(waiting, status, at, reason, minutes, until))
    if until is not None:
        requests.apply_grant(runtime, waiting, until)


def page_says(api: LocalApi, token: str, at: datetime) -> dict[str, Any]:
    return api.ask_status("me", "reddit.com", {"token": token}, at)


def test_a_yes_after_midnight_reaches_the_limit_page_asked_from_before_it(make_runtime: Any) -> None:
    runtime = make_runtime(LONDON.replace('daily = "23:00-07:00"', 'daily = "03:00-04:00"'))
    api = LocalApi(runtime)
    token = block_page_shown(runtime, "limit_reached", utc("2026-11-11T23:54:00"))
    ask(runtime, api, token, utc("2026-11-11T23:55:00"))
    assert page_says(api, token, utc("2026-11-11T23:58:00"))["message"].startswith("Asked at 23:55.")

    answer(runtime, utc("2026-11-12T00:05:00"), "approved", grant="60")
    heard = page_says(api, token, utc("2026-11-12T00:05:30"))
    assert heard["message"] == "Yes: more time until 01:05"
    assert (heard["answer"], heard["reload"]) == ("yes", True)


def test_a_quiet_hours_page_opened_after_midnight_still_shows_the_ask_made_before_it(make_runtime: Any) -> None:
    runtime = make_runtime(LONDON)
    api = LocalApi(runtime)
    before_midnight = block_page_shown(runtime, "quiet_hours", utc("2026-11-11T23:30:00"))
    ask(runtime, api, before_midnight, utc("2026-11-11T23:35:00"))

    reloaded = block_page_shown(runtime, "quiet_hours", utc("2026-11-12T00:10:00"))
    waiting = page_says(api, reloaded, utc("2026-11-12T00:10:01"))
    assert (waiting["answer"], waiting["message"][:16]) == ("waiting", "Asked at 23:35. ")
    answer(runtime, utc("2026-11-12T00:20:00"), "declined", reason="it is late")
    assert page_says(api, reloaded, utc("2026-11-12T00:20:30"))["message"] == "No: it is late (from 00:20)"


def test_an_answer_to_an_ask_at_an_earlier_block_is_not_this_pages(make_runtime: Any) -> None:
    runtime = make_runtime(LONDON)
    api = LocalApi(runtime)
    at_the_limit = block_page_shown(runtime, "limit_reached", utc("2026-11-11T13:58:00"))
    ask(runtime, api, at_the_limit, utc("2026-11-11T14:00:00"))  # yesterday afternoon
    answer(runtime, utc("2026-11-11T14:05:00"), "declined", reason="homework first")

    tonight = block_page_shown(runtime, "quiet_hours", utc("2026-11-11T23:30:00"))
    assert page_says(api, tonight, utc("2026-11-11T23:31:00")) == {"ok": True, "answer": "none"}
    assert page_says(api, tonight, utc("2026-11-12T00:05:00")) == {"ok": True, "answer": "none"}
    this_morning = block_page_shown(runtime, "limit_reached", utc("2026-11-12T09:00:00"))
    assert page_says(api, this_morning, utc("2026-11-12T09:00:01")) == {"ok": True, "answer": "none"}
