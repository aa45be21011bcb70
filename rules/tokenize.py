"""Text normalisation and tokenising for the classifier, written for social-media text.

TextBlob's word and sentence tokenizers need NLTK corpora that cannot be downloaded, so Breather has its own. It
undoes the tricks that hide words from a phrase list: HTML entities, full-width and styled letters (NFKC), zero-width
characters, curly apostrophes, stretched letters ("sooooo"), digits standing in for letters ("h4te") and letters
spaced apart ("h a t e").
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import cast

_LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"})

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CURLY = re.compile("[\u2019\u2018\u02bc`\u00b4]")

# Cyrillic and Greek letters that look like Latin ones: "kіll" with a Cyrillic "і" reads as "kill" to a person and
# as a word nobody knows to a matcher. Only a word that mixes them with Latin letters is read this way, so Russian
# or Greek text stays what it is.
_LOOKALIKE_LETTERS = "аеорсухіјѕԁһӏкАВЕКМНОРСТХІЈЅαοιρκυνΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"
_LOOKALIKES = str.maketrans(_LOOKALIKE_LETTERS, "aeopcyxijsdhlkABEKMHOPCTXIJSaoipkuvABEZHIKMNOPTYX")
_LOOKALIKE = re.compile(f"[{_LOOKALIKE_LETTERS}]")
_WORD_WITH_LOOKALIKE = re.compile(rf"[^\W\d_]*[{_LOOKALIKE_LETTERS}][^\W\d_]*")
_LATIN_LETTER = re.compile("[A-Za-z]")


def latin_lookalikes(text: str) -> str:
    """``text`` with the look-alike Cyrillic and Greek letters of words that mix them with Latin letters read as
    the Latin letters they imitate (text without any costs one search)."""
    if not _LOOKALIKE.search(text):
        return text
    return _WORD_WITH_LOOKALIKE.sub(_as_latin, text)


def _as_latin(match: re.Match[str]) -> str:
    word = match.group(0)
    return word.translate(_LOOKALIKES) if _LATIN_LETTER.search(word) else word


_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# the same on ASCII text, where [^\W_] is exactly [a-zA-Z0-9]: the regex engine checks a byte range, not a Unicode table
_ASCII_WORD = re.compile(r"[a-zA-Z0-9]+(?:'[a-zA-Z0-9]+)*")
# A digit or symbol wedged between letters is a letter in disguise ("h4te", "k!ll", "su1cide").
_LEET_WORD = re.compile(r"(?<![^\W_])[a-z]*[a-z][4@31!05$7]+[a-z][a-z4@31!05$7]*")
# Cheap necessary conditions, each searched before the full pattern: on most posts the search fails fast and the
# costlier substitution never runs (both start with something the regex engine can skip to quickly).
_LEET_HINT = re.compile(r"[a-z][4@31!05$7]+[a-z]")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_TRIPLED = tuple(letter * 3 for letter in "abcdefghijklmnopqrstuvwxyz")  # C substring searches beat the regex scan
# Three or more single letters in a row, spaced apart: "h a t e" -> "hate".
_SPACED = re.compile(r"(?<![^\W_])(?:[a-z] ){2,}[a-z](?![^\W_])")
# the second and third of such letters: a space, a lone letter, a space, a letter that ends a word
_SPACED_HINT = re.compile(r" [a-z] [a-z](?![^\W_])")

# Apostrophe-less spellings that matter for negation and first-person phrases.
_CONTRACTIONS = {
    "dont": "don't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "cant": "can't",
    "couldnt": "couldn't",
    "wouldnt": "wouldn't",
    "shouldnt": "shouldn't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "arent": "aren't",
    "aint": "ain't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "im": "i'm",
    "ive": "i've",
    "youre": "you're",
    "u": "you",
    "ur": "your",
    "r": "are",
    "wanna": "want to",
    "gonna": "going to",
}

# "ED" is how eating-disorder communities name the illness ("my ED", "ED thoughts"), so "ed" weighs for
# eating_disorder. The same two letters are schooling ("special ed", "gen ed", "sex ed") and a first name ("Ed
# Sheeran"): both are spelled out, so neither reads as an eating disorder. A lone "Ed" stays ambiguous on purpose:
# recovery writing personifies the illness as "Ed". The name needs the text's own case, so it is matched before
# folding; each pattern runs only after a plain substring check finds where it could start (a regex scan of every
# post cost more than the rest of normalise).
ED_THE_NAME = re.compile(r"\bEd(?= (?:[A-Z][a-z]|[A-Z]\.))")
ED_THE_SCHOOLING = re.compile(
    r"\b(special|gen|general|sex|drivers|driver's|phys|physical|higher|adult|continuing|further)[ -]ed\b"
)


# A word with letters hidden behind asterisks, as people write to get past a platform's filter ("k*ll", "s**t",
# "su*cide"): each asterisk stands for one letter. Only these words are restored, and only when one fits.
CENSORED = re.compile(r"(?<![\w*])[a-z]+\*+[a-z]+(?![\w*])")
CENSORABLE = frozenset(
    {
        "kill", "killed", "killing", "suicide", "suicidal", "die", "dead", "death", "cut", "cutting", "self", "harm",
        "hang", "rape", "raped", "murder", "shoot", "stab", "purge", "purging", "starve", "starving", "anorexia",
        "bulimia", "heroin", "meth", "cocaine", "fuck", "fucking", "fucked", "shit", "bitch", "cunt", "whore", "slut",
        "nigger", "niggers", "faggot", "retard", "retarded",
    }
)  # fmt: skip


def uncensored(match: re.Match[str]) -> str:
    hidden = match.group(0)
    shape = re.compile(re.escape(hidden).replace(r"\*", "[a-z]"))
    fits = [word for word in CENSORABLE if len(word) == len(hidden) and shape.fullmatch(word)]
    return fits[0] if len(fits) == 1 else hidden


def normalise(text: str) -> str:
    """Lower-cased, entity-free, NFKC text with disguised spellings undone; the input to every matcher."""
    unescaped = html.unescape(html.unescape(text)) if "&" in text else text
    folded = unescaped if unescaped.isascii() else _unicode_fold(unescaped)
    if "Ed " in folded:
        folded = ED_THE_NAME.sub("Edward", folded)
    folded = folded.casefold()
    if "*" in folded:
        folded = CENSORED.sub(uncensored, folded)
    if " ed" in folded or "-ed" in folded:
        folded = ED_THE_SCHOOLING.sub(r"\1 education", folded)
    if _LEET_HINT.search(folded):
        folded = _LEET_WORD.sub(lambda match: match.group(0).translate(_LEET), folded)
    if any(map(folded.__contains__, _TRIPLED)):
        folded = _STRETCHED.sub(r"\1\1", folded)
    return _SPACED.sub(_join_spaced, folded) if _SPACED_HINT.search(folded) else folded


def _join_spaced(match: re.Match[str]) -> str:
    letters = match.group(0).replace(" ", "")
    # "i h a t e" is "i hate": a leading pronoun or article stays a word of its own.
    if letters[0] in "ia" and len(letters) >= 4:
        return letters[0] + " " + letters[1:]
    return letters


def _unicode_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    # regex substitution, not str.translate with a dict: translate costs ~2 ms on a 10 kB post
    if _INVISIBLE.search(folded):
        folded = _INVISIBLE.sub("", folded)
    folded = latin_lookalikes(folded)
    return _CURLY.sub("'", folded) if _CURLY.search(folded) else folded


_CONTRACTED = frozenset(_CONTRACTIONS)
_MULTI_WORD = frozenset(word for word, expanded in _CONTRACTIONS.items() if " " in expanded)


def words(normalised: str) -> list[str]:
    """Word tokens of already-normalised text, with apostrophe-less contractions expanded and a trailing 's dropped
    from words longer than three characters ("it's" -> "it", "mom's" -> "mom").

    The fixes are worked out once per distinct word and applied with C-level map/join, not a loop per token.
    """
    tokens = (_ASCII_WORD if normalised.isascii() else _WORD).findall(normalised)
    fixes: dict[str, str] = {}
    if "'s" in normalised:
        fixes = {token: token[:-2] for token in set(tokens) if len(token) > 3 and token.endswith("'s")}
    contracted = _CONTRACTED.intersection(tokens)
    if not fixes and not contracted:
        return tokens
    for token in contracted:
        fixes[token] = _CONTRACTIONS[token]
    # fixes.get(token, token) never gives None: cast for mypy, which types map's two-argument get as Optional
    fixed = cast(list[str], list(map(fixes.get, tokens, tokens)))
    return " ".join(fixed).split(" ") if contracted & _MULTI_WORD else fixed


# A sentence ends at a single full stop, ! ? ; or a line break; an ellipsis ("I'm not... going to") is a pause.
_SENTENCE_END = re.compile(r"(?<!\.)\.(?!\.)|[!?;\n]")


def sentence_starts(normalised: str, token_count: int) -> frozenset[int]:
    """The indices of the tokens (of ``words(normalised)``, ``token_count`` of them) that begin a sentence after the
    first: what a negation may not reach across ("I'm not okay. I cut myself again" is not a denial). Empty when the
    sentences' words do not add up to the post's (then nothing is cut short)."""
    starts: set[int] = set()
    count = 0
    for piece in _SENTENCE_END.split(normalised):
        if count:
            starts.add(count)
        count += len(words(piece))
    return frozenset(starts) if count == token_count else frozenset()


def tokenize(text: str) -> list[str]:
    return words(normalise(text))


_QUICK_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def quick_words(text: str) -> list[str]:
    """A cheap split for the screening pass: lower-case words, no Unicode normalisation."""
    return _QUICK_WORD.findall(text.lower())
