"""Which self-care exercise the break screen offers this time, per profile ("help that teaches").

The texts and the rotation rule live in :mod:`breather.rules.exercises`; this module keeps each profile's recent
picks on its in-memory :class:`~breather.runtime.Session` and reads the person's own ``exercises.toml`` (in the
config dir) when there is one. A broken file of theirs is reported once, with its location, and the shipped
exercises are used until it is fixed: a typo must never leave the break screen empty.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from breather.rules.exercises import RECENT_TO_AVOID, Exercise, load_exercises, next_exercise
from breather.runtime import Runtime, Session

log = logging.getLogger(__name__)

OVERRIDE_NAME = "exercises.toml"


def available_exercises(override: Path) -> tuple[Exercise, ...]:
    """The person's exercises if their file is valid, else the shipped ones; re-read when the file changes."""
    try:
        stat = override.stat()
    except OSError:
        return _load(None, 0, 0)
    return _load(override, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load(override: Path | None, mtime_ns: int, size: int) -> tuple[Exercise, ...]:
    """Cached per file version (``mtime_ns`` and ``size`` are part of the key), so a bad file is logged once."""
    if override is None:
        return load_exercises(None)
    try:
        return load_exercises(override)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        log.warning("using the shipped break exercises: %s", exc)
        return load_exercises(None)


def exercise_for_break(runtime: Runtime, profile: str, at: datetime) -> Exercise:
    """Pick this break's exercise for ``profile`` and remember it, so the next break offers another kind.

    The turn starts from the day number, so a service restarted every morning does not open on the same
    exercise each day.
    """
    exercises = available_exercises(runtime.paths.config_dir / OVERRIDE_NAME)

    def pick(session: Session) -> Exercise:
        chosen = next_exercise(exercises, session.recent_exercises, at.toordinal() + session.breaks_shown)
        session.breaks_shown += 1
        session.recent_exercises = [*session.recent_exercises, chosen.id][-RECENT_TO_AVOID:]
        return chosen

    chosen: Exercise = runtime.sessions.update(profile, pick)
    return chosen
