"""The content classifier: ``classify(text)`` returns a ``Verdict``; ``screen(text)`` is the cheap pre-filter.

A verdict names the well-being categories a post touches with scores, which ones pass the person's sensitivity
threshold (``flagged``), the phrases that matched (``evidence``, shown as "why this was flagged") and the post's
tone (``context``: support, recovery, news, counter-speech). When a post cannot be judged (empty, binary, another
script...) the verdict flags nothing and says why in ``reason``. Nothing here raises on any input text.

Thread-safe: the proxy calls it from worker threads. Raw scores are cached by a hash of the text (never the text).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import tomllib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from importlib import resources
from typing import Any, Literal, NamedTuple

from breather.rules.learned import LinearModel, default_model, dense_features, ngrams
from breather.rules.lexicon import Lexicon, Match, compile_phrase, load_lexicon, match_at
from breather.rules.model import CATEGORIES, CRISIS_CATEGORIES, CUSTOM_CATEGORY, OWN_TOPIC_PREFIX
from breather.rules.quoting import split_quoted
from breather.rules.screening import Screener
from breather.rules.tokenize import normalise, sentence_starts, words

SENSITIVITIES: tuple[str, ...] = ("off", "low", "medium", "high")
Sensitivity = Literal["off", "low", "medium", "high"]
KEYWORD_PREFIX = OWN_TOPIC_PREFIX

MAX_CHARS = 10_000
CACHE_SIZE = 8192
# A phrase must stand for at least this much weight for its telling word to send a post on to full scoring.
SCREEN_MIN_WEIGHT = 1.0
# Below this model score a category is flagged only when lexicon phrases of it were found: at self_harm's low,
# recall-first thresholds, short posts with no telling words ("nothing to see") otherwise cross on n-gram noise;
# eating_disorder's gate keeps "We serve shitty food" unflagged (dev out of fold: precision 0.821 -> 0.830, recall
# kept). The same gate for harassment (0.9) cost dev recall 0.815 -> 0.793 and was not kept.
LEXICON_EVIDENCE_BELOW = {"self_harm": 0.25, "eating_disorder": 0.3}
# The model's n-grams are shown as one stretch of the post when they all fit in this many words.
EVIDENCE_SPAN_WORDS = 8
# ...unless the post has at least this many distinct words: the noise comes from short posts, whose few n-grams swing
# a length-normalised score, while the self-harm posts the lexicon misses are long narratives with no telling phrase.
MODEL_ALONE_FROM_DISTINCT_WORDS = 25
# "Lexicon phrases of it" means phrases weighing at least this much: a lone "dead", "die", "death" or "my life"
# (weights 0.3-0.6) is how game titles, news headlines and "my life is better now" talk too. Chosen on dev: the most
# weight that kept out-of-fold recall (1.0, one telling phrase, lost two self-harm posts).
LEXICON_SUPPORT_WEIGHT = 0.8
# raw weight at which a category's score reaches 0.5
SCORE_HALF_POINT = 3.0
# with sentiment on, a wholly positive post keeps (1 - this) of its weight, a wholly negative one gains this much
SENTIMENT_STRENGTH = 0.4

_ENGLISH_FUNCTION_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "my",
        "your",
        "his",
        "her",
        "this",
        "that",
        "not",
        "no",
        "so",
        "if",
        "do",
        "don't",
        "i'm",
        "it's",
        "what",
        "when",
        "just",
        "me",
        "have",
        "has",
        "had",
        "will",
        "can",
        "would",
        "there",
    ]
)

# Function words of German, Dutch, French, Spanish, Portuguese and Italian that are not also English words, names
# or slang (left out: "die", "was", "hat", "son", "met", "van", "los", "sus", "ya", "com", "os", "em", "dem", ...).
# A post whose words are mostly these is in a language the lexicon and the model do not read: an English-looking
# word in it ("die" in "das die Blinker") says nothing, so only the person's own topics are matched.
_OTHER_FUNCTION_WORDS = frozenset(
    word
    for language in (
        # German
        "der das und ist nicht ich sich auf des ein eine einen einem einer von vom wohl noch auch aber wie wir dass "
        "oder wenn nur schon mein meine nach bei sind haben wird werden kann doch mir mich dich dir uns euch ihr ihre "
        "zum zur über für vor sehr jetzt immer",
        # Dutch
        "het een niet ik zijn voor maar ook nog wel naar deze hij zij wij jij mijn",
        # French
        "les est pas je une des du qui dans ce il elle nous vous sont mais avec sur aux ces cette sa ses mes très "
        "tout être fait comme aussi",
        # Spanish (and "de", shared with most of the others)
        "de el que en es por una se su pero como más muy está esta este esto ser fue también porque cuando donde "
        "todo nos",
        # Portuguese
        "não uma é ao pelo pela mais muito isso esse essa ele ela eles você vocês meu minha seu sua foi tem são "
        "estão aqui já pouco",
        # Italian
        "di che gli della delle sono questo questa anche più perché ci nel nella alla dei",
    )
    for word in language.split()
)
# at least this many such words, and more than twice as many as English function words ("I want to die, que es
# esto" is still read)
OTHER_LANGUAGE_MIN_WORDS = 3

# The person's own topics: plain phrases (category ``custom``), or a mapping of topic -> phrases (``keyword:<topic>``)
# in which the key PLAIN_KEYWORDS holds plain phrases, so one value can carry both.
Keywords = Iterable[str] | Mapping[str, Iterable[str]]
PLAIN_KEYWORDS = ""
_Compiled = tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class Verdict:
    """What the classifier concluded about one post. ``to_dict()`` is its JSON form."""

    scores: Mapping[str, float] = field(default_factory=dict)
    flagged: tuple[str, ...] = ()
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    context: tuple[str, ...] = ()
    reason: str | None = None
    truncated: bool = False
    scored_chars: int = 0
    # flagged categories with no lexicon phrase in the post: the model read the wording as a whole, and their
    # evidence is the words that weighed most, not phrases that name the topic
    worded: tuple[str, ...] = ()

    @property
    def top(self) -> str | None:
        return self.flagged[0] if self.flagged else None

    @property
    def needs_crisis_line(self) -> bool:
        """Self-harm and eating-disorder warnings carry a helpline for the person's country."""
        return any(category in CRISIS_CATEGORIES for category in self.flagged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": list(self.flagged),
            "scores": dict(self.scores),
            "evidence": {category: list(phrases) for category, phrases in self.evidence.items()},
            "context": list(self.context),
            "reason": self.reason,
            "truncated": self.truncated,
            "scored_chars": self.scored_chars,
            "worded": list(self.worded),
        }


class _Raw(NamedTuple):
    """Scores before thresholds: what the cache keeps (no text, only phrases that matched). A named tuple, not a
    frozen dataclass: one is built per scored post, and that is 4x cheaper (~1.4 against ~5.9 us)."""

    scores: Mapping[str, float]
    evidence: Mapping[str, tuple[str, ...]]
    context: tuple[str, ...]
    reason: str | None
    truncated: bool
    scored_chars: int
    passed: bool = True  # the screening pass let it through
    modelled: bool = False  # scores come from the learned model (its thresholds apply)
    # categories whose evidence is lexicon phrases; the model's n-grams are shown only for flagged categories
    lexicon_evidence: frozenset[str] = frozenset()
    # categories whose lexicon phrases weigh enough to back a low model score in a short post
    lexicon_support: frozenset[str] = frozenset()
    judged: bool = True  # fully scored (a screened-out entry from ``screen`` is not, until ``classify`` asks)
    distinct_words: int = 0


@dataclass(frozen=True)
class Thresholds:
    levels: Mapping[str, Mapping[str, float]]  # for the model's scores
    sentiment: bool = False
    model: bool = False
    lexicon_levels: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # lexicon alone (fallback)

    @cached_property  # asked for every scored post; the tables never change after parsing
    def lowest(self) -> dict[str, float]:
        """Per category, the model score below which no sensitivity flags it."""
        return {category: min(table.values()) for category, table in self.levels.items() if table}

    def threshold(self, category: str, level: str, *, with_model: bool = True) -> float | None:
        if level == "off":
            return None
        table = (self.levels if with_model else self.lexicon_levels or self.levels).get(category)
        if table is None:
            return 0.0 if category == CUSTOM_CATEGORY or category.startswith(KEYWORD_PREFIX) else None
        return table.get(level)


@cache
def default_lexicon() -> Lexicon:
    return load_lexicon()


@cache
def default_thresholds() -> Thresholds:
    text = resources.files("breather.rules").joinpath("data/thresholds.toml").read_text(encoding="utf-8")
    return parse_thresholds(tomllib.loads(text))


def parse_thresholds(data: Mapping[str, Any]) -> Thresholds:
    options = data.get("options", {})
    return Thresholds(
        levels=_levels(data),
        sentiment=bool(options.get("sentiment", False)),
        model=bool(options.get("model", False)),
        lexicon_levels=_levels(data.get("lexicon_only", {})),
    )


def _levels(data: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    levels: dict[str, dict[str, float]] = {}
    for category in CATEGORIES:
        table = data.get(category, {})
        if table:
            levels[category] = {level: float(table[level]) for level in ("low", "medium", "high") if level in table}
    return levels


def _active_model(use_model: bool | None) -> LinearModel | None:
    wanted = default_thresholds().model if use_model is None else use_model
    return default_model() if wanted else None


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], _Raw] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> _Raw | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: _Raw) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _LRU(CACHE_SIZE)


def clear_cache() -> None:
    _cache.clear()


@cache
def default_screener() -> Screener:
    """Trigger words of the lexicon's phrases that can matter on their own (weight >= SCREEN_MIN_WEIGHT), and the
    words the model weighs most (chosen when it was trained)."""
    words, prefixes = default_lexicon().trigger_words(SCREEN_MIN_WEIGHT)
    model = _active_model(None)
    return Screener.build([*words, *(model.triggers if model else ())], prefixes)


# Bounded: every version of a member's keyword list ever saved would otherwise stay in memory for as long as the
# service runs (a few MB each for the thousands-of-words lists people paste). Enough for every member's list in
# force, and the one before it, in a large household.
KEYWORD_SCREENERS_KEPT = 64
KEYWORD_PHRASES_KEPT = 1 << 15


@lru_cache(maxsize=KEYWORD_SCREENERS_KEPT)
def _keyword_screener(keywords: tuple[tuple[str, tuple[Any, ...]], ...]) -> Screener:
    words: list[str] = []
    prefixes: list[str] = []
    for _category, patterns in keywords:
        for _phrase, elements in patterns:
            solid = [element for element in elements if element.kind in ("word", "prefix")]
            chosen = max(solid, key=lambda element: len(element.word))
            (prefixes if chosen.kind == "prefix" else words).append(chosen.word)
    return Screener.build(words, prefixes)


def screen(text: str | bytes, keywords: Keywords = ()) -> bool:
    """True when ``text`` may need a warning and must be fully scored; False means it certainly needs none.

    Cheap on purpose (one regex over the lower-cased text, and a cache by text hash): the proxy runs it on every
    post of a page. ``classify`` applies the same gate, so a post screened out is never flagged.
    """
    compiled = _compile_keywords(keywords)
    decoded, reason = _as_text(text)
    if reason is not None:
        return False
    key = _cache_key(decoded, compiled, _mode(None, None))
    found = _cache.get(key)
    if found is not None:
        return found.passed
    passed = _passes(decoded, compiled)
    # Remembered either way: a post let through is classified next, which then need not screen it again (a regex
    # pass over up to 10,000 characters); the verdict takes the same cache slot.
    _cache.put(key, _SCREENED_IN if passed else _SCREENED_OUT)
    return passed


def _passes(text: str, keywords: _Compiled) -> bool:
    sample = text[:MAX_CHARS]
    if default_screener().hits(sample):
        return True
    return bool(keywords) and _keyword_screener(keywords).hits(sample)


# What the cache keeps for a post the screen stopped or let through, until ``classify`` asks for the full verdict.
_SCREENED_OUT = _Raw({}, {}, (), None, False, 0, passed=False, judged=False)
_SCREENED_IN = _Raw({}, {}, (), None, False, 0, passed=True, judged=False)


def _mode(sentiment: bool | None, model: bool | None) -> tuple[bool, bool]:
    """(use TextBlob sentiment, use the learned model): None means what data/thresholds.toml chose."""
    thresholds = default_thresholds()
    use_sentiment = thresholds.sentiment if sentiment is None else sentiment
    return use_sentiment, _active_model(model) is not None


def _cache_key(text: str, keywords: _Compiled, mode: tuple[bool, bool]) -> tuple[Any, ...]:
    head = text[:MAX_CHARS]
    return (hashlib.blake2b(head.encode("utf-8", "surrogatepass"), digest_size=16).digest(), keywords, mode)


def classify(
    text: str | bytes,
    *,
    keywords: Keywords = (),
    sensitivity: Sensitivity | Mapping[str, Sensitivity] = "medium",
    sentiment: bool | None = None,
    model: bool | None = None,
) -> Verdict:
    """Judge one post. ``keywords``: the person's own topics, as phrases (category ``custom``) or a mapping of
    topic -> phrases (categories ``keyword:<topic>``). ``sensitivity``: one level for every built-in category (the
    person's own topics are flagged at any level) or a mapping per category (missing categories use ``medium``).
    ``sentiment``: use TextBlob's sentiment as a modifier; ``model``: use the learned model (False: the lexicon
    alone). None: what the evaluation chose, in data/thresholds.toml."""
    compiled = _compile_keywords(keywords)
    raw = _raw_verdict(text, compiled, _mode(sentiment, model))
    return _apply_thresholds(raw, sensitivity, default_thresholds())


def raw_scores(text: str | bytes, *, sentiment: bool | None = None, model: bool | None = None) -> Mapping[str, float]:
    """Category scores before any threshold (for tuning and evaluation)."""
    return _raw_verdict(text, (), _mode(sentiment, model)).scores


def _level_for(category: str, sensitivity: Sensitivity | Mapping[str, Sensitivity]) -> Sensitivity:
    """One level is the built-in categories' sensitivity: the person's own topics are flagged whenever their words
    appear, also with every category off."""
    if not isinstance(sensitivity, str):
        return sensitivity.get(category, "medium")
    return sensitivity if category in CATEGORIES else "medium"


def _apply_thresholds(
    raw: _Raw, sensitivity: Sensitivity | Mapping[str, Sensitivity], thresholds: Thresholds
) -> Verdict:
    flagged: list[tuple[float, str]] = []
    for category, score in raw.scores.items():
        level = _level_for(category, sensitivity)
        threshold = thresholds.threshold(category, level, with_model=raw.modelled)
        if threshold is None or score <= 0 or score < threshold:
            continue
        supported = category in raw.lexicon_support
        if raw.modelled and not model_flag_supported(category, score, supported, raw.distinct_words):
            continue
        flagged.append((score, category))
    flagged.sort(key=lambda item: (-item[0], item[1]))
    shown = {category for _, category in flagged}
    worded = tuple(c for _, c in flagged if c not in raw.lexicon_evidence and c in CATEGORIES) if raw.modelled else ()
    return Verdict(
        scores=raw.scores,
        flagged=tuple(category for _, category in flagged),
        worded=worded,
        evidence={
            category: phrases
            for category, phrases in raw.evidence.items()
            if phrases and (not raw.modelled or category in raw.lexicon_evidence or category in shown)
        },
        context=raw.context,
        reason=raw.reason,
        truncated=raw.truncated,
        scored_chars=raw.scored_chars,
    )


def model_flag_supported(category: str, score: float, lexicon_support: bool, distinct_words: int) -> bool:
    """False when a model score is too low to flag ``category`` in a short post without enough weight of its
    lexicon phrases (``lexicon_support``, see :func:`lexicon_supports`)."""
    return (
        lexicon_support
        or distinct_words >= MODEL_ALONE_FROM_DISTINCT_WORDS
        or score >= LEXICON_EVIDENCE_BELOW.get(category, 0.0)
    )


def _raw_verdict(text: str | bytes, keywords: _Compiled, mode: tuple[bool, bool]) -> _Raw:
    decoded, reason = _as_text(text)
    if reason is not None:
        return _Raw({}, {}, (), reason, False, 0)
    key = _cache_key(decoded, keywords, mode)
    found = _cache.get(key)
    if found is None or not found.judged:
        passed = found.passed if found is not None else _passes(decoded, keywords)
        found = _score(decoded, keywords, mode, passed)
        _cache.put(key, found)
    return found


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
_LETTER = re.compile(r"[^\W\d_]")
_NON_LATIN_LETTER = re.compile(r"[^\W\d_a-zA-Z\u00c0-\u024f]")


def _as_text(text: str | bytes) -> tuple[str, str | None]:
    if isinstance(text, bytes):
        if b"\x00" in text[:MAX_CHARS]:
            return "", "binary"
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return "", "not_text"
    if not text.strip():
        return "", "empty"
    head = text[:MAX_CHARS]
    if head.isascii() and head.isprintable():
        return text, None
    if "\x00" in head or len(_CONTROL.findall(head)) > max(2, len(head) // 20):
        return "", "binary"
    return text, None


def _score(text: str, keywords: _Compiled, mode: tuple[bool, bool], passed: bool) -> _Raw:
    truncated = len(text) > MAX_CHARS
    sample = text[:MAX_CHARS]
    view = lexical_view(sample, sentiment=mode[0] and passed)
    if not view.tokens:
        return _Raw({}, {}, (), "no_words", truncated, len(sample), passed)
    if reads_as_other_language(view.tokens):  # only the person's own topics can be read in it
        topics = _keyword_matches(view.tokens, keywords) if passed else {}
        reason = None if topics else "likely_not_english"
        return _Raw(dict.fromkeys(topics, 1.0), topics, (), reason, truncated, len(sample), passed)
    if not passed:  # the tone is still worth telling; the scores follow the screening gate
        reason = _why_not_judged(view.normalised, view.tokens)
        return _Raw({}, {}, view.contexts, reason, truncated, len(sample), passed)
    model = _active_model(mode[1])
    evidence = dict(view.evidence)
    if model is None:
        scores = dict(view.scores)
    else:
        modelled, read = model_scores(model, sample, view)
        scores = {c: p for c, p in modelled.items() if p >= 0.01}
        lowest = default_thresholds().lowest
        for category, score in scores.items():
            if not evidence.get(category) and score >= lowest.get(category, 0.0):
                grams = model.top_grams(read[category], category, skip=_ENGLISH_FUNCTION_WORDS)
                evidence[category] = as_the_post_says(grams, view.tokens, view.normalised)
    for category, phrases in _keyword_matches(view.tokens, keywords).items():
        scores[category] = 1.0
        evidence[category] = phrases
    scores = {category: rounded for category, score in scores.items() if (rounded := round(score, 3)) > 0}
    evidence = {category: phrases for category, phrases in evidence.items() if category in scores}
    reason = None if scores else _why_not_judged(view.normalised, view.tokens)
    return _Raw(
        scores,
        evidence,
        view.contexts,
        reason,
        truncated,
        len(sample),
        passed,
        modelled=model is not None,
        lexicon_evidence=frozenset(category for category, phrases in view.evidence.items() if phrases),
        lexicon_support=frozenset(category for category in view.scores if lexicon_supports(view, category)),
        distinct_words=len(set(view.tokens)),
    )


def as_the_post_says(grams: tuple[str, ...], tokens: list[str], normalised: str) -> tuple[str, ...]:
    """The model's telling n-grams as the one stretch of the post they come from, when they sit within
    ``EVIDENCE_SPAN_WORDS`` of each other with no punctuation between: "will find", "you live", "live and" read as
    "will find where you live", words a person recognises (a user test could not make sense of the pairs). Else
    the n-grams."""
    spans = []
    for gram in grams:
        words = gram.split()
        start = next((i for i in range(len(tokens) - len(words) + 1) if tokens[i : i + len(words)] == words), None)
        if start is None:  # read without its quotes, or a stem: not a stretch of the post as written
            return grams
        spans.append((start, start + len(words)))
    if len(spans) < 2:
        return grams
    first, last = min(start for start, _ in spans), max(end for _, end in spans)
    if last - first > EVIDENCE_SPAN_WORDS:
        return grams
    while last - first > 2 and tokens[last - 1] in _ENGLISH_FUNCTION_WORDS:  # "... where you live and"
        last -= 1
    stretch = " ".join(tokens[first:last])
    return (stretch,) if stretch in normalised else grams


def model_scores(model: LinearModel, sample: str, view: LexicalView) -> tuple[dict[str, float], dict[str, set[str]]]:
    """The model's score per category, and the n-grams each one was read from (for the "why"). The model's
    ``quote_blind`` categories read the post without its quoted passages when it has some (rules/quoting.py)."""
    grams, dense = model_inputs(view)
    scores = model.scores(grams, dense)
    read = dict.fromkeys(scores, grams)
    blind_inputs = quote_blind_inputs(sample) if model.quote_blind else None
    if blind_inputs is not None:
        blind = model.scores(*blind_inputs)
        for category in model.quote_blind:
            scores[category] = blind[category]
            read[category] = blind_inputs[0]
    return scores, read


def model_inputs(
    view: LexicalView, quoted_scores: Mapping[str, float] | None = None
) -> tuple[set[str], dict[str, float]]:
    """The learned model's inputs for a post: its n-grams and the lexicon's reading of it (and of the passages it
    quotes, when ``view`` is of the post without them)."""
    return ngrams(view.tokens), dense_features(view.scores, view.contexts, view.negated, quoted_scores)


def quote_blind_inputs(sample: str) -> tuple[set[str], dict[str, float]] | None:
    """The model's inputs for a post read without its quoted passages, or None when it is read whole (it quotes
    nothing, or ``split_quoted`` finds too little of the writer's own framing)."""
    frame, quoted = split_quoted(sample)
    if not quoted:
        return None
    return model_inputs(lexical_view(frame), lexical_view(quoted).scores)


def lexicon_supports(view: LexicalView, category: str) -> bool:
    """Whether the lexicon found at least ``LEXICON_SUPPORT_WEIGHT`` of ``category`` in the post."""
    return view.scores.get(category, 0.0) >= _support_score()


class LexicalView(NamedTuple):
    """What the lexicon sees in a post: its words, category scores (0..1), evidence phrases and contexts (a named
    tuple, like ``_Raw``: one per scored post)."""

    normalised: str
    tokens: list[str]
    scores: dict[str, float]
    evidence: dict[str, tuple[str, ...]]
    contexts: tuple[str, ...]
    # per category, the weight of phrases a negation cancelled ("not going to kill myself"): a model input
    negated: dict[str, float]


def lexical_view(sample: str, *, sentiment: bool = False) -> LexicalView:
    """The lexicon's reading of ``sample`` (the model's input, and the whole verdict without it)."""
    normalised = normalise(sample)
    tokens = words(normalised)
    if not tokens:
        return LexicalView(normalised, tokens, {}, {}, (), {})
    lexicon = default_lexicon()
    matches = lexicon.find(tokens, lambda: sentence_starts(normalised, len(tokens)))
    raw_weights, evidence, contexts = _tally(matches, tokens, lexicon)
    if sentiment and any(weight > 0 for weight in raw_weights.values()):
        factor = 1.0 - SENTIMENT_STRENGTH * _polarity(sample)
        raw_weights = {category: weight * factor for category, weight in raw_weights.items()}
    scores = {category: _squash(weight) for category, weight in raw_weights.items() if weight > 0}
    return LexicalView(normalised, tokens, scores, evidence, contexts, _negated_weights(matches))


def _negated_weights(matches: list[Match]) -> dict[str, float]:
    cancelled: dict[str, float] = {}
    for match in matches:
        if match.negated and match.pattern.weight > 0 and not match.pattern.label.startswith("context:"):
            label = match.pattern.label
            cancelled[label] = cancelled.get(label, 0.0) + match.pattern.weight
    return cancelled


def _tally(
    matches: list[Match], tokens: list[str], lexicon: Lexicon
) -> tuple[dict[str, float], dict[str, tuple[str, ...]], tuple[str, ...]]:
    weights: dict[str, float] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    contexts: list[str] = []
    for match in matches:
        label = match.pattern.label
        if label.startswith("context:"):
            name = label.removeprefix("context:")
            if name not in contexts:
                contexts.append(name)
            continue
        if match.negated and match.pattern.weight > 0:
            continue
        weights[label] = weights.get(label, 0.0) + match.pattern.weight
        if match.pattern.weight > 0:
            spans.setdefault(label, []).append((match.start, match.end))
    for name in contexts:
        for category, amount in lexicon.dampen.get(name, {}).items():
            if category in weights:
                weights[category] -= amount
    evidence = {category: _evidence_phrases(found, tokens) for category, found in spans.items()}
    return weights, evidence, tuple(sorted(contexts))


def _evidence_phrases(spans: list[tuple[int, int]], tokens: list[str]) -> tuple[str, ...]:
    """The matched words, longest first; a match inside a longer one adds nothing for the reader."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0] - span[1], span[0])):
        if not any(k_start <= start and end <= k_end for k_start, k_end in kept):
            kept.append((start, end))
    phrases: list[str] = []
    for start, end in sorted(kept):
        phrase = " ".join(tokens[start:end])
        if phrase not in phrases:
            phrases.append(phrase)
    return tuple(phrases)


def _polarity(text: str) -> float:
    """TextBlob's pattern-lexicon polarity (-1..1); needs no NLTK data. Imported late: it is slow to load."""
    from textblob import TextBlob

    try:
        return float(TextBlob(text).sentiment.polarity)
    except Exception:  # a third-party analyser must never break a verdict
        return 0.0


def _squash(weight: float) -> float:
    """Map an unbounded sum of weights onto 0..1 (0.5 at SCORE_HALF_POINT) so thresholds read as scores."""
    return 1.0 - math.exp(-weight * math.log(2) / SCORE_HALF_POINT)


@cache
def _support_score() -> float:
    """``LEXICON_SUPPORT_WEIGHT`` as a score (scores are squashed weights), less a rounding margin."""
    return _squash(LEXICON_SUPPORT_WEIGHT) - 1e-9


def reads_as_other_language(tokens: list[str]) -> bool:
    """Whether a post is mostly in a language other than English (see ``_OTHER_FUNCTION_WORDS``)."""
    other = sum(map(_OTHER_FUNCTION_WORDS.__contains__, tokens))
    return other >= OTHER_LANGUAGE_MIN_WORDS and other > 2 * sum(map(_ENGLISH_FUNCTION_WORDS.__contains__, tokens))


def _why_not_judged(normalised: str, tokens: list[str]) -> str | None:
    head = normalised[:2000]
    if not head.isascii():
        letters = len(_LETTER.findall(head))
        if not letters:
            return "no_words"
        if len(_NON_LATIN_LETTER.findall(head)) / letters > 0.5:
            return "unsupported_script"
    elif not any(ch.isalpha() for ch in head):
        return "no_words"
    if len(tokens) >= 6:
        function_words = sum(1 for token in tokens if token in _ENGLISH_FUNCTION_WORDS)
        if function_words / len(tokens) < 0.08:
            return "likely_not_english"
    if _short_and_other_language(tokens):
        return "likely_not_english"
    return None


def _short_and_other_language(tokens: list[str]) -> bool:
    """A few words of another language ("je veux mourir"): more of its function words than of English ones, and
    either two of them or no other word the model knows ("Les Paul guitar" is English)."""
    other = sum(map(_OTHER_FUNCTION_WORDS.__contains__, tokens))
    if not other or other <= sum(map(_ENGLISH_FUNCTION_WORDS.__contains__, tokens)):
        return False
    if other >= 2:
        return True
    model = default_model()
    content = (token for token in tokens if token not in _OTHER_FUNCTION_WORDS)
    return model is not None and not any(token in model.sparse for token in content)


@lru_cache(maxsize=KEYWORD_PHRASES_KEPT)
def _compile_one(phrase: str) -> tuple[Any, ...]:
    return compile_phrase(phrase, {})


def _compile_keywords(keywords: Keywords) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """Hashable (category, compiled phrases) pairs; phrases that have no words are ignored."""
    if not keywords:
        return ()
    topics: list[tuple[str, Iterable[str]]]
    if isinstance(keywords, Mapping):
        topics = [
            (CUSTOM_CATEGORY if topic == PLAIN_KEYWORDS else KEYWORD_PREFIX + str(topic), phrases)
            for topic, phrases in keywords.items()
        ]
    else:
        topics = [(CUSTOM_CATEGORY, keywords)]
    compiled: list[tuple[str, tuple[Any, ...]]] = []
    for category, phrases in topics:
        patterns = []
        for phrase in [phrases] if isinstance(phrases, str) else phrases:
            try:
                patterns.append((phrase, _compile_one(phrase)))
            except ValueError:
                continue
        if patterns:
            compiled.append((category, tuple(patterns)))
    return tuple(compiled)


def _keyword_matches(
    tokens: list[str], keywords: tuple[tuple[str, tuple[Any, ...]], ...]
) -> dict[str, tuple[str, ...]]:
    hits: dict[str, tuple[str, ...]] = {}
    for category, patterns in keywords:
        found = []
        for phrase, elements in patterns:
            if any(match_at(elements, tokens, start) is not None for start in range(len(tokens))):
                found.append(phrase)
        if found:
            hits[category] = tuple(found)
    return hits
