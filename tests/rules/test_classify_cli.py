from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from breather.cli import main
from breather.rules.loader import default_rules_text
from tests.rules.test_crisis import WITH_AN_EATING_DISORDER_LINE


def test_classify_prints_one_json_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "I", "want", "to", "kill", "myself"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert "self_harm" in verdict["flagged"]
    assert verdict["evidence"]["self_harm"]


def test_classify_reads_one_post_per_line_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("I want to kill myself\nlovely sunny day\n\n"))
    assert main(["classify", "-", "--country", "NZ"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3
    assert lines[0]["crisis_line"]["phone"] == "1737"
    assert lines[1]["flagged"] == [] and "crisis_line" not in lines[1]
    assert lines[2]["reason"] == "empty"


def test_classify_takes_keywords(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "the match went to penalties", "--keyword", "penalt*"]) == 0
    assert json.loads(capsys.readouterr().out)["flagged"] == ["custom"]


def _rules_in_home(home: Path, country: str) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    text = default_rules_text().replace('country = "US"', f'country = "{country}"', 1)
    (config / "rules.toml").write_text(text, encoding="utf-8")


def test_classify_gives_the_crisis_line_of_the_rules_country(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A user test outside the US: without --country there was no crisis line at all."""
    home = tmp_path / "home"
    _rules_in_home(home, "GB")
    assert main(["classify", "--home", str(home), "I", "want", "to", "kill", "myself"]) == 0
    line = json.loads(capsys.readouterr().out)["crisis_line"]
    assert (line["service"], line["phone"]) == ("Samaritans", "116 123")


def test_classify_country_option_wins_over_the_rules(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    _rules_in_home(home, "GB")
    assert main(["classify", "--home", str(home), "--country", "NZ", "I", "want", "to", "kill", "myself"]) == 0
    assert json.loads(capsys.readouterr().out)["crisis_line"]["phone"] == "1737"


def test_classify_gives_an_eating_disorder_post_the_countrys_eating_disorder_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _rules_in_home(home, "GB")
    (home / "config" / "crisis_lines.toml").write_text(WITH_AN_EATING_DISORDER_LINE, encoding="utf-8")
    post = "I have been purging after every meal and eating under 500 calories a day, I need to be thinner."
    assert main(["classify", "--home", str(home), post]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["flagged"] == ["eating_disorder"]
    line = verdict["crisis_line"]
    assert (line["service"], line["phone"]) == ("An eating-disorder line", "0800 123 456")
    assert main(["classify", "--home", str(home), "I", "want", "to", "kill", "myself"]) == 0
    assert json.loads(capsys.readouterr().out)["crisis_line"]["service"] == "Samaritans"
