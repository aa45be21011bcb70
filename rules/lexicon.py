"""The weighted phrase lexicon: loading ``data/lexicon.toml``, compiling phrases, finding them in a post.

Phrases compile to small token patterns (word, prefix, word class, gap). For matching, each phrase is indexed under
its rarest element (its anchor): a post wakes only the phrases whose anchor it contains (set arithmetic on its
distinct words), and each of those is tried only where its first element occurs. Same matches as trying every
phrase at every word (tests/rules/test_fast_paths.py keeps that reference), about 5x faster on real feeds.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from breather.rules.tokenize import tokenize
from breather.rules.tomltext import read_toml

NEGATION_WINDOW = 3
MEMO_SIZE = 50_000

# Words too common to pick a post for full scoring on their own (the screening pass ignores them).
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "you",
        "your",
        "you're",
        "i'm",
        "it",
        "is",
        "are",
        "was",
        "be",
        "to",
        "of",
        "in",
        "on",
        "for",
        "and",
        "or",
        "but",
        "so",
        "all",
        "any",
        "no",
        "not",
        "just",
        "with",
        "at",
        "by",
        "up",
        "out",
        "this",
        "that",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "us",
        "do",
        "don't",
        "can't",
        "like",
        "should",
        "must",
        "need",
        "needs",
        "ought",
        "will",
        "i'll",
        "going",
        "want",
        "off",
        "go",
        "back",
        "get",
        "got",
        "been",
        "being",
        "have",
        "has",
        "had",
        "what",
        "when",
        "how",
        "who",
    ]
)


# Everyday words a phrase's trigger should avoid when it has a rarer one ("wish i could die" -> "wish", not "could"):
# on real feeds they alone sent a third of all posts on to full scoring.
_COMMON = frozenset(
    [
        "please",
        "would",
        "through",
        "since",
        "started",
        "stopped",
        "give",
        "find",
        "finds",
        "away",
        "stop",
        "gone",
        "leave",
        "leaving",
        "almost",
        "ready",
        "wanted",
        "wanting",
        "longer",
        "tried",
        "worth",
        "could",
        "live",
        "never",
        "here",
        "make",
        "life",
        "take",
        "using",
        "everyone",
        "every",
        "getting",
        "things",
        "down",
        "better",
        "hope",
        "miss",
        "check",
        "feel",
        "without",
        "nobody",
        "everything",
        "people",
        "high",
        "head",
        "wake",
        "wish",
        "go",
        "end",
        "pain",
        "reason",
        "nothing",
        "plan",
        "stand",
        "front",
        "safe",
        # threats to one person ("line them up against", "burn your house down", "throw* acid")
        "against",
        "coming",
        "find",
        "fire",
        "hit",
        "house",
        "over",
        "sleep",
        "until",
        "where",
        "bring",
        "throw",
        "line",
    ]
)


@dataclass(frozen=True)
class Element:
    kind: str  # "word", "prefix", "class" or "gap"
    word: str = ""
    words: frozenset[str] = frozenset()
    gap: int = 0

    def accepts(self, token: str) -> bool:
        if self.kind == "word":
            return token == self.word
        if self.kind == "prefix":
            return token.startswith(self.word)
        return token in self.words


@dataclass(frozen=True)
class Pattern:
    source: str
    label: str  # a category, or "context:<name>"
    weight: float
    elements: tuple[Element, ...]
    starts_negated: bool


@dataclass(frozen=True)
class Match:
    pattern: Pattern
    start: int
    end: int
    negated: bool


@dataclass(eq=False)
class _Entry:
    """A pattern ready for the fast matcher: how to find its first word, and how to check the rest."""

    pattern: Pattern
    order: tuple[int, int, int]  # its place among the patterns starting at one word (the old scan's order)
    required: frozenset[str]  # plain words of the phrase: all must be in the post
    rest_words: list[str] | None  # the elements after the first, when all are plain words (one slice compare)


@dataclass(frozen=True)
class _WordMemo:
    """Words seen so far, those among them that wake phrases, and which phrases. It only grows, in that order
    (woken, then waking, then seen), and a full memo is swapped for a new one, never cleared: the proxy matches from
    several threads, and a thread holding the old memo still reads a consistent one."""

    woken: dict[str, tuple[_Entry, ...]]
    waking: set[str]
    seen: set[str]


@dataclass
class Lexicon:
    categories: tuple[str, ...]
    dampen: dict[str, dict[str, float]]
    negations: frozenset[str]
    # Words a negation before them negates instead of the phrase after them: "can't stop cutting myself", "can't wait
    # to die" affirm the phrase ([classes] negation_undone).
    negation_undone: frozenset[str] = frozenset()
    by_word: dict[str, list[Pattern]] = field(default_factory=dict)
    by_prefix: dict[int, dict[str, list[Pattern]]] = field(default_factory=dict)
    # telling word (or prefix) of each positive phrase -> the largest weight it stands for (the screening pass)
    triggers: dict[str, float] = field(default_factory=dict)
    trigger_prefixes: dict[str, float] = field(default_factory=dict)
    # the matcher's index: each phrase under its rarest element (its anchor), so a post wakes only the phrases
    # whose anchor it contains
    _anchor_words: dict[str, list[_Entry]] = field(default_factory=dict)
    _anchor_prefixes: dict[int, dict[str, list[_Entry]]] = field(default_factory=dict)
    _memo: _WordMemo = field(default_factory=lambda: _WordMemo({}, set(), set()))
    _added: int = 0

    def add(self, pattern: Pattern) -> None:
        first = pattern.elements[0]
        if first.kind == "prefix":
            self.by_prefix.setdefault(len(first.word), {}).setdefault(first.word, []).append(pattern)
        else:
            for word in first.words if first.kind == "class" else (first.word,):
                self.by_word.setdefault(word, []).append(pattern)
        self._index(pattern)
        if pattern.weight > 0 and not pattern.label.startswith("context:"):
            self._add_trigger(pattern)

    def _index(self, pattern: Pattern) -> None:
        first, rest = pattern.elements[0], pattern.elements[1:]
        if first.kind == "prefix":
            order = (1, list(self.by_prefix).index(len(first.word)), self._added)
        else:
            order = (0, 0, self._added)
        self._added += 1
        entry = _Entry(
            pattern,
            order,
            frozenset(e.word for e in pattern.elements if e.kind == "word"),
            [e.word for e in rest] if all(e.kind == "word" for e in rest) else None,
        )
        anchor = min(pattern.elements, key=_rarity)
        if anchor.kind == "prefix":
            self._anchor_prefixes.setdefault(len(anchor.word), {}).setdefault(anchor.word, []).append(entry)
        else:
            for word in anchor.words if anchor.kind == "class" else (anchor.word,):
                self._anchor_words.setdefault(word, []).append(entry)
        self._memo = _WordMemo({}, set(), set())

    def _add_trigger(self, pattern: Pattern) -> None:
        """Remember the most telling element of a phrase: the screening pass looks for it alone."""
        solid = [e for e in pattern.elements if e.kind in ("word", "prefix") and e.word not in _STOPWORDS]
        telling = [e for e in solid if e.word not in _COMMON]
        solid = telling or solid
        if solid:
            chosen = max(solid, key=lambda e: len(e.word))
        else:
            classes = [e for e in pattern.elements if e.kind == "class"]
            chosen = (
                min(classes, key=lambda e: (len(e.words & _STOPWORDS), len(e.words)))
                if classes
                else pattern.elements[0]
            )
        if chosen.kind == "prefix":
            _raise_to(self.trigger_prefixes, chosen.word, pattern.weight)
        else:
            for word in chosen.words if chosen.kind == "class" else (chosen.word,):
                _raise_to(self.triggers, word, pattern.weight)

    def _learn(self, present: set[str]) -> _WordMemo:
        """Look up the phrases that a post's new words wake (the memo makes a feed's repeated words free). A full
        memo is replaced by a new one holding this post's words: all of them, not only the new ones.

        What is new is worked out again against the memo this call learns into: another thread may have swapped
        the memo since the caller looked, and words the old memo knew would otherwise be missing from the new one.
        """
        memo = self._memo
        unseen = present - memo.seen
        if len(memo.seen) + len(unseen) > MEMO_SIZE:
            memo, unseen = _WordMemo({}, set(), set()), present
        for token in unseen:
            found = tuple(self._anchor_words.get(token, ())) + tuple(
                entry
                for length, table in self._anchor_prefixes.items()
                if len(token) >= length
                for entry in table.get(token[:length], ())
            )
            if found:
                memo.woken[token] = found
                memo.waking.add(token)
        memo.seen.update(unseen)
        self._memo = memo
        return memo

    def find(self, tokens: list[str], sentence_starts: Callable[[], frozenset[int]] | None = None) -> list[Match]:
        """Every phrase found in ``tokens``, each phrase once (its first occurrence), ordered by where it starts.
        ``sentence_starts`` gives the tokens that begin a sentence (asked only when a negation comes before a
        phrase): a negation does not reach into the next sentence.

        Only the phrases whose anchor (rarest element) is in the post are tried, each from the positions of its
        first element; finding which ones is set arithmetic on the post's distinct words, and most posts wake none.
        """
        present = set(tokens)
        memo = self._memo
        if not present <= memo.seen:
            memo = self._learn(present)
        active: dict[_Entry, None] = {}
        for token in present & memo.waking:
            for entry in memo.woken[token]:
                active[entry] = None
        firsts = {entry: _first_words(entry, present) for entry in active if entry.required <= present}
        if not firsts:
            return []
        positions = _positions(tokens, set().union(*firsts.values()))
        found: list[tuple[tuple[int, int, int, int], Match]] = []
        breaks = functools.cache(sentence_starts or _no_sentence_starts)  # asked once, and only if needed
        for entry, words in firsts.items():
            span = _first_span(entry, tokens, words, positions)
            if span is not None:
                start, end = span
                match = Match(entry.pattern, start, end, self._negated(entry.pattern, tokens, start, breaks))
                found.append(((start, *entry.order), match))
        found.sort(key=lambda item: item[0])
        return [match for _, match in found]

    def _negated(self, pattern: Pattern, tokens: list[str], start: int, breaks: Callable[[], frozenset[int]]) -> bool:
        if pattern.starts_negated:
            return False
        first = max(0, start - NEGATION_WINDOW)
        before = tokens[first:start]
        last = max((at for at, token in enumerate(before) if token in self.negations), default=None)
        if last is None:
            return False
        if any(first + last < at <= start for at in breaks()):
            return False  # the negation ended its own sentence: "Am I okay? No. I want to die."
        return not any(token in self.negation_undone for token in before[last + 1 :])

    def trigger_words(self, min_weight: float = 0.0) -> tuple[list[str], list[str]]:
        """The words and prefixes that stand for a phrase of at least ``min_weight`` (for the screening pass)."""
        words = [word for word, weight in self.triggers.items() if weight >= min_weight]
        prefixes = [prefix for prefix, weight in self.trigger_prefixes.items() if weight >= min_weight]
        return words, prefixes


def _rarity(element: Element) -> tuple[int, int]:
    """Sort key of a phrase's elements, rarest in real text first: the anchor the matcher indexes it under."""
    if element.kind == "gap":
        return (9, 0)
    if element.kind == "class":
        return (6 if element.words & _STOPWORDS else 4, len(element.words))
    if element.kind == "prefix":
        return (1, -len(element.word)) if len(element.word) >= 4 else (4, -len(element.word))
    if element.word in _STOPWORDS:
        return (7, -len(element.word))
    if element.word in _COMMON:
        return (2, -len(element.word))
    return (0 if len(element.word) >= 4 else 3, -len(element.word))


def _no_sentence_starts() -> frozenset[int]:
    return frozenset()


def _first_words(entry: _Entry, present: set[str]) -> frozenset[str] | set[str]:
    """The post's words that the first element of ``entry``'s phrase accepts."""
    first = entry.pattern.elements[0]
    if first.kind == "word":
        return {first.word}
    if first.kind == "class":
        return first.words & present
    return {token for token in present if token.startswith(first.word)}


def _positions(tokens: list[str], words: set[str]) -> dict[str, list[int]]:
    """Where each of ``words`` occurs in ``tokens``: one C-level pass picks the positions, then a loop over those."""
    positions: dict[str, list[int]] = {word: [] for word in words}
    for index in itertools.compress(itertools.count(), map(words.__contains__, tokens)):
        positions[tokens[index]].append(index)
    return positions


def _first_span(
    entry: _Entry, tokens: list[str], words: frozenset[str] | set[str], positions: dict[str, list[int]]
) -> tuple[int, int] | None:
    """Start and end of the first place ``entry``'s phrase matches, trying only where its first element does."""
    if len(words) == 1:
        starts = positions[next(iter(words))]
    else:
        starts = sorted(start for word in words for start in positions[word])
    rest_words = entry.rest_words
    if rest_words is not None:
        width = len(rest_words)
        for start in starts:
            if not width or tokens[start + 1 : start + 1 + width] == rest_words:
                return start, start + 1 + width
        return None
    rest = entry.pattern.elements[1:]
    for start in starts:
        end = match_at(rest, tokens, start + 1)
        if end is not None:
            return start, end
    return None


def _raise_to(table: dict[str, float], key: str, weight: float) -> None:
    table[key] = max(weight, table.get(key, 0.0))


def match_at(elements: tuple[Element, ...], tokens: list[str], position: int) -> int | None:
    """End index (exclusive) when ``elements`` match ``tokens`` from ``position``, else None."""
    if not elements:
        return position
    head, rest = elements[0], elements[1:]
    if head.kind == "gap":
        for skip in range(head.gap + 1):
            end = match_at(rest, tokens, position + skip)
            if end is not None:
                return end
        return None
    if position >= len(tokens) or not head.accepts(tokens[position]):
        return None
    return match_at(rest, tokens, position + 1)


def compile_phrase(source: str, classes: Mapping[str, frozenset[str]]) -> tuple[Element, ...]:
    """Turn ``"kill ~1 myself"`` into elements; raises ValueError naming the problem."""
    elements: list[Element] = []
    for raw in source.split():
        if raw.startswith("~"):
            if not raw[1:].isdigit() or not elements:
                raise ValueError(f"phrase {source!r}: a gap is written ~N and cannot come first")
            elements.append(Element("gap", gap=int(raw[1:])))
        elif raw.startswith("@"):
            if raw[1:] not in classes:
                raise ValueError(f"phrase {source!r}: unknown word class {raw!r}")
            elements.append(Element("class", words=classes[raw[1:]]))
        elif raw.endswith("*") and len(raw) > 1:
            elements.extend(_words(raw[:-1], prefix=True))
        else:
            elements.extend(_words(raw, prefix=False))
    if not elements or elements[-1].kind == "gap":
        raise ValueError(f"phrase {source!r}: needs at least one word and cannot end with a gap")
    return tuple(elements)


def _words(raw: str, *, prefix: bool) -> list[Element]:
    parts = tokenize(raw)
    if not parts:
        raise ValueError(f"word {raw!r} has no letters or digits")
    elements = [Element("word", word=part) for part in parts]
    if prefix:
        elements[-1] = Element("prefix", word=parts[-1])
    return elements


def parse_lexicon(data: Mapping[str, Any], origin: str = "lexicon") -> Lexicon:
    classes = {name: frozenset(w for word in words for w in tokenize(word)) for name, words in data["classes"].items()}
    negations = classes.get("negation", frozenset())
    contexts: Mapping[str, Any] = data.get("context", {})
    categories = tuple(name for name in data if name not in ("classes", "context"))
    lexicon = Lexicon(
        categories=categories,
        dampen={name: dict(table.get("dampen", {})) for name, table in contexts.items()},
        negations=negations,
        negation_undone=classes.get("negation_undone", frozenset()),
    )
    for category in categories:
        strongest: dict[tuple[Element, ...], tuple[str, float]] = {}
        for source, weight in data[category].items():
            try:
                elements = compile_phrase(source, classes)
            except ValueError as exc:
                raise ValueError(f"{origin}: [{category}] {exc}") from exc
            previous = strongest.get(elements)
            if previous is None or abs(weight) > abs(previous[1]):
                strongest[elements] = (source, float(weight))
        for elements, (source, weight) in strongest.items():
            lexicon.add(Pattern(source, category, weight, elements, _starts_with_negation(elements, negations)))
    for name, table in contexts.items():
        for source in table["phrases"]:
            try:
                elements = compile_phrase(source, classes)
            except ValueError as exc:
                raise ValueError(f"{origin}: [context.{name}] {exc}") from exc
            lexicon.add(Pattern(source, f"context:{name}", 0.0, elements, True))
    return lexicon


def _starts_with_negation(elements: tuple[Element, ...], negations: frozenset[str]) -> bool:
    first = elements[0]
    if first.kind == "class":
        return first.words <= negations
    return first.word in negations


def load_lexicon(path: Path | None = None) -> Lexicon:
    if path is None:
        text = resources.files("breather.rules").joinpath("data/lexicon.toml").read_text(encoding="utf-8")
        origin = "lexicon.toml"
    else:
        text = path.read_text(encoding="utf-8")
        origin = str(path)
    data = read_toml(text, origin)
    return parse_lexicon(data, origin)
