"""How far the evaluation's numbers could move by chance: bootstrap intervals for ``breather eval``.

The test split holds 75 self-harm and 84 eating-disorder posts, and HateCheck's contrast cases come in templates of
7 to 10 sentences that the model gets right or wrong together, so a point estimate alone overstates what one number
says (an F1 of 0.76 on 84 posts is compatible with a true 0.80). The intervals resample the evaluation set with
replacement **by split key**: every post is its own unit except HateCheck's, which move with their template, as the
split and the training folds treat them (``Example.key``). Percentile intervals, a fixed seed: the same predictions
always give the same intervals.

Resampling 20,000 posts a thousand times is cheap because almost all units look alike to the metrics (a `none` post
nobody flagged, a harassment post caught): units with the same tally are drawn together, one binomial per kind of
unit (a multinomial draw, exactly), so a resample costs a few hundred draws instead of 20,000.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from breather.rules.classify import CATEGORIES
from breather.rules.evaluation import HATECHECK_CONTRAST, NONE, Example

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
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    units = unit_tallies(examples, predictions)
    kinds = sorted(Counter(units).items())
    rng = random.Random(seed)
    totals = [_resampled_total(kinds, len(units), rng) for _ in range(resamples)]
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


def _resampled_total(kinds: list[tuple[Tally, int]], units: int, rng: random.Random) -> list[int]:
    """The summed tally of ``units`` units drawn with replacement: how many of each kind, by successive binomials."""
    total = [0] * _WIDTH
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
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _share(total: list[int], at: int) -> float:
    return total[at + 1] / total[at] if total[at] else 0.0


def _percentiles(values: list[float], confidence: float) -> list[float]:
    ordered = sorted(values)
    tail = (1 - confidence) / 2
    low = ordered[max(0, math.floor(tail * len(ordered)))]
    high = ordered[min(len(ordered) - 1, math.ceil((1 - tail) * len(ordered)) - 1)]
    return [round(low, 3), round(high, 3)]
