"""A duration written the way people write them is answered with the way the rules take it. A user test wrote
"45 mins", "1h 30", "90" and "1.5h" and got the same "expected a duration like ..." for each."""

from __future__ import annotations

import pytest

from breather.rules.timeparse import parse_duration


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("45 mins", "45m"),
        ("45min", "45m"),
        ("45 minutes", "45m"),
        ("1h 30", "1h30m"),
        ("1 hour 30 minutes", "1h30m"),
        ("2 hrs", "2h"),
        ("90", "1h30m"),
        (45, "45m"),
        ("1.5h", "1h30m"),
        ("30 secs", "30s"),
    ],
)
def test_a_duration_written_another_way_is_answered_with_the_way_the_rules_take_it(written: object, meant: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_duration(written)
    assert str(refused.value).endswith(f'(did you mean "{meant}"?)'), str(refused.value)


@pytest.mark.parametrize("written", ["lots", "", "1h 2h", "-5m", "1.25x", "²"])
def test_nothing_is_guessed_for_what_reads_as_no_duration(written: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_duration(written)
    assert "did you mean" not in str(refused.value)


@pytest.mark.parametrize(("written", "hint"), [(3, '"3h" or "3m"'), ("2", '"2h" or "2m"'), ("24", '"24h" or "24m"')])
def test_a_bare_number_a_days_hours_could_be_is_answered_with_both(written: object, hint: str) -> None:
    """A robustness test's `daily_limit = 3` was answered "did you mean "3m"?": taken, a 60-fold tightening of what
    was most likely meant."""
    with pytest.raises(ValueError) as refused:
        parse_duration(written)
    assert str(refused.value).endswith(f"(did you mean {hint}?)"), str(refused.value)
