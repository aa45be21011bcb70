"""How far the evaluation's numbers could move by chance (bootstrap intervals for ``breather eval``), and whether a
change to the classifier moved them further than that (paired intervals between two runs on the same posts).

The test split holds 75 self-harm and 84 eating-disorder posts, and HateCheck's contrast cases come in templates of
7 to 10 sentences that the model gets right or wrong together, so a point estimate alone overstates what one number
says (an F1 of 0.76 on 84 posts is compatible with a true 0.80). The intervals resample the evaluation set with
replacement **by split key**: every post is its own unit except HateCheck's, which move with their template, as the
split and the training folds treat them (``Example.key``). Percentile intervals, a fixed seed: the same predictions
always give the same intervals.

Resampling 20,000 posts a thousand times is cheap because almost all units look alike to the metrics (a `none` post
nobody flagged, a harassment post caught): units with the same tally are drawn together, one binomial per kind of
unit (a multinomial draw, exactly), so a resample costs a few hundred draws instead of 20,000.

A change is judged on the same posts before and after: ``python -m breather.rules.evaluation report --split dev
--save-predictions before.json`` (or ``python -m breather.rules.train --save-oof before.json`` for the out-of-fold
dev scores the thresholds are chosen on), the change, the same again into ``after.json``, then ``python -m
breather.rules.evaluation compare before.json after.json``. Each resample draws the same units for both runs, so the
interval of the difference is far narrower than either run's own: most posts are judged alike by both. The files
keep hashes, labels and flags, never a post's text.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from breather.rules.classify import CATEGORIES
from breather.rules.evaluation import HATECHECK_CONTRAST, NONE, Example, precision_recall_f1

RESAMPLES = 1000
CONFIDENCE = 0.95
SEED = 20261127

# A unit's tally: per category (tp, fp, fn), then none posts (seen, flagged), then HateCheck contrast cases (seen,
# flagged). Positions of each in the tuple:
_PER_CATEGORY = 3
_NONE_AT = _PER_CATEGORY * len(CATEGORIES)
_CONTRAST_AT = _NONE_AT + 2
_WIDTH = _CONTRAST_AT + 2
_CONTRAST_GROUPS = frozenset(f"hatecheck:{name}" for name in HATECHECK_CONTRAST)

Tally = tuple[int, ...]


def bootstrap_intervals(
    examples: Sequence[Example],
    predictions: Sequence[frozenset[str]],
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> dict[str, Any]:
    """Per category [low, high] of precision, recall and F1; of the share of ``none`` posts flagged; and of the share
    of HateCheck's contrast cases flagged (when there are any), each at ``confidence``."""
    _check(resamples, confidence)
    units = unit_tallies(examples, predictions)
    kinds = sorted(Counter(units).items())
    rng = random.Random(seed)
    totals = [_resampled_total(kinds, len(units), rng, _WIDTH) for _ in range(resamples)]
    report: dict[str, Any] = {
        "confidence": confidence,
        "resamples": resamples,
        "units": len(units),
        "categories": {
            category: {
                name: _percentiles([_rates(total, index)[name] for total in totals], confidence)
                for name in ("precision", "recall", "f1")
            }
            for index, category in enumerate(CATEGORIES)
        },
        "none": {"false_positive_rate": _percentiles([_share(t, _NONE_AT) for t in totals], confidence)},
    }
    if any(unit[_CONTRAST_AT] for unit in units):
        report["hatecheck_contrast"] = {
            "flagged_rate": _percentiles([_share(t, _CONTRAST_AT) for t in totals], confidence)
        }
    return report


def paired_intervals(
    examples: Sequence[Example],
    before: Sequence[frozenset[str]],
    after: Sequence[frozenset[str]],
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> dict[str, Any]:
    """Each number before and after a change on the same posts, and [low, high] of its change (after - before): an
    interval that excludes 0 is a change beyond chance at ``confidence``."""
    _check(resamples, confidence)
    units = [old + new for old, new in zip(unit_tallies(examples, before), unit_tallies(examples, after), strict=True)]
    kinds = sorted(Counter(units).items())
    rng = random.Random(seed)
    totals = [_resampled_total(kinds, len(units), rng, 2 * _WIDTH) for _ in range(resamples)]
    whole = [sum(unit[at] for unit in units) for at in range(2 * _WIDTH)]
    measures = _measures(any(unit[_CONTRAST_AT] for unit in units))
    report: dict[str, Any] = {"confidence": confidence, "resamples": resamples, "units": len(units), "changes": {}}
    for name, measure in measures.items():
        was, now = measure(whole[:_WIDTH]), measure(whole[_WIDTH:])
        spread = _percentiles([measure(t[_WIDTH:]) - measure(t[:_WIDTH]) for t in totals], confidence)
        report["changes"][name] = {"before": round(was, 3), "after": round(now, 3), "change": spread}
    return report


Measure = Callable[[list[int]], float]


def _measures(with_contrast: bool) -> dict[str, Measure]:
    """What a change is judged by: each category's precision, recall and F1, `none` posts flagged, contrast cases."""
    measures: dict[str, Measure] = {}
    for index, category in enumerate(CATEGORIES):
        for name in ("precision", "recall", "f1"):
            measures[f"{category} {name}"] = _rate_of(index, name)
    measures["none flagged"] = lambda total: _share(total, _NONE_AT)
    if with_contrast:
        measures["hatecheck contrast flagged"] = lambda total: _share(total, _CONTRAST_AT)
    return measures


def _rate_of(index: int, name: str) -> Measure:
    return lambda total: _rates(total, index)[name]


def _check(resamples: int, confidence: float) -> None:
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")


def unit_tallies(examples: Sequence[Example], predictions: Sequence[frozenset[str]]) -> list[Tally]:
    """One tally per resampling unit (posts sharing a split key are one unit), in order of first appearance."""
    units: dict[str, list[int]] = {}
    for example, flagged in zip(examples, predictions, strict=True):
        if example.labels is None:
            continue
        tally = units.setdefault(example.key, [0] * _WIDTH)
        for index, category in enumerate(CATEGORIES):
            truth, said = category in example.labels, category in flagged
            at = index * _PER_CATEGORY
            tally[at] += truth and said
            tally[at + 1] += said and not truth
            tally[at + 2] += truth and not said
        if NONE in example.labels:
            tally[_NONE_AT] += 1
            tally[_NONE_AT + 1] += bool(flagged & set(CATEGORIES))
        if example.group in _CONTRAST_GROUPS:
            tally[_CONTRAST_AT] += 1
            tally[_CONTRAST_AT + 1] += bool(flagged)
    return [tuple(tally) for tally in units.values()]


def _resampled_total(kinds: list[tuple[Tally, int]], units: int, rng: random.Random, width: int) -> list[int]:
    """The summed tally of ``units`` units drawn with replacement: how many of each kind, by successive binomials."""
    total = [0] * width
    remaining, left = units, units
    for tally, count in kinds:
        if remaining == 0:
            break
        drawn = remaining if count >= left else rng.binomialvariate(remaining, count / left)
        remaining -= drawn
        left -= count
        if drawn:
            for at, value in enumerate(tally):
                if value:
                    total[at] += drawn * value
    return total


def _rates(total: list[int], index: int) -> dict[str, float]:
    tp, fp, fn = total[index * _PER_CATEGORY : (index + 1) * _PER_CATEGORY]
    precision, recall, f1 = precision_recall_f1(tp, fp, fn)
    return {"precision": precision, "recall": recall, "f1": f1}


def _share(total: list[int], at: int) -> float:
    return total[at + 1] / total[at] if total[at] else 0.0


def _percentiles(values: list[float], confidence: float) -> list[float]:
    ordered = sorted(values)
    tail = (1 - confidence) / 2
    low = ordered[max(0, math.floor(tail * len(ordered)))]
    high = ordered[min(len(ordered) - 1, math.ceil((1 - tail) * len(ordered)) - 1)]
    return [round(low, 3), round(high, 3)]


# --- predictions files: one run's flags, to compare with another's -------------------------------------------


def save_predictions(path: Path, examples: Sequence[Example], predictions: Sequence[frozenset[str]]) -> None:
    """Write one run's flags with what the metrics need (labels, group, a hash of the split key), keyed by a hash
    of each post: no post text."""
    posts = [
        {
            "id": _digest(f"{example.source}\n{example.group}\n{example.text}"),
            "key": _digest(example.key),
            "group": example.group,
            "labels": sorted(example.labels) if example.labels is not None else None,
            "flagged": sorted(flagged),
        }
        for example, flagged in zip(examples, predictions, strict=True)
    ]
    path.write_text(json.dumps({"format": 1, "posts": posts}), encoding="utf-8")


def load_predictions(path: Path) -> dict[str, tuple[Example, frozenset[str]]]:
    """A predictions file, by post id: the post (its text replaced by the id) and its flags; ValueError, located."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a predictions file ({exc})") from exc
    posts = data.get("posts") if isinstance(data, dict) else None
    if not isinstance(posts, list):
        raise ValueError(f"{path}: not a predictions file (no list of posts)")
    loaded = {}
    for number, post in enumerate(posts, start=1):
        try:
            labels = frozenset(post["labels"]) if post["labels"] is not None else None
            example = Example(post["id"], labels, "saved", post["group"], post["key"])
            loaded[post["id"]] = (example, frozenset(post["flagged"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: post {number}: missing or malformed {exc}") from exc
    return loaded


def compare_files(before_path: Path, after_path: Path) -> dict[str, Any]:
    """Paired intervals between two predictions files of the same posts."""
    before, after = load_predictions(before_path), load_predictions(after_path)
    if before.keys() != after.keys():
        raise ValueError(
            f"{before_path} and {after_path} hold different posts: {len(before.keys() - after.keys())} only in the "
            f"first, {len(after.keys() - before.keys())} only in the second"
        )
    ids = sorted(before)
    examples = [before[post][0] for post in ids]
    return paired_intervals(examples, [before[post][1] for post in ids], [after[post][1] for post in ids])


def format_changes(report: dict[str, Any]) -> str:
    """The paired report as a table; "yes" where the change's interval excludes 0."""
    lines = [f"{'measure':<28}{'before':>8}{'after':>8}   {'change, 95%':<17}beyond chance"]
    for name, row in report["changes"].items():
        low, high = row["change"]
        beyond = "yes" if low > 0 or high < 0 else ""
        lines.append(f"{name:<28}{row['before']:>8.3f}{row['after']:>8.3f}   {low:+.3f} to {high:+.3f}   {beyond}")
    return "\n".join(lines) + "\n"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()
