"""Write a resolved profile back out in the rules file's own vocabulary (for ``breather rules show``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from breather.rules.model import Profile, Window
from breather.rules.timeparse import DAY_NAMES, format_clock, format_duration


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """Every setting of the profile after inheritance, as ``rules.toml`` would spell it; secrets left out."""
    data: dict[str, Any] = {"default": profile.is_default}
    if profile.inherits:
        data["inherits"] = profile.inherits
    if profile.user:
        data["user"] = profile.user
        data["password"] = "(set)" if profile.password else "(none)"
    if profile.client_ips:
        data["client_ips"] = [str(network) for network in profile.client_ips]
    data["daily_limit"] = _limit(profile.daily_limit)
    data["break_after"] = _limit(profile.break_after)
    data["break_length"] = format_duration(profile.break_length)
    data["max_snoozes"] = profile.max_snoozes
    data["friction_delay"] = format_duration(profile.friction_delay)
    data["open_anyway"] = profile.open_anyway
    data["always_allowed"] = list(profile.always_allowed)
    data["keywords"] = list(profile.keywords)
    data["topics"] = {name: list(phrases) for name, phrases in profile.topics.items()}
    data["country"] = profile.country
    data["uplift"] = profile.uplift
    data["calm"] = profile.calm
    data["warnings"] = dict(profile.sensitivity)
    data["limits"] = {key: format_duration(value) for key, value in profile.limits.items()}
    data["quiet_hours"] = schedule_to_dict(profile.quiet_hours)
    topics: dict[str, dict[str, list[str]]] = {}
    for item in profile.topic_quiet_hours:
        topics.setdefault(item.category, {})
    for category in topics:
        topics[category] = schedule_to_dict(profile.hidden_category_windows(category))
    data["topic_quiet_hours"] = topics
    return data


def schedule_to_dict(windows: Iterable[Window]) -> dict[str, list[str]]:
    schedule: dict[str, list[str]] = {}
    for window in sorted(windows, key=lambda item: (item.day, item.start)):
        end = "24:00" if window.end == window.start else format_clock(window.end)  # a whole day, as a file says it
        span = f"{format_clock(window.start)}-{end}"
        schedule.setdefault(DAY_NAMES[window.day], []).append(span)
    return schedule


def _limit(value: timedelta | None) -> str:
    return "off" if value is None else format_duration(value)
