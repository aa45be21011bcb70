"""The dashboard's own tables, kept apart from the usage store's migrations.

The usage store (``breather.store``) owns activity and events. The dashboard adds what only it needs: API tokens,
pairing codes, the household passphrase, answers to asks for more time, rule changes waiting out their
cooling-off delay, and weekly goals. They live in the same SQLite file under their own migration set, so the store
never has to import the dashboard and either side can evolve without the other.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("breather.dashboard")


@migrations()
def create_dashboard_tables(db: Database) -> None:
    db.table("household").create({"key": str, "value": str}, pk="key")
    db.table("api_tokens").create(
        {
            "token_hash": str,
            "profile": str,
            "browser": str,
            "origin": str,
            "created_at": str,
            "last_seen_at": str,
            "revoked_at": str,
        },
        pk="token_hash",
    )
    db.table("pairing_codes").create(
        {"code": str, "profile": str, "created_at": str, "expires_at": str, "used_at": str},
        pk="code",
    )
    # An ask for more time is a ``more_time_asked`` event in the store; this is the answer to it.
    db.table("time_answers").create(
        {
            "event_id": int,
            "profile": str,
            "site": str,
            "answered_at": str,
            "status": str,
            "reason": str,
            "granted_minutes": int,
            "granted_until": str,
        },
        pk="event_id",
    )
    db.table("pending_rule_changes").create(
        {
            "id": int,
            "submitted_at": str,
            "effective_at": str,
            "base_sha": str,
            "text": str,
            "summary": str,
            "applied_at": str,
            "outcome": str,
        },
        pk="id",
    )
    db.table("weekly_goals").create({"week": str, "goal": str, "saved_at": str}, pk="week")
