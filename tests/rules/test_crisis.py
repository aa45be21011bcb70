from __future__ import annotations

import os
from pathlib import Path

import pytest

from breather.paths import Paths
from breather.rules.crisis import INTERNATIONAL, crisis_line, load_table, shipped_table


def test_table_covers_at_least_25_countries_with_dated_sources() -> None:
    table = shipped_table()
    countries = [code for code in table if code != INTERNATIONAL]
    assert len(countries) >= 25
    for entry in table.values():
        assert entry.source.startswith("https://")
        assert entry.checked == "2026-11-25"
        assert entry.phone or entry.text or entry.web


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
    broken.write_text('[FR]\ncountry = "France"\nservice = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"crisis_lines.toml: \[FR\]: missing web, source, checked"):
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
