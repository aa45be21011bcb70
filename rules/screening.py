"""The cheap screening pass: one precompiled regex of trigger words over the lower-cased text.

The proxy screens every post of a page, so this must cost microseconds: no tokenising, no Unicode work for ASCII
text. A post the screen lets through is fully scored; one it stops gets no warning (``classify`` applies the same
gate, so what is measured in the evaluation is exactly what the proxy does).

The triggers are single words or word prefixes (``suicid*``). They are compiled into a trie-shaped alternation
(``su(?:icid|bstance)``), which the regex engine walks once per word start instead of trying hundreds of branches.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from breather.rules.tokenize import CENSORED, latin_lookalikes, normalise

_CURLY = re.compile("[\u2019\u2018\u02bc`\u00b4]")
_ENTITY = re.compile(r"&#?\w+;")
# Spellings only the full normaliser undoes: digits or symbols inside a word ("h4te"), spaced-out letters,
# letters hidden behind asterisks ("k*ll").
_LEET = re.compile(r"[a-z][4@31!05$7]+[a-z]")
_SPACED = re.compile(r" \w \w \w")
_URL_MARKS = frozenset("/=?#")
_EXACT_END = "\0"
type _Trie = dict[str, _Trie]
_PREFIX_END = "\1"


def trie_pattern(words: Iterable[str], prefixes: Iterable[str] = ()) -> str:
    """A regex matching any of ``words`` as a whole word, or any word starting with one of ``prefixes``."""
    root: _Trie = {}
    for entry, end in [*((w, _EXACT_END) for w in words), *((p, _PREFIX_END) for p in prefixes)]:
        if not entry:
            continue
        node = root
        for char in entry:
            node = node.setdefault(char, {})
        node[end] = {}
    if not root:
        return r"(?!x)x"
    return r"(?<![^\W_])" + _emit(root)


def _emit(node: _Trie) -> str:
    if _PREFIX_END in node:
        return ""  # any continuation matches: the longer entries below add nothing
    branches = []
    for char in sorted(node):
        if char == _EXACT_END:
            branches.append(r"(?![^\W_])")
        else:
            branches.append(re.escape(char) + _emit(node[char]))
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


@dataclass(frozen=True)
class Screener:
    """Answers "might this text need a warning?" from its trigger words; False means it certainly needs none."""

    pattern: re.Pattern[str]

    @classmethod
    def build(cls, words: Iterable[str], prefixes: Iterable[str] = ()) -> Screener:
        return cls(re.compile(trie_pattern(sorted(set(words)), sorted(set(prefixes)))))

    def hits(self, text: str) -> bool:
        lowered = _fold(text.lower())
        if self.pattern.search(lowered):
            return True
        if "&" in lowered and _ENTITY.search(lowered):
            lowered = _fold(html.unescape(html.unescape(lowered)))
            if self.pattern.search(lowered):
                return True
        # Disguised spellings ("h4te", "k i l l") get the full normaliser, then the same regex.
        return _disguised(lowered) and bool(self.pattern.search(normalise(text)))


def _disguised(lowered: str) -> bool:
    if _SPACED.search(" " + lowered) or ("*" in lowered and CENSORED.search(lowered)):
        return True
    for match in _LEET.finditer(lowered):
        start = lowered.rfind(" ", 0, match.start()) + 1
        end = lowered.find(" ", match.end())
        if _URL_MARKS.isdisjoint(lowered[start : end if end >= 0 else len(lowered)]):
            return True  # a link's "?v=Rs4P1k" is no disguise
    return False


def _fold(lowered: str) -> str:
    """Full-width and styled letters to plain ones, curly apostrophes to straight; ASCII text costs nothing."""
    if lowered.isascii():
        return lowered
    if not unicodedata.is_normalized("NFKC", lowered):
        lowered = unicodedata.normalize("NFKC", lowered)
    lowered = latin_lookalikes(lowered)
    return _CURLY.sub("'", lowered) if _CURLY.search(lowered) else lowered
