"""The adapter contract: what the response pipeline hands an adapter and what it gets back.

Adapters are pure functions of ``(body, context)``: no mitmproxy, no I/O, no logging of post text or URLs. The
pipeline (``breather.proxy.feed_warnings``) decodes the body to identity, builds an :class:`AdapterContext` for the
profile, calls :meth:`Adapter.rewrite` off the event loop and turns each :class:`Marked` into a ``warning_shown``
event. ``None`` from ``rewrite`` means "send the original bytes": nothing was flagged, or the body was not something
the adapter understands. An adapter never raises for bad input.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# Defined once on the rules side; imported here for the HTML adapters' crisis-line notes.
from breather.rules.model import CRISIS_CATEGORIES as CRISIS_CATEGORIES
from breather.rules.model import CUSTOM_CATEGORY

MarkField = Literal[
    "sensitive",  # Mastodon: sensitive + spoiler_text
    "filtered",  # Mastodon: a "warn" filter result (topic quiet hours: the post is collapsed)
    "spoiler",  # Reddit: spoiler on a link, spoiler markup on a comment
    "collapsed",  # Reddit: a comment's own collapsed flag (topic quiet hours)
    "possibly_sensitive",  # X/Twitter
    "label",  # Bluesky: a self-label on the post view / record
    "title",  # YouTube: a warning prefix in the video title (ytInitialData)
    "html",  # any HTML page: class + data attributes + reveal control
]


@dataclass(frozen=True)
class Finding:
    """What the judge found in one post: flagged categories (most severe first) and the matched phrases."""

    categories: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    # True when no category was flagged on a matched phrase: the evidence is the words the model weighed most
    worded: bool = False
    # Counts toward the heavy-posts break: the usual level would warn too. A post only "high" sensitivity covers
    # does not (a user test: six harmless job-advice comments at high brought the break screen).
    heavy: bool = True


Judge = Callable[[str], Finding | None]
Screen = Callable[[str], bool]


def always_screen(_text: str) -> bool:
    return True


@dataclass(frozen=True)
class AdapterContext:
    """Built per response by the pipeline.

    ``judge`` classifies one post's plain text with the profile's keywords and sensitivity (None = not flagged);
    ``screen`` is a cheap whole-body pre-check (False = nothing in this body can be flagged, skip parsing);
    ``hidden_topics`` are the categories under topic quiet hours right now: their posts are collapsed, not deleted;
    ``crisis`` is shown in HTML reveal controls for self_harm / eating_disorder; ``nonce`` is the CSP nonce for the
    ``<style>``/``<script>`` an HTML adapter injects; ``learn_url`` (when the dashboard is reachable from this
    browser) is linked from HTML reveal controls: the dashboard's guide to reading content warnings; ``charset`` is
    the one the response's Content-Type declares ("" for none), how a page that is not UTF-8 is read.
    """

    judge: Judge
    screen: Screen = always_screen
    hidden_topics: frozenset[str] = frozenset()
    crisis: Any = None
    nonce: str | None = None
    learn_url: str | None = None
    charset: str = ""


@dataclass(frozen=True)
class Marked:
    """One post that was marked. Carries no URL and no post text (privacy): only what the event log keeps."""

    categories: tuple[str, ...]
    evidence: tuple[str, ...]
    field: MarkField
    post_id: str | None = None
    collapsed: bool = False
    heavy: bool = True  # counts toward the heavy-posts break (Finding.heavy)

    @classmethod
    def of(cls, finding: Finding, field: MarkField, post_id: str | None = None, collapsed: bool = False) -> Marked:
        return cls(finding.categories, finding.evidence, field, post_id, collapsed, finding.heavy)

    @property
    def category(self) -> str:
        return self.categories[0] if self.categories else CUSTOM_CATEGORY


@dataclass
class RewriteResult:
    body: bytes
    marked: list[Marked] = field(default_factory=list)


class Adapter(Protocol):
    name: str

    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None: ...


def fail_open[A](
    rewrite: Callable[[A, bytes, AdapterContext], RewriteResult | None],
) -> Callable[[A, bytes, AdapterContext], RewriteResult | None]:
    """Make an adapter's ``rewrite`` fail open: a body it cannot handle goes out as it came (None), so a page never
    breaks because of a warning. Only ``JudgeFailed`` escapes, so the pipeline counts a classifier failure instead
    of mistaking it for "nothing to flag"."""

    @functools.wraps(rewrite)
    def guarded(adapter: A, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        try:
            return rewrite(adapter, body, ctx)
        except JudgeFailed:
            raise
        except Exception:
            return None

    return guarded


_CATEGORY_LABELS = {
    "self_harm": "self-harm",
    "eating_disorder": "eating disorders",
    "violence": "violence",
    "harassment": "harassment",
    "substance": "substance use",
}


def category_label(category: str) -> str:
    """A human label for a category; user topics (``keyword:<topic>`` / ``custom``) show the topic itself."""
    if category in _CATEGORY_LABELS:
        return _CATEGORY_LABELS[category]
    if category == CUSTOM_CATEGORY:  # the person's own words, listed without a topic name
        return "your topic"
    if ":" in category:
        return category.split(":", 1)[1] or category
    return category.replace("_", " ")


def warning_text(categories: Iterable[str]) -> str:
    """The short warning Breather writes into a platform's own CW field, e.g. ``Breather: self-harm, violence``."""
    labels = ", ".join(dict.fromkeys(category_label(c) for c in categories)) or "sensitive content"
    return f"Breather: {labels}"


TITLE_PREFIX = "⚠ "


def title_warning(finding: Finding) -> str:
    """Put before a title or a post's text where the platform's client shows no warning of its own over the words:
    ``⚠ Breather: self-harm — `` (Reddit link titles, YouTube titles, X and Bluesky posts)."""
    return f"{TITLE_PREFIX}{warning_text(finding.categories)} — "


def has_title_warning(title: str) -> bool:
    """A title or text Breather already prefixed (a response seen twice, a cached page): not judged or prefixed
    again."""
    return title.startswith(TITLE_PREFIX + "Breather:")


def is_collapsed(finding: Finding, ctx: AdapterContext) -> bool:
    return any(category in ctx.hidden_topics for category in finding.categories)


class JudgeFailed(Exception):
    """The judge or the screen raised. The only exception ``rewrite`` lets out: a classifier bug is the pipeline's
    to count (it sends the original bytes), not something an adapter should hide as "nothing flagged"."""


def judge_text(text: str, ctx: AdapterContext) -> Finding | None:
    """Run the judge on one post's text (empty text is never judged)."""
    if not text or text.isspace():  # isspace: no stripped copy of a long post just to see it is blank
        return None
    try:
        finding = ctx.judge(text)
    except Exception as error:
        raise JudgeFailed(type(error).__name__) from error
    if finding is None or not finding.categories:
        return None
    return finding


def screen_text(text: str, ctx: AdapterContext) -> bool:
    try:
        return bool(ctx.screen(text))
    except Exception as error:
        raise JudgeFailed(type(error).__name__) from error


def finding_from_verdict(verdict: Any) -> Finding | None:
    """Adapt a ``breather.rules.classify.Verdict`` (or anything with ``flagged``/``evidence``) to a Finding.

    ``flagged`` may be a collection of category names or a mapping of them; evidence items may be plain phrases or
    objects/dicts with a ``phrase``/``text`` attribute. Anything else means "not flagged".
    """
    if verdict is None:
        return None
    flagged = getattr(verdict, "flagged", None)
    if isinstance(flagged, bool) or flagged is None:
        flagged = getattr(verdict, "categories", ()) if flagged else ()
    categories = tuple(str(c) for c in flagged if isinstance(c, str))
    if not categories:
        return None
    evidence = _evidence_phrases(getattr(verdict, "evidence", ()), categories)
    worded = set(categories) <= set(getattr(verdict, "worded", ()))
    return Finding(categories=categories, evidence=tuple(evidence), worded=worded)


def _evidence_phrases(evidence: Any, categories: tuple[str, ...]) -> list[str]:
    if isinstance(evidence, Mapping):
        wanted = [c for c in categories if c in evidence] or list(evidence)
        evidence = [phrase for category in wanted for phrase in _as_list(evidence[category])]
    phrases: list[str] = []
    for item in _as_list(evidence):
        phrase = item if isinstance(item, str) else _phrase_of(item)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return phrases[:5]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value] if value else []


def _phrase_of(item: Any) -> str | None:
    for key in ("phrase", "text", "match"):
        value = item.get(key) if isinstance(item, dict) else getattr(item, key, None)
        if isinstance(value, str):
            return value
    return None


def judge_with(classify: Callable[..., Any], **options: Any) -> Judge:
    """A judge from the classifier: ``judge_with(classify, keywords=..., sensitivity=...)``.

    A convenience for tests and ``bench/``, which build a context by hand. The proxy builds its judges with
    ``breather.proxy.feed_warnings.profile_judge`` (the profile's keywords and sensitivity, recent texts cached).
    """

    def judge(text: str) -> Finding | None:
        return finding_from_verdict(classify(text, **options))

    return judge
