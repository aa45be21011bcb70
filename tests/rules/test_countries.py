"""A country written by its name, in the rules file or the Rules page's field, is answered with its code."""

from __future__ import annotations

import pytest

from breather.rules.countries import check_country


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Germany", 'write "DE" for Germany'),
        ("ireland", 'write "IE" for Ireland'),
        ("United Kingdom", 'write "GB" for the United Kingdom'),
        ("UK", 'use "GB" for the United Kingdom'),
    ],
)
def test_a_country_written_by_name_is_told_its_code(written: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        check_country(written)


def test_a_code_is_taken_and_nonsense_is_refused_without_a_guess() -> None:
    assert check_country(" de ") == "DE"
    with pytest.raises(ValueError) as refused:
        check_country("Narnia")
    assert str(refused.value) == 'expected a two-letter ISO country code like "GB" or "US", got "Narnia"'
