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


def test_classify_with_every_category_off_flags_only_the_keywords(capsys: pytest.CaptureFixture[str]) -> None:
    post = "the match went to penalties and I want to kill myself"
    assert main(["classify", "--sensitivity", "off", "--keyword", "penalt*", post]) == 0
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


def _stdin_bytes(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """stdin as a UTF-8 desktop's is: text decoded strictly over the bytes that came in."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict"))


def test_a_line_that_is_not_utf8_gets_its_verdict_and_the_rest_go_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review: one byte that is not UTF-8 ended the whole run with "unexpected error" and no verdicts at all."""
    _stdin_bytes(monkeypatch, b"lovely day\nI want to die \xff\xfe\n\x00\x01\x02\x00\nnice cat\n")
    assert main(["classify", "-", "--country", "NZ"]) == 0
    out, err = capsys.readouterr()
    verdicts = [json.loads(line) for line in out.splitlines()]
    assert len(verdicts) == 4, err
    assert "self_harm" in verdicts[1]["flagged"]
    assert verdicts[2]["reason"] == "binary"
    assert verdicts[3]["flagged"] == []


def test_an_unreadable_crisis_table_leaves_the_shipped_line_and_says_so_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """It ended the stream at the first post that needed a crisis line."""
    home = tmp_path / "home"
    _rules_in_home(home, "GB")
    (home / "config" / "crisis_lines.toml").write_text("[GB\nservice = 'oops'\n", encoding="utf-8")
    _stdin_bytes(monkeypatch, b"I want to kill myself\nlovely day\nI want to end my life\n")
    assert main(["classify", "--home", str(home), "-"]) == 0
    out, err = capsys.readouterr()
    verdicts = [json.loads(line) for line in out.splitlines()]
    assert [verdict.get("crisis_line", {}).get("service") for verdict in verdicts] == ["Samaritans", None, "Samaritans"]
    assert err.count("your crisis lines file was not used") == 1, err
    assert "crisis_lines.toml" in err


def test_an_unknown_country_says_once_that_the_international_directory_is_shown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin_bytes(monkeypatch, b"I want to kill myself\nI want to end my life\n")
    assert main(["classify", "--country", "Narnia", "-"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["crisis_line"]["code"] == "INTERNATIONAL" for line in lines)
    assert err.count("no crisis line for the country 'Narnia'; the verdicts carry the international directory") == 1
