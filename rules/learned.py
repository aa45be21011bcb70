"""The small learned model: per-category logistic regression over word uni/bi-grams and the lexicon's own scores.

Trained by ``python -m breather.rules.train`` on the dev split of the shared labelled sets only; the weights ship in
``data/model.tsv.gz`` (pruned and quantised to 8 bits). Inference is pure Python: one dictionary look-up per
uni/bi-gram of a post. The lexicon stays the explanation ("why this was flagged") and the fallback when the file
is missing or broken; its category scores and the post's context (support, recovery, news, counter-speech) are
inputs of the model, so negation and context still lower a score.

File format (gzip text): a JSON header line (categories, bias, dequantisation scales, dense feature weights, the
screening trigger words), then one ``feature<TAB>q1 q2 ...`` line per n-gram, q an int8 per category.
"""

from __future__ import annotations

import gzip
import itertools
import json
import logging
import math
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1
MODEL_FILE = "data/model.tsv.gz"


def ngrams(tokens: Sequence[str]) -> set[str]:
    """The sparse features of a post: its distinct words and word pairs, and a crude stem ("~" and the first five
    letters) of each word of six letters or more, so starving, starved and starvation share a feature."""
    words = set(tokens)
    grams = set(words)
    grams.update(map(" ".join, itertools.pairwise(tokens)))
    grams.update(stems(words))
    return grams


def stem(word: str) -> str | None:
    return "~" + word[:5] if len(word) >= 6 and word.isalpha() else None


# Feeds repeat their words: each distinct word's stem is worked out once, so a post's stems are one C-level set
# intersection (the plain comprehension doubled the cost of ``ngrams``). A full memo is swapped for a new one, never
# cleared: the proxy scores posts from several threads, and one holding the old memo still reads a consistent one.
STEM_MEMO_SIZE = 100_000


@dataclass
class _StemMemo:
    seen: set[str]
    stems: dict[str, str]


_stem_memo = _StemMemo(set(), {})


def stems(words: set[str]) -> list[str]:
    """The stems of ``words`` (see :func:`ngrams`)."""
    global _stem_memo
    memo = _stem_memo
    unseen = words - memo.seen
    if unseen:
        if len(memo.seen) + len(unseen) > STEM_MEMO_SIZE:
            memo, unseen = _StemMemo(set(), {}), words
        for word in unseen:
            found = stem(word)
            if found is not None:
                memo.stems[word] = found
        memo.seen.update(unseen)
        _stem_memo = memo
    return list(map(memo.stems.__getitem__, words & memo.stems.keys()))


def dense_features(
    lexicon_scores: Mapping[str, float],
    contexts: Iterable[str],
    negated: Mapping[str, float] | None = None,
    quoted_scores: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The lexicon's view of the post, as model inputs: its category scores, the contexts it found, how much
    weight a negation cancelled per category (``neg:*``, capped at 1; like contexts, it may only lower a score), and
    for a post read without its quoted passages, the lexicon's scores of those (``quoted:*``, see rules/quoting.py;
    like contexts, they may only lower a score)."""
    features = {f"lex:{category}": score for category, score in lexicon_scores.items() if score > 0}
    features.update({f"ctx:{name}": 1.0 for name in contexts})
    features.update({f"neg:{category}": min(1.0, weight / 3.0) for category, weight in (negated or {}).items()})
    features.update({f"quoted:{category}": score for category, score in (quoted_scores or {}).items() if score > 0})
    return features


# A packed weight row: one field per category holding its int8 weight plus 128 (never negative), and a count of 1
# above them. Adding rows adds every field at once, so a post's totals are one C-level ``sum`` over its known
# n-grams instead of a zip and a sum per category (the model's biggest cost on long posts). 32-bit fields hold the
# sum of 2**24 rows without spilling into the next.
_FIELD_BITS = 32
_FIELD_MASK = (1 << _FIELD_BITS) - 1
_INT8_OFFSET = 128


@cache
def _row_layout(fields: int) -> struct.Struct:
    # each weight+128 as one byte padded to a 32-bit field (struct rejects anything outside 0..255), then the count
    return struct.Struct("<" + "B3x" * fields + "B")


def unpack_sums(total: int, fields: int) -> list[int]:
    """Per category, the sum of the int8 weights of the rows added into ``total``."""
    count = total >> (_FIELD_BITS * fields)
    return [((total >> (_FIELD_BITS * index)) & _FIELD_MASK) - _INT8_OFFSET * count for index in range(fields)]


class PackedWeights(Mapping[str, tuple[float, ...]]):
    """A model file's n-gram weights, kept as packed int8 rows; reads as n-gram -> weight per category."""

    def __init__(self, rows: dict[str, int], scales: Sequence[float]) -> None:
        self.rows = rows
        self.scales = tuple(scales)
        self.vocabulary = frozenset(rows)

    def __getitem__(self, gram: str) -> tuple[float, ...]:
        row = self.rows[gram]
        return tuple(
            (((row >> (_FIELD_BITS * index)) & _FIELD_MASK) - _INT8_OFFSET) * scale
            for index, scale in enumerate(self.scales)
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, gram: object) -> bool:
        return gram in self.rows

    def column(self, grams: set[str], index: int) -> dict[str, float]:
        """The weight for category number ``index`` of each of ``grams`` the model knows."""
        shift, scale, rows = _FIELD_BITS * index, self.scales[index], self.rows
        return {
            gram: (((rows[gram] >> shift) & _FIELD_MASK) - _INT8_OFFSET) * scale for gram in grams & self.vocabulary
        }

    def totals(self, grams: set[str]) -> list[float]:
        """Per category, the summed weights of the ``grams`` the model knows."""
        summed = sum(map(self.rows.__getitem__, grams & self.vocabulary))
        sums = unpack_sums(summed, len(self.scales))
        return [value * scale for value, scale in zip(sums, self.scales, strict=True)]


@dataclass(frozen=True)
class LinearModel:
    categories: tuple[str, ...]
    bias: tuple[float, ...]
    dense: Mapping[str, tuple[float, ...]]
    sparse: Mapping[str, tuple[float, ...]]
    triggers: tuple[str, ...] = ()
    # categories trained on posts read without their quoted passages (rules/quoting.py)
    quote_blind: tuple[str, ...] = ()
    # what it was trained on: ``breather.rules.train.training_fingerprint()`` at training time ("" if unknown)
    trained_on: str = ""

    def scores(self, grams: set[str], dense: Mapping[str, float]) -> dict[str, float]:
        """Probability per category (0..1)."""
        totals = self._totals(grams)
        norm = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        logits = [bias + total * norm for bias, total in zip(self.bias, totals, strict=True)]
        for name, value in dense.items():
            weights = self.dense.get(name)
            if weights is not None:
                logits = [logit + weight * value for logit, weight in zip(logits, weights, strict=True)]
        return {category: _sigmoid(logit) for category, logit in zip(self.categories, logits, strict=True)}

    def _totals(self, grams: set[str]) -> list[float]:
        """Per category, the summed weights of the post's n-grams the model knows."""
        sparse = self.sparse
        if isinstance(sparse, PackedWeights):
            return sparse.totals(grams)
        hits = [sparse[gram] for gram in grams if gram in sparse]
        return [sum(column) for column in zip(*hits, strict=True)] if hits else [0.0] * len(self.categories)

    def top_grams(
        self, grams: set[str], category: str, limit: int = 3, skip: frozenset[str] = frozenset()
    ) -> tuple[str, ...]:
        """The n-grams that pushed ``category`` up the most: the model's own "why this was flagged".
        Grams without a telling word (only ``skip`` words or short ones: "in the", "am", "here") explain nothing
        to a reader and are left out."""
        index = self.categories.index(category)
        sparse = self.sparse
        if isinstance(sparse, PackedWeights):
            pushing = sparse.column(grams, index)
        else:
            pushing = {gram: sparse[gram][index] for gram in grams if gram in sparse}
        # A pair of words says where in the post the model looked ("old car", "the garage"); a lone word rarely
        # does, so pairs come first and single words only fill what is left. Read in weight order until both are
        # full: a long post pushes hundreds of grams, and only the first few telling ones are shown.
        pairs: list[str] = []
        singles: list[str] = []
        for _, gram in sorted((-weight, gram) for gram, weight in pushing.items() if weight > 0):
            if gram.startswith("~"):  # a stem ("~starv") is not something the reader wrote
                continue
            kept = pairs if " " in gram else singles
            if len(kept) < limit and any(_tells(word, skip) for word in gram.split()):
                kept.append(gram)
                if len(pairs) == limit:
                    break
        return tuple([*pairs, *singles][:limit])


def _sigmoid(logit: float) -> float:
    if logit < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-logit))


@cache
def default_model() -> LinearModel | None:
    """The shipped model, or None (lexicon only) when its file is missing or unreadable: never an exception."""
    try:
        data = resources.files("breather.rules").joinpath(MODEL_FILE).read_bytes()
    except OSError:
        log.warning("no classifier model at %s: using the lexicon alone", MODEL_FILE)
        return None
    try:
        return parse_model(gzip.decompress(data).decode("utf-8"))
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        log.warning("classifier model %s unreadable (%s): using the lexicon alone", MODEL_FILE, exc)
        return None


def parse_model(text: str) -> LinearModel:
    """Read the model file's text; raises ValueError naming the line that is wrong."""
    lines = text.splitlines()
    if not lines:
        raise ValueError("model file is empty")
    header: dict[str, Any] = json.loads(lines[0])
    if header.get("format") != FORMAT:
        raise ValueError(f"model format {header.get('format')!r}, expected {FORMAT}")
    categories = tuple(header["categories"])
    scales = [float(scale) for scale in header["scales"]]
    layout = _row_layout(len(categories))
    rows: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        gram, _, row = line.partition("\t")
        values = row.split()
        if len(values) != len(categories):
            raise ValueError(f"model line {number}: {len(values)} weights for {len(categories)} categories")
        try:
            rows[gram] = int.from_bytes(layout.pack(*[int(value) + _INT8_OFFSET for value in values], 1), "little")
        except (ValueError, struct.error) as exc:
            raise ValueError(f"model line {number}: weights must be integers from -128 to 127 ({exc})") from exc
    return LinearModel(
        categories=categories,
        bias=tuple(float(value) for value in header["bias"]),
        dense={name: tuple(float(v) for v in values) for name, values in header["dense"].items()},
        sparse=PackedWeights(rows, scales),
        triggers=tuple(header.get("triggers", ())),
        quote_blind=tuple(header.get("quote_blind", ())),
        trained_on=str(header.get("trained_on", "")),
    )


def dump_model(
    path: Path,
    categories: Sequence[str],
    bias: Sequence[float],
    dense: Mapping[str, Sequence[float]],
    sparse: Mapping[str, Sequence[float]],
    triggers: Sequence[str],
    trained_on: str = "",
    quote_blind: Sequence[str] = (),
) -> None:
    """Write weights quantised to int8 per category; n-grams whose weights all round to 0 are dropped."""
    largest = [max((abs(weights[i]) for weights in sparse.values()), default=0.0) for i in range(len(categories))]
    scales = [value / 127 if value else 1.0 for value in largest]
    header = {
        "format": FORMAT,
        "categories": list(categories),
        "bias": [round(value, 6) for value in bias],
        "scales": [round(scale, 9) for scale in scales],
        "dense": {name: [round(v, 6) for v in values] for name, values in sorted(dense.items())},
        "triggers": sorted(triggers),
    }
    if trained_on:
        header["trained_on"] = trained_on
    if quote_blind:
        header["quote_blind"] = list(quote_blind)
    lines = [json.dumps(header, sort_keys=True)]
    for gram in sorted(sparse):
        quantised = [round(weight / scale) for weight, scale in zip(sparse[gram], scales, strict=True)]
        if any(quantised):
            lines.append(f"{gram}\t{' '.join(str(q) for q in quantised)}")
    # no name and mtime 0 in the gzip header: retraining gives byte-identical files
    with path.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(("\n".join(lines) + "\n").encode("utf-8"))


# Words too common to show a reader why a post was flagged, on top of the caller's function words.
_FILLERS = frozenset(
    [
        "here",
        "there",
        "still",
        "just",
        "then",
        "than",
        "also",
        "very",
        "much",
        "some",
        "that",
        "this",
        "with",
        "from",
        "have",
        "been",
        "were",
        "what",
        "when",
        "them",
        "they",
        "your",
        "about",
        "would",
        "could",
        "should",
        "really",
        "like",
        "know",
        "time",
        "even",
        "into",
        "only",
        "over",
        "back",
        "more",
        "most",
        "make",
        "made",
        "going",
        "thing",
        "things",
        "being",
        "doing",
        "because",
        "anything",
        "something",
        "everything",
        "every",
        "which",
        "while",
        "where",
        "after",
        "before",
        "again",
        "other",
        "people",
        "want",
        "told",
        "said",
        "feel",
        "felt",
        # three-letter words that say nothing on their own (the short words that do, "bad", "die", "fat", "cut",
        # are often the very reason a score is high, so length alone does not rule them out)
        "all",
        "any",
        "ago",
        "amp",
        "com",
        "did",
        "etc",
        "get",
        "got",
        "him",
        "how",
        "its",
        "let",
        "lol",
        "lot",
        "may",
        "now",
        "off",
        "omg",
        "one",
        "our",
        "out",
        "own",
        "per",
        "put",
        "say",
        "see",
        "too",
        "two",
        "use",
        "utm",
        "via",
        "way",
        "who",
        "why",
        "www",
        "yes",
        "yet",
    ]
)


def _tells(word: str, skip: frozenset[str]) -> bool:
    """A word a reader can see the point of: not a function word, a filler, or a word of one or two letters."""
    return len(word) > 2 and word not in skip and word not in _FILLERS and not word.startswith("'")
