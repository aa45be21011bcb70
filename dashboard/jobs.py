"""The dashboard's background job: held (loosening) rule changes take effect once their cooling-off is over,
whether or not anyone opens the Rules page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from sqlite_utils import Database

from breather.dashboard.db import connect
from breather.pending_rules import apply_due_changes
from breather.scheduler import add_store_job

log = logging.getLogger(__name__)

JOB_HELD_RULE_CHANGES = "held_rule_changes"
WRITE_TIMEOUT_S = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_held_rule_changes(runtime: Any, clock: Callable[[], datetime] = utc_now) -> int:
    """Read on a connection of its own; write through the store's one writer thread."""

    def write(fn: Callable[[Database], Any]) -> Any:
        return runtime.writer.call(fn).result(timeout=WRITE_TIMEOUT_S)

    db = connect(str(runtime.paths.database))
    try:
        applied = apply_due_changes(db, runtime.paths.rules_file, write, clock())
    finally:
        db.close()
    if applied:
        log.info("applied %d held rule change(s) after their cooling-off", applied)
    return applied


def register(scheduler: Any, runtime: Any, clock: Callable[[], datetime] = utc_now) -> None:
    add_store_job(
        scheduler,
        run_held_rule_changes,
        IntervalTrigger(minutes=1),
        args=[runtime, clock],
        id=JOB_HELD_RULE_CHANGES,
        name="apply held rule changes after their cooling-off",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=60,
    )
