"""Classifier benchmark on real feed posts: screening and full-scoring throughput, and 100-post pages.

The project's targets: at least 50,000 posts/s screened; a 100-post page in at most 5 ms p99 with a warm cache and
25 ms cold. One process, one thread, so one core. Run: ``python -m bench classify``.
Post texts are pulled from ../shared/fixtures/feeds (or BREATHER_FIXTURES) in place.

Times are CPU time of this process (``time.process_time``): the benchmark machine is shared, and wall-clock time
on a busy VM measures the neighbours as much as the classifier. Wall-clock rates are printed alongside.
Screening is measured with an empty cache on every round, so the rate is the regex, not the cache.
"""

from __future__ import annotations

import gzip
import statistics
import time
from importlib import resources
from typing import Any

from bench.common import feeds_root
from breather.rules.classify import classify, clear_cache, default_lexicon, default_thresholds, screen
from breather.rules.evaluation import recorded_feed_posts
from breather.rules.learned import MODEL_FILE, default_model, ngrams, parse_model
from breather.rules.tokenize import normalise, words

PAGE = 100


def feed_posts() -> list[str]:
    return recorded_feed_posts(feeds_root().parent)


def _page_times(pages: list[list[str]], *, cold: bool, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        for page in pages:
            if cold:
                clear_cache()
            started = time.process_time()
            for post in page:
                if screen(post):
                    classify(post)
            times.append((time.process_time() - started) * 1000)
    return times


def _screen_rate(posts: list[str], rounds: int) -> tuple[float, float, int]:
    """Posts screened per second of CPU and of wall clock, cache emptied before each round."""
    cpu = wall = 0.0
    passed = 0
    for _ in range(rounds):
        clear_cache()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        passed = sum(screen(post) for post in posts)
        cpu += time.process_time() - cpu_start
        wall += time.perf_counter() - wall_start
    return rounds * len(posts) / cpu, rounds * len(posts) / wall, passed


def _model_load_ms() -> float:
    data = resources.files("breather.rules").joinpath(MODEL_FILE).read_bytes()
    started = time.process_time()
    parse_model(gzip.decompress(data).decode("utf-8"))
    return (time.process_time() - started) * 1000


def _stage_ms(posts: list[str]) -> dict[str, float]:
    """CPU ms per 1,000 posts that pass the screen, for each stage of full scoring (where a cold page's time goes)."""
    passed = [post[:10_000] for post in posts if screen(post)]
    lexicon, model = default_lexicon(), default_model()
    normalised = [normalise(post) for post in passed]
    tokens = [words(text) for text in normalised]
    grams = [ngrams(found) for found in tokens]
    stages = {
        name: _best_ms(function, items)
        for name, function, items in (
            ("normalise", normalise, passed),
            ("words", words, normalised),
            ("phrases", lexicon.find, tokens),
            ("ngrams", ngrams, tokens),
        )
    }
    if model is not None:
        stages["model"] = _best_ms(lambda found: model.scores(found, {}), grams)
    stages["classify"] = _best_ms(_classify_cold, passed)
    return {name: ms * 1000 / len(passed) for name, ms in stages.items()}


def _best_ms(function: Any, items: list[Any], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for item in items:
            function(item)
        best = min(best, time.process_time() - started)
    return best * 1000


def _classify_cold(post: str) -> None:
    clear_cache()
    classify(post)


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


def main() -> dict[str, float]:
    posts = feed_posts()
    if len(posts) < PAGE:
        raise RuntimeError(f"only {len(posts)} feed posts found under {feeds_root()}")
    load_ms = _model_load_ms()
    classify("warm up the lexicon")
    screen_rate, screen_wall, passed = _screen_rate(posts, rounds=25)
    clear_cache()
    started = time.process_time()
    for post in posts:
        classify(post)
    full_rate = len(posts) / (time.process_time() - started)
    pages = [posts[i : i + PAGE] for i in range(0, len(posts) - PAGE + 1, PAGE)]
    cold = _page_times(pages, cold=True, rounds=5)
    _page_times(pages, cold=False, rounds=1)  # the cold rounds left only the last page cached
    warm = _page_times(pages, cold=False, rounds=5)
    stages = _stage_ms(posts)
    results = {
        "posts": len(posts),
        "screen_pass_share": passed / len(posts),
        "screen_posts_per_s": screen_rate,
        "screen_posts_per_s_wall": screen_wall,
        "full_posts_per_s_cold": full_rate,
        "page_p99_ms_cold": _p99(cold),
        "page_p99_ms_warm": _p99(warm),
        "page_median_ms_cold": statistics.median(cold),
        "model_load_ms": load_ms,
        **{f"stage_ms_per_1000_{name}": value for name, value in stages.items()},
    }
    model_state = "on" if default_thresholds().model else "off"
    print(f"{len(posts)} real feed posts, {len(pages)} pages of {PAGE}; learned model {model_state}")
    print(f"model file read and parsed once per process in {load_ms:.0f} ms")
    print(
        f"screening: {screen_rate:,.0f} posts/s CPU ({screen_wall:,.0f}/s wall), "
        f"{results['screen_pass_share']:.0%} passed on to full scoring"
    )
    print(f"classify every post (screened out or scored), cold cache: {full_rate:,.0f} posts/s CPU")
    print(f"100-post page (screen + score, CPU): p99 {results['page_p99_ms_cold']:.2f} ms cold, ", end="")
    print(f"{results['page_p99_ms_warm']:.2f} ms warm (median cold {results['page_median_ms_cold']:.2f} ms)")
    parts = ", ".join(f"{name} {value:.1f}" for name, value in stages.items() if name != "classify")
    print(f"per 1,000 posts that pass the screen, CPU ms: {parts}; whole classify {stages['classify']:.1f}")
    return results


if __name__ == "__main__":
    main()
