from __future__ import annotations

import io
import json

import pytest

from breather.cli import main


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
