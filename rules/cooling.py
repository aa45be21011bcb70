"""Cooling-off: tightening a boundary applies at once, loosening one waits for the household's delay.

A pure helper for the dashboard (and the service): given the rules before and after an edit, when it was made and
the time now, it returns the rules in force and the loosened settings still waiting. Nothing is stored here: the
caller keeps the previous rules and the time of the change, and asks again later. The delay is the *old* rules'
``cooling_off``, so shortening the delay in the same edit cannot skip it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from breather.rules.model import SENSITIVITIES, Profile, Rules, Window


@dataclass(frozen=True)
class PendingChange:
    """A loosened setting that is not in force yet."""

    profile: str | None  # None for a household setting
    setting: str
    old: Any
    new: Any
    takes_effect: datetime

    def describe(self) -> str:
        owner = f"profiles.{self.profile}" if self.profile else "household"
        return f"{owner}.{self.setting} loosens; it takes effect at {self.takes_effect.isoformat(timespec='minutes')}"


def apply_change(
    old: Rules, new: Rules, now: datetime, changed_at: datetime | None = None
) -> tuple[Rules, tuple[PendingChange, ...]]:
    """The rules in force ``now`` after an edit from ``old`` to ``new`` made at ``changed_at`` (default: now)."""
    made = changed_at or now
    takes_effect = made + old.cooling_off
    if now >= takes_effect:
        return new, ()
    pending: list[PendingChange] = []
    profiles: dict[str, Profile] = {}
    for name, profile in new.profiles.items():
        before = old.profiles.get(name)
        if before is None:
            profiles[name] = profile
            continue
        effective, waiting = _cool_profile(before, profile)
        profiles[name] = effective
        pending.extend(PendingChange(name, setting, was, wants, takes_effect) for setting, was, wants in waiting)
    cooling_off = new.cooling_off
    if new.cooling_off < old.cooling_off:
        cooling_off = old.cooling_off
        pending.append(PendingChange(None, "cooling_off", old.cooling_off, new.cooling_off, takes_effect))
    effective_rules = dataclasses.replace(new, profiles=profiles, cooling_off=cooling_off)
    return effective_rules, tuple(pending)


Change = tuple[str, Any, Any]


def _cool_profile(old: Profile, new: Profile) -> tuple[Profile, list[Change]]:
    updates: dict[str, Any] = {}
    waiting: list[Change] = []
    for setting, cool in _COOLERS.items():
        was, wants = getattr(old, setting), getattr(new, setting)
        kept = cool(was, wants)
        if kept != wants:
            updates[setting] = kept
            waiting.append((setting, was, wants))
    return dataclasses.replace(new, **updates), waiting


def _limit(was: timedelta | None, wants: timedelta | None) -> timedelta | None:
    """A limit loosens when it grows or goes away."""
    if was is None:
        return wants
    if wants is None or wants > was:
        return was
    return wants


def _at_least(was: Any, wants: Any) -> Any:
    return was if wants < was else wants


def _at_most(was: Any, wants: Any) -> Any:
    return was if wants > was else wants


def _limits(was: Mapping[str, timedelta], wants: Mapping[str, timedelta]) -> Mapping[str, timedelta]:
    kept: dict[str, timedelta] = {}
    for key in [*wants, *(key for key in was if key not in wants)]:
        value = _limit(was.get(key), wants.get(key))
        if value is not None:
            kept[key] = value
    return kept if kept != dict(wants) else wants


def _coverage(windows: Iterable[Window]) -> frozenset[int]:
    return frozenset().union(*(window.minutes_of_week() for window in windows))


def _windows(was: tuple[Window, ...], wants: tuple[Window, ...]) -> tuple[Window, ...]:
    """Quiet hours loosen when any minute they covered is no longer covered; then the old schedule stays."""
    return was if not _coverage(wants) >= _coverage(was) else wants


def _topic_windows(was: tuple[Any, ...], wants: tuple[Any, ...]) -> tuple[Any, ...]:
    categories = {item.category for item in was}
    for category in categories:
        before = [item.window for item in was if item.category == category]
        after = [item.window for item in wants if item.category == category]
        if not _coverage(after) >= _coverage(before):
            return was
    return wants


def _sensitivity(was: Mapping[str, str], wants: Mapping[str, str]) -> Mapping[str, str]:
    rank = SENSITIVITIES.index
    kept = {key: was[key] if key in was and rank(level) < rank(was[key]) else level for key, level in wants.items()}
    return kept if kept != dict(wants) else wants


def _always_allowed(was: tuple[str, ...], wants: tuple[str, ...]) -> tuple[str, ...]:
    """A newly always-allowed site waits; a site taken off the list is covered again at once."""
    kept = tuple(domain for domain in wants if domain in was)
    return kept if kept != wants else wants


def _keywords(was: tuple[str, ...], wants: tuple[str, ...]) -> tuple[str, ...]:
    """A removed keyword keeps its warning for the cooling-off time; a new one applies at once."""
    removed = tuple(word for word in was if word not in wants)
    return (*wants, *removed) if removed else wants


_COOLERS: dict[str, Callable[[Any, Any], Any]] = {
    "daily_limit": _limit,
    "break_after": _limit,
    "limits": _limits,
    "break_length": _at_least,
    "friction_delay": _at_least,
    "max_snoozes": _at_most,
    "quiet_hours": _windows,
    "topic_quiet_hours": _topic_windows,
    "sensitivity": _sensitivity,
    "always_allowed": _always_allowed,
    "keywords": _keywords,
}
