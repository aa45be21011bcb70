"""The usage store's schema, declared only through ``sqlite_utils.Migrations``.

Other parts of Breather keep their own tables in the same file under their own migration set (the dashboard's
``breather.dashboard`` set adds tokens, time requests and weekly goals). They either apply their set after
``open_database`` or pass it in ``open_database(path, extra=[their_set])``, so the store never imports them.

Timestamps are ISO-8601 text in UTC with microseconds (``2026-03-01T09:30:00.000000+00:00``): readable in any
SQLite browser, and they sort correctly as text. Days (``daily_rollups.day``) are ``YYYY-MM-DD`` in the household's
time zone. No table has a column for URLs or post text.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

STORE_MIGRATIONS = Migrations("breather.store")


@STORE_MIGRATIONS(name="0001_usage_tables")
def create_usage_tables(db: Database) -> None:
    db.table("profiles").create({"name": str, "created": str}, pk="name", not_null={"created"})
    db.table("activity").create(
        {
            "id": int,
            "profile": str,
            "site": str,
            "start": str,
            "end": str,
            "duration_s": float,
            "source": str,
            "is_open": int,
        },
        pk="id",
        not_null={"profile", "site", "start", "end", "duration_s", "source", "is_open"},
        defaults={"is_open": 0},
    )
    # "end" first: range queries ask for spans that end after a cut and start before the next one.
    db.table("activity").create_index(["end"], index_name="activity_end")
    db.table("activity").create_index(["profile", "site", "end"], index_name="activity_profile_site_end")
    db.table("events").create(
        {"id": int, "at": str, "profile": str, "kind": str, "site": str, "category": str, "detail": str},
        pk="id",
        not_null={"at", "profile", "kind"},
    )
    db.table("events").create_index(["at"], index_name="events_at")
    db.table("events").create_index(["profile", "kind", "at"], index_name="events_profile_kind_at")
    db.table("daily_rollups").create(
        {"day": str, "profile": str, "site": str, "minutes": float, "counts": str, "built_at": str},
        pk=("day", "profile", "site"),
        not_null={"minutes", "counts", "built_at"},
    )
    db.table("meta").create({"key": str, "value": str, "updated": str}, pk="key", not_null={"updated"})


@STORE_MIGRATIONS(name="0002_activity_by_member_start")
def index_activity_by_member_start(db: Database) -> None:
    # Each member's first span ("Breather has watched since ..."): History, Family and the review ask it on every
    # page, and without this it was a walk over every span ever kept (15 ms a year, growing with the history).
    db.table("activity").create_index(["profile", "start"], index_name="activity_profile_start", if_not_exists=True)
