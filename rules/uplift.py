"""Uplift ordering: move uplifting posts up and distressing ones down, inside one feed page.

Pure list logic, shared by every JSON adapter: the adapters find the items and score them, this module decides the
new order. Nothing is dropped or duplicated, pinned items and items that could not be scored keep their places, and
``gentle`` never moves an item more than ``GENTLE_MAX_SHIFT`` places either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

UpliftMode = Literal["off", "gentle", "strong"]
UPLIFT_MODES: tuple[str, ...] = ("off", "gentle", "strong")
GENTLE_MAX_SHIFT = 3


@dataclass(frozen=True)
class Item:
    """One feed item: ``score`` > 0 uplifting, < 0 distressing; ``None`` when there was nothing to judge."""

    score: float | None
    pinned: bool = False

    @property
    def movable(self) -> bool:
        return not self.pinned and self.score is not None


def uplift_score(polarity: float, distress: float) -> float:
    """Combine TextBlob polarity (-1..1) with the classifier's strongest category score (0..1)."""
    return polarity - 2.0 * distress


def reorder(items: Sequence[Item], mode: UpliftMode) -> list[int]:
    """Return a permutation of ``range(len(items))``: position -> original index."""
    order = list(range(len(items)))
    if mode == "off":
        return order
    if mode not in UPLIFT_MODES:
        raise ValueError(f"unknown uplift mode {mode!r}; expected one of {', '.join(UPLIFT_MODES)}")
    slots = [index for index, item in enumerate(items) if item.movable]
    scores = [_score(items[index]) for index in slots]
    ranked = _strong_order(scores) if mode == "strong" else _gentle_order(scores, GENTLE_MAX_SHIFT)
    for slot, rank in zip(slots, ranked, strict=True):
        order[slot] = slots[rank]
    return order


def _score(item: Item) -> float:
    return item.score if item.score is not None else 0.0


def _strong_order(scores: Sequence[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda index: -scores[index])


def _gentle_order(scores: Sequence[float], max_shift: int) -> list[int]:
    """Greedy best-first with a displacement bound.

    At each position, an item that would otherwise sink more than ``max_shift`` places is placed now; otherwise the
    best-scored item among those at most ``max_shift`` places further down is lifted.
    """
    remaining = list(range(len(scores)))
    result: list[int] = []
    for position in range(len(scores)):
        overdue = [index for index in remaining if index <= position - max_shift]
        if overdue:
            chosen = min(overdue)
        else:
            window = [index for index in remaining if index <= position + max_shift]
            chosen = max(window, key=lambda index: (scores[index], -index))
        remaining.remove(chosen)
        result.append(chosen)
    return result
