"""Which break is on the person's screen right now, and whether it may be snoozed.

A page load (``Boundaries``) and the overlay's heartbeat (``LocalApi``) both ask; a user test found them answering
differently (one break with a snooze button on one tab, another without it on the next), so both ask here.

The heavy-run break and the block pages also offer the profile's helpline in one line (``helpline``); the regular
break does not. A user test: at night, after a run of self-harm posts, help was one dashboard visit away and
nothing on the screen said so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from breather.proxy.feed_warnings import crisis_for
from breather.rules.crisis import contact_pieces
from breather.runtime import SNOOZE_MINUTES, Session, heavy_run, snooze_length, snoozes_in_a_row

BreakKind = Literal["cadence", "heavy"]

HEAVY_RUN_REASON = "That was a lot of heavy posts in a short while. A pause might help."
# Said before the helpline on the heavy-run break and the block pages: an offer, nothing asked of the person.
HELPLINE_LEAD = "If things are hard right now, you can talk to someone:"


def helpline(profile: Any, config_dir: Path | None) -> dict[str, Any] | None:
    """The profile's crisis line (the same entry as the warnings') as the overlay and the block page show it:
    ``{"lead": ..., "pieces": [[text, href], ...]}``, href "" for plain text, else ``tel:``, ``sms:`` or https."""
    line = crisis_for(profile, config_dir)
    if line is None:
        return None
    pieces = [[piece.text, piece.href] for piece in contact_pieces(line)]
    return {"lead": HELPLINE_LEAD, "pieces": pieces} if pieces else None


@dataclass(frozen=True)
class DueBreak:
    kind: BreakKind
    reason: str
    snooze_allowed: bool
    # what the snooze button gives this time: the button says it ("3 more minutes"), not always "5 more minutes"
    snooze_minutes: int = SNOOZE_MINUTES[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "snooze_allowed": self.snooze_allowed,
            "snooze_minutes": self.snooze_minutes,
        }


def due_break(session: Session, decision: Any, max_snoozes: int, at: datetime) -> DueBreak | None:
    """The break due at ``at`` for the profile ``decision`` (``breather.rules.decisions.decide``) was made for.

    The regular break comes first: it carries the person's snooze rule. A heavy run of warnings follows the same
    rule, so snoozes in a row past ``max_snoozes`` are refused whichever break asks for the pause. Nothing is due
    while a snooze runs; a pause of a break's length ended the run of snoozes (``breather.runtime.snoozes_in_a_row``).
    """
    if session.snoozed_until is not None and at < session.snoozed_until:
        return None
    snoozed = snoozes_in_a_row(session, at)
    next_snooze = int(snooze_length(snoozed + 1).total_seconds() // 60)
    if decision.kind == "break_due":
        return DueBreak("cadence", decision.message, decision.snooze_allowed, next_snooze)
    if heavy_run(session.recent_warnings, at):
        return DueBreak("heavy", HEAVY_RUN_REASON, snoozed < max_snoozes, next_snooze)
    return None
