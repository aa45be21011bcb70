"""Uplift report: per real feed page, the mean TextBlob polarity of the first ten items before and after uplift.

Run ``python -m bench.uplift_report``. Items with no text count as 0 (neutral). Reads ../shared/fixtures in place.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import feeds_root
from breather.proxy.adapters import adapter_for
from breather.proxy.uplift import default_scorer, feed_posts, textblob_polarity, uplift_body

PLATFORMS = ("reddit", "mastodon", "twitter", "bluesky")


def top_ten_polarity(body: bytes, platform: str) -> float | None:
    document = json.loads(body)
    adapter: Any = adapter_for(platform, "/", "application/json")
    lists = adapter.feed_items(document)
    if not lists:
        return None
    posts = feed_posts(lists[0][:10], platform, document)
    return sum(textblob_polarity(post.text) if post.text else 0.0 for post in posts) / len(posts)


def main() -> None:
    scorer = default_scorer()
    print(f"{'feed':58} {'before':>7} {'gentle':>7} {'strong':>7} {'ms':>6}")
    for platform in PLATFORMS:
        for path in sorted((feeds_root() / platform).glob("*.json")):
            if path.name.endswith(".meta.json"):
                continue
            body = path.read_bytes()
            before = top_ten_polarity(body, platform) if body.strip().startswith((b"{", b"[")) else None
            if before is None:
                continue
            started = time.perf_counter()
            gentle = uplift_body(body, platform, "/", "gentle", scorer) or body
            strong = uplift_body(body, platform, "/", "strong", scorer) or body
            elapsed_ms = (time.perf_counter() - started) * 1000 / 2
            after_gentle, after_strong = top_ten_polarity(gentle, platform), top_ten_polarity(strong, platform)
            name = f"{platform}/{path.name}"
            print(f"{name:58} {before:7.3f} {after_gentle:7.3f} {after_strong:7.3f} {elapsed_ms:6.0f}")


if __name__ == "__main__":
    main()
