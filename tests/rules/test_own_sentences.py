"""The project's own sentences: talk about hate, and hate, outside the shared labelled sets. The model trains on
``rules/data/written_examples.csv`` (rules/train.py) and never on ``tests/rules/data/own_sentences_heldout.csv``,
which tells whether what they teach carries over. The bounds are today's rates at medium with a little room, so a
change that makes them worse fails; the issue's target for flagging talk about hate is 10% (HateCheck's contrast
cases), below them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from breather.rules.classify import classify
from breather.rules.evaluation import metrics, predict_all, predictor, read_labelled_csv
from breather.rules.train import WRITTEN_FILE

HELD_OUT = Path(__file__).parent / "data" / "own_sentences_heldout.csv"
# Shipped 2026-11-27 at medium. Trained on: counter-speech 13 of 96 flagged, denials 9 of 60, kind mentions 0 of 30,
# idioms and look-alikes 6 of 34. Held out (389 since a second batch, written after the model shipped):
# counter-speech 23 of 120, denials 7 of 69, kind mentions 3 of 48 ("Disabled people have every right to be here." is
# violence 0.64), idioms 3 of 25 ("I'm going to strangle this printer").
HARMLESS_CEILINGS = {
    # everyday 6 of 34 -> 8 of 37 (twelfth session): "The band is ending it all with a huge farewell show" is the price
    # of catching "I've been thinking about ending it all". Recovery milestones (kind "recovery", 7 of 10 flagged
    # though trained on) have no ceiling: the model cannot tell "200 days clean from self harm" from the struggle.
    WRITTEN_FILE.name: {"counter_speech": 0.16, "negated": 0.18, "supportive": 0.0, "everyday": 0.22},
    HELD_OUT.name: {"counter_speech": 0.21, "negated": 0.13, "supportive": 0.08, "everyday": 0.15},
}
# Caught. Trained on: hate about a group 14 of 45, insults aimed at the reader 9 of 20, threats to a group 21 of 21
# (as violence), to one person 16 of 16. Held out: 12 of 54, 6 of 20, 19 of 33, 12 of 20.
HARMFUL_FLOORS = {
    WRITTEN_FILE.name: {
        "hateful": 0.28,
        "personal_insults": 0.40,
        "group_threats": 0.90,
        "personal_threats": 0.90,
        "suicidal": 1.0,
    },
    HELD_OUT.name: {"hateful": 0.20, "personal_insults": 0.25, "group_threats": 0.54, "personal_threats": 0.55},
}


def _by_kind(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Each kind's (text, the category it is about: "violence" for threats, else its one label)."""
    kinds: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for example in read_labelled_csv(path, group_col="kind"):
        labels = example.labels or frozenset()
        kinds[example.group].append((example.text, "violence" if "violence" in labels else min(labels)))
    return kinds


KINDS = {path.name: _by_kind(path) for path in (WRITTEN_FILE, HELD_OUT)}


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


@pytest.mark.parametrize(
    ("path", "rows", "violent", "harmless"), [(WRITTEN_FILE, 340, 37, 233), (HELD_OUT, 389, 53, 262)]
)
def test_the_files_read_as_labelled_sets_for_breather_eval(path: Path, rows: int, violent: int, harmless: int) -> None:
    examples = read_labelled_csv(path)
    report = metrics(examples, predict_all(examples, predictor("medium")))
    assert len(examples) == sum(len(kind) for kind in KINDS[path.name].values()) == rows
    assert report["categories"]["violence"]["support"] == violent
    assert report["none"]["support"] == harmless
