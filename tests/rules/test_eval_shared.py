"""Tier 2: the classifier on the test split of the shared labelled sets must not fall below docs/classifier.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from breather.rules.evaluation import Example, feed_summary, predictor, shared_examples, shared_report

# The test-split table recorded in docs/classifier.md, rounded down: a drop below any of these fails.
# self_harm trades precision for recall on purpose (recall first, bounded by the cap of 3% of `none` posts
# flagged self_harm; docs/classifier.md): its recall floor is what ships, while its F1 floor and the ceilings on
# `none` posts flagged by any category and on other mental-health posts flagged are set at the shipped numbers, which
# that choice raised (0.458 -> 0.385, 4.8% -> 6.2%, 19.6% -> 31.1%). The lexicon-support gate (a lone "dead" or "my
# life" cannot back a low model score, chosen on dev) then gave one test post back for 12 fewer harmless ones, and
# word stems with a converged model (chosen on dev) took self_harm recall back to 0.840 with fewer harmless posts.
# Violence is measured with HateCheck's restated threats labelled violence (labels version 2, docs/classifier.md),
# and since split version 2 with every HateCheck template on one side of the split, so the model is tested on
# templates it has not seen: violence 0.858 -> 0.691, harassment 0.904 -> 0.864, HateCheck contrast cases flagged
# 7.5% -> 27.8%, `none` posts flagged 5.9% -> 7.8% (with the quote-blind reading of violence and harassment; without
# it, on the same split, 0.669, 0.862, 39.5% and 8.4%). Phrases that name harm only to rule it out ("no one deserves
# to be hurt") joined the counter-speech context: violence 0.691 -> 0.702, contrast 27.8% -> 25.2%, substance
# 0.841 -> 0.839. The Reddit categories are tested on the same posts as before.
# Self-harm phrases chosen from the out-of-fold dev misses ("want to end it", "no one would miss me") then took
# self_harm recall to 0.853 (the 0.85) at 1.84% of `none` posts, F1 0.463 -> 0.500. Training on the project's
# own sentences (rules/data/written_examples.csv: counter-speech, denials, threats and their look-alikes) took violence
# 0.702 -> 0.725, eating_disorder 0.755 -> 0.762, contrast 25.2% -> 21.1%, `none` posts flagged 7.6% -> 7.1%.
# 2026-11-27 (ninth): "can't stop cutting myself" is a self-harm warning again; retrained, substance 0.841 -> 0.837 (one
# more harmless post flagged; the paired 95% interval of the change, -0.012 to +0.000, holds 0).
# 2026-11-27 (twelfth): "ending it all", "no point in living" and kin became warnings (a user test: none were); held to
# a rule written first (docs/classifier.md), no measure moved beyond chance, and one test post was lost: self_harm
# recall 0.853 -> 0.840 (63 of 75; paired interval -0.062 to +0.029), eating_disorder 0.762 -> 0.755, `none` posts
# flagged self_harm 1.84% -> 1.76%.
F1_FLOORS = {"self_harm": 0.49, "eating_disorder": 0.75, "violence": 0.72, "harassment": 0.86, "substance": 0.83}
RECALL_FLOORS = {"self_harm": 0.84}
NONE_FPR_CEILING = 0.08
SELF_HARM_NONE_CEILING = 0.03  # the target; shipped 0.0181
# The target is 0.10; shipped 0.203 on templates the model has not seen (docs/classifier.md: negated
# condemnations, "We should not allow ... to be raped", are 21 of 56 and counter-references 20 of 85; quoted slurs
# were 17 of 74 counter-quotes until a quote could no longer raise a score).
HATECHECK_CONTRAST_CEILING = 0.21
OTHER_MENTAL_HEALTH_CEILING = 0.30
# Self-harm's `high` may flag twice the cap's share of `none` posts, and must then warn more than `medium` does.
HIGH_SELF_HARM_RECALL_FLOOR = 0.85
HIGH_SELF_HARM_NONE_CEILING = 0.05
# What a person scrolling the recorded feeds would see (1,832 distinct, nearly all harmless posts): 9 self-harm and
# 42 warnings of any kind at medium (13 violence since the template split, 14 with the threats to one person;
# harassment 16 -> 18 when quotes stopped raising it, 17 since), after 23 and 51 had shown that a lone "dead" or a
# German "die" was enough. 40 (violence 10) since the model trains on the project's own sentences; 41 (self-harm 11:
# "I'm gonna stop there") since the twelfth session's retrain.
FEED_SELF_HARM_CEILING = 11
FEED_ANY_CEILING = 41


@pytest.fixture(scope="module")
def examples(shared_fixtures: Path) -> list[Example]:
    """The test split."""
    return [example for example in shared_examples(shared_fixtures) if example.split == "test"]


@pytest.fixture(scope="module")
def report(examples: list[Example]) -> dict[str, Any]:
    return shared_report(examples, predictor("medium"))


pytestmark = pytest.mark.fixtures


@pytest.mark.parametrize("category", sorted(F1_FLOORS))
def test_category_f1_holds(report: dict[str, Any], category: str) -> None:
    row = report["categories"][category]
    assert row["support"] > 0
    assert row["f1"] >= F1_FLOORS[category], row
    assert row["recall"] >= RECALL_FLOORS.get(category, 0.0), row


def test_none_posts_rarely_flagged(report: dict[str, Any]) -> None:
    assert report["none"]["support"] > 1000
    assert report["none"]["false_positive_rate"] <= NONE_FPR_CEILING


def test_self_harm_flags_few_none_posts(examples: list[Example]) -> None:
    """The issue's cap that comes with self-harm's recall target: <= 3% of `none` posts flagged self_harm."""
    harmless = [example.text for example in examples if example.labels == frozenset({"none"})]
    flagged = sum("self_harm" in predictor("medium")(text) for text in harmless)
    assert len(harmless) > 1000
    assert flagged / len(harmless) <= SELF_HARM_NONE_CEILING, f"{flagged} of {len(harmless)}"


def test_no_hatecheck_template_is_on_both_sides(shared_fixtures: Path) -> None:
    """The test split measures templates the model has not been trained on (each template is filled with several
    target groups: split by text, nearly every template straddled the split)."""
    sides: dict[str, set[str]] = {}
    for example in shared_examples(shared_fixtures):
        if example.source == "hatecheck":
            sides.setdefault(example.split_key, set()).add(example.split)
    assert len(sides) > 100
    assert all(len(split) == 1 for split in sides.values())
    assert {"dev", "test"} == set().union(*sides.values())


def test_hatecheck_contrast_cases_rarely_flagged(report: dict[str, Any]) -> None:
    assert report["hatecheck_contrast"]["posts"] > 100
    assert report["hatecheck_contrast"]["flagged_rate"] <= HATECHECK_CONTRAST_CEILING


def test_other_mental_health_posts_are_reported(report: dict[str, Any]) -> None:
    other = report["mental_health_other"]
    assert other["posts"] > 500
    assert 0 <= other["flagged_rate"] <= OTHER_MENTAL_HEALTH_CEILING


def test_lexicon_alone_still_judges(examples: list[Example]) -> None:
    """The fallback when the model file is missing: the lexicon-only table in docs/classifier.md. Its violence F1
    (0.49 on this split) is far below the model's floor, so a fallback that quietly still used the model fails."""
    lexicon = shared_report(examples, predictor("medium", model=False))
    assert lexicon["categories"]["harassment"]["f1"] >= 0.77
    assert lexicon["categories"]["self_harm"]["recall"] >= 0.62
    assert lexicon["categories"]["violence"]["f1"] < F1_FLOORS["violence"] - 0.1, lexicon["categories"]["violence"]


def test_high_sensitivity_warns_of_self_harm_more_than_medium(examples: list[Example], report: dict[str, Any]) -> None:
    """A person who chooses `high` gets more self-harm warnings (every one `medium` gives, and more), within twice
    the cap on `none`. (Whether the extra ones land on the 75 labelled self-harm posts is up to those posts: at
    0.840 both levels miss the same 12.)"""
    high = shared_report(examples, predictor("high"))["categories"]["self_harm"]
    assert high["recall"] >= max(report["categories"]["self_harm"]["recall"], HIGH_SELF_HARM_RECALL_FLOOR)
    warned = {
        level: {e.text for e in examples if "self_harm" in predictor(level)(e.text)} for level in ("medium", "high")
    }
    assert warned["medium"] < warned["high"]
    harmless = [example.text for example in examples if example.labels == frozenset({"none"})]
    flagged = sum("self_harm" in predictor("high")(text) for text in harmless)
    assert flagged / len(harmless) <= HIGH_SELF_HARM_NONE_CEILING, f"{flagged} of {len(harmless)}"


def test_recorded_feeds_get_few_warnings(shared_fixtures: Path) -> None:
    feeds = feed_summary(shared_fixtures, predictor("medium"))
    assert feeds["posts"] > 1500
    assert feeds["by_category"].get("self_harm", 0) <= FEED_SELF_HARM_CEILING, feeds
    assert feeds["flagged"] <= FEED_ANY_CEILING, feeds
