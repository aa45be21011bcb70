"""Classifier benchmark on real feed posts: screening and full-scoring throughput, and 100-post pages.

Targets (issue 3): at least 50,000 posts/s screened; a 100-post page in at most 5 ms p99 with a warm cache and
25 ms cold. One process, one thread, so one core. Run: ``python -m bench classify``.
Post texts are pulled from ../shared/fixtures/feeds (or BREATHER_FIXTURES) in place.
"""

from __future__ import annotations

import html
import json
import os
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from breather.rules.classify import classify, clear_cache, screen

TEXT_KEYS = frozenset({"text", "body", "selftext", "content", "title", "full_text", "description", "spoiler_text"})
PAGE = 100
_TAGS = re.compile(r"<[^>]+>")


def _fixtures() -> Path:
    explicit = os.environ.get("BREATHER_FIXTURES")
    return Path(explicit) if explicit else Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                yield value
            else:
                yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def feed_posts() -> list[str]:
    posts: list[str] = []
    for path in sorted((_fixtures() / "feeds").rglob("*.json")):
        if path.name.endswith(".meta.json"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        for raw in _strings(data):
            text = html.unescape(_TAGS.sub(" ", raw)).strip()
            if len(text) >= 20:
                posts.append(text)
    return posts


def _page_times(pages: list[list[str]], *, cold: bool, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        for page in pages:
            if cold:
                clear_cache()
            started = time.perf_counter()
            for post in page:
                if screen(post):
                    classify(post)
            times.append((time.perf_counter() - started) * 1000)
    return times


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


def main() -> dict[str, float]:
    posts = feed_posts()
    if len(posts) < PAGE:
        raise RuntimeError(f"only {len(posts)} feed posts found under {_fixtures() / 'feeds'}")
    classify("warm up the lexicon")
    repeat = max(1, 50_000 // len(posts))
    started = time.perf_counter()
    passed = sum(screen(post) for _ in range(repeat) for post in posts)
    screen_rate = repeat * len(posts) / (time.perf_counter() - started)
    clear_cache()
    started = time.perf_counter()
    for post in posts:
        classify(post)
    full_rate = len(posts) / (time.perf_counter() - started)
    pages = [posts[i : i + PAGE] for i in range(0, len(posts) - PAGE + 1, PAGE)]
    cold = _page_times(pages, cold=True, rounds=5)
    warm = _page_times(pages, cold=False, rounds=5)
    results = {
        "posts": len(posts),
        "screen_pass_share": passed / (repeat * len(posts)),
        "screen_posts_per_s": screen_rate,
        "full_posts_per_s_cold": full_rate,
        "page_p99_ms_cold": _p99(cold),
        "page_p99_ms_warm": _p99(warm),
        "page_median_ms_cold": statistics.median(cold),
    }
    print(f"{len(posts)} real feed posts, {len(pages)} pages of {PAGE}")
    print(f"screening: {screen_rate:,.0f} posts/s ({results['screen_pass_share']:.0%} passed on to full scoring)")
    print(f"full scoring, cold cache: {full_rate:,.0f} posts/s")
    print(f"100-post page (screen + score): p99 {results['page_p99_ms_cold']:.2f} ms cold, ", end="")
    print(f"{results['page_p99_ms_warm']:.2f} ms warm (median cold {results['page_median_ms_cold']:.2f} ms)")
    return results


if __name__ == "__main__":
    main()
