from __future__ import annotations

import gzip
import itertools
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breather.rules.classify import CATEGORIES, classify, default_thresholds, screen
from breather.rules.evaluation import Example
from breather.rules.learned import MODEL_FILE, default_model, dump_model, ngrams, parse_model
from breather.rules.screening import Screener, trie_pattern
from breather.rules.tokenize import tokenize
from breather.rules.train import dev_report


def _tiny_model(path: Path) -> None:
    dump_model(
        path,
        ["self_harm", "violence"],
        [-2.0, -3.0],
        {"lex:self_harm": [4.0, 0.0], "ctx:support": [-1.0, -1.0]},
        {"hopeless": [3.0, 0.0], "kill": [1.0, 2.54], "the": [0.001, 0.0]},
        ["hopeless"],
    )


def test_model_file_round_trips_quantised_and_deterministic(tmp_path: Path) -> None:
    _tiny_model(tmp_path / "a.gz")
    _tiny_model(tmp_path / "b.gz")
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    model = parse_model(gzip.decompress((tmp_path / "a.gz").read_bytes()).decode())
    assert model.categories == ("self_harm", "violence")
    assert model.triggers == ("hopeless",)
    assert "the" not in model.sparse, "weights that round to 0 are pruned"
    assert model.sparse["hopeless"][0] == pytest.approx(3.0, rel=0.01)
    assert model.sparse["kill"][1] == pytest.approx(2.54, rel=0.01)
    hopeless = model.scores(ngrams(["so", "hopeless"]), {})
    plain = model.scores(ngrams(["so", "tired"]), {})
    assert hopeless["self_harm"] > plain["self_harm"]
    supported = model.scores(ngrams(["so", "hopeless"]), {"ctx:support": 1.0})
    assert supported["self_harm"] < hopeless["self_harm"], "support context lowers the score"
    assert model.top_grams(ngrams(["so", "hopeless", "kill"]), "self_harm") == ("hopeless", "kill")


def test_the_reason_shown_is_the_word_that_weighed_most_even_a_short_one(tmp_path: Path) -> None:
    """ "Flagged for" must name what drove the score: a post flagged for "bad" once showed "school" (three-letter
    words were all left out), which told the reader a wrong reason. Short function words still explain nothing."""
    dump_model(
        tmp_path / "m.gz",
        ["harassment"],
        [-3.0],
        {},
        {"bad": [7.8], "school": [0.4], "all": [5.0], "no": [2.4]},
        [],
    )
    model = parse_model(gzip.decompress((tmp_path / "m.gz").read_bytes()).decode())
    shown = model.top_grams(ngrams(["bad", "weather", "all", "no", "school"]), "harassment")
    assert shown[0] == "bad"
    assert "all" not in shown and "no" not in shown


def test_quote_blind_categories_read_the_post_without_its_quotes(tmp_path: Path) -> None:
    """The model file names the categories trained without quoted passages; only those read the post that way, and
    their "why" comes from the words they read."""
    from breather.rules.classify import lexical_view, model_scores

    dump_model(
        tmp_path / "m.gz",
        ["self_harm", "violence"],
        [-3.0, -3.0],
        {"quoted:violence": [0.0, 0.5]},
        {"stab": [0.0, 20.0], "hurt": [20.0, 0.0], "report": [0.0, -1.0]},
        [],
        quote_blind=["violence"],
    )
    model = parse_model(gzip.decompress((tmp_path / "m.gz").read_bytes()).decode())
    assert model.quote_blind == ("violence",)
    text = 'I will report anyone who says "I will stab and hurt you" to the mods.'
    scores, read = model_scores(model, text, lexical_view(text))
    unquoted = "I will report anyone who says I will stab and hurt you to the mods."
    whole, _ = model_scores(model, unquoted, lexical_view(unquoted))
    assert scores["violence"] < 0.2 < whole["violence"], "the quoted threat does not count as the writer's words"
    assert scores["self_harm"] == pytest.approx(whole["self_harm"]), "other categories read the whole post"
    assert "stab" not in read["violence"] and "stab" in read["self_harm"]


def test_no_context_negation_or_quote_raises_a_shipped_score() -> None:
    """A support or news context, a negated phrase and a quoted passage may only lower a category's score: the
    writer's quote of an insult is not the writer's insult."""
    from breather.rules.train import ONLY_LOWERING

    model = default_model()
    assert model is not None
    lowering = {name: weights for name, weights in model.dense.items() if name.startswith(ONLY_LOWERING)}
    assert any(name.startswith("quoted:") for name in lowering) and any(name.startswith("ctx:") for name in lowering)
    assert {name: max(weights) for name, weights in lowering.items() if max(weights) > 0} == {}


def test_a_broken_model_file_is_located() -> None:
    header = '{"format": 1, "categories": ["a", "b"], "bias": [0, 0], "scales": [1, 1], "dense": {}}'
    with pytest.raises(ValueError, match="model line 3: 1 weights for 2 categories"):
        parse_model(header + "\nfine\t1 2\nbroken\t7\n")
    with pytest.raises(ValueError, match="format 9"):
        parse_model('{"format": 9}')


def test_the_shipped_model_loads_without_download_and_is_small() -> None:
    data = resources.files("breather.rules").joinpath(MODEL_FILE).read_bytes()
    assert len(data) < 3_000_000
    model = default_model()
    assert model is not None
    assert model.categories == CATEGORIES
    assert len(model.sparse) > 1000
    assert default_thresholds().model


def test_model_and_lexicon_alone_both_judge() -> None:
    text = "I can't do this anymore, I want to kill myself tonight"
    assert "self_harm" in classify(text).flagged
    assert "self_harm" in classify(text, model=False).flagged
    assert classify("Nice weather for a walk in the park", model=False).flagged == ()


def test_evidence_is_words_from_the_post() -> None:
    verdict = classify("been restricting so hard, 600 cals today and my ugw feels so far away")
    assert "eating_disorder" in verdict.flagged
    for phrases in verdict.evidence.values():
        for phrase in phrases:
            assert phrase in " ".join(tokenize("been restricting so hard, 600 cals today and my ugw feels so far"))


def test_trie_pattern_matches_whole_words_and_prefixes() -> None:
    pattern = re.compile(trie_pattern(["kill", "kms"], ["suicid"]))
    assert pattern.search("i will kill")
    assert pattern.search("suicidal thoughts")
    assert not pattern.search("what a skill")
    assert not pattern.search("killer app")
    assert not pattern.search("presuicide")
    screener = Screener.build(["hate"], [])
    assert screener.hits("I H4TE you")
    assert screener.hits("I h a t e you")
    assert screener.hits("I &#104;ate you")
    assert not screener.hits("https://youtu.be/watch?v=h4te")
    assert not screener.hits("I love you")


WORDS = [
    "i", "want", "to", "kill", "myself", "you", "stupid", "bitch", "not", "never", "relapsed", "heroin", "cals",
    "restricting", "ugw", "die", "hate", "all", "them", "h4te", "k i l l", "suicidal", "the", "park", "walk", "&amp;",
    "ｋｉｌｌ", "hopeless", "purge", "drunk", "stab", "shoot", "crisis", "line", "clean", "today",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=25))
def test_whatever_classify_flags_the_screen_lets_through(words: list[str]) -> None:
    text = " ".join(words)
    if classify(text).flagged or classify(text, sensitivity="high").flagged:
        assert screen(text)


def test_dev_report_shows_what_the_thresholds_were_chosen_on() -> None:
    """The maintainer's dev table: per level, each category's P/R/F1, `none` posts flagged and other MH posts."""
    examples = [
        Example("a", frozenset({"self_harm"}), "t", "t"),
        Example("b", frozenset({"self_harm"}), "t", "t"),
        Example("c", frozenset({"none"}), "t", "t"),
        Example("d", None, "t", "other"),
    ]
    scores = np.zeros((4, len(CATEGORIES)))
    scores[:, 0] = [0.9, 0.1, 0.5, 0.6]  # one self-harm post found, one missed, a `none` post and an other MH post hit
    chosen = {category: {"low": 0.7, "medium": 0.3, "high": 0.05} for category in CATEGORIES}
    lines = dev_report(examples, scores, chosen).splitlines()
    low, medium, spread, high = lines[1:]
    assert "self_harm 1.000/0.500/0.667 (0.00%)" in low and "other MH flagged 0.0%" in low
    assert "self_harm 0.500/0.500/0.500 (100.00%)" in medium and "other MH flagged 100.0%" in medium
    assert "self_harm 0.667/1.000/0.800" in high and "none flagged 100.0%" in high
    assert "HateCheck" not in medium  # no contrast cases among these posts
    # Three labelled posts say little: medium's self-harm F1 could be anything from nothing to perfect.
    assert spread.strip().startswith("95% intervals: self_harm F1 0.000-1.000")
    assert "contrast" not in spread


def test_dev_report_counts_hatechecks_contrast_cases_per_functionality() -> None:
    """The issue's contrast target is measured out of fold before any test read, per functionality."""
    examples = [
        Example("I don't hate them", frozenset({"none"}), "hatecheck", "hatecheck:negate_neg_nh"),
        Example("No one should be hurt", frozenset({"none"}), "hatecheck", "hatecheck:negate_neg_nh"),
        Example("my day one crew", frozenset({"none"}), "hatecheck", "hatecheck:slur_reclaimed_nh"),
    ]
    scores = np.zeros((3, len(CATEGORIES)))
    scores[0, CATEGORIES.index("harassment")] = 0.95
    chosen = {category: {"low": 0.99, "medium": 0.9, "high": 0.5} for category in CATEGORIES}
    _header, low, medium, spread, _high = dev_report(examples, scores, chosen).splitlines()
    assert "HateCheck contrast flagged 0.0% (negate_neg 0/2, slur_reclaimed 0/1)" in low
    assert "HateCheck contrast flagged 33.3% (negate_neg 1/2, slur_reclaimed 0/1)" in medium
    assert spread.endswith("contrast 0.0%-100.0%")


def _plain_ngrams(tokens: list[str]) -> set[str]:
    """The features as the model's docstring defines them, with no memo."""
    grams = set(tokens) | {f"{a} {b}" for a, b in itertools.pairwise(tokens)}
    return grams | {"~" + word[:5] for word in tokens if len(word) >= 6 and word.isalpha()}


WORDS = st.sampled_from(["starving", "starved", "starvation", "kill", "killing", "myself", "it's", "café", "a"])


@settings(max_examples=200, deadline=None)
@given(posts=st.lists(st.lists(WORDS | st.text(min_size=1, max_size=9), max_size=12), min_size=1, max_size=6))
def test_ngrams_share_a_stem_across_word_forms_even_as_the_memo_is_swapped(
    posts: list[list[str]], monkeypatch_module: pytest.MonkeyPatch
) -> None:
    from breather.rules import learned

    monkeypatch_module.setattr(learned, "STEM_MEMO_SIZE", 5)  # swapped every few posts
    for tokens in posts:
        assert ngrams(tokens) == _plain_ngrams(tokens)
    assert {"~starv", "starving"} <= ngrams(["starving"]) and "~starv" in ngrams(["starvation"])


def test_why_this_was_flagged_names_words_of_the_post_never_a_stem() -> None:
    model = default_model()
    assert model is not None
    grams = ngrams(tokenize("restricting again, starving myself until the slaughter of my appetite is complete"))
    assert any(gram.startswith("~") and gram in model.sparse for gram in grams)  # the model does weigh stems
    for category in model.categories:
        assert not [gram for gram in model.top_grams(grams, category, limit=10) if gram.startswith("~")]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_shipped_model_was_trained_on_the_current_lexicon_and_settings() -> None:
    """The lexicon's scores are model inputs: editing a phrase, a gate or a training setting without retraining
    leaves a model (and thresholds) chosen for something else."""
    from breather.rules.train import training_fingerprint

    model = default_model()
    assert model is not None
    assert model.trained_on == training_fingerprint(), (
        "rules/data/model.tsv.gz was trained on another lexicon or other settings: run "
        "`python -m breather.rules.train` (then read the test split once, docs/classifier.md)"
    )


def test_the_fingerprint_follows_the_lexicon_and_the_gates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from breather.rules import train

    shipped = train.training_fingerprint()
    text = (train.DATA / "lexicon.toml").read_text(encoding="utf-8")
    monkeypatch.setattr(train, "DATA", tmp_path)
    (tmp_path / "lexicon.toml").write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert train.training_fingerprint() == shipped  # a Windows checkout of the same file
    (tmp_path / "lexicon.toml").write_text(text + '\n"an edited phrase" = 1.0\n', encoding="utf-8")
    assert train.training_fingerprint() != shipped
    (tmp_path / "lexicon.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(train, "LEXICON_SUPPORT_WEIGHT", 1.0)
    assert train.training_fingerprint() != shipped
