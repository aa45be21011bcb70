"""What the views share: the service runtime (when there is one), the rules in force and the store writer.

Under ``breather serve`` all three come from the runtime. Without one (tests, ``flask run``) the app reads the
rules file itself (reloaded when it changes) and starts its own writer thread on first use.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from sqlite_utils import Database

from breather.dashboard.errors import ApiError
from breather.paths import Paths
from breather.rules.cooling import PendingChange
from breather.rules.errors import RulesError
from breather.rules.loader import ensure_rules_file, parse_rules
from breather.rules.model import Rules
from breather.rules.textfile import read_rules_text
from breather.store.writer import StoreUnwritable, Writer

_lock = threading.Lock()


def now() -> datetime:
    """The app's clock: real time, or a fixed ``CLOCK`` callable from the test config."""
    clock: Callable[[], datetime] | None = current_app.config.get("CLOCK")
    return clock() if clock is not None else datetime.now(UTC)


def runtime() -> Any:
    return current_app.config.get("RUNTIME")


def paths() -> Paths:
    found: Paths = current_app.config["PATHS"]
    return found


def current_rules() -> Rules:
    service = runtime()
    if service is not None:
        rules: Rules = service.current_rules()
        return rules
    return _rules_from_file(current_app)


def held_changes() -> list[PendingChange]:
    """Loosened settings waiting for their cooling-off: a hand edit's, which the service holds, and the Rules
    page's own pending changes."""
    from breather.dashboard.db import get_db
    from breather.pending_rules import held_here

    service = runtime()
    held = list(getattr(getattr(service, "rules", None), "held", ()))
    # A page must not fail for its notice: a file that cannot be read holds nothing, and rules_problem says why.
    with contextlib.suppress(RulesError, sqlite3.Error):
        held += held_here(get_db(), read_rules_text(paths().rules_file), now())
    return held


def rules_held() -> list[str]:
    """Every held setting in a sentence with its time on the household's clock, for every page's notice."""
    held = held_changes()
    if not held:
        return []
    zone, moment = current_rules().zone(), now()
    return [change.sentence(zone, moment) for change in sorted(held, key=lambda change: change.takes_effect)]


def rules_problem() -> str | None:
    """The located problem of ``rules.toml`` while the last good rules stay in force instead, else None."""
    service = runtime()
    if service is not None:
        error = getattr(service.rules, "last_error", None)
        return str(error) if error else None
    with contextlib.suppress(ApiError):  # never valid: the page itself says so
        _rules_from_file(current_app)
    found: str | None = current_app.extensions.get("breather.rules_problem")
    return found


def _rules_from_file(app: Flask) -> Rules:
    path = paths().rules_file
    if not paths().last_good_rules.exists():
        ensure_rules_file(path)  # a first run: the commented default, as `breather run` writes it
    try:
        stamp: int | None = path.stat().st_mtime_ns
    except OSError:
        stamp = None  # moved away: read below as a problem, with the rules last in force kept
    with _lock:
        cached = app.extensions.get("breather.rules")
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, parse_rules(read_rules_text(path), path.name))
                app.extensions["breather.rules_problem"] = None
            except RulesError as exc:
                app.extensions["breather.rules_problem"] = str(exc)
                if cached is None:
                    cached = (None, _last_in_force(exc))
                # Like the service's watcher: keep the last good rules; every page says why (rules_problem).
                cached = (stamp, cached[1])
            app.extensions["breather.rules"] = cached
    loaded: Rules = cached[1]
    return loaded


def _last_in_force(problem: RulesError) -> Rules:
    from breather.rules.watcher import read_last_good

    with contextlib.suppress(RulesError):
        kept = read_last_good(paths().last_good_rules)
        if kept is not None:
            return kept
    raise ApiError(500, "RulesBroken", f"the rules file has problems: {problem}") from None


def writer() -> Any:
    service = runtime()
    if service is not None and service.writer is not None:
        return service.writer
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        own = app.extensions.get("breather.writer")
        if own is None:
            flush_ms = int(app.config.get("WRITER_FLUSH_MS") or app.config["SETTINGS"]["writer_flush_ms"])
            own = Writer(app.config["DATABASE"], flush_ms=flush_ms)
            own.start()
            app.extensions["breather.writer"] = own
    return own


def store_trouble() -> str | None:
    """Why the usage store cannot save right now, in a sentence, else None: minutes wait in the writer while another
    program locks the file or the disk is full, and a page that showed only what is saved read "nothing recorded yet"
    as if nothing had happened. Asks only a writer already running; never starts one."""
    from breather.store.writer import TROUBLE

    service = runtime()
    running = service.writer if service is not None else current_app.extensions.get("breather.writer")
    trouble = getattr(running, "trouble", None)
    if running is None or trouble is None:
        return None
    state = running.state()
    since = running.trouble_since.astimezone(current_rules().zone()).strftime("%H:%M")
    counted = ", and the limits and breaks count them already" if service is not None else ""
    if trouble == "stopped":
        return f"Breather cannot save to its usage file: {TROUBLE[trouble]} (since {since}). Restart Breather."
    return (
        f"Breather cannot save to its usage file right now: {TROUBLE[trouble]} (since {since}). "
        f"{state['held']} record(s) wait to be saved and are not in the figures below yet; nothing is lost while it "
        f"waits{counted}."
    )


def close_own_writer(app: Flask) -> None:
    """Stop the writer the app started for itself (tests and ``flask run``); a runtime's writer is not ours."""
    own = app.extensions.pop("breather.writer", None)
    if own is not None:
        own.close()


WRITE_TIMEOUT_S = 10.0


def write[T](fn: Callable[[Database], T]) -> T:
    """Run ``fn(db)`` on the one writer thread, in its own savepoint, and wait for the commit.

    While the store cannot save (another program's lock, a full disk) this raises ``StoreUnwritable``, which the
    app answers with a 503 page saying why and that nothing was changed (``app._register_error_handlers``)."""
    own = writer()
    try:
        result: T = own.call(fn).result(timeout=WRITE_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        # the call expires on the writer's side too (its deadline): it will not be made after this answer
        raise StoreUnwritable("the usage store did not save in time", own.trouble or "locked") from None
    return result
