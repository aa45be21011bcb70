from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from breather.cli import main
from breather.rules.evaluation import Example, metrics
from breather.rules.intervals import bootstrap_intervals, unit_tallies

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
