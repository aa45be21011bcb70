"""The weighted phrase lexicon: loading ``data/lexicon.toml``, compiling phrases, finding them in a post.

Phrases compile to small token patterns (word, prefix, word class, gap) indexed by the token that can start them,
so matching one post costs one dictionary look-up per word plus the few patterns that start there.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from breather.rules.tokenize import tokenize

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


@dataclass
class Lexicon:
    categories: tuple[str, ...]
    dampen: dict[str, dict[str, float]]
    negations: frozenset[str]
    by_word: dict[str, list[Pattern]] = field(default_factory=dict)
    by_prefix: dict[int, dict[str, list[Pattern]]] = field(default_factory=dict)
    # telling word (or prefix) of each positive phrase -> the largest weight it stands for (the screening pass)
    triggers: dict[str, float] = field(default_factory=dict)
    trigger_prefixes: dict[str, float] = field(default_factory=dict)
    _memo: dict[str, tuple[Pattern, ...]] = field(default_factory=dict)

    def add(self, pattern: Pattern) -> None:
        first = pattern.elements[0]
        if first.kind == "prefix":
            self.by_prefix.setdefault(len(first.word), {}).setdefault(first.word, []).append(pattern)
        else:
            for word in first.words if first.kind == "class" else (first.word,):
                self.by_word.setdefault(word, []).append(pattern)
        if pattern.weight > 0 and not pattern.label.startswith("context:"):
            self._add_trigger(pattern)

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

    def candidates(self, token: str) -> tuple[Pattern, ...]:
        """Patterns that can start at ``token``; memoised, since a feed repeats the same words again and again."""
        found = self._memo.get(token)
        if found is None:
            found = tuple(self.by_word.get(token, ())) + tuple(
                pattern
                for length, table in self.by_prefix.items()
                if len(token) >= length
                for pattern in table.get(token[:length], ())
            )
            if len(self._memo) > MEMO_SIZE:
                self._memo.clear()
            self._memo[token] = found
        return found

    def find(self, tokens: list[str]) -> list[Match]:
        """Every phrase found in ``tokens``, each phrase once (its first occurrence)."""
        seen: set[int] = set()
        found: list[Match] = []
        memo = self._memo
        for start, token in enumerate(tokens):
            patterns = memo.get(token)
            if patterns is None:
                patterns = self.candidates(token)
            for pattern in patterns:
                # the look-up already matched the first element; a one-word phrase needs nothing more
                if len(pattern.elements) == 1:
                    end: int | None = start + 1
                else:
                    end = match_at(pattern.elements[1:], tokens, start + 1)
                if end is None or id(pattern) in seen:
                    continue
                seen.add(id(pattern))
                found.append(Match(pattern, start, end, self._negated(pattern, tokens, start)))
        return found

    def _negated(self, pattern: Pattern, tokens: list[str], start: int) -> bool:
        if pattern.starts_negated:
            return False
        return any(token in self.negations for token in tokens[max(0, start - NEGATION_WINDOW) : start])

    def trigger_words(self, min_weight: float = 0.0) -> tuple[list[str], list[str]]:
        """The words and prefixes that stand for a phrase of at least ``min_weight`` (for the screening pass)."""
        words = [word for word, weight in self.triggers.items() if weight >= min_weight]
        prefixes = [prefix for prefix, weight in self.trigger_prefixes.items() if weight >= min_weight]
        return words, prefixes


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
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: {exc}") from exc
    return parse_lexicon(data, origin)
