from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from breather.cli import main
from breather.rules.evaluation import Example, metrics
from breather.rules.evaluation import main as evaluation_main
from breather.rules.intervals import (
    bootstrap_intervals,
    compare_files,
    format_changes,
    load_predictions,
    paired_intervals,
    save_predictions,
    unit_tallies,
)

HARASSMENT = frozenset({"harassment"})
NONE = frozenset({"none"})


def _posts(labels: frozenset[str], flagged: frozenset[str], count: int, prefix: str) -> list[tuple[Example, frozenset]]:
    return [(Example(f"{prefix} {i}", labels, "own", "own"), flagged) for i in range(count)]


def _split(pairs: list[tuple[Example, frozenset]]) -> tuple[list[Example], list[frozenset[str]]]:
    return [example for example, _ in pairs], [flagged for _, flagged in pairs]


def test_perfect_predictions_leave_no_room() -> None:
    examples, predictions = _split(_posts(HARASSMENT, HARASSMENT, 40, "insult") + _posts(NONE, frozenset(), 60, "calm"))
    report = bootstrap_intervals(examples, predictions, resamples=200)
    assert report["categories"]["harassment"]["f1"] == [1.0, 1.0]
    assert report["none"]["false_positive_rate"] == [0.0, 0.0]


def test_a_share_gets_the_textbook_interval() -> None:
    """30 of 100 harmless posts flagged: the Wilson 95% interval is 0.219-0.396; the bootstrap must land near it.
    (Flagged as three different categories, so that the draw spans several kinds of unit.)"""
    flagged = [
        post
        for category in ("harassment", "violence", "self_harm")
        for post in _posts(NONE, frozenset({category}), 10, category)
    ]
    examples, predictions = _split(flagged + _posts(NONE, frozenset(), 70, "calm"))
    low, high = bootstrap_intervals(examples, predictions, resamples=4000)["none"]["false_positive_rate"]
    assert math.isclose(low, 0.219, abs_tol=0.03)
    assert math.isclose(high, 0.396, abs_tol=0.03)


def test_the_same_predictions_always_give_the_same_intervals() -> None:
    rng = random.Random(7)
    pairs = [
        (
            Example(f"post {i}", HARASSMENT if i % 3 else NONE, "own", "own"),
            HARASSMENT if rng.random() < 0.6 else frozenset(),
        )
        for i in range(300)
    ]
    examples, predictions = _split(pairs)
    first = bootstrap_intervals(examples, predictions)
    assert first == bootstrap_intervals(examples, predictions)
    point = metrics(examples, predictions)["categories"]["harassment"]["f1"]
    low, high = first["categories"]["harassment"]["f1"]
    assert low < point < high


def _contrast(templated: bool) -> tuple[list[Example], list[frozenset[str]]]:
    """Ten HateCheck contrast templates of ten cases each; the model gets three whole templates wrong."""
    pairs = []
    for template in range(10):
        for case in range(10):
            key = f"hatecheck-template:{template}" if templated else ""
            example = Example(f"case {template}-{case}", NONE, "hatecheck", "hatecheck:negate_neg_nh", key)
            pairs.append((example, HARASSMENT if template < 3 else frozenset()))
    return _split(pairs)


def test_cases_of_one_template_move_together() -> None:
    """30% flagged either way, but 10 templates say far less than 100 independent sentences would."""
    templated = bootstrap_intervals(*_contrast(templated=True))["hatecheck_contrast"]["flagged_rate"]
    independent = bootstrap_intervals(*_contrast(templated=False))["hatecheck_contrast"]["flagged_rate"]
    assert len(unit_tallies(*_contrast(templated=True))) == 10
    assert templated[1] - templated[0] > 1.8 * (independent[1] - independent[0])


def test_posts_without_labels_are_not_resampled() -> None:
    examples = [Example("a depression post", None, "reddit_mh", "reddit_mh:depression")]
    assert unit_tallies(examples, [HARASSMENT]) == []


def test_nonsense_settings_are_refused() -> None:
    examples, predictions = _split(_posts(NONE, frozenset(), 5, "calm"))
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_intervals(examples, predictions, resamples=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_intervals(examples, predictions, confidence=1.0)


def test_eval_prints_intervals_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["text,label"] + [f'"you absolute idiot number {i}",harassment' for i in range(20)]
    rows += [f'"lovely walk number {i} in the park",none' for i in range(20)]
    path = tmp_path / "posts.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["eval", str(path), "--intervals"]) == 0
    table = capsys.readouterr().out
    assert "f1 95%" in table.splitlines()[0]
    assert "(95% interval" in table
    assert main(["eval", str(path), "--intervals", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["intervals"]["confidence"] == 0.95
    low, high = report["intervals"]["categories"]["harassment"]["recall"]
    assert 0.0 <= low <= report["categories"]["harassment"]["recall"] <= high <= 1.0


def test_a_change_on_the_same_posts_is_judged_against_its_own_chance() -> None:
    """Before and after differ on 12 of 200 harassment posts, all caught after: beyond chance, though each run's own
    recall interval is wide enough to overlap the other's."""
    examples = [Example(f"insult {i}", HARASSMENT, "own", "own") for i in range(200)]
    before = [HARASSMENT if i % 2 else frozenset() for i in range(200)]
    after = [HARASSMENT if i % 2 or i < 24 else frozenset() for i in range(200)]
    change = paired_intervals(examples, before, after)["changes"]["harassment recall"]
    assert (change["before"], change["after"]) == (0.5, 0.56)
    low, high = change["change"]
    assert 0 < low < 0.06 < high
    own_before = bootstrap_intervals(examples, before)["categories"]["harassment"]["recall"]
    own_after = bootstrap_intervals(examples, after)["categories"]["harassment"]["recall"]
    assert own_after[0] < own_before[1]  # compared apart, the two runs' intervals overlap


def test_one_post_either_way_is_within_chance() -> None:
    examples, before = _split(_posts(HARASSMENT, HARASSMENT, 40, "insult") + _posts(NONE, frozenset(), 60, "calm"))
    after = [*before[:-1], HARASSMENT]  # one harmless post now flagged
    change = paired_intervals(examples, before, after)["changes"]["none flagged"]
    low, high = change["change"]
    assert low <= 0 < high
    assert "yes" not in format_changes(paired_intervals(examples, before, after))


def test_predictions_files_compare_without_keeping_any_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    examples, before = _contrast(templated=True)
    after = [frozenset() for _ in before]  # the three templates fixed
    save_predictions(tmp_path / "before.json", examples, before)
    save_predictions(tmp_path / "after.json", examples, after)
    assert "case 0-0" not in (tmp_path / "before.json").read_text()
    report = compare_files(tmp_path / "before.json", tmp_path / "after.json")
    contrast = report["changes"]["hatecheck contrast flagged"]
    assert (contrast["before"], contrast["after"]) == (0.3, 0.0)
    assert report["units"] == 10  # still resampled by template
    assert evaluation_main(["compare", str(tmp_path / "before.json"), str(tmp_path / "after.json")]) == 0
    assert "hatecheck contrast flagged" in capsys.readouterr().out


def test_comparing_different_posts_or_a_broken_file_says_what_is_wrong(tmp_path: Path) -> None:
    examples, flags = _contrast(templated=True)
    save_predictions(tmp_path / "all.json", examples, flags)
    save_predictions(tmp_path / "fewer.json", examples[:90], flags[:90])
    with pytest.raises(ValueError, match="hold different posts: 10 only in the first, 0 only in the second"):
        compare_files(tmp_path / "all.json", tmp_path / "fewer.json")
    (tmp_path / "broken.json").write_text('{"posts": [{"id": "x"}]}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken.json: post 1: missing or malformed 'labels'"):
        load_predictions(tmp_path / "broken.json")
    with pytest.raises(ValueError, match="not a predictions file"):
        load_predictions(_write(tmp_path / "list.json", "[1]"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
