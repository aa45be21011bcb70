"""Self-care exercises for the break screen, rotated so none becomes wallpaper.

The texts are data (``rules/data/exercises.toml``, or ``exercises.toml`` in the Breather config dir to replace them);
this module loads them and picks the next one: never one shown in the last few breaks, and never two of the same
kind in a row when another kind is available.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from breather.rules.tomltext import read_toml

EXERCISE_KINDS = ("breathing", "grounding", "stretch", "note")
RECENT_TO_AVOID = 4


@dataclass(frozen=True)
class Exercise:
    id: str
    kind: str
    title: str
    steps: tuple[str, ...]
    seconds: int

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "steps": list(self.steps),
            "seconds": self.seconds,
        }


def load_exercises(override: Path | None = None) -> tuple[Exercise, ...]:
    """Load the shipped exercises, or the person's own file when ``override`` exists."""
    if override is not None and override.is_file():
        text, origin = override.read_text(encoding="utf-8"), str(override)
    else:
        text = resources.files("breather.rules").joinpath("data/exercises.toml").read_text(encoding="utf-8")
        origin = "exercises.toml"
    return parse_exercises(text, origin)


def parse_exercises(text: str, origin: str = "exercises.toml") -> tuple[Exercise, ...]:
    document = read_toml(text, origin)
    entries = document.get("exercise", [])
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{origin}: expected at least one [[exercise]] table")
    exercises = tuple(_parse_entry(entry, f"{origin}: exercise {number}") for number, entry in enumerate(entries, 1))
    ids = [exercise.id for exercise in exercises]
    duplicates = sorted({identifier for identifier in ids if ids.count(identifier) > 1})
    if duplicates:
        raise ValueError(f"{origin}: duplicate exercise id {', '.join(duplicates)}")
    return exercises


def _parse_entry(entry: object, where: str) -> Exercise:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a table")
    kind = entry.get("kind")
    if kind not in EXERCISE_KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(EXERCISE_KINDS)}, got {kind!r}")
    steps = entry.get("steps")
    if not isinstance(steps, list) or not steps or not all(isinstance(step, str) and step for step in steps):
        raise ValueError(f"{where}: steps must be a non-empty list of sentences")
    for key in ("id", "title"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ValueError(f"{where}: {key} must be a non-empty string")
    seconds = entry.get("seconds", 60)
    if not isinstance(seconds, int) or seconds <= 0:
        raise ValueError(f"{where}: seconds must be a positive whole number")
    return Exercise(id=entry["id"], kind=kind, title=entry["title"], steps=tuple(steps), seconds=seconds)


def next_exercise(exercises: Sequence[Exercise], recent_ids: Sequence[str], turn: int = 0) -> Exercise:
    """Pick the exercise for this break.

    ``recent_ids`` are the ids shown at the last breaks, newest last; ``turn`` (e.g. a break counter) spreads the
    choice over the candidates without randomness, so tests and people see a predictable rotation.
    """
    if not exercises:
        raise ValueError("no exercises to choose from")
    avoid = set(recent_ids[-RECENT_TO_AVOID:])
    last_kind = _kind_of(exercises, recent_ids[-1]) if recent_ids else None
    fresh = [exercise for exercise in exercises if exercise.id not in avoid] or list(exercises)
    other_kind = [exercise for exercise in fresh if exercise.kind != last_kind] or fresh
    return other_kind[turn % len(other_kind)]


def _kind_of(exercises: Sequence[Exercise], exercise_id: str) -> str | None:
    return next((exercise.kind for exercise in exercises if exercise.id == exercise_id), None)
