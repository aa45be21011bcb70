"""Durations, clock times and weekly windows as people write them in ``rules.toml``.

The parsers raise ``ValueError`` with a message that finishes the sentence "profiles.me.daily_limit: ...", so the
loader only has to add the place.
"""

from __future__ import annotations

import logging
import re
from datetime import time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_TITLES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Shorthand keys a schedule table accepts besides the day names, and the days they stand for.
DAY_GROUPS: dict[str, tuple[int, ...]] = {
    **{name: (index,) for index, name in enumerate(DAY_NAMES)},
    "weekdays": (0, 1, 2, 3, 4),
    "weekend": (5, 6),
    "daily": (0, 1, 2, 3, 4, 5, 6),
}

_DURATION_PART = re.compile(r"(\d+)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_duration(raw: object) -> timedelta:
    """``"45m"``, ``"1h30m"``, ``"90s"``, ``"1d"``; units in falling order, each at most once."""
    found = _strict_duration(raw.strip().lower().replace(" ", "")) if isinstance(raw, str) else None
    if found is None:
        meant = _meant_duration(raw)
        hint = f' (did you mean "{format_duration(meant)}"?)' if meant is not None else ""
        if _few(raw):  # `daily_limit = 3` is as likely hours: "3m" alone would be a 60-fold tightening if taken
            hint = f' (did you mean "{raw}h" or "{raw}m"?)'
        raise ValueError(f'expected a duration like "45m" or "1h30m", got {_shown(raw)}{hint}')
    return found


def _few(raw: object) -> bool:
    """A bare whole number a day's hours could be."""
    text = str(raw).strip() if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
    return text.isascii() and text.isdigit() and 1 <= int(text) <= 24


def _strict_duration(text: str) -> timedelta | None:
    parts = _DURATION_PART.findall(text)
    units = [unit for _, unit in parts]
    well_formed = bool(parts) and "".join(f"{n}{u}" for n, u in parts) == text
    ordered = units == sorted(set(units), key="dhms".index)
    if not (well_formed and ordered):
        return None
    return timedelta(seconds=sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts))


# How people write units ("45 mins", "2 hrs") and the one letter the rules take for each.
_SPOKEN_UNITS = re.compile(r"(days?|hours?|hrs?|minutes?|mins?|seconds?|secs?)")
_UNIT_LETTER = {"day": "d", "hou": "h", "hr": "h", "hrs": "h", "min": "m", "sec": "s"}


def _meant_duration(raw: object) -> timedelta | None:
    """What a duration written another way most likely means, for the error's hint (never taken as the value): a
    bare number is minutes (``90``), a unit may be spelt out (``45 mins``), a number left after hours is minutes
    (``1h 30``), and hours may have a decimal (``1.5h``). None when it reads as no duration."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        return None
    text = str(raw).strip().lower()
    text = _SPOKEN_UNITS.sub(lambda unit: _UNIT_LETTER.get(unit.group(1)[:3], unit.group(1)[:1]), text)
    text = text.replace(" ", "")
    if re.fullmatch(r"(\d+h)?\d+", text):  # "90", "1h30": the number left is minutes
        text += "m"
    elif (decimal := re.fullmatch(r"(\d+\.\d+)([dh])", text)) is not None:
        return timedelta(seconds=round(float(decimal.group(1)) * _UNIT_SECONDS[decimal.group(2)]))
    return _strict_duration(text)


def format_duration(value: timedelta) -> str:
    """The inverse of ``parse_duration``: ``timedelta(minutes=90)`` → ``"1h30m"``; zero is ``"0m"``."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0m"
    pieces = []
    for unit in "dhms":
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            pieces.append(f"{count}{unit}")
    return "".join(pieces)


def spoken_duration(value: timedelta) -> str:
    """A duration as a person reads it: ``"1 minute"``, ``"1 hour 30 minutes"``, ``"under a minute"``."""
    minutes = round(value.total_seconds() / 60)
    if minutes <= 0:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    counted = ((hours, "hour"), (minutes, "minute"))
    return " ".join(f"{count} {unit}{'' if count == 1 else 's'}" for count, unit in counted if count)


def spoken_list(words: list[str]) -> str:
    """Words as a person lists them: ``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def parse_clock(raw: str, *, allow_24: bool = False) -> time:
    """``"07:00"`` → ``time(7, 0)``. ``"24:00"`` is accepted as the end of a window (midnight)."""
    match = _CLOCK.match(raw.strip())
    if match is None:
        raise ValueError(f'expected a time like "22:00", got {_shown(raw)}')
    hour, minute = int(match.group(1)), int(match.group(2))
    if allow_24 and hour == 24 and minute == 0:
        return time(0, 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"impossible time {_shown(raw)}: hours go 00–23 and minutes 00–59")
    return time(hour, minute)


def parse_span(raw: object) -> tuple[time, time]:
    """``"22:00-07:00"`` → (22:00, 07:00). An end before the start runs past midnight; equal ends are refused."""
    expected = 'expected a window like "22:00-07:00"'
    if not isinstance(raw, str):
        raise ValueError(f"{expected}, got {_shown(raw)}")
    pieces = re.split(r"\s*[-–]\s*", raw.strip())
    if len(pieces) != 2:
        raise ValueError(f"{expected}, got {_shown(raw)}")
    start = parse_clock(pieces[0])
    end = parse_clock(pieces[1], allow_24=True)
    whole_day = start == end == time(0) and pieces[1].startswith("24")  # "00:00-24:00": the docs' 24:00 ends it
    if start == end and not whole_day:
        raise ValueError(
            f'empty window {_shown(raw)}: the start and the end are the same time (a whole day is "00:00-24:00")'
        )
    return start, end


def format_clock(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone, or ``ValueError`` naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f'unknown time zone "{name}": use an IANA name such as "Europe/London"') from exc


def local_zone_name() -> str | None:
    """The machine's IANA zone name, or ``None`` when it cannot be told (then UTC is used, and logged)."""
    try:
        import tzlocal

        name = tzlocal.get_localzone_name()
    except Exception as exc:  # tzlocal raises its own errors for broken set-ups; we fall back instead
        log.warning("could not read the machine's time zone (%s); using UTC", exc)
        return None
    return name or None


def local_zone() -> tzinfo:
    name = local_zone_name()
    if name is None:
        return ZoneInfo("UTC")
    try:
        return zone_named(name)
    except ValueError:
        log.warning("the machine's time zone %r is unknown; using UTC", name)
        return ZoneInfo("UTC")


def _shown(raw: object) -> str:
    if isinstance(raw, str):
        return f'"{raw}"'
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return repr(raw)
