from __future__ import annotations

import os
from pathlib import Path

import pytest

from breather.paths import Paths
from breather.rules.crisis import (
    INTERNATIONAL,
    crisis_line,
    helpline_for,
    line_for_categories,
    load_table,
    shipped_table,
    table_in_force,
)


def test_table_covers_at_least_25_countries_with_dated_sources() -> None:
    table = shipped_table()
    countries = [code for code in table if code != INTERNATIONAL]
    assert len(countries) >= 25
    for entry in table.values():
        assert entry.source.startswith("https://")
        assert entry.checked == "2026-11-25"
        assert entry.phone or entry.text or entry.web
    eating_disorder_lines = [entry.eating_disorder for entry in table.values() if entry.eating_disorder]
    assert len(eating_disorder_lines) >= 2
    for line in eating_disorder_lines:
        assert line.source.startswith("https://") and line.checked == "2026-11-27"


@pytest.mark.parametrize(
    ("country", "service", "phone"),
    [
        ("AU", "Butterfly National Helpline", "1800 33 4673"),
        ("DE", "BZgA Beratungstelefon zu Essstörungen", "0221 892031"),
    ],
)
def test_an_eating_disorder_warning_in_australia_or_germany_shows_its_eating_disorder_line(
    country: str, service: str, phone: str
) -> None:
    line = line_for_categories(crisis_line(country), ["eating_disorder"])
    assert (line.service, line.phone) == (service, phone)
    assert line_for_categories(crisis_line(country), ["self_harm"]).service == crisis_line(country).service


@pytest.mark.parametrize(
    ("asked", "service", "phone"),
    [
        ("US", "988 Suicide & Crisis Lifeline", "988"),
        ("gb", "Samaritans", "116 123"),
        ("UK", "Samaritans", "116 123"),
        ("Germany", "TelefonSeelsorge", "0800 111 0 111 or 0800 111 0 222"),
        ("AU", "Lifeline Australia", "13 11 14"),
    ],
)
def test_country_picks_its_line(asked: str, service: str, phone: str) -> None:
    line = crisis_line(asked)
    assert line.service == service
    assert line.phone == phone
    assert not line.is_international


@pytest.mark.parametrize("asked", ["", None, "XX", "Atlantis"])
def test_unknown_country_gets_directory_and_emergency_advice(asked: str | None) -> None:
    line = crisis_line(asked)
    assert line.is_international
    assert "findahelpline.com" in line.web
    assert "emergency" in line.emergency or "112" in line.emergency


def test_override_in_config_dir_replaces_and_adds(breather_home: Path) -> None:
    config = Paths.resolve().ensure().config_dir
    (config / "crisis_lines.toml").write_text(
        '[GB]\ncountry = "United Kingdom"\nservice = "Local line"\nphone = "0800 000"\nweb = "https://example.org"\n'
        'source = "https://example.org"\nchecked = "2026-12-01"\n\n'
        '[IS]\ncountry = "Iceland"\nservice = "Hjálparsíminn 1717"\nphone = "1717"\nweb = "https://1717.is"\n'
        'source = "https://1717.is"\nchecked = "2026-12-01"\n',
        encoding="utf-8",
    )
    assert crisis_line("GB").service == "Local line"
    assert crisis_line("IS").phone == "1717"
    assert crisis_line("US").phone == "988"


def test_an_edited_override_takes_effect_at_once(breather_home: Path) -> None:
    """The merged table is kept between pages, but never past an edit of the file (even one of the same size)."""
    override = Paths.resolve().ensure().config_dir / "crisis_lines.toml"

    def write(phone: str) -> None:
        override.write_text(
            f'[GB]\ncountry = "United Kingdom"\nservice = "Local line"\nphone = "{phone}"\nweb = "https://example.org"\n'
            'source = "https://example.org"\nchecked = "2026-12-01"\n',
            encoding="utf-8",
        )

    write("0800 111")
    assert crisis_line("GB").phone == "0800 111"
    before = override.stat().st_mtime_ns
    write("0800 222")
    os.utime(override, ns=(before + 1_000_000, before + 1_000_000))
    assert crisis_line("GB").phone == "0800 222"
    override.unlink()
    assert crisis_line("GB").phone != "0800 222"


def test_broken_override_is_reported_with_file_and_entry(tmp_path: Path) -> None:
    broken = tmp_path / "crisis_lines.toml"
    # a country the shipped table lacks (a shipped one's fields are laid over: test_crisis_own_file.py)
    broken.write_text('[IS]\ncountry = "Iceland"\nservice = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"crisis_lines.toml: \[IS\]: missing web, source, checked"):
        load_table(broken)
    broken.write_text("[FR\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"crisis_lines\.toml"):
        load_table(broken)
    broken.write_text("\n[FR]\nphone = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"crisis_lines\.toml:3: arrays or inline tables nested too deeply"):
        load_table(broken)


def test_entry_is_json_ready() -> None:
    data = crisis_line("NZ").to_dict()
    assert data["code"] == "NZ"
    assert data["phone"] == "1737"


WITH_AN_EATING_DISORDER_LINE = """
[GB]
country = "United Kingdom"
service = "Samaritans"
phone = "116 123"
web = "https://www.samaritans.org"
source = "https://www.samaritans.org"
checked = "2026-11-25"
emergency = "999"

[GB.eating_disorder]
service = "An eating-disorder line"
phone = "0800 123 456"
web = "https://ed.example.org"
source = "https://ed.example.org"
checked = "2026-12-01"
"""


def test_an_eating_disorder_warning_shows_the_countrys_eating_disorder_line(tmp_path: Path) -> None:
    override = tmp_path / "crisis_lines.toml"
    override.write_text(WITH_AN_EATING_DISORDER_LINE, encoding="utf-8")
    line = crisis_line("GB", override=override)
    eating = line_for_categories(line, ["eating_disorder"])
    assert (eating.service, eating.phone) == ("An eating-disorder line", "0800 123 456")
    assert (eating.country, eating.emergency) == ("United Kingdom", "999")  # the country's own
    assert line_for_categories(line, ["self_harm"]).service == "Samaritans"
    # a post that is both: the crisis line, since a risk to life comes first
    assert line_for_categories(line, ["eating_disorder", "self_harm"]).service == "Samaritans"
    # a country without one keeps its crisis line for eating disorders too
    assert line_for_categories(crisis_line("KE", override=override), ["eating_disorder"]).is_international


def test_a_broken_eating_disorder_line_is_reported_with_its_table(tmp_path: Path) -> None:
    broken = tmp_path / "crisis_lines.toml"
    broken.write_text(WITH_AN_EATING_DISORDER_LINE.replace('web = "https://ed.example.org"\n', ""), encoding="utf-8")
    with pytest.raises(ValueError, match=r"crisis_lines.toml: \[GB.eating_disorder\]: missing web"):
        load_table(broken)
    broken.write_text(WITH_AN_EATING_DISORDER_LINE + 'emergency = "112"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[GB.eating_disorder\]: unknown field 'emergency'"):
        load_table(broken)


def test_a_line_with_no_phone_reads(tmp_path: Path) -> None:
    """The table asks for a phone, a text line or a web page: one with a web page only is a line (it raised a
    TypeError, which took the person's whole table down)."""
    own = tmp_path / "crisis_lines.toml"
    own.write_text(
        '[IS]\ncountry = "Iceland"\nservice = "A chat"\nweb = "https://chat.example.is"\n'
        'source = "https://chat.example.is"\nchecked = "2026-12-01"\n',
        encoding="utf-8",
    )
    assert crisis_line("IS", override=own).phone == ""


def test_a_table_that_cannot_be_read_at_all_leaves_the_shipped_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person's file the system refuses to read (its permissions, a disk error) is said, and the shipped table
    stands in: the warning keeps its helpline and the proxy's page goes on (it raised through every caller)."""
    own = tmp_path / "crisis_lines.toml"
    own.write_text(WITH_AN_EATING_DISORDER_LINE, encoding="utf-8")

    def refused(path: Path) -> dict[str, object]:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("breather.rules.crisis._load", refused)
    table, problem = table_in_force(own)
    assert table["GB"].service == "Samaritans" and table["GB"].eating_disorder is None  # the shipped line
    assert problem == f"{own}: cannot read (Permission denied)"
    assert helpline_for("GB", tmp_path).service == "Samaritans"
