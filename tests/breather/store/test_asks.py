"""The block page and the Requests page read asks for more time one way (``breather.store.asks``): an ask the
dashboard lists as answered is never "still waiting" on the member's block page, and the other way round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from breather.dashboard import migrations as dashboard_migrations
from breather.dashboard.pages import requests
from breather.proxy.asks import AskAnswers
from breather.store.db import open_database
from breather.store.model import Event
from breather.store.writer import Writer

ASKED = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def write(db_path: Path, *events: Event) -> None:
    writer = Writer(db_path, flush_ms=10).start()
    try:
        for event in events:
            writer.event(event)
    finally:
        writer.close()


def asked(profile: str = "sam", at: datetime = ASKED) -> Event:
    return Event(profile, "more_time_asked", at, site="reddit.com", detail={"minutes": 15})


def test_an_ask_answered_by_an_answer_event_alone_is_answered_on_the_block_page_as_on_the_requests_page(
    tmp_path: Path,
) -> None:
    """Imported or demo data answers with events and no ``time_answers`` row: before, the Requests page called it
    answered while the block page kept saying it waited (and refused to ask again)."""
    db_path = tmp_path / "breather.db"
    open_database(db_path, extra=[dashboard_migrations.migrations]).close()
    declined = Event("sam", "more_time_declined", ASKED + timedelta(minutes=3), site="reddit.com")
    write(db_path, asked(), declined)

    latest = AskAnswers(db_path).latest("sam", "reddit.com", ASKED - timedelta(hours=1))
    db = Database(db_path)
    assert requests.pending(db, ASKED + timedelta(minutes=5)) == []
    assert [a.status for a in requests.answered(db, ASKED + timedelta(minutes=5), UTC)] == ["declined"]
    assert latest is not None
    assert (latest.status, latest.answered_at) == ("declined", ASKED + timedelta(minutes=3))


def test_before_the_dashboard_made_its_tables_answer_events_still_answer_and_the_rest_wait(tmp_path: Path) -> None:
    """A proxy under plain ``mitmdump`` has only the store's own tables."""
    db_path = tmp_path / "breather.db"
    later = ASKED + timedelta(hours=1)
    granted = Event("sam", "more_time_granted", ASKED + timedelta(minutes=2), site="reddit.com")
    write(db_path, asked(), granted, asked("kim", later))
    assert not Database(db_path)["time_answers"].exists()

    answers = AskAnswers(db_path)
    sam = answers.latest("sam", "reddit.com", ASKED - timedelta(hours=1))
    kim = answers.latest("kim", "reddit.com", ASKED - timedelta(hours=1))
    assert sam is not None and sam.status == "approved"
    assert kim is not None and (kim.asked_at, kim.status) == (later, None)


def test_an_answer_from_the_requests_page_answers_its_own_ask_and_no_other(tmp_path: Path) -> None:
    """The Requests page writes a ``time_answers`` row and, beside it, an answer event: a no to yesterday's ask, said
    after today's was made, read as the answer to today's too, so the block page told sam "no" to an ask nobody had
    answered, and the Requests page dropped it from the waiting list."""
    db_path = tmp_path / "breather.db"
    open_database(db_path, extra=[dashboard_migrations.migrations]).close()
    today = ASKED + timedelta(days=1)
    write(db_path, asked(), asked(at=today))
    db = Database(db_path)
    yesterdays = requests.pending(db, today + timedelta(minutes=1))[0]
    answered_at = today + timedelta(minutes=5)
    db["time_answers"].insert(requests.answer_row(yesterdays, "declined", answered_at, "bedtime", None, None))
    write(db_path, requests.answer_event(yesterdays, "declined", answered_at, None))

    latest = AskAnswers(db_path).latest("sam", "reddit.com", today - timedelta(hours=1))
    assert latest is not None and (latest.asked_at, latest.status) == (today, None)
    assert [ask.at for ask in requests.pending(db, answered_at)] == [today]
    assert [(ask.at, ask.status) for ask in requests.answered(db, answered_at, UTC)] == [(ASKED, "declined")]
