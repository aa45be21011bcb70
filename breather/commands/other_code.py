"""The sentence ``breather run`` and ``breather status`` add when the running service is another copy of the code
than the one the person is typing into (an older service left running across a ``git pull``, say)."""

from __future__ import annotations

from datetime import datetime

from breather.commands import command_hint
from breather.version import code_fingerprint, version


def other_code_note(
    running_version: str | None,
    running_code: str | None,
    started_at: str | None,
    home: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """A sentence when the running service is another copy of the code than this one (an older service left running
    across a `git pull`, say); None when it runs this very code. It is never stopped for the person: they say when."""
    if running_code == code_fingerprint():
        return None
    age = _age_of_code(running_version, version())
    named = f"Breather {running_version}" if running_version else "Breather"
    detail = f"this is {version()}" if running_version != version() else "its files changed since"
    started = _started_text(started_at, now)
    return (
        f"{named} is running from {age} code ({started}{detail}); stop it with `{command_hint('stop', home=home)}` "
        f"and run `{command_hint('run', home=home)}` again to use this one."
    )


def _age_of_code(running: str | None, this: str) -> str:
    """``older`` / ``newer`` by version; ``other`` for the same version with changed files. A service that does not
    say its version is from before versions were said (0.2.0), so older."""
    if running is None:
        return "older"
    mine, theirs = _version_key(this), _version_key(running)
    if mine is None or theirs is None or mine == theirs:
        return "other"
    return "older" if theirs < mine else "newer"


def _version_key(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def _started_text(started_at: str | None, now: datetime | None) -> str:
    """``started 10:02; `` in local time, with the date when not today; empty when the service did not say."""
    try:
        started = datetime.fromisoformat(started_at).astimezone() if started_at else None
    except ValueError:
        started = None
    if started is None:
        return ""
    today = (now or datetime.now(started.tzinfo)).astimezone(started.tzinfo).date()
    when = started.strftime("%H:%M") if started.date() == today else started.strftime("%Y-%m-%d %H:%M")
    return f"started {when}; "
