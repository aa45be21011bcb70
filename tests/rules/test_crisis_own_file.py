"""A person's own ``crisis_lines.toml`` is laid over the shipped table field by field. The README says to add Beat
for the UK as ``[GB.eating_disorder]``; a file holding just that sub-table was refused whole ("[GB]: missing
country, service, web, source, checked"), so the shipped table stayed and the added helpline was never shown."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from breather.cli import main
from breather.rules.crisis import OVERRIDE_FILE, line_for_categories, shipped_table, table_in_force

BEAT = """\
[GB.eating_disorder]
service = "Beat"
phone = "0808 801 0677"
web = "https://www.beateatingdisorders.org.uk"
hours = "weekdays 3pm to 8pm"
source = "https://www.beateatingdisorders.org.uk"
checked = "2026-11-27"
"""
EATING_DISORDER_POST = "I starve myself and purge after every meal to lose weight"


def own_table(tmp_path: Path, text: str) -> Path:
    own = tmp_path / OVERRIDE_FILE
    own.write_text(text, encoding="utf-8")
    return own


def test_an_eating_disorder_line_alone_is_added_to_the_shipped_country(tmp_path: Path) -> None:
    table, problem = table_in_force(own_table(tmp_path, BEAT))
    assert problem is None
    gb = table["GB"]
    assert gb.eating_disorder is not None
    assert (gb.eating_disorder.service, gb.eating_disorder.phone) == ("Beat", "0808 801 0677")
    assert (gb.eating_disorder.country, gb.eating_disorder.emergency) == ("United Kingdom", "999")  # the country's
    assert gb == dataclasses.replace(shipped_table()["GB"], eating_disorder=gb.eating_disorder)  # nothing else moved
    assert line_for_categories(gb, ["self_harm"]).service == "Samaritans"
    assert table["US"] == shipped_table()["US"]


def test_classify_shows_the_added_line_and_says_nothing_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config").mkdir()
    own_table(tmp_path / "config", BEAT)
    assert main(["classify", "--home", str(tmp_path), "--country", "GB", EATING_DISORDER_POST]) == 0
    out, err = capsys.readouterr()
    verdict = json.loads(out)
    assert verdict["flagged"] == ["eating_disorder"]
    assert verdict["crisis_line"]["service"] == "Beat"
    assert err == ""


def test_a_country_table_lays_only_the_fields_it_names_over_the_shipped_entry(tmp_path: Path) -> None:
    table, problem = table_in_force(own_table(tmp_path, '[GB]\nphone = "0800 000 000"\ntext = ""\n'))
    assert problem is None
    gb, shipped = table["GB"], shipped_table()["GB"]
    assert (gb.service, gb.phone, gb.hours, gb.web, gb.checked) == (
        "Samaritans",
        "0800 000 000",
        shipped.hours,
        shipped.web,
        shipped.checked,
    )
    assert gb.text == ""  # an empty optional field takes the shipped one away


def test_a_shipped_eating_disorder_line_takes_the_fields_given(tmp_path: Path) -> None:
    table, problem = table_in_force(
        own_table(tmp_path, '[AU]\nemergency = "000 (triple zero)"\n\n[AU.eating_disorder]\nhours = "24/7"\n')
    )
    assert problem is None
    eating, shipped = table["AU"].eating_disorder, shipped_table()["AU"].eating_disorder
    assert eating is not None and shipped is not None
    assert (eating.service, eating.phone, eating.hours) == (shipped.service, shipped.phone, "24/7")
    assert eating.emergency == "000 (triple zero)"  # the country's, as corrected


def test_a_lower_case_code_is_the_same_country(tmp_path: Path) -> None:
    table, problem = table_in_force(own_table(tmp_path, BEAT.replace("[GB.", "[gb.")))
    assert problem is None
    assert table["GB"].eating_disorder is not None and table["GB"].service == "Samaritans"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '[IS]\ncountry = "Iceland"\nservice = "Hjálparsíminn"\nphone = "1717"\n',
            r"\[IS\]: missing web, source, checked \(a country Breather does not ship needs every field\)",
        ),
        (
            '[GB.eating_disorder]\nservice = "Beat"\nphone = "0808 801 0677"\n',
            r"\[GB.eating_disorder\]: missing web, source, checked "
            r"\(an eating-disorder line Breather does not ship needs every field\)",
        ),
        ('[GB]\nservice = ""\n', r"\[GB\]: missing service$"),
        ('[GB]\nphone_number = "116 123"\n', r"\[GB\]: unknown field 'phone_number'"),
        ('[AU.eating_disorder]\nemergency = "000"\n', r"\[AU.eating_disorder\]: unknown field 'emergency'"),
        ('GB = "Samaritans"\n', r"\[GB\]: expected a table of fields"),
        ('[GB]\neating_disorder = "Beat"\n', r"\[GB.eating_disorder\]: expected a table of fields"),
    ],
    ids=[
        "new-country",
        "new-eating-line",
        "emptied-required",
        "unknown-field",
        "eating-unknown",
        "not-a-table",
        "sub-not-a-table",
    ],
)
def test_a_table_that_does_not_read_is_said_with_file_and_table_and_the_shipped_one_stands(
    tmp_path: Path, text: str, said: str
) -> None:
    own = own_table(tmp_path, text)
    table, problem = table_in_force(own)
    assert problem is not None
    assert problem.startswith(f"{own}: ")
    assert re.search(said, problem), problem
    assert table["GB"] == shipped_table()["GB"]
