"""Which break is on the person's screen right now, and whether it may be snoozed.

A page load (``Boundaries``) and the overlay's heartbeat (``LocalApi``) both ask; a user test found them answering
differently (one break with a snooze button on one tab, another without it on the next), so both ask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from breather.runtime import Session, heavy_run

BreakKind = Literal["cadence", "heavy"]

HEAVY_RUN_REASON = "That was a lot of heavy posts in a short while. A pause might help."


@dataclass(frozen=True)
class DueBreak:
    kind: BreakKind
    reason: str
    snooze_allowed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "snooze_allowed": self.snooze_allowed}


def due_break(session: Session, decision: Any, max_snoozes: int, at: datetime) -> DueBreak | None:
    """The break due at ``at`` for the profile ``decision`` (``breather.rules.decisions.decide``) was made for.

    The regular break comes first: it carries the person's snooze rule. A heavy run of warnings follows the same
    rule, so snoozes in a row past ``max_snoozes`` are refused whichever break asks for the pause. Nothing is due
    while a snooze runs.
    """
    if session.snoozed_until is not None and at < session.snoozed_until:
        return None
    if decision.kind == "break_due":
        return DueBreak("cadence", decision.message, decision.snooze_allowed)
    if heavy_run(session.recent_warnings, at):
        return DueBreak("heavy", HEAVY_RUN_REASON, session.snoozes_in_row < max_snoozes)
    return None
