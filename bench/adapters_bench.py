"""Site adapter cost per response on the real feed fixtures. Run: ``python -m bench adapters``.

For each fixture, the best of 7 timings of ``adapter.rewrite`` in three situations:
* ``calm``: the screen finds nothing (a page with nothing to flag): the cost every calm response pays;
* ``scan``: the screen says "maybe" but no post is flagged: the full post-finding pass (parse/scan, judge stubbed);
* ``real``: the real screen and classifier (``breather.rules.classify``), warm cache, as the proxy runs it;
* ``cold``: like ``scan``, but with the HTML readers' caches (tag attributes and post readings by their markup)
  emptied before every run: a page never seen before (the other columns are a page seen again, e.g. a reload).
Plus, for HTML, how many times faster the full post scanner (every tag walked) is than the stdlib ``html.parser``
tokenising the same page, and, for adapters that jump straight to their post start tags (``htmljump``), how many
times faster that is than the full scanner.
Numbers go to docs/adapters.md; the machine is shared, so compare ratios, not absolutes.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from bench.common import feeds_root, timings_ms
from breather.proxy.adapters import adapter_for
from breather.proxy.adapters.base import Adapter, AdapterContext, Finding, judge_with
from breather.proxy.adapters.htmljump import clear_reading_caches
from breather.proxy.adapters.htmlmark import HtmlAdapter
from breather.proxy.adapters.htmlscan import scan
from breather.rules.classify import classify, screen

FOLDERS = ("reddit", "mastodon", "twitter", "bluesky", "hackernews", "facebook", "youtube")
CONTENT_TYPES = {".json": "application/json", ".html": "text/html", ".txt": "text/html"}


def best_ms(action: Callable[[], object], rounds: int = 7) -> float:
    """The fastest of ``rounds`` runs: on a shared machine the minimum is the least disturbed number."""
    return min(timings_ms(action, rounds))


def never(_text: str) -> Finding | None:
    return None


def cold_ms(adapter: Adapter, body: bytes, ctx: AdapterContext, rounds: int = 7) -> float:
    def cold() -> None:
        clear_reading_caches()
        adapter.rewrite(body, ctx)

    return best_ms(cold, rounds)


def html_parser_ms(body: bytes) -> float:
    def tokenise() -> None:
        parser = HTMLParser()
        parser.feed(body.decode("utf-8"))
        parser.close()

    return best_ms(tokenise, rounds=3)


def scanner_ms(body: bytes, adapter: HtmlAdapter) -> float:
    source = body.decode("utf-8")
    return best_ms(lambda: scan(source, adapter.select, adapter.post_id, adapter.hints), rounds=3)


def jump_speedup(body: bytes, adapter: HtmlAdapter) -> str:
    source = body.decode("utf-8")
    if adapter.jump(source) is None:
        return ""
    return f"{scanner_ms(body, adapter) / best_ms(lambda: adapter.jump(source), rounds=3):.1f}x"


def measure(folder: str, path: Path, contexts: dict[str, AdapterContext]) -> str | None:
    adapter = adapter_for(folder, "/", CONTENT_TYPES[path.suffix])
    if adapter is None:
        return None
    body = path.read_bytes()
    times = {name: best_ms(lambda ctx=ctx: adapter.rewrite(body, ctx)) for name, ctx in contexts.items()}
    times["cold"] = cold_ms(adapter, body, contexts["scan"])
    result = adapter.rewrite(body, contexts["real"])
    ratio = jump = ""
    if isinstance(adapter, HtmlAdapter) and path.suffix == ".html":
        ratio = f"{html_parser_ms(body) / scanner_ms(body, adapter):.1f}x"
        jump = jump_speedup(body, adapter)
    marked = len(result.marked) if result else 0
    return (
        f"{folder + '/' + path.name:58} {len(body) // 1024:5d} {times['calm']:8.2f} {times['scan']:8.2f}"
        f" {times['real']:8.2f} {times['cold']:8.2f} {marked:6d} {ratio:>16} {jump:>14}"
    )


def main() -> None:
    root = feeds_root()
    contexts = {
        "calm": AdapterContext(judge=never, screen=lambda _text: False),
        "scan": AdapterContext(judge=never),
        "real": AdapterContext(judge=judge_with(classify), screen=screen),
    }
    print(
        f"{'fixture':58} {'KB':>5} {'calm ms':>8} {'scan ms':>8} {'real ms':>8} {'cold ms':>8} {'marked':>6}"
        f" {'scanner speed-up':>16} {'jump vs scan':>14}"
    )
    for folder in FOLDERS:
        for path in sorted((root / folder).iterdir()):
            if path.name.endswith(".meta.json") or path.suffix not in CONTENT_TYPES:
                continue
            line = measure(folder, path, contexts)
            if line is not None:
                print(line, flush=True)


if __name__ == "__main__":
    main()
