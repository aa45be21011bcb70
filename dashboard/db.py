"""One database connection per request (flaskr's ``get_db``), opened through the usage store."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlite_utils import Database

from breather.dashboard import migrations
from breather.store.db import open_database


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def connect(path: str) -> Database:
    """Open the store with its migrations and the dashboard's own applied (a read when nothing is pending)."""
    return open_database(path, extra=[migrations.migrations])


def get_db() -> Database:
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    db: Database = g.db
    return db


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def install(app: Flask) -> None:
    app.teardown_appcontext(close_db)
