from __future__ import annotations

import json
from pathlib import Path

import pytest

from breather.cli import main
from breather.rules.evaluation import Example, metrics, split_of

ROWS = [
    ("I want to kill myself tonight", "self_harm"),
    ("been restricting to 500 cals, ugw 45kg", "eating_disorder"),
    ("I will kill you and your family", "violence"),
    ("you are a stupid worthless bitch", "harassment"),
    ("relapsed on heroin again, withdrawals are hell", "substance"),
    ("lovely walk in the park today", "none"),
    ("the bread at this bakery is killing it", "none"),
    ("I hate mondays", "none"),
]


def _write_csv(path: Path, rows: list[tuple[str, str]], header: str = "text,label") -> Path:
    lines = [header, *(f'"{text}",{label}' for text, label in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_eval_json_has_the_documented_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = _write_csv(tmp_path / "posts.csv", ROWS)
    assert main(["eval", str(csv_file), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"categories", "none"}
    assert set(report["categories"]) == {"self_harm", "eating_disorder", "violence", "harassment", "substance"}
    for row in report["categories"].values():
        assert set(row) == {"precision", "recall", "f1", "support"}
        assert row["support"] == 1
    assert report["categories"]["self_harm"]["recall"] == 1.0
    assert report["none"] == {"false_positive_rate": 0.0, "support": 3}


def test_eval_table_and_custom_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = _write_csv(tmp_path / "posts.csv", ROWS, header="post,gold")
    assert main(["eval", str(csv_file), "--text-col", "post", "--label-col", "gold"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["category", "precision", "recall", "f1", "support"]
    assert "none: 0.0% flagged of 3 posts" in out


def test_eval_reports_a_missing_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = _write_csv(tmp_path / "posts.csv", ROWS, header="body,label")
    assert main(["eval", str(csv_file)]) == 1
    assert "posts.csv:1: no column 'text' (columns: body, label)" in capsys.readouterr().err


def test_eval_reports_an_unknown_label_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = _write_csv(tmp_path / "posts.csv", [*ROWS[:3], ("hello", "spam")])
    assert main(["eval", str(csv_file)]) == 1
    assert "posts.csv:5: 'spam' is not one of self_harm" in capsys.readouterr().err


def test_metrics_count_false_positives_on_none() -> None:
    examples = [
        Example("a", frozenset({"none"}), "t", "t"),
        Example("b", frozenset({"none"}), "t", "t"),
        Example("c", frozenset({"harassment"}), "t", "t"),
        Example("d", None, "t", "other"),
    ]
    predictions = [frozenset({"harassment"}), frozenset(), frozenset({"harassment"}), frozenset({"self_harm"})]
    report = metrics(examples, predictions)
    assert report["none"] == {"false_positive_rate": 0.5, "support": 2}
    assert report["categories"]["harassment"] == {"precision": 0.5, "recall": 1.0, "f1": 0.667, "support": 1}
    assert report["categories"]["self_harm"]["support"] == 0


def test_split_is_fixed_and_roughly_even() -> None:
    texts = [f"post number {i}" for i in range(2000)]
    assert [split_of(t) for t in texts] == [split_of(t) for t in texts]
    assert split_of("  same text ") == split_of("same text")
    test_share = sum(split_of(t) == "test" for t in texts) / len(texts)
    assert 0.45 < test_share < 0.55
