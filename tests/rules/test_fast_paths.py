"""The classifier's fast paths must give exactly what the simple implementations gave.

The references below are the straightforward versions the fast code replaced (a scan of every token against
every phrase that can start there). Both run on every real feed post in ../shared/fixtures/feeds and every dev
post of the evaluation sets, plus generated token lists, and must agree match for match.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breather.rules import classify as classify_module
from breather.rules.classify import MAX_CHARS, classify, default_lexicon
from breather.rules.evaluation import shared_examples
from breather.rules.learned import LinearModel, PackedWeights, default_model, ngrams, parse_model
from breather.rules.lexicon import Lexicon, Match, Pattern, compile_phrase, load_lexicon, match_at, parse_lexicon
from breather.rules.model import Window
from breather.rules.tokenize import (
    _CONTRACTIONS,
    CENSORED,
    ED_THE_NAME,
    ED_THE_SCHOOLING,
    _join_spaced,
    _unicode_fold,
    normalise,
    tokenize,
    uncensored,
    words,
)

_REFERENCE_LEET = str.maketrans(
    {"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"}
)
_REFERENCE_LEET_WORD = re.compile(r"(?<![^\W_])[a-z]*[a-z][4@31!05$7]+[a-z][a-z4@31!05$7]*")


def _reference_normalise(text: str) -> str:
    """Every rewrite, every time: no searches first to skip the ones a text does not need."""
    unescaped = html.unescape(html.unescape(text)) if "&" in text else text
    folded = unescaped if unescaped.isascii() else _unicode_fold(unescaped)
    folded = CENSORED.sub(uncensored, ED_THE_NAME.sub("Edward", folded).casefold())
    folded = ED_THE_SCHOOLING.sub(r"\1 education", folded)
    folded = _REFERENCE_LEET_WORD.sub(lambda match: match.group(0).translate(_REFERENCE_LEET), folded)
    folded = re.sub(r"([a-z])\1{2,}", r"\1\1", folded)
    return re.sub(r"(?<![^\W_])(?:[a-z] ){2,}[a-z](?![^\W_])", _join_spaced, folded)


def _reference_words(normalised: str) -> list[str]:
    """One token at a time: expand a contraction, or drop a trailing 's from a word longer than three characters."""
    tokens: list[str] = []
    for token in re.findall(r"[^\W_]+(?:'[^\W_]+)*", normalised):
        expanded = _CONTRACTIONS.get(token)
        if expanded is not None:
            tokens.extend(expanded.split())
        elif token.endswith("'s") and len(token) > 3:
            tokens.append(token[:-2])
        else:
            tokens.append(token)
    return tokens


def _reference_find(
    lexicon: Lexicon, tokens: list[str], sentence_starts: Callable[[], frozenset[int]] | None = None
) -> list[Match]:
    """Every phrase, at its first start, in order of start: try each phrase that can begin at each token. A negation
    is looked for among the three words before it, within its sentence."""
    breaks = sentence_starts() if sentence_starts is not None else frozenset()
    seen: set[int] = set()
    found: list[Match] = []
    for start, token in enumerate(tokens):
        candidates: list[Pattern] = list(lexicon.by_word.get(token, ()))
        for length, table in lexicon.by_prefix.items():
            if len(token) >= length:
                candidates.extend(table.get(token[:length], ()))
        for pattern in candidates:
            end = match_at(pattern.elements[1:], tokens, start + 1)
            if end is None or id(pattern) in seen:
                continue
            seen.add(id(pattern))
            since = max([at for at in breaks if at <= start], default=0)
            negated = not pattern.starts_negated and _reference_negated(
                lexicon, tokens[max(0, start - 3, since) : start]
            )
            found.append(Match(pattern, start, end, negated))
    return found


def _reference_negated(lexicon: Lexicon, before: list[str]) -> bool:
    """Walking back from the phrase: a negation negates it, unless a word that takes the negation for itself ("can't
    *stop* cutting") came first."""
    for word in reversed(before):
        if word in lexicon.negation_undone:
            return False
        if word in lexicon.negations:
            return True
    return False


def _feed_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        if len(node) >= 20 and " " in node:
            yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _feed_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _feed_strings(item)


@pytest.fixture(scope="module")
def real_texts(shared_fixtures: Path) -> list[str]:
    """Every text-like string of the recorded JSON feeds, and every dev post of the evaluation sets."""
    texts: list[str] = []
    for path in sorted((shared_fixtures / "feeds").rglob("*.json")):
        if path.name.endswith(".meta.json"):
            continue
        try:
            texts.extend(_feed_strings(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, UnicodeDecodeError):
            continue
    texts.extend(example.text for example in shared_examples(shared_fixtures) if example.split == "dev")
    assert len(texts) > 15_000, "the feeds and the dev split should give tens of thousands of posts"
    return texts


def _described(matches: list[Match]) -> list[tuple[str, str, int, int, bool]]:
    return [(m.pattern.label, m.pattern.source, m.start, m.end, m.negated) for m in matches]


def test_phrase_matcher_agrees_with_the_reference_on_every_real_post(real_texts: list[str]) -> None:
    lexicon = default_lexicon()
    disagreements = []
    total = 0
    for text in real_texts:
        tokens = tokenize(text[:MAX_CHARS])
        expected = _reference_find(lexicon, tokens)
        total += len(expected)
        if _described(lexicon.find(tokens)) != _described(expected):
            disagreements.append(text[:80])
    assert total > 10_000, "the real posts should exercise thousands of phrase matches"
    assert disagreements == []


_TRICKY = {
    "classes": {
        "self": ["i", "me", "my"],
        "harm": ["hurt", "cut"],
        "negation": ["not", "never", "no"],
        "negation_undone": ["stop"],
    },
    "self_harm": {
        "@self ~2 @harm": 2.0,
        "want* ~1 die": 1.5,
        "die": 1.0,
        "hurt ~2 myself ~1 again": 1.0,
        "never again": -1.0,
        "cut*": 0.5,
        "cutt* ~3 me": 0.7,
        "no ~1 hope": 1.0,
        "die die": 0.5,
    },
    "violence": {"hurt": 0.4, "cut ~2 you": 1.2, "@harm ~1 @self": 0.3},
    "context": {"support": {"phrases": ["you are not alone", "not ~1 alone"], "dampen": {"self_harm": 1.0}}},
}
_VOCABULARY = sorted(
    {"i", "me", "my", "hurt", "cut", "cutting", "cutter", "want", "wants", "wanted", "die", "myself", "again"}
    | {"never", "not", "no", "hope", "you", "are", "alone", "the", "and", "feel", "so", "stop"}
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_VOCABULARY), max_size=30))
def test_phrase_matcher_agrees_on_gaps_prefixes_classes_and_repeats(tokens: list[str]) -> None:
    lexicon = parse_lexicon(_TRICKY)
    assert _described(lexicon.find(tokens)) == _described(_reference_find(lexicon, tokens))


def _lexicon_vocabulary() -> list[str]:
    lexicon = default_lexicon()
    words = set(lexicon.by_word) | set(lexicon.negations) | set(lexicon.negation_undone)
    for table in lexicon.by_prefix.values():
        for prefix in table:
            words.update({prefix, prefix + "ing", prefix + "s"})
    return sorted(words | {"the", "a", "and", "so", "to", "today", "xyz"})


_DEFAULT_VOCABULARY = _lexicon_vocabulary()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_DEFAULT_VOCABULARY), max_size=60))
def test_phrase_matcher_agrees_on_generated_posts_of_lexicon_words(tokens: list[str]) -> None:
    lexicon = default_lexicon()
    assert _described(lexicon.find(tokens)) == _described(_reference_find(lexicon, tokens))


def test_a_phrase_added_after_loading_is_found() -> None:
    lexicon = parse_lexicon(_TRICKY)
    tokens = ["my", "brand", "new", "phrase", "here"]
    assert lexicon.find(tokens) == []
    lexicon.add(Pattern("brand new phrase", "violence", 1.0, compile_phrase("brand new phrase", {}), False))
    assert [(m.pattern.source, m.start, m.end) for m in lexicon.find(tokens)] == [("brand new phrase", 1, 4)]


def test_tokenizer_agrees_with_the_reference_on_every_real_post(real_texts: list[str]) -> None:
    differing = [
        text[:80]
        for text in real_texts
        if normalise(text) != _reference_normalise(text) or words(normalise(text)) != _reference_words(normalise(text))
    ]
    assert differing == []


# Letters, disguises and the spellings each rewrite looks for, so generated text hits every branch often.
_PIECES = st.sampled_from(
    [
        *("a", "i", "h", "t", "s", "e", "u", "r", "im", "dont", "wanna", "gonna", "it", "mom", "ur", "'s", "'", "4"),
        *("3", "1", "!", "0", "$", "@", "7", " ", " ", " ", "  ", ".", "-", "_", "&amp;", "\u2019", "É", "ｈ", "ooo"),
        *("heeeelp", "h a t e", "k i l l", "su1cide", "h4te", "x's", "rock'n'roll's", "\u200b", "42", "5", "\n"),
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_tokenizer_agrees_with_the_reference_on_generated_text(text: str) -> None:
    assert normalise(text) == _reference_normalise(text)
    assert words(normalise(text)) == _reference_words(_reference_normalise(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_tokenizer_agrees_with_the_reference_on_any_text(text: str) -> None:
    assert words(normalise(text)) == _reference_words(_reference_normalise(text))


def test_tokenizer_fast_paths_still_undo_disguises() -> None:
    assert tokenize("I wanna die, it's bad, h a t e and su1cide, sooooo dont") == [
        "i", "want", "to", "die", "it", "bad", "hate", "and", "suicide", "soo", "don't"
    ]  # fmt: skip


def test_packed_model_weights_read_as_the_file_says_and_sum_like_floats(real_texts: list[str]) -> None:
    model = default_model()
    assert model is not None and isinstance(model.sparse, PackedWeights)
    plain = dataclasses.replace(model, sparse=dict(model.sparse))
    assert len(plain.sparse) == len(model.sparse) > 1000
    changed = 0
    for text in real_texts[::7]:
        grams = ngrams(tokenize(text[:MAX_CHARS]))
        packed_scores, float_scores = model.scores(grams, {}), plain.scores(grams, {})
        assert packed_scores == pytest.approx(float_scores, abs=1e-12)
        changed += any(round(packed_scores[c], 3) != round(float_scores[c], 3) for c in packed_scores)
        for category in model.categories:
            assert model.top_grams(grams, category) == plain.top_grams(grams, category)
    assert changed == 0


def test_a_model_weight_outside_int8_is_located() -> None:
    header = json.dumps({"format": 1, "categories": ["a", "b"], "bias": [0, 0], "scales": [1, 1], "dense": {}})
    with pytest.raises(ValueError, match="model line 3: weights must be integers from -128 to 127"):
        parse_model(f"{header}\nfine\t1 -2\nbroken\t1 300\n")
    with pytest.raises(ValueError, match="model line 2: weights must be integers"):
        parse_model(f"{header}\nbroken\t1 x\n")
    assert parse_model(f"{header}\nedge\t-128 127\n").sparse["edge"] == (-128.0, 127.0)


@functools.cache
def _reference_model() -> LinearModel | None:
    """The shipped model with its weights as a plain dict of float tuples (summed by zip and sum)."""
    model = default_model()
    return None if model is None else dataclasses.replace(model, sparse=dict(model.sparse))


def test_verdicts_are_identical_with_the_reference_implementations(
    real_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole classifier, fast paths on and off, in one process on the same data: same verdict for every post."""
    fast = _verdicts(real_texts)
    monkeypatch.setattr(Lexicon, "find", _reference_find)
    monkeypatch.setattr(classify_module, "normalise", _reference_normalise)
    monkeypatch.setattr(classify_module, "words", _reference_words)
    monkeypatch.setattr(classify_module, "default_model", _reference_model)
    reference = _verdicts(real_texts)
    assert sum(1 for verdict in reference if verdict["flagged"]) > 1000, "the posts should include many warnings"
    assert [i for i, (a, b) in enumerate(zip(fast, reference, strict=True)) if a != b] == []


def _verdicts(texts: list[str]) -> list[dict[str, Any]]:
    classify_module.clear_cache()
    verdicts = [classify(text).to_dict() for text in texts]
    classify_module.clear_cache()
    return verdicts


def test_phrases_are_still_found_after_the_word_memo_fills_up(monkeypatch: pytest.MonkeyPatch) -> None:
    lexicon = parse_lexicon(_TRICKY)
    monkeypatch.setattr("breather.rules.lexicon.MEMO_SIZE", 8)
    post = ["i", "feel", "so", "hurt", "and", "want", "to", "die"]
    expected = _described(_reference_find(lexicon, post))
    assert _described(lexicon.find(post)) == expected != []
    lexicon.find([f"filler{n}" for n in range(5)])  # fills the memo
    # a post of words seen before plus a new one: the memo starts again, and must not forget the old words
    assert _described(lexicon.find([*post, "today"])) == expected


def test_every_stretched_letter_and_ascii_word_shape_matches_the_reference() -> None:
    for letter in "abcdefghijklmnopqrstuvwxyz":
        text = f"so{letter * 4}o {letter}{letter}{letter} n{letter}'s {letter}'{letter}'{letter} _{letter}_ 9{letter}'"
        assert normalise(text) == _reference_normalise(text)
        assert words(normalise(text)) == _reference_words(_reference_normalise(text))


def test_threads_matching_while_the_memo_keeps_filling_get_the_reference_matches(
    real_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy classifies from worker threads: a memo swapped under one thread must not cost another its phrases."""
    lexicon = load_lexicon()
    monkeypatch.setattr("breather.rules.lexicon.MEMO_SIZE", 200)
    posts = [tokenize(text[:2000]) for text in real_texts[:: max(1, len(real_texts) // 800)]]
    expected = [_described(_reference_find(lexicon, tokens)) for tokens in posts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda tokens: _described(lexicon.find(tokens)), posts)) == expected


_windows = st.builds(
    lambda day, start, end: Window(day, time(*divmod(start, 60)), time(*divmod(end, 60))),
    st.integers(0, 6),
    st.integers(0, 1439),
    st.integers(0, 1439),
)


@given(_windows, _windows)
def test_two_windows_overlap_exactly_when_they_share_a_minute_of_the_week(one: Window, other: Window) -> None:
    """``Window.overlaps`` (stretches of the week, used to check a rules file) against the minutes themselves."""
    assert one.overlaps(other) == bool(one.minutes_of_week() & other.minutes_of_week())
