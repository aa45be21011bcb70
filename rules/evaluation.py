"""Evaluation that keeps the classifier honest: labelled sets, a fixed dev/test split, metrics, threshold tuning.

* ``read_labelled_csv`` reads a person's own CSV (``breather eval FILE.csv``).
* ``shared_examples`` builds the evaluation sets from ``../shared/fixtures/labelled`` in place (nothing is copied),
  mapping each source's labels onto Breather's categories as its LABELS.md describes.
* ``split_of`` puts every text in ``dev`` or ``test`` by a hash of the text: fixed, deterministic, and a duplicate
  text never lands on both sides. HateCheck's cases are split by the template they were written from instead
  (``Example.split``), so no template is trained on and tested on. Thresholds are tuned on ``dev`` only.

Run ``python -m breather.rules.evaluation report`` for the tables in docs/classifier.md, and
``python -m breather.rules.evaluation tune --write rules/data/thresholds.toml`` to re-choose the lexicon-only
thresholds (the model's are chosen by ``python -m breather.rules.train``).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import html
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breather.rules.classify import CATEGORIES, Sensitivity, classify, raw_scores
from breather.rules.textfile import undecodable_place

NONE = "none"
# Which labelling of the shared sets the shipped model was trained on (part of its training fingerprint): 2 adds the
# HateCheck threats restated by other functionalities to violence (see ``_hatecheck``).
LABELS_VERSION = 2
# How the shared sets are split (also in the fingerprint): 2 keeps each HateCheck template on one side.
SPLIT_VERSION = 2
KNOWN_LABELS = (*CATEGORIES, NONE)
LEVELS = ("low", "medium", "high")
# The HateCheck functionalities the issue calls contrast cases: counter-speech, negation, reclaimed/homonym terms.
HATECHECK_CONTRAST = ("counter_quote_nh", "counter_ref_nh", "negate_neg_nh", "slur_reclaimed_nh", "slur_homonym_nh")
# The most `none` posts one category may flag on dev: self_harm's target is 3% on test (dev keeps a small margin); a
# warning that fires on harmless posts gets switched off, so every other category gets the same 3% ceiling.
MAX_NONE_FPR = {"self_harm": 0.025}
DEFAULT_MAX_NONE_FPR = 0.03
# Self-harm's "high" is for a person who wants every self-harm warning they can get: it may flag up to twice the cap's
# share of `none` posts (without this the cap binds at medium already, and high could not warn any more than medium).
# Only self_harm: its length gate keeps the model from flagging short posts alone, while harassment has no such guard
# and its learned prior (the labelled sets are mostly offensive tweets) would flag "nothing to see" at a lower bar.
LEVEL_NONE_FPR_FACTOR: dict[str, dict[str, float]] = {"self_harm": {"high": 2.0}}
# The F-beta each sensitivity maximises: beta > 1 counts recall more.
LEVEL_BETAS = {"low": 0.5, "medium": 1.0, "high": 2.0}
CATEGORY_LEVEL_BETAS: dict[str, dict[str, float]] = {"self_harm": {"low": 1.0, "medium": 3.0, "high": 5.0}}
# Self-harm is the one category where a missed post costs most (recall first, within the cap on `none`):
# these levels take the highest threshold whose recall reaches the target instead of an F-beta optimum (or, when no
# threshold under the cap reaches it, the one with the most recall). Dev overstates self-harm recall by about 0.1
# against unseen posts (its lexicon phrases were written from dev misses; docs/classifier.md), so 0.95 on dev aims
# at the 0.85 on test. The model's negation input (neg:*) keeps "I am not going to kill myself" unflagged.
RECALL_TARGETS: dict[str, dict[str, float]] = {"self_harm": {"medium": 0.95, "high": 0.97}}

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class Example:
    text: str
    labels: frozenset[str] | None  # None: not part of the metrics, only reported (e.g. other mental-health posts)
    source: str
    group: str
    # What decides the split and the training folds when it is not the text itself: posts written from one template
    # ("I want to kill all [group]") must stay on one side, or the test split measures memory of the template.
    split_key: str = ""

    @property
    def key(self) -> str:
        """What the split and the training folds hash."""
        return self.split_key or self.text

    @property
    def split(self) -> str:
        return split_of(self.key)


def split_of(text: str) -> str:
    """``dev`` or ``test`` for a text (or an ``Example.split_key``): half each, by a hash."""
    return "test" if split_hash(text)[0] % 2 else "dev"


def split_hash(key: str) -> bytes:
    return hashlib.blake2b(key.strip().encode("utf-8", "surrogatepass"), digest_size=8).digest()


CSV_SHAPE = "give one post a line under a header line naming its columns, such as: text,label"
QUOTE_ADVICE = 'put the whole post in quotes and double each quote inside it ("")'


def read_labelled_csv(
    path: Path, text_col: str = "text", label_col: str = "label", group_col: str | None = None
) -> list[Example]:
    """Rows of ``text_col`` and ``label_col`` (one or more labels joined by ``|``), grouped by ``group_col`` when
    given (else by their labels); raises ValueError with the file, the line and what to do."""
    rows = _numbered_rows(_csv_text(path), path)
    columns = [name.strip() for name in next((row for _line, row in rows), [])]
    if not columns:
        raise ValueError(f"{path}: the file is empty; {CSV_SHAPE}")
    for wanted, holding in ((text_col, "text"), (label_col, "label"), *([(group_col, "")] if group_col else [])):
        if wanted not in columns:
            raise ValueError(f"{path}:1: {_missing_column(wanted, holding, columns)}")
    examples = []
    for line, values in rows:
        row = dict(zip(columns, [*values, *[""] * (len(columns) - len(values))], strict=False))
        labels = _parse_labels(row[label_col], f"{path}:{line}")
        group = row[group_col] if group_col else "/".join(sorted(labels))
        examples.append(Example(row[text_col], labels, path.name, group))
    if not examples:
        raise ValueError(f"{path}: no posts under the header line, nothing to evaluate; {CSV_SHAPE}")
    return examples


def _numbered_rows(text: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each row with the line it starts on, blank lines skipped. Strict: a stray opening quote no longer swallows
    the rows after it into one post (a person saw rows vanish from the metrics); it is an error at the line where
    the quote opens, which is where the mistake is, not where the parser gave up."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ValueError(f"{path}:{start}: {_quote_problem(exc, start, reader.line_num)}") from None
        if row:
            yield start, row


def _quote_problem(exc: csv.Error, start: int, stopped: int) -> str:
    if str(exc) == "unexpected end of data":
        return f"a quote opens a field here and is never closed; {QUOTE_ADVICE}"
    if "expected after" not in str(exc):
        return str(exc)
    where = "" if stopped == start else f", on line {stopped}, taking the lines between into it"
    return f"a quoted field opens here and its closing quote comes in the middle of a field{where}; {QUOTE_ADVICE}"


def _csv_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = undecodable_place(data, exc.start)
        raise ValueError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02X} at column {column} cannot be read); save "
            "the file as UTF-8 (in a spreadsheet: Save As, CSV UTF-8)"
        ) from None


def _missing_column(wanted: str, holding: str, columns: Sequence[str]) -> str:
    found = f"no column {wanted!r} (the header line has: {', '.join(columns)})"
    if not holding:
        return found
    return f"{found}; name the column holding the {holding} with --{holding}-col NAME"


def _label_name(written: str) -> str:
    """``Self harm`` and ``self-harm`` are how people write ``self_harm``."""
    return re.sub(r"[\s-]+", "_", written.strip().lower())


def _parse_labels(raw: str, where: str) -> frozenset[str]:
    labels = frozenset(_label_name(part) for part in raw.replace("+", "|").split("|") if part.strip())
    unknown = sorted(labels - set(KNOWN_LABELS))
    if unknown or not labels:
        shown = ", ".join(repr(label) for label in unknown) or "an empty label"
        raise ValueError(f"{where}: {shown} is not one of {', '.join(KNOWN_LABELS)}")
    return labels - {NONE} if len(labels) > 1 else labels


# --- the shared labelled sets -------------------------------------------------------------------------------


def shared_examples(root: Path, *, literal: bool = False) -> list[Example]:
    """The five shared sets, labelled as their LABELS.md says, with one refinement: HateCheck's hateful cases that
    restate a threat case are threats (``literal=True``: the mapping exactly as written, for comparison)."""
    labelled = root / "labelled" if (root / "labelled").is_dir() else root
    examples: list[Example] = []
    examples.extend(_davidson(labelled))
    examples.extend(_ethos(labelled))
    examples.extend(_hatecheck(labelled, derived_threats=not literal))
    examples.extend(_jigsaw(labelled))
    examples.extend(_reddit_mental_health(labelled))
    return examples


def _rows(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle, delimiter=delimiter)


def _davidson(root: Path) -> Iterator[Example]:
    names = {"0": "hate", "1": "offensive", "2": "neither"}
    for row in _rows(root / "davidson_hate_offensive" / "labeled_data.csv"):
        labels = frozenset({NONE}) if row["class"] == "2" else frozenset({"harassment"})
        yield Example(row["tweet"], labels, "davidson", f"davidson:{names[row['class']]}")


def _ethos(root: Path) -> Iterator[Example]:
    folder = root / "ethos"
    violent = {
        row["comment"].strip()
        for row in _rows(folder / "Ethos_Dataset_Multi_Label.csv", ";")
        if float(row["violence"]) >= 0.5
    }
    for row in _rows(folder / "Ethos_Dataset_Binary.csv", ";"):
        text = row["comment"]
        if float(row["isHate"]) < 0.5:
            yield Example(text, frozenset({NONE}), "ethos", "ethos:not_hate")
        elif text.strip() in violent:
            yield Example(text, frozenset({"violence", "harassment"}), "ethos", "ethos:violent_hate")
        else:
            yield Example(text, frozenset({"harassment"}), "ethos", "ethos:hate")


def _hatecheck(root: Path, *, derived_threats: bool) -> Iterator[Example]:
    """HateCheck's LABELS.md maps ``threat_*`` to violence and every other hateful case to harassment. But HateCheck
    builds most functionalities by restating the cases of others, and says which (``ref_case_id``): "I want to k1ll
    all women", "I think that women should all be killed" and "We must not let any woman live" restate threat cases.
    Labelled harassment alone, a warning for violence on them counted as a false alarm and the model was taught that a
    threat stops being one when it is misspelled or phrased as an opinion. With ``derived_threats``, a hateful case
    that restates a threat case is violence too; a non-hateful one (counter-speech quoting a threat, "I will never
    tolerate the murder of women") stays ``none``."""
    rows = list(_rows(root / "hatecheck" / "test_suite_cases.csv"))
    threat_cases = {row["case_id"] for row in rows if row["functionality"].startswith("threat_")}
    for row in rows:
        functionality = row["functionality"]
        restates_threat = derived_threats and row["ref_case_id"] in threat_cases
        if functionality.startswith("threat_") or (restates_threat and row["label_gold"] == "hateful"):
            labels = frozenset({"violence", "harassment"})
        elif row["label_gold"] == "hateful":
            labels = frozenset({"harassment"})
        else:
            labels = frozenset({NONE})
        # Each case is a template filled with one of seven target groups, and most templates restate another's
        # (``ref_templ_id``): the root template is what must not straddle the split.
        template = f"hatecheck-template:{row['ref_templ_id'] or row['templ_id']}"
        yield Example(row["test_case"], labels, "hatecheck", f"hatecheck:{functionality}", template)


def _jigsaw(root: Path) -> Iterator[Example]:
    for row in _rows(root / "jigsaw_toxic_sample_ibm" / "test_examples.csv"):
        labels: set[str] = set()
        if row["threat"] == "1":
            labels.add("violence")
        if "1" in (row["insult"], row["identity_hate"], row["toxic"]):
            labels.add("harassment")
        yield Example(row["comment_text"], frozenset(labels or {NONE}), "jigsaw", "jigsaw")


def _reddit_mental_health(root: Path) -> Iterator[Example]:
    path = root / "reddit_mental_health_27subs_low2020" / "rmhd_27subreddits_sample180.csv"
    for row in _rows(path):
        suggested = row["suggested_category"]
        labels = None if suggested == "none_mental_health_other" else frozenset({suggested})
        yield Example(row["post"], labels, "reddit_mh", f"reddit_mh:{row['subreddit']}")


# --- metrics ------------------------------------------------------------------------------------------------


Predict = Callable[[str], Iterable[str]]


def predictor(
    sensitivity: Sensitivity = "medium", *, sentiment: bool | None = None, model: bool | None = None
) -> Predict:
    def predict(text: str) -> tuple[str, ...]:
        return classify(text, sensitivity=sensitivity, sentiment=sentiment, model=model).flagged

    return predict


def metrics(examples: Sequence[Example], predictions: Sequence[frozenset[str]]) -> dict[str, Any]:
    """The ``breather eval`` JSON: per category precision/recall/F1/support and the false-positive rate on none."""
    counts = {category: [0, 0, 0, 0] for category in CATEGORIES}  # tp, fp, fn, support
    none_total = none_flagged = 0
    for example, flagged in zip(examples, predictions, strict=True):
        if example.labels is None:
            continue
        if NONE in example.labels:
            none_total += 1
            none_flagged += bool(flagged & set(CATEGORIES))
        for category, tally in counts.items():
            truth, said = category in example.labels, category in flagged
            tally[0] += truth and said
            tally[1] += said and not truth
            tally[2] += truth and not said
            tally[3] += truth
    categories = {}
    for category, (tp, fp, fn, support) in counts.items():
        precision, recall, f1 = precision_recall_f1(tp, fp, fn)
        categories[category] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "support": support,
        }
    fpr = none_flagged / none_total if none_total else 0.0
    return {"categories": categories, "none": {"false_positive_rate": round(fpr, 3), "support": none_total}}


def precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def predict_all(examples: Sequence[Example], predict: Predict) -> list[frozenset[str]]:
    return [frozenset(predict(example.text)) for example in examples]


def flagged_rates(examples: Sequence[Example], predictions: Sequence[frozenset[str]]) -> dict[str, dict[str, Any]]:
    """Per group: how many posts, and what share was flagged (any category, and per category)."""
    groups: dict[str, dict[str, Any]] = {}
    for example, flagged in zip(examples, predictions, strict=True):
        entry = groups.setdefault(example.group, {"posts": 0, "flagged": 0, "by_category": {}})
        entry["posts"] += 1
        entry["flagged"] += bool(flagged)
        for category in flagged:
            entry["by_category"][category] = entry["by_category"].get(category, 0) + 1
    for entry in groups.values():
        entry["flagged_rate"] = round(entry["flagged"] / entry["posts"], 3)
    return dict(sorted(groups.items()))


def shared_report(
    examples: Sequence[Example], predict: Predict, *, intervals: bool = False, save_to: Path | None = None
) -> dict[str, Any]:
    """Everything docs/classifier.md shows: overall, per source, per group, HateCheck contrast, other MH posts."""
    from breather.rules.intervals import bootstrap_intervals, save_predictions  # it imports this module

    predictions = predict_all(examples, predict)
    report = metrics(examples, predictions)
    if intervals:
        report["intervals"] = bootstrap_intervals(examples, predictions)
    if save_to is not None:
        save_predictions(save_to, examples, predictions)
    sources = sorted({example.source for example in examples})
    report["sources"] = {}
    for source in sources:
        picked = [i for i, example in enumerate(examples) if example.source == source]
        report["sources"][source] = metrics([examples[i] for i in picked], [predictions[i] for i in picked])
    groups = flagged_rates(examples, predictions)
    report["groups"] = groups
    contrast = contrast_summary(groups)
    report["hatecheck_contrast"] = {"posts": contrast["posts"], "flagged_rate": round(contrast["flagged_rate"], 3)}
    other = [ex for ex in examples if ex.labels is None]
    other_flags = [predictions[i] for i, ex in enumerate(examples) if ex.labels is None]
    report["mental_health_other"] = other_summary(other, other_flags)
    return report


def contrast_summary(groups: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """HateCheck's contrast cases among ``groups`` (:func:`flagged_rates`): posts, share flagged, and flagged/posts
    per functionality present."""
    present = {name: groups[f"hatecheck:{name}"] for name in HATECHECK_CONTRAST if f"hatecheck:{name}" in groups}
    posts = sum(entry["posts"] for entry in present.values())
    flagged = sum(entry["flagged"] for entry in present.values())
    return {
        "posts": posts,
        "flagged_rate": flagged / posts if posts else 0.0,
        "functionalities": {name: (entry["flagged"], entry["posts"]) for name, entry in present.items()},
    }


def other_summary(examples: Sequence[Example], predictions: Sequence[frozenset[str]]) -> dict[str, Any]:
    if not examples:
        return {"posts": 0}
    by_category: dict[str, int] = {}
    for flagged in predictions:
        for category in flagged:
            by_category[category] = by_category.get(category, 0) + 1
    any_flag = sum(1 for flagged in predictions if flagged)
    return {
        "posts": len(examples),
        "flagged_rate": round(any_flag / len(examples), 3),
        "by_category_rate": {c: round(n / len(examples), 3) for c, n in sorted(by_category.items())},
    }


# --- recorded feeds: what a person would see ------------------------------------------------------------------

# The JSON fields the recorded feeds keep post text in (Reddit, Mastodon, X, Bluesky, Instagram, YouTube snippets).
FEED_TEXT_KEYS = frozenset({"text", "body", "selftext", "content", "title", "full_text", "description", "spoiler_text"})
# A tag cannot contain "<": a page of unclosed "<" is then read in linear time.
_TAG = re.compile(r"<[^<>]*>")


def recorded_feed_posts(root: Path) -> list[str]:
    """The post texts of every recorded JSON feed under ``root/feeds`` (the shared fixtures), markup stripped, in file
    order, each occurrence (a post seen in two files counts twice: the speed benchmark reads them as pages)."""
    posts: list[str] = []
    for path in sorted((root / "feeds").rglob("*.json")):
        if path.name.endswith(".meta.json"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        for raw in _feed_texts(data):
            text = html.unescape(_TAG.sub(" ", raw)).strip()
            if len(text) >= 20:
                posts.append(text)
    return posts


def _feed_texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in FEED_TEXT_KEYS and isinstance(value, str):
                yield value
            else:
                yield from _feed_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _feed_texts(item)


def feed_summary(root: Path, predict: Predict) -> dict[str, Any]:
    """How many distinct recorded feed posts get a warning, per category: unlabelled, but it is what a person scrolling
    those feeds would see (nearly all of them are harmless)."""
    posts = list(dict.fromkeys(recorded_feed_posts(root)))
    by_category: dict[str, int] = {}
    flagged = 0
    for text in posts:
        categories = predict(text)
        flagged += bool(categories)
        for category in categories:
            by_category[category] = by_category.get(category, 0) + 1
    return {"posts": len(posts), "flagged": flagged, "by_category": dict(sorted(by_category.items()))}


def full_report(
    root: Path,
    split: str,
    predict: Predict,
    *,
    literal: bool = False,
    intervals: bool = False,
    save_to: Path | None = None,
) -> dict[str, Any]:
    """The shared labelled sets' report on ``split`` (dev, test or all), with what the recorded feeds would show.
    ``literal``: the labels exactly as the LABELS.md files write them (see ``shared_examples``); ``intervals``: with
    bootstrap intervals; ``save_to``: also write the flags there, to compare with another run
    (``breather.rules.intervals``)."""
    labelled = shared_examples(root, literal=literal)
    examples = [example for example in labelled if split == "all" or example.split == split]
    report = shared_report(examples, predict, intervals=intervals, save_to=save_to)
    report["recorded_feeds"] = feed_summary(root, predict)
    return report


# --- threshold tuning on dev ----------------------------------------------------------------------------------


def tune_thresholds(examples: Sequence[Example], *, sentiment: bool = False) -> dict[str, dict[str, float]]:
    """Thresholds for the lexicon alone (the model's come from ``breather.rules.train``, on out-of-fold scores)."""
    scored = [
        (example, raw_scores(example.text, sentiment=sentiment, model=False)) for example in examples if example.labels
    ]
    return choose_thresholds(scored)


def choose_thresholds(scored: Sequence[tuple[Example, Mapping[str, float]]]) -> dict[str, dict[str, float]]:
    """Per category: medium maximises F1, high maximises F2 (recall counts double), low maximises F0.5, except the
    levels in RECALL_TARGETS, which reach for a recall. Every level keeps the share of ``none`` posts the category
    flags within MAX_NONE_FPR (times LEVEL_NONE_FPR_FACTOR where one is set: self_harm's ``high``).
    """
    grid = [0.01, 0.02, 0.03, 0.04] + [round(0.025 * step, 3) for step in range(2, 39)]
    chosen: dict[str, dict[str, float]] = {}
    for category in CATEGORIES:
        curve = [(threshold, *_counts(scored, category, threshold)) for threshold in grid]
        chosen[category] = {}
        for level, beta in CATEGORY_LEVEL_BETAS.get(category, LEVEL_BETAS).items():
            factor = LEVEL_NONE_FPR_FACTOR.get(category, {}).get(level, 1.0)
            cap = MAX_NONE_FPR.get(category, DEFAULT_MAX_NONE_FPR) * factor
            allowed = [point for point in curve if point[4] <= cap] or curve[-1:]
            target = RECALL_TARGETS.get(category, {}).get(level)
            if target is None:
                best = max(allowed, key=lambda point: (_f_beta(point[1], point[2], point[3], beta), point[0]))
            else:
                best = max(allowed, key=lambda point: (min(_recall(point[1], point[3]), target), point[0]))
            chosen[category][level] = best[0]
    return chosen


def _recall(tp: int, fn: int) -> float:
    return tp / (tp + fn) if tp + fn else 0.0


def _counts(
    scored: Sequence[tuple[Example, Mapping[str, float]]], category: str, threshold: float
) -> tuple[int, int, int, float]:
    tp = fp = fn = none_hits = none_total = 0
    for example, scores in scored:
        assert example.labels is not None
        said = scores.get(category, 0.0) >= threshold
        truth = category in example.labels
        tp += truth and said
        fp += said and not truth
        fn += truth and not said
        if NONE in example.labels:
            none_total += 1
            none_hits += said
    return tp, fp, fn, none_hits / none_total if none_total else 0.0


def _f_beta(tp: int, fp: int, fn: int, beta: float) -> float:
    denominator = (1 + beta**2) * tp + beta**2 * fn + fp
    return (1 + beta**2) * tp / denominator if denominator else 0.0


def thresholds_toml(chosen: Mapping[str, Mapping[str, float]], *, sentiment: bool, model: bool = False) -> str:
    lines = [
        "# Score thresholds per category and sensitivity (a category is flagged when its score reaches the threshold).",
        "# Chosen on out-of-fold scores of the dev split of the shared labelled sets by",
        "# `python -m breather.rules.train`; see docs/classifier.md.",
        '# "high" sensitivity warns more (F2-best), "medium" is F1-best, "low" warns less',
        "# (F0.5-best). self_harm puts recall first: low is F1-best, medium and high take the highest threshold",
        "# reaching a dev recall of 0.95 (high: 0.97), or the most recall the cap allows. Each keeps flagged `none`",
        "# posts at or under 3% (self_harm: 2.5%; self_harm's high: twice that).",
        "",
        "[options]",
        "# TextBlob pattern sentiment as a score modifier (the ablation in docs/classifier.md decides this).",
        f"sentiment = {'true' if sentiment else 'false'}",
        "# The learned model (data/model.tsv.gz) scores posts; the [lexicon_only.*] thresholds apply without it.",
        f"model = {'true' if model else 'false'}",
    ]
    for category, levels in chosen.items():
        lines += ["", f"[{category}]", *(f"{level} = {levels[level]}" for level in LEVELS)]
    return "\n".join(lines) + "\n"


LEXICON_ONLY_MARKER = "\n# The lexicon alone"


def lexicon_only_toml(chosen: Mapping[str, Mapping[str, float]]) -> str:
    """The ``[lexicon_only.*]`` tables: thresholds for the lexicon's scores when the model is not used."""
    lines = [
        LEXICON_ONLY_MARKER.strip(),
        "# (no model file, or classify(model=False)): chosen on dev by `python -m breather.rules.evaluation tune`.",
    ]
    for category, levels in chosen.items():
        lines += ["", f"[lexicon_only.{category}]", *(f"{level} = {levels[level]}" for level in LEVELS)]
    return "\n".join(lines) + "\n"


def replace_lexicon_only(current: str, chosen: Mapping[str, Mapping[str, float]]) -> str:
    head = current[: current.index(LEXICON_ONLY_MARKER)] if LEXICON_ONLY_MARKER in current else current
    return head.rstrip("\n") + "\n\n" + lexicon_only_toml(chosen)


# --- command line for maintainers -------------------------------------------------------------------------------


def fixtures_root(given: str | None = None) -> Path:
    """The shared fixtures: ``given`` (``--fixtures``), else ``BREATHER_FIXTURES``, else ``shared/fixtures`` beside
    this checkout (the project's ``../shared``), whatever folder the command runs in (an audit ran ``breather eval
    --shared`` from another folder and was told there were no labelled sets)."""
    import os

    chosen = given or os.environ.get("BREATHER_FIXTURES")
    if chosen:
        return Path(chosen)
    beside_checkout = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"
    # an installed copy is not in a checkout: then ../shared from the current folder, as before
    return beside_checkout if beside_checkout.is_dir() else Path("..", "shared", "fixtures")


def _fixtures_root(given: str | None) -> Path:
    path = fixtures_root(given)
    if not path.is_dir():
        raise SystemExit(f"fixtures folder not found: {path} (pass --fixtures or set BREATHER_FIXTURES)")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breather.rules.evaluation")
    parser.add_argument("action", choices=["report", "tune", "compare"])
    parser.add_argument("files", nargs="*", help="compare: BEFORE.json AFTER.json (from --save-predictions/--save-oof)")
    parser.add_argument("--fixtures", default=None)
    parser.add_argument("--split", choices=["dev", "test", "all"], default="test")
    parser.add_argument("--sentiment", choices=["default", "on", "off"], default="default")
    parser.add_argument("--model", choices=["default", "on", "off"], default="default", help="report: learned model")
    parser.add_argument("--sensitivity", choices=LEVELS, default="medium")
    parser.add_argument("--write", default=None, help="tune: write the thresholds file here")
    parser.add_argument(
        "--literal-labels",
        action="store_true",
        help="report: label HateCheck's restated threats harassment only, as its LABELS.md does",
    )
    parser.add_argument("--intervals", action="store_true", help="report: with 95%% bootstrap intervals")
    parser.add_argument("--save-predictions", default=None, help="report: write each post's flags here (no text)")
    args = parser.parse_args(argv)
    if args.action == "compare":
        return _compare(parser, args.files)
    root = _fixtures_root(args.fixtures)
    sentiment = None if args.sentiment == "default" else args.sentiment == "on"
    if args.action == "tune":
        dev = [example for example in shared_examples(root) if example.split == "dev"]
        chosen = tune_thresholds(dev, sentiment=bool(sentiment))
        text = lexicon_only_toml(chosen)
        if args.write:
            target = Path(args.write)
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            target.write_text(replace_lexicon_only(current, chosen), encoding="utf-8")
        sys.stdout.write(text)
        return 0
    model = None if args.model == "default" else args.model == "on"
    predict = predictor(args.sensitivity, sentiment=sentiment, model=model)
    save_to = Path(args.save_predictions) if args.save_predictions else None
    report = full_report(
        root, args.split, predict, literal=args.literal_labels, intervals=args.intervals, save_to=save_to
    )
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _compare(parser: argparse.ArgumentParser, files: list[str]) -> int:
    from breather.rules.intervals import compare_files, format_changes

    if len(files) != 2:
        parser.error("compare needs two files: BEFORE.json AFTER.json")
    try:
        report = compare_files(Path(files[0]), Path(files[1]))
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(format_changes(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
