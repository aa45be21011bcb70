"""A user test in the UK: every new install was set to the US, so a self-harm warning offered "call or text 988" to
someone who never opened the rules file. The first run now picks the household's country from the machine's time
zone (the IANA zone tables on the machine), else its locale's territory, and says in the file how it chose."""

from __future__ import annotations

import socket
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.rules import timeparse
from breather.rules.crisis import crisis_line
from breather.rules.loader import ensure_rules_file, load_rules


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the machine's time zone (as tzlocal would report it) and its locale variables; never the network."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the first run must not use the network")

    monkeypatch.setattr(socket, "create_connection", offline)
    monkeypatch.setattr(socket.socket, "connect", offline)

    def set_machine(zone: str | None, lang: str | None = None) -> None:
        monkeypatch.setattr(timeparse, "local_zone_name", lambda: zone)
        if lang is not None:
            monkeypatch.setenv("LANG", lang)

    return set_machine


def _first_run(tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "config" / "rules.toml"
    assert ensure_rules_file(path)
    rules = load_rules(path)
    countries = {profile.country for profile in rules.profiles.values()}
    assert len(countries) == 1
    return countries.pop(), path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/London", "GB"),
        ("Europe/Dublin", "IE"),
        ("America/Toronto", "CA"),
        ("Asia/Kolkata", "IN"),
        ("Australia/Sydney", "AU"),
        ("Europe/Berlin", "DE"),
        ("America/New_York", "US"),
        ("Asia/Calcutta", "IN"),  # an old name, a link to Asia/Kolkata
        ("Europe/Belfast", "GB"),
    ],
)
def test_the_first_run_takes_the_country_from_the_machines_time_zone(
    machine: Any, tmp_path: Path, zone: str, country: str
) -> None:
    machine(zone, lang="en_US.UTF-8")  # the zone comes first: many machines keep the US English locale
    found, text = _first_run(tmp_path)
    assert found == country
    assert f"# Picked on the first run from this machine's time zone ({zone})." in text
    assert f'\ncountry = "{country}"\n' in text


def test_a_person_in_the_uk_who_never_opens_the_file_gets_the_samaritans(machine: Any, tmp_path: Path) -> None:
    machine("Europe/London")
    assert main(["rules", "check"]) == 0  # the real first run of a command
    rules = load_rules(Paths.resolve().rules_file)
    line = crisis_line(rules.profile(rules.default_profile).country)
    assert (line.service, line.phone) == ("Samaritans", "116 123")


def test_a_zone_of_several_countries_gives_the_first_listed(machine: Any, tmp_path: Path) -> None:
    machine("Europe/Zurich")  # zone1970.tab: CH,DE,LI
    assert _first_run(tmp_path)[0] == "CH"


def test_without_a_country_in_the_zone_the_locales_territory_is_used(machine: Any, tmp_path: Path) -> None:
    machine("Etc/UTC", lang="en_GB.UTF-8")
    found, text = _first_run(tmp_path)
    assert found == "GB"
    assert "from this machine's language setting (en_GB.UTF-8): its time zone (Etc/UTC) names no country" in text


def test_with_nothing_to_go_by_the_default_stays_and_the_file_says_so(machine: Any, tmp_path: Path) -> None:
    machine("Etc/UTC", lang="C.UTF-8")
    found, text = _first_run(tmp_path)
    assert found == "US"
    assert "Neither this machine's time zone (Etc/UTC) nor its language setting (C.UTF-8) names a country" in text
    assert "set your own country here or on the dashboard's Rules page" in text


def test_no_zone_at_all_falls_back_to_the_locale(machine: Any, tmp_path: Path) -> None:
    machine(None, lang="fr_CA.UTF-8")
    assert _first_run(tmp_path)[0] == "CA"


def test_the_zone_tables_of_the_tzdata_package_serve_where_the_system_has_none(
    machine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tzdata  # noqa: F401  (a test dependency: this test never skips)

    monkeypatch.setattr(zoneinfo, "TZPATH", ())  # Windows: no /usr/share/zoneinfo
    machine("Asia/Kolkata")
    assert _first_run(tmp_path)[0] == "IN"
