"""Train the learned model and choose its thresholds, from the DEV split of the shared labelled sets only.

    python -m breather.rules.train [--fixtures ../shared/fixtures]

writes ``rules/data/model.tsv.gz`` and ``rules/data/thresholds.toml``. Deterministic: same data, same files.
Needs numpy (the ``test`` extra) for training only; Breather itself reads the model in pure Python.

Per category, a logistic regression (full-batch Adam, L2) over L2-normalised binary uni/bi-grams plus the lexicon's
category scores and contexts; violence and harassment read posts without their quoted passages (rules/quoting.py).
Thresholds are chosen on out-of-fold scores (5 folds inside dev, by the same key as the split), so they are not tuned
on posts the model has already seen; posts the screening pass stops count as unflagged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from breather.rules.classify import (
    CATEGORIES,
    LEXICON_EVIDENCE_BELOW,
    LEXICON_SUPPORT_WEIGHT,
    MAX_CHARS,
    MODEL_ALONE_FROM_DISTINCT_WORDS,
    SCREEN_MIN_WEIGHT,
    default_lexicon,
    lexical_view,
    lexicon_supports,
    model_flag_supported,
    model_inputs,
    quote_blind_inputs,
)
from breather.rules.evaluation import (
    LABELS_VERSION,
    LEVELS,
    LEXICON_ONLY_MARKER,
    NONE,
    SPLIT_VERSION,
    Example,
    _fixtures_root,
    choose_thresholds,
    contrast_summary,
    flagged_rates,
    metrics,
    other_summary,
    read_labelled_csv,
    shared_examples,
    split_hash,
    thresholds_toml,
)
from breather.rules.intervals import bootstrap_intervals, save_predictions
from breather.rules.learned import dump_model
from breather.rules.quoting import (
    LONGEST_READ_APART,
    MAX_QUOTED_SHARE,
    MIN_FRAME_WORDS,
    PLACEHOLDER,
    QUOTE_BLIND,
)
from breather.rules.screening import Screener

DATA = Path(__file__).resolve().parent / "data"
FOLDS = 5
MIN_DOCS = 2  # an n-gram seen in fewer dev posts is noise
L2 = 1e-5
STEPS = 500
LEARNING_RATE = 0.1
TRIGGERS_PER_CATEGORY = 60
MAX_TRIGGER_SHARE = 0.003
MIN_TRIGGER_POSTS = 3
PRUNE_BELOW = 0.05
# Inputs that may only lower a score: a context (support, news, counter-speech...), a negated phrase, and what a post
# quotes: the writer's quote is not the writer's words (Davidson labels quote-tweets of insults offensive, which taught
# the model that a quoted insult counts as much as one's own, and it flagged counter-speech quoting slurs).
ONLY_LOWERING = ("ctx:", "neg:", "quoted:")
# Context (and negation) may only lower these categories: the weight is held at this value instead of learned
# (Davidson labels reclaimed and friendly uses "offensive", which would teach the model the opposite of HateCheck's
# contrast cases).
FIXED_DENSE = {
    "ctx:reclaimed": {"harassment": -4.0},
    "ctx:counter_speech": {"harassment": -2.0, "violence": -2.0},
    # Subreddit labels rarely show a denied intent ("I am not going to kill myself"), so the data cannot teach it.
    "neg:self_harm": {"self_harm": -2.0},
}


# Sentences written by the project (counter-speech, denials, kind mentions of groups, everyday violent idioms and
# their look-alikes as `none`; hate, insults aimed at the reader and threats as harassment / violence): the shared
# labelled sets have almost no counter-speech without quotation marks, no denials and no threats to one person. They
# train the model and are never scored: thresholds are chosen on the dev posts alone. Kept apart from them, never
# trained on: tests/rules/data/own_sentences_heldout.csv, which tells whether what they teach carries over.
WRITTEN_FILE = DATA / "written_examples.csv"
WRITTEN = "written"


def written_examples(path: Path = WRITTEN_FILE) -> list[Example]:
    """The rows of ``path`` (columns text, label, kind) as training examples, grouped by kind."""
    return [
        Example(example.text, example.labels, WRITTEN, f"{WRITTEN}:{example.group}")
        for example in read_labelled_csv(path, group_col="kind")
    ]


def training_fingerprint() -> str:
    """A hash of what the model's weights and thresholds depend on besides the code: the lexicon (its scores are
    model inputs), the training and gating settings, and the version of the label mapping. The model file keeps the
    one it was trained with, and a test fails when the shipped model no longer matches (a lexicon edit without a
    retrain)."""
    lexicon = (DATA / "lexicon.toml").read_bytes().replace(b"\r\n", b"\n")  # the same on a Windows checkout
    written = WRITTEN_FILE.read_bytes().replace(b"\r\n", b"\n")
    settings = {
        "folds": FOLDS,
        "min_docs": MIN_DOCS,
        "l2": L2,
        "steps": STEPS,
        "learning_rate": LEARNING_RATE,
        "triggers": [TRIGGERS_PER_CATEGORY, MAX_TRIGGER_SHARE, MIN_TRIGGER_POSTS],
        "prune_below": PRUNE_BELOW,
        "fixed_dense": FIXED_DENSE,
        "only_lowering": ONLY_LOWERING,
        "gates": [LEXICON_EVIDENCE_BELOW, LEXICON_SUPPORT_WEIGHT, MODEL_ALONE_FROM_DISTINCT_WORDS],
        "screen_min_weight": SCREEN_MIN_WEIGHT,
        "max_chars": MAX_CHARS,
        "labels": LABELS_VERSION,
        "split": SPLIT_VERSION,
        "quote_blind": [QUOTE_BLIND, PLACEHOLDER, MIN_FRAME_WORDS, MAX_QUOTED_SHARE, LONGEST_READ_APART],
    }
    digest = hashlib.sha256(lexicon)
    digest.update(written)
    digest.update(json.dumps(settings, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass
class Featurised:
    grams: list[set[str]]
    dense: list[dict[str, float]]
    labels: Any  # ndarray n x categories


@dataclass
class Views:
    """Each post as the model reads it: whole, and (for the ``QUOTE_BLIND`` categories) without its quoted
    passages. The two differ only for posts that quote (rules/quoting.py)."""

    whole: Featurised
    blind: Featurised


def featurise(examples: Sequence[Example]) -> Views:
    whole_grams, whole_dense, blind_grams, blind_dense, rows = [], [], [], [], []
    for example in examples:
        sample = example.text[:MAX_CHARS]
        whole = model_inputs(lexical_view(sample))
        blind = quote_blind_inputs(sample) or whole
        whole_grams.append(whole[0])
        whole_dense.append(whole[1])
        blind_grams.append(blind[0])
        blind_dense.append(blind[1])
        labels = example.labels or frozenset()
        rows.append([category in labels for category in CATEGORIES])
    matrix = np.array(rows, dtype=np.float64)
    return Views(Featurised(whole_grams, whole_dense, matrix), Featurised(blind_grams, blind_dense, matrix))


def _columns(blind: bool) -> list[int]:
    return [j for j, category in enumerate(CATEGORIES) if (category in QUOTE_BLIND) == blind]


def _matrix(data: Featurised, index: dict[str, int]) -> tuple[Any, Any, Any]:
    rows, cols, vals = [], [], []
    for row, (grams, dense) in enumerate(zip(data.grams, data.dense, strict=True)):
        norm = 1.0 / np.sqrt(len(grams)) if grams else 0.0
        for gram in grams:
            col = index.get(gram)
            if col is not None:
                rows.append(row)
                cols.append(col)
                vals.append(norm)
        for name, value in dense.items():
            col = index.get(name)
            if col is not None:
                rows.append(row)
                cols.append(col)
                vals.append(value)
    return np.array(rows), np.array(cols), np.array(vals)


def _vocabulary(data: Featurised) -> list[str]:
    counts: dict[str, int] = {}
    for grams in data.grams:
        for gram in grams:
            counts[gram] = counts.get(gram, 0) + 1
    names = sorted(gram for gram, count in counts.items() if count >= MIN_DOCS)
    dense = sorted({name for features in data.dense for name in features})
    return names + dense


Model = tuple[list[str], Any, Any]  # vocabulary, weights (features x categories), biases


def fit_views(views: Views) -> Model:
    """One model: the ``QUOTE_BLIND`` categories fitted on the posts read without their quotes, the rest whole."""
    parts = [
        (fit(data, columns), columns)
        for data, columns in ((views.blind, _columns(True)), (views.whole, _columns(False)))
    ]
    vocabulary = sorted({name for (names, _, _), _ in parts for name in names}, key=lambda name: (":" in name, name))
    index = {name: i for i, name in enumerate(vocabulary)}
    weights = np.zeros((len(vocabulary), len(CATEGORIES)))
    bias = np.zeros(len(CATEGORIES))
    for (names, part_weights, part_bias), columns in parts:
        rows = [index[name] for name in names]
        weights[np.ix_(rows, columns)] = part_weights
        bias[columns] = part_bias
    return vocabulary, weights, bias


def predict_views(model: Model, views: Views) -> Any:
    scores = predict(model, views.whole)
    blind = _columns(True)
    scores[:, blind] = predict(model, views.blind)[:, blind]
    return scores


def fit(data: Featurised, columns: Sequence[int]) -> Model:
    """Vocabulary, weights (features x ``columns``) and biases for the categories in ``columns``."""
    vocabulary = _vocabulary(data)
    index = {name: i for i, name in enumerate(vocabulary)}
    rows, cols, vals = _matrix(data, index)
    y = data.labels[:, columns]
    n, k = y.shape
    positives = y.sum(axis=0)
    pos_weight = np.sqrt(np.maximum(1.0, (n - positives) / np.maximum(positives, 1)))
    sample_weight = np.where(y > 0, pos_weight, 1.0)
    sample_weight /= sample_weight.sum(axis=0)
    weights = np.zeros((len(vocabulary), k))
    fitted = [CATEGORIES[j] for j in columns]
    fixed = [
        (index[name], fitted.index(category), value)
        for name, table in FIXED_DENSE.items()
        if name in index
        for category, value in table.items()
        if category in fitted
    ]
    lowering_rows = np.array([i for i, name in enumerate(vocabulary) if name.startswith(ONLY_LOWERING)], dtype=np.int64)
    bias = np.zeros(k)
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros(k), np.zeros(k)]
    for step in range(1, STEPS + 1):
        logits = np.stack([np.bincount(rows, vals * weights[cols, j], minlength=n) for j in range(k)], axis=1) + bias
        residual = (1.0 / (1.0 + np.exp(-logits)) - y) * sample_weight
        grad_w = np.stack([np.bincount(cols, vals * residual[rows, j], minlength=len(vocabulary)) for j in range(k)], 1)
        grad_w += 2 * L2 * weights
        grad_b = residual.sum(axis=0)
        for param, grad, first, second in ((weights, grad_w, 0, 1), (bias, grad_b, 2, 3)):
            moments[first] = 0.9 * moments[first] + 0.1 * grad
            moments[second] = 0.999 * moments[second] + 0.001 * grad**2
            corrected = moments[first] / (1 - 0.9**step)
            param -= LEARNING_RATE * corrected / (np.sqrt(moments[second] / (1 - 0.999**step)) + 1e-8)
        weights[lowering_rows] = np.minimum(weights[lowering_rows], 0.0)
        for row, column, value in fixed:
            weights[row, column] = value
    return vocabulary, weights, bias


def predict(model: Model, data: Featurised) -> Any:
    vocabulary, weights, bias = model
    rows, cols, vals = _matrix(data, {name: i for i, name in enumerate(vocabulary)})
    n = len(data.grams)
    logits = np.stack([np.bincount(rows, vals * weights[cols, j], minlength=n) for j in range(len(bias))], 1) + bias
    return 1.0 / (1.0 + np.exp(-logits))


def _fold(example: Example) -> int:
    """The example's fold inside dev: by the same key as the split, so a template is never in and out of a fold."""
    return split_hash(example.key)[1] % FOLDS


def out_of_fold(examples: Sequence[Example], views: Views) -> Any:
    folds = np.array([_fold(example) for example in examples])
    scores = np.zeros(views.whole.labels.shape)
    for fold in range(FOLDS):
        train = np.flatnonzero(folds != fold)
        held = np.flatnonzero(folds == fold)
        model = fit_views(_subset(views, train))
        scores[held] = predict_views(model, _subset(views, held))
        print(f"fold {fold + 1}/{FOLDS} done", file=sys.stderr, flush=True)
    return scores


def _subset(views: Views, picked: Any) -> Views:
    return Views(_rows(views.whole, picked), _rows(views.blind, picked))


def _rows(data: Featurised, picked: Any) -> Featurised:
    return Featurised([data.grams[i] for i in picked], [data.dense[i] for i in picked], data.labels[picked])


def choose_triggers(vocabulary: list[str], weights: Any, data: Featurised) -> list[str]:
    """Single words the model weighs most per category: the screening pass lets their posts through.

    Words found in more than MAX_TRIGGER_SHARE of dev posts ("have", "but") are left out: they would send most
    posts on to full scoring, and alone they never decide a verdict."""
    counts: dict[str, int] = {}
    for grams in data.grams:
        for gram in grams:
            if " " not in gram:
                counts[gram] = counts.get(gram, 0) + 1
    ceiling = MAX_TRIGGER_SHARE * len(data.grams)
    words = [
        i
        for i, name in enumerate(vocabulary)
        if " " not in name
        and ":" not in name
        and not name.startswith("~")
        and len(name) > 2
        and counts.get(name, 0) <= ceiling
    ]
    chosen: set[str] = set()
    for j in range(weights.shape[1]):
        # a word seen in only one or two of the category's posts ("weather") is noise, not a trigger
        seen = _positive_counts(data, j)
        ranked = sorted(words, key=lambda i: (-weights[i, j], vocabulary[i]))[:TRIGGERS_PER_CATEGORY]
        chosen.update(
            vocabulary[i] for i in ranked if weights[i, j] > 0 and seen.get(vocabulary[i], 0) >= MIN_TRIGGER_POSTS
        )
    return sorted(chosen)


def _positive_counts(data: Featurised, column: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for grams, positive in zip(data.grams, data.labels[:, column], strict=True):
        if positive:
            for gram in grams:
                counts[gram] = counts.get(gram, 0) + 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breather.rules.train")
    parser.add_argument("--fixtures", default=None)
    parser.add_argument("--out", default=str(DATA))
    parser.add_argument(
        "--save-oof",
        default=None,
        help="write medium's out-of-fold flags on dev here, to compare with another training run "
        "(python -m breather.rules.evaluation compare BEFORE AFTER)",
    )
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)  # before minutes of training, not after
    examples = [ex for ex in shared_examples(_fixtures_root(args.fixtures)) if ex.split == "dev"]
    written = written_examples()
    views = featurise(examples + written)
    data = views.whole
    print(
        f"{len(examples)} dev posts and {len(written)} written sentences, positives per category "
        f"{data.labels.sum(axis=0)}",
        file=sys.stderr,
    )
    # the written sentences train; only dev posts are scored (they come first)
    oof = out_of_fold(examples + written, views)[: len(examples)]
    vocabulary, weights, bias = fit_views(views)
    triggers = choose_triggers(vocabulary, weights, data)
    words, prefixes = default_lexicon().trigger_words(SCREEN_MIN_WEIGHT)
    screener = Screener.build([*words, *triggers], prefixes)
    passed = np.array([screener.hits(example.text[:MAX_CHARS]) for example in examples])
    oof[~passed] = 0.0
    _gate_unsupported(examples, oof)
    scored = [
        (example, {c: float(oof[i, j]) for j, c in enumerate(CATEGORIES)})
        for i, example in enumerate(examples)
        if example.labels is not None
    ]
    chosen = choose_thresholds(scored)
    print(dev_report(examples, oof, chosen), file=sys.stderr)
    if args.save_oof:
        save_predictions(Path(args.save_oof), examples, level_predictions(oof, chosen, "medium"))
    out = Path(args.out)
    sparse = {
        name: weights[i].tolist()
        for i, name in enumerate(vocabulary)
        if ":" not in name and np.abs(weights[i]).max() >= PRUNE_BELOW
    }
    dense = {name: weights[i].tolist() for i, name in enumerate(vocabulary) if ":" in name}
    dump_model(
        out / "model.tsv.gz",
        CATEGORIES,
        bias.tolist(),
        dense,
        sparse,
        triggers,
        training_fingerprint(),
        quote_blind=QUOTE_BLIND,
    )
    _write_thresholds(out / "thresholds.toml", chosen)
    print(f"{len(sparse)} n-grams kept of {len(vocabulary)}; {len(triggers)} trigger words", file=sys.stderr)
    print(
        f"dev share passing the screen: {passed.mean():.3f}; none examples: "
        f"{sum(1 for ex in examples if ex.labels and NONE in ex.labels)}",
        file=sys.stderr,
    )
    return 0


def dev_report(examples: Sequence[Example], scores: Any, chosen: dict[str, dict[str, float]]) -> str:
    """The out-of-fold dev table the thresholds were chosen on, per sensitivity: what a change to the lexicon or the
    training is measured by before anyone looks at the test split."""
    lines = ["out-of-fold dev, per level: category P/R/F1 (share of `none` posts it flags); other mental-health"]
    for level in LEVELS:
        predictions = level_predictions(scores, chosen, level)
        table = metrics(examples, predictions)
        none = [flagged for example, flagged in zip(examples, predictions, strict=True) if example.labels == {NONE}]
        cells = [
            f"{c} {row['precision']:.3f}/{row['recall']:.3f}/{row['f1']:.3f} "
            f"({sum(c in flagged for flagged in none) / max(1, len(none)):.2%})"
            for c, row in table["categories"].items()
        ]
        other = other_summary(
            [example for example in examples if example.labels is None],
            [flagged for example, flagged in zip(examples, predictions, strict=True) if example.labels is None],
        )
        lines.append(
            f"  {level}: " + "; ".join(cells) + f"; none flagged {table['none']['false_positive_rate']:.1%}; "
            f"other MH flagged {other.get('flagged_rate', 0.0):.1%} "
            f"(self_harm {other.get('by_category_rate', {}).get('self_harm', 0.0):.1%})"
            + _contrast_cell(examples, predictions)
        )
        if level == "medium":
            lines.append("    " + _interval_cell(examples, predictions))
    return "\n".join(lines)


def level_predictions(scores: Any, chosen: dict[str, dict[str, float]], level: str) -> list[frozenset[str]]:
    """Each post's flags at ``level``: the categories whose (gated) score reaches that level's threshold."""
    return [
        frozenset(c for j, c in enumerate(CATEGORIES) if row[j] > 0 and row[j] >= chosen[c][level]) for row in scores
    ]


def _interval_cell(examples: Sequence[Example], predictions: Sequence[frozenset[str]]) -> str:
    """How far medium's numbers could move by chance (breather.rules.intervals): a change smaller than this on dev is
    not evidence."""
    spread = bootstrap_intervals(examples, predictions)
    cells = [f"{category} F1 {row['f1'][0]:.3f}-{row['f1'][1]:.3f}" for category, row in spread["categories"].items()]
    if "hatecheck_contrast" in spread:
        low, high = spread["hatecheck_contrast"]["flagged_rate"]
        cells.append(f"contrast {low:.1%}-{high:.1%}")
    return "95% intervals: " + "; ".join(cells)


def _contrast_cell(examples: Sequence[Example], predictions: Sequence[frozenset[str]]) -> str:
    """HateCheck's contrast cases flagged, in all and per functionality (the issue's 10% target, out of fold)."""
    contrast = contrast_summary(flagged_rates(examples, predictions))
    if not contrast["posts"]:
        return ""
    functionalities = contrast["functionalities"].items()
    each = ", ".join(f"{name.removesuffix('_nh')} {flagged}/{posts}" for name, (flagged, posts) in functionalities)
    return f"; HateCheck contrast flagged {contrast['flagged_rate']:.1%} ({each})"


def _gate_unsupported(examples: Sequence[Example], scores: Any) -> None:
    """Zero the scores classify would not flag for want of lexicon evidence, so thresholds see what ships."""
    for i, example in enumerate(examples):
        view = lexical_view(example.text[:MAX_CHARS])
        distinct = len(set(view.tokens))
        for j, category in enumerate(CATEGORIES):
            if not model_flag_supported(category, float(scores[i, j]), lexicon_supports(view, category), distinct):
                scores[i, j] = 0.0


def _write_thresholds(path: Path, chosen: dict[str, dict[str, float]]) -> None:
    """The model's thresholds replace the top of the file; the lexicon-only tables below are kept."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = current[current.index(LEXICON_ONLY_MARKER) :] if LEXICON_ONLY_MARKER in current else ""
    path.write_text(thresholds_toml(chosen, sentiment=False, model=True) + kept, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
