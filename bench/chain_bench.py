"""Breather's addon chain, in-process, per flow: the CPU a response costs before any network is involved.

The real chain (``make_addons`` on a real runtime: rules file, SQLite writer, real classifier) runs every hook a
proxied response goes through, on the proxy benchmark's two pages: the ~320 KB Hacker News HTML document and the
~133 KB Reddit JSON listing. Each page runs as recorded ("calm": whatever the real classifier finds) and with one
post's text swapped for a distressing sentence inside the real structure ("flagged"), with the judge's caches
cleared before every flow ("cold": every post classified afresh) and kept ("warm": a feed seen again, the usual
case). Reported per case: median wall ms of the whole chain and of ``FeedWarnings.response`` (the adapter's share),
mean process CPU ms per flow, and how many posts were marked. Low-noise enough to compare before/after a change;
``python -m bench proxy`` is the end-to-end check. Run: ``python -m bench chain``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mitmproxy import http
from mitmproxy.test import tflow

from bench.proxy_bench import RULES, feed_page, json_listing

FLOWS = int(os.environ.get("BREATHER_BENCH_CHAIN", "60"))
WARMUP = 5
HOOKS = ("requestheaders", "request", "responseheaders", "response")
DISTRESSING = "I want to end it all tonight, nobody would notice."


@dataclass(frozen=True)
class Page:
    name: str
    host: str
    path: str
    content_type: str
    body: bytes
    document: bool


def flagged_listing(listing: bytes) -> bytes:
    """The listing with the middle link's title swapped for a distressing sentence, in the listing's own layout."""
    document = json.loads(listing)
    children = document["data"]["children"]
    children[len(children) // 2]["data"]["title"] = DISTRESSING
    return json.dumps(document).encode("utf-8")  # the recorded listing is spaced and ASCII-escaped, as this is


def flagged_page(page: bytes) -> bytes:
    """The HN page with a distressing sentence at the start of the middle comment's text."""
    source = page.decode("utf-8")
    starts = _find_all(source, '<span class="comment">')
    cut = source.index(">", starts[len(starts) // 2]) + 1
    return (source[:cut] + DISTRESSING + " " + source[cut:]).encode("utf-8")


def _find_all(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    if not found:
        raise ValueError(f"{needle!r} not found in the benchmark page")
    return found


def pages() -> list[Page]:
    page, listing = feed_page(), json_listing()
    html_type, json_type = "text/html; charset=utf-8", "application/json; charset=utf-8"
    reddit = ("oauth.reddit.com", "/r/AskReddit/hot", json_type)
    return [
        Page("HN HTML, calm", "news.ycombinator.com", "/", html_type, page, True),
        Page("HN HTML, flagged", "news.ycombinator.com", "/", html_type, flagged_page(page), True),
        Page("Reddit JSON, calm", *reddit, listing, False),
        Page("Reddit JSON, flagged", *reddit, flagged_listing(listing), False),
    ]


def make_flow(page: Page) -> http.HTTPFlow:
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.port, flow.request.scheme = page.host, 443, "https"
    flow.request.path = page.path
    if page.document:
        flow.request.headers["sec-fetch-dest"] = "document"
    flow.response = http.Response.make(200, page.body, {"content-type": page.content_type})
    return flow


@dataclass
class Sample:
    chain_ms: float
    warnings_ms: float
    cpu_ms: float
    marked: int


class Chain:
    """The addons of ``breather serve`` on a temporary home, driven hook by hook like mitmproxy would."""

    def __init__(self, home: Path) -> None:
        from breather import settings
        from breather.paths import Paths
        from breather.proxy.addon import make_addons
        from breather.proxy.feed_warnings import FeedWarnings
        from breather.rules.watcher import RulesWatcher
        from breather.runtime import Runtime
        from breather.store.writer import Writer

        paths = Paths.resolve(home).ensure()
        paths.rules_file.write_text(RULES)
        self.writer = Writer(paths.database, flush_ms=50).start()
        self.runtime = Runtime(
            paths=paths, settings=settings.resolve({}), rules=RulesWatcher(paths.rules_file), writer=self.writer
        )
        self.addons = make_addons(self.runtime)
        self.warnings = next(addon for addon in self.addons if isinstance(addon, FeedWarnings))

    def close(self) -> None:
        self.writer.close()

    def forget_verdicts(self) -> None:
        """Cold cache: the per-profile judge's memory and the classifier's own."""
        from breather.rules.classify import clear_cache

        clear_cache()
        for _profile, judge in self.warnings._judges.values():
            cache_clear: Callable[[], None] | None = getattr(judge, "cache_clear", None)
            if cache_clear is not None:
                cache_clear()

    async def run(self, page: Page) -> Sample:
        flow = make_flow(page)
        marked_before = self.runtime.counters.get("warnings_marked")
        warnings_s = 0.0
        cpu_started, started = time.process_time(), time.perf_counter()
        for hook in HOOKS:
            for addon in self.addons:
                hook_started = time.perf_counter()
                await _call(addon, hook, flow)
                if addon is self.warnings:
                    warnings_s += time.perf_counter() - hook_started
        chain_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        marked = self.runtime.counters.get("warnings_marked") - marked_before
        return Sample(chain_s * 1000, warnings_s * 1000, cpu_s * 1000, marked)


async def _call(addon: Any, hook: str, flow: http.HTTPFlow) -> None:
    handler = getattr(addon, hook, None)
    if handler is None:
        return
    result = handler(flow)
    if asyncio.iscoroutine(result):
        await result


async def measure(chain: Chain, page: Page, cold: bool) -> list[Sample]:
    samples = []
    for round_ in range(WARMUP + FLOWS):
        if cold:
            chain.forget_verdicts()
        sample = await chain.run(page)
        if round_ >= WARMUP:
            samples.append(sample)
    return samples


async def run_all(chain: Chain) -> None:
    chain.warnings._warm(list(chain.runtime.current_rules().profiles.values()))
    print(f"{FLOWS} flows per case, in-process; machine shared: compare ratios and before/after, not absolutes")
    print(f"{'case':<24}{'cache':<7}{'chain p50 ms':>13}{'warnings p50':>14}{'CPU ms/flow':>13}{'marked':>8}")
    for page in pages():
        for cold in (True, False):
            samples = await measure(chain, page, cold)
            print(
                f"{page.name:<24}{'cold' if cold else 'warm':<7}"
                f"{statistics.median(s.chain_ms for s in samples):>13.2f}"
                f"{statistics.median(s.warnings_ms for s in samples):>14.2f}"
                f"{statistics.fmean(s.cpu_ms for s in samples):>13.2f}"
                f"{samples[-1].marked:>8}",
                flush=True,
            )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="breather-chain-") as folder:
        chain = Chain(Path(folder))
        try:
            asyncio.run(run_all(chain))
        finally:
            chain.close()


if __name__ == "__main__":
    main()
