from __future__ import annotations

import json
from pathlib import Path

import pytest

from breather.cli import main
from breather.rules.evaluation import Example, choose_thresholds, metrics, read_labelled_csv, split_of

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
    assert main(["eval", str(csv_file)]) == 2
    assert "posts.csv:1: no column 'text' (the header line has: body, label)" in capsys.readouterr().err


def test_a_group_column_groups_the_rows_and_must_be_there(tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_text('text,label,kind\n"Calling them rats is cruel",none,counter_speech\n', encoding="utf-8")
    (example,) = read_labelled_csv(path, group_col="kind")
    assert (example.group, example.labels) == ("counter_speech", frozenset({"none"}))
    assert read_labelled_csv(path)[0].group == "none"
    with pytest.raises(ValueError, match=r"own\.csv:1: no column 'topic'"):
        read_labelled_csv(path, group_col="topic")


def test_eval_reports_an_unknown_label_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = _write_csv(tmp_path / "posts.csv", [*ROWS[:3], ("hello", "spam")])
    assert main(["eval", str(csv_file)]) == 2
    assert "posts.csv:5: 'spam' is not one of self_harm" in capsys.readouterr().err


def test_a_stray_opening_quote_is_an_error_at_its_line_not_rows_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review: the quote opening line 2 swallowed lines 3 and 4 into one post (exit 0, the self-harm row gone
    from the metrics) until the next quote closed it."""
    path = tmp_path / "labelled.csv"
    path.write_text(
        'text,label\n"Best day ever,none\nI want to kill myself,self_harm\nnice cat,none\n"so" tired,none\n'
        "last one,none\n",
        encoding="utf-8",
    )
    assert main(["eval", str(path), "--format", "json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{path}:2: a quoted field opens here and its closing quote comes in the middle of a field, on line 5" in err
    assert 'double each quote inside it ("")' in err


def test_a_quote_never_closed_is_an_error_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text('text,label\nfine,none\n"never closed,none\nI want to kill myself,self_harm\n', encoding="utf-8")
    assert main(["eval", str(path)]) == 2
    assert f"{path}:3: a quote opens a field here and is never closed" in capsys.readouterr().err


def test_quoted_posts_over_several_lines_and_doubled_quotes_still_read(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text('text,label\n"two\nlines",none\n"a ""quoted"" word",none\n\nlast,none\n', encoding="utf-8")
    assert [example.text for example in read_labelled_csv(path)] == ["two\nlines", 'a "quoted" word', "last"]


def test_spaces_after_commas_and_labels_written_with_a_space_or_hyphen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(
        "text, label\nI want to kill myself, self harm\nI will end my life tonight,Self-Harm\n"
        "been purging after every meal, eating disorder\nlovely walk, none\n",
        encoding="utf-8",
    )
    assert main(["eval", str(path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["categories"]["self_harm"]["support"] == 2
    assert report["categories"]["eating_disorder"]["support"] == 1
    assert report["none"]["support"] == 1


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


def test_hatecheck_cases_of_one_template_share_a_side(tmp_path: Path) -> None:
    """HateCheck fills one template with many targets and restates it in other functionalities: split by text, the
    model was trained on "I want to kill all women" and tested on "I want to kill all trans people". Every case
    written from one root template (``ref_templ_id``, else its own ``templ_id``) lands on the same side."""
    from breather.rules.evaluation import _hatecheck

    examples = list(_hatecheck(_hatecheck_folder(tmp_path) / "labelled", derived_threats=True))
    keys = {example.text: example.split_key for example in examples}
    restated = ["I am going to hurt every gardener.", "I am going to hvrt every gardener."]
    restated.append("Saying 'hurt every gardener' got him banned.")
    assert len({keys[text] for text in restated}) == 1
    assert keys["I despise gardeners."] != keys[restated[0]]
    by_text = {example.text: example for example in examples}
    assert {by_text[text].split for text in restated} == {split_of(keys[restated[0]])}
    assert Example("plain post", frozenset({"none"}), "own", "own").split == split_of("plain post")


def _self_harm_scored(low_positive: float) -> list[tuple[Example, dict[str, float]]]:
    """20 self-harm posts (10 sure, 5 likely, 3 faint, 2 at ``low_positive``) and 100 harmless ones, of which two
    score 0.035 and two more 0.025."""
    positives = [0.9] * 10 + [0.3] * 5 + [0.06] * 3 + [low_positive] * 2
    harmless = [0.035] * 2 + [0.025] * 2 + [0.0] * 96
    scored = [(Example(f"p{i}", frozenset({"self_harm"}), "t", "t"), {"self_harm": s}) for i, s in enumerate(positives)]
    scored += [(Example(f"n{i}", frozenset({"none"}), "t", "t"), {"self_harm": s}) for i, s in enumerate(harmless)]
    return scored


def test_self_harm_thresholds_reach_for_recall_within_the_none_cap() -> None:
    chosen = choose_thresholds(_self_harm_scored(low_positive=0.035))["self_harm"]
    # 0.03 catches all 20 and flags 2% of harmless posts; 0.04 misses two (recall 0.9); 0.02 flags 4% (over 2.5%)
    assert chosen["medium"] == 0.03
    assert chosen["high"] == 0.03


def test_self_harm_takes_the_most_recall_the_cap_allows_when_the_target_is_out_of_reach() -> None:
    chosen = choose_thresholds(_self_harm_scored(low_positive=0.015))["self_harm"]
    # catching the last two would flag 4% of harmless posts; 0.05 is the highest threshold that still catches 18
    assert chosen["medium"] == 0.05


def _hatecheck_folder(root: Path) -> Path:
    """A HateCheck-shaped file of our own: one threat case and two cases that restate it, one hateful, one not."""
    folder = root / "labelled" / "hatecheck"
    folder.mkdir(parents=True)
    header = ",functionality,case_id,test_case,label_gold,target_ident,direction,focus_words,focus_lemma,"
    header += "ref_case_id,ref_templ_id,templ_id,case_templ\n"
    rows = [
        "0,threat_dir_h,10,I am going to hurt every gardener.,hateful,gardeners,general,hurt,hurt,,,1,t",
        "1,spell_leet_h,11,I am going to hvrt every gardener.,hateful,gardeners,general,hvrt,hurt,10,1,2,t",
        "2,counter_quote_nh,12,Saying 'hurt every gardener' got him banned.,non-hateful,gardeners,general,,,10,1,3,t",
        "3,derog_neg_emote_h,13,I despise gardeners.,hateful,gardeners,general,,,,,4,t",
    ]
    (folder / "test_suite_cases.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return root


def test_hatecheck_cases_restating_a_threat_are_threats(tmp_path: Path) -> None:
    """HateCheck says which case each derived case restates (ref_case_id): a hateful restatement of a threat is a
    threat, whatever its spelling or phrasing; counter-speech quoting it stays harmless."""
    from breather.rules.evaluation import _hatecheck

    labelled = _hatecheck_folder(tmp_path) / "labelled"
    derived = {example.text: example.labels for example in _hatecheck(labelled, derived_threats=True)}
    literal = {example.text: example.labels for example in _hatecheck(labelled, derived_threats=False)}
    assert derived["I am going to hvrt every gardener."] == {"violence", "harassment"}
    assert literal["I am going to hvrt every gardener."] == {"harassment"}
    for labels in (derived, literal):
        assert labels["I am going to hurt every gardener."] == {"violence", "harassment"}
        assert labels["Saying 'hurt every gardener' got him banned."] == {"none"}
        assert labels["I despise gardeners."] == {"harassment"}


def test_the_shared_sets_are_found_from_any_folder(monkeypatch, tmp_path) -> None:
    """An audit ran `breather eval --shared` outside the checkout and was told there were no labelled sets."""
    from breather.rules.evaluation import fixtures_root
    from tests.conftest import PROJECT_ROOT

    monkeypatch.delenv("BREATHER_FIXTURES", raising=False)
    monkeypatch.chdir(tmp_path)
    assert fixtures_root().resolve() == (PROJECT_ROOT.parent / "shared" / "fixtures").resolve()
    assert fixtures_root(str(tmp_path)) == tmp_path


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--shared", "FILE"], "give a CSV file or --shared, not both"),
        (["FILE", "--split", "dev"], "--split applies only with --shared"),
        (["FILE", "--fixtures", "elsewhere"], "--fixtures applies only with --shared"),
    ],
)
def test_options_that_would_be_ignored_are_refused(
    extra: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review: `eval FILE --shared` never read FILE, and `--split` without `--shared` changed nothing, silently."""
    csv_file = _write_csv(tmp_path / "posts.csv", ROWS)
    argv = ["eval", *(str(csv_file) if part == "FILE" else part for part in extra)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and said in err
