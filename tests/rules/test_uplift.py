from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breather.rules.uplift import GENTLE_MAX_SHIFT, Item, reorder

items_strategy = st.lists(
    st.builds(
        Item,
        score=st.one_of(st.none(), st.floats(min_value=-3, max_value=3, allow_nan=False)),
        pinned=st.booleans(),
    ),
    max_size=40,
)


@given(items_strategy, st.sampled_from(["off", "gentle", "strong"]))
def test_nothing_is_dropped_or_duplicated(items: list[Item], mode: str) -> None:
    order = reorder(items, mode)  # type: ignore[arg-type]
    assert sorted(order) == list(range(len(items)))


@given(items_strategy, st.sampled_from(["gentle", "strong"]))
def test_pinned_and_unscored_items_keep_their_place(items: list[Item], mode: str) -> None:
    order = reorder(items, mode)  # type: ignore[arg-type]
    for position, item in enumerate(items):
        if not item.movable:
            assert order[position] == position


@given(items_strategy)
def test_gentle_moves_an_item_a_few_places_at_most(items: list[Item]) -> None:
    order = reorder(items, "gentle")
    movable_slots = [i for i, item in enumerate(items) if item.movable]
    rank_of_slot = {slot: rank for rank, slot in enumerate(movable_slots)}
    for position, original in enumerate(order):
        if items[original].movable:
            assert abs(rank_of_slot[position] - rank_of_slot[original]) <= GENTLE_MAX_SHIFT


@given(items_strategy)
def test_strong_sorts_movable_items_best_first(items: list[Item]) -> None:
    order = reorder(items, "strong")
    scores = [items[original].score for original in order if items[original].movable]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]


def test_gentle_lifts_an_uplifting_post_and_sinks_a_distressing_one() -> None:
    items = [Item(-2.0), Item(0.0), Item(0.1), Item(0.2), Item(0.0), Item(1.5)]
    order = reorder(items, "gentle")
    assert order.index(0) > 0
    assert order.index(5) < 5
    assert order.index(5) >= 5 - GENTLE_MAX_SHIFT


def test_off_keeps_the_page_as_it_came() -> None:
    items = [Item(-1.0), Item(1.0)]
    assert reorder(items, "off") == [0, 1]


def test_unknown_mode_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown uplift mode 'wild'"):
        reorder([Item(1.0)], "wild")  # type: ignore[arg-type]
