"""What callers hand to the writer: heartbeats (time on a site) and events (things that happened).

Both are validated when they are built, so a bad value fails in the caller's own stack frame with a clear message,
and the writer thread only ever sees well-formed records. Validation is also where privacy is enforced: a site is a
bare domain (never a URL) and an event's detail holds short labels and numbers (never a link or a post's text).
A profile is a member's name as the rules allow it (``breather.rules.names``): the rules and the store never disagree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from breather.rules.names import check_member_name

EVENT_KINDS: frozenset[str] = frozenset(
    {
        "warning_shown",
        "warning_revealed",
        "break_shown",
        "break_taken",
        "break_snoozed",
        "limit_reached",
        "limit_overridden",
        "quiet_hours_blocked",
        "more_time_asked",
        "more_time_granted",
        "more_time_declined",
        "rules_reloaded",
        "rules_rejected",
    }
)
# "traffic": time the proxy counted from a site's own requests while no overlay reported (proxy/traffic_time.py)
SOURCES: frozenset[str] = frozenset({"proxy", "extension", "overlay", "traffic"})

DETAIL_MAX_KEYS = 8
DETAIL_MAX_TEXT = 64

_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_LABEL = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def check_site(site: str) -> str:
    """A site is a lower-case host name: ``www.reddit.com``, never ``https://…`` or a path."""
    if not isinstance(site, str) or not _DOMAIN.match(site):
        raise ValueError(f"site must be a bare domain like 'reddit.com', got {site!r}")
    return site


def as_label(text: str) -> str:
    """``text`` made a label ``check_label`` accepts: a person's own name for something ("a walk round the block")
    becomes ``a-walk-round-the-block``."""
    return re.sub(r"[^A-Za-z0-9_.:-]+", "-", text).strip("-")[:64] or "-"


def check_label(what: str, value: str) -> str:
    if not isinstance(value, str) or not _LABEL.match(value):
        raise ValueError(f"{what} must be 1-64 letters, digits or _.:- characters, got {value!r}")
    return value


def check_aware(what: str, at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {at!r}")
    return at


def check_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """Short labels and numbers only: the detail column must never become a place for URLs or post text."""
    if detail is None:
        return None
    if not isinstance(detail, dict) or len(detail) > DETAIL_MAX_KEYS:
        raise ValueError(f"detail must be a dict of at most {DETAIL_MAX_KEYS} entries, got {detail!r}")
    for key, value in detail.items():
        check_label("detail key", key)
        if value is None or isinstance(value, bool | int | float):
            continue
        if not isinstance(value, str):
            raise ValueError(f"detail[{key!r}] must be a short text, a number or a boolean, got {type(value).__name__}")
        if len(value) > DETAIL_MAX_TEXT or not _LABEL.match(value):  # no spaces: a sentence cannot be a label
            raise ValueError(
                f"detail[{key!r}] must be a short label of letters, digits or _.:- (no URLs, no post text), "
                f"got {value[:40]!r}…"
            )
    return detail


def iso(at: datetime) -> str:
    """The one timestamp format in the database: UTC, microseconds, ``+00:00`` (sorts as text)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def iso_from_epoch(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds")


def epoch_from_iso(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """ "``profile`` was on ``site`` at ``at`` (for ``duration_s`` seconds)": merged into activity spans."""

    profile: str
    site: str
    at: datetime
    duration_s: float = 0.0
    source: str = "proxy"

    def __post_init__(self) -> None:
        check_member_name(self.profile, "profile")
        check_site(self.site)
        check_aware("Heartbeat.at", self.at)
        if not isinstance(self.duration_s, int | float) or not 0 <= self.duration_s <= 24 * 3600:
            raise ValueError(f"duration_s must be between 0 and 86400 seconds, got {self.duration_s!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {sorted(SOURCES)}, got {self.source!r}")


@dataclass(frozen=True, slots=True)
class Event:
    """Something a person would notice happened: a warning shown, a break taken, a limit reached…"""

    profile: str
    kind: str
    at: datetime
    site: str | None = None
    category: str | None = None
    detail: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_member_name(self.profile, "profile")
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {sorted(EVENT_KINDS)}")
        check_aware("Event.at", self.at)
        if self.site is not None:
            check_site(self.site)
        if self.category is not None:
            check_label("category", self.category)
        check_detail(self.detail)

    def detail_json(self) -> str | None:
        return None if self.detail is None else json.dumps(self.detail, sort_keys=True)
