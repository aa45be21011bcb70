"""The project's own sentences (tests/rules/data/own_sentences.csv): talk about hate, and hate, outside the shared
labelled sets. The bounds are today's rates at medium with a little room, so a change that makes them worse fails;
the issue's target for flagging talk about hate is 10% (HateCheck's contrast cases), far below them."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from breather.rules.classify import classify
from breather.rules.evaluation import metrics, predict_all, predictor, read_labelled_csv

OWN_SENTENCES = Path(__file__).parent / "data" / "own_sentences.csv"
# Shipped 2026-11-27 at medium: counter-speech 21 of 96 flagged, denials 19 of 60, kind mentions 0 of 30, idioms 2 of
# 14 ("I'm going to kill this workout tomorrow", "I'll hunt you down a copy of that book").
HARMLESS_CEILINGS = {"counter_speech": 0.25, "negated": 0.35, "supportive": 0.0, "everyday": 0.15}
# Caught: hate about a group 14 of 45, insults aimed at the reader 7 of 14, threats to a group 11 of 21 (as violence),
# threats to one person 7 of 16.
HARMFUL_FLOORS = {"hateful": 0.28, "personal_insults": 0.45, "group_threats": 0.45, "personal_threats": 0.40}


def _by_kind() -> dict[str, list[tuple[str, str]]]:
    kinds: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with OWN_SENTENCES.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kinds[row["kind"]].append((row["text"], row["label"].split("|")[0]))
    return kinds


KINDS = _by_kind()


def _share(kind: str, hit: str | None) -> float:
    """Share of ``kind``'s sentences flagged at all (``hit`` None) or flagged ``hit``."""
    rows = KINDS[kind]
    flagged = [classify(text).flagged for text, _ in rows]
    return sum(bool(f) if hit is None else hit in f for f in flagged) / len(rows)


@pytest.mark.parametrize("kind", sorted(HARMLESS_CEILINGS))
def test_talk_about_hate_is_flagged_no_more_than_today(kind: str) -> None:
    assert _share(kind, None) <= HARMLESS_CEILINGS[kind]


@pytest.mark.parametrize("kind", sorted(HARMFUL_FLOORS))
def test_hate_and_threats_are_caught_no_less_than_today(kind: str) -> None:
    label = KINDS[kind][0][1]
    assert _share(kind, label) >= HARMFUL_FLOORS[kind]


def test_the_file_reads_as_a_labelled_set_for_breather_eval() -> None:
    examples = read_labelled_csv(OWN_SENTENCES)
    report = metrics(examples, predict_all(examples, predictor("medium")))
    assert len(examples) == sum(len(rows) for rows in KINDS.values()) == 296
    assert report["categories"]["violence"]["support"] == 37
    assert report["none"]["support"] == 200
