from __future__ import annotations

from pathlib import Path

import pytest

from breather.rules.exercises import EXERCISE_KINDS, RECENT_TO_AVOID, load_exercises, next_exercise, parse_exercises


def test_shipped_exercises_cover_every_kind() -> None:
    exercises = load_exercises()
    assert {exercise.kind for exercise in exercises} == set(EXERCISE_KINDS)
    assert all(exercise.steps and exercise.title for exercise in exercises)


def test_rotation_does_not_repeat_recent_ones_or_the_same_kind_twice() -> None:
    exercises = load_exercises()
    shown: list[str] = []
    for turn in range(30):
        exercise = next_exercise(exercises, shown, turn)
        assert exercise.id not in shown[-RECENT_TO_AVOID:]
        if shown:
            previous = next(item for item in exercises if item.id == shown[-1])
            assert exercise.kind != previous.kind
        shown.append(exercise.id)
    assert len(set(shown)) >= 8


def test_a_persons_own_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    own = tmp_path / "exercises.toml"
    own.write_text('[[exercise]]\nid = "tea"\nkind = "note"\ntitle = "Make tea"\nsteps = ["Boil water."]\n')
    assert [exercise.id for exercise in load_exercises(own)] == ["tea"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[exercise]]\nid='a'\nkind='dance'\ntitle='t'\nsteps=['s']\n", "exercise 1: kind must be one of"),
        ("[[exercise]]\nid='a'\nkind='note'\ntitle='t'\nsteps=[]\n", "steps must be a non-empty list"),
        ("[[exercise]\n", "exercises.toml:"),
        ("title = 'nothing'\n", "expected at least one [[exercise]]"),
    ],
)
def test_bad_exercise_files_say_where(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_exercises(text)
