"""The project's own sentences (tests/rules/data/): talk about hate, and hate, outside the shared labelled sets.
``own_sentences.csv`` may be trained on one day; ``own_sentences_heldout.csv`` never: it tells whether that
generalises. The bounds are today's rates at medium with a little room, so a change that makes them worse fails; the
issue's target for flagging talk about hate is 10% (HateCheck's contrast cases), far below them."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from breather.rules.classify import classify
from breather.rules.evaluation import metrics, predict_all, predictor, read_labelled_csv

DATA = Path(__file__).parent / "data"
OWN_SENTENCES = DATA / "own_sentences.csv"
HELD_OUT = DATA / "own_sentences_heldout.csv"
# Shipped 2026-11-27 at medium. own_sentences: counter-speech 21 of 96 flagged, denials 19 of 60, kind mentions 0 of
# 30, idioms 2 of 14 ("I'm going to kill this workout tomorrow", "I'll hunt you down a copy of that book"). Held out:
# counter-speech 16 of 90, denials 9 of 45, kind mentions 3 of 18 ("Disabled people have every right to be here."
# is violence 0.65), idioms 1 of 10 ("I'm going to strangle this printer").
HARMLESS_CEILINGS = {
    OWN_SENTENCES.name: {"counter_speech": 0.25, "negated": 0.35, "supportive": 0.0, "everyday": 0.15},
    HELD_OUT.name: {"counter_speech": 0.20, "negated": 0.25, "supportive": 0.20, "everyday": 0.15},
}
# Caught. own_sentences: hate about a group 14 of 45, insults aimed at the reader 7 of 14, threats to a group 11 of 21
# (as violence), threats to one person 7 of 16. Held out: 4 of 30, 3 of 8, 12 of 18, 4 of 8.
HARMFUL_FLOORS = {
    OWN_SENTENCES.name: {"hateful": 0.28, "personal_insults": 0.45, "group_threats": 0.45, "personal_threats": 0.40},
    HELD_OUT.name: {"hateful": 0.10, "personal_insults": 0.35, "group_threats": 0.60, "personal_threats": 0.45},
}


def _by_kind(path: Path) -> dict[str, list[tuple[str, str]]]:
    kinds: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kinds[row["kind"]].append((row["text"], row["label"].split("|")[0]))
    return kinds


KINDS = {path.name: _by_kind(path) for path in (OWN_SENTENCES, HELD_OUT)}


def _share(file: str, kind: str, hit: str | None) -> float:
    """Share of ``kind``'s sentences in ``file`` flagged at all (``hit`` None) or flagged ``hit``."""
    rows = KINDS[file][kind]
    flagged = [classify(text).flagged for text, _ in rows]
    return sum(bool(f) if hit is None else hit in f for f in flagged) / len(rows)


@pytest.mark.parametrize(("file", "kind"), [(f, k) for f, kinds in HARMLESS_CEILINGS.items() for k in sorted(kinds)])
def test_talk_about_hate_is_flagged_no_more_than_today(file: str, kind: str) -> None:
    assert _share(file, kind, None) <= HARMLESS_CEILINGS[file][kind]


@pytest.mark.parametrize(("file", "kind"), [(f, k) for f, kinds in HARMFUL_FLOORS.items() for k in sorted(kinds)])
def test_hate_and_threats_are_caught_no_less_than_today(file: str, kind: str) -> None:
    label = KINDS[file][kind][0][1]
    assert _share(file, kind, label) >= HARMFUL_FLOORS[file][kind]


def test_the_file_reads_as_a_labelled_set_for_breather_eval() -> None:
    examples = read_labelled_csv(OWN_SENTENCES)
    report = metrics(examples, predict_all(examples, predictor("medium")))
    assert len(examples) == sum(len(rows) for rows in KINDS[OWN_SENTENCES.name].values()) == 296
    assert report["categories"]["violence"]["support"] == 37
    assert report["none"]["support"] == 200
