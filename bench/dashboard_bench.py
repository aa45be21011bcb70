"""Render time of the dashboard's busiest pages on a synthetic year of a five-person household.

The year is written straight into a real SQLite file with the store's schema (its migrations applied by
``open_database``): the spans the writer would have produced from heartbeats, plus warnings and breaks. Pages are
rendered through the Flask app (test client: routing, the Host check, the queries, the templates, the SVG), each
many times, and the p50/p95 are printed in wall time and in CPU time (the machine may be shared), with the first
(cold-cache) render apart. Target: p95 ≤ 100 ms for Today, History (90 and 365 days) and Family.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.store.db import open_database
from breather.store.model import iso

MEMBERS = ("ana", "ben", "cleo", "dev", "eli")
SITES = ("old.reddit.com", "www.youtube.com", "x.com", "mastodon.social", "news.ycombinator.com", "www.facebook.com")
CATEGORIES = ("self_harm", "eating_disorder", "violence", "harassment", "substance")
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
DAYS = 365
ROUNDS = 40
PAGES = {
    "Today": "/?member=ana",
    "History (90 days)": "/history?days=90",
    "History (365 days)": "/history?days=365",
    "Family": "/family",
}

RULES = """\
[household]
timezone = "Europe/London"
retention_days = 400

[sites.reddit]
adapter = "reddit"
domains = ["old.reddit.com", "www.reddit.com"]
[sites.youtube]
adapter = "youtube"
domains = ["www.youtube.com"]
[sites.twitter]
adapter = "twitter"
domains = ["x.com"]
[sites.mastodon]
adapter = "mastodon"
domains = ["mastodon.social"]
[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]
[sites.facebook]
adapter = "facebook"
domains = ["www.facebook.com"]
""" + "".join(
    f'\n[profiles.{name}]\n{"default = true" if name == "ana" else ""}\ndaily_limit = "1h30m"\nbreak_after = "25m"\n'
    for name in MEMBERS
)


def synthetic_year(database: Path, seed: int = 7) -> dict[str, int]:
    """Sessions of 3-40 minutes through each day (more in the evening), warnings and breaks along the way."""
    rng = random.Random(seed)
    spans: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    first = NOW - timedelta(days=DAYS)
    for name in MEMBERS:
        for day in range(DAYS + 1):
            midnight = (first + timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
            for _ in range(rng.randint(4, 14)):
                start = midnight + timedelta(hours=rng.choice((7, 8, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23)))
                start += timedelta(minutes=rng.randrange(60))
                if start >= NOW:
                    continue
                length = timedelta(minutes=rng.randint(3, 40))
                site = rng.choice(SITES)
                spans.append(_span(name, site, start, min(start + length, NOW)))
                events += _events(rng, name, site, start)
    db = open_database(database)
    try:
        with db.atomic():
            db.table("profiles").insert_all([{"name": name, "created": iso(first)} for name in MEMBERS])
            db.table("activity").insert_all(spans, batch_size=5000)
            db.table("events").insert_all(events, batch_size=5000)
        db.execute("ANALYZE")
    finally:
        db.close()
    return {"spans": len(spans), "events": len(events)}


def _span(profile: str, site: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "profile": profile,
        "site": site,
        "start": iso(start),
        "end": iso(end),
        "duration_s": (end - start).total_seconds(),
        "source": "proxy",
        "is_open": 0,
    }


def _events(rng: random.Random, profile: str, site: str, start: datetime) -> list[dict[str, Any]]:
    found = []
    for _ in range(rng.choice((0, 0, 1, 2))):
        category = rng.choice(CATEGORIES)
        found.append(
            {"at": iso(start), "profile": profile, "kind": "warning_shown", "site": site, "category": category}
        )
    if rng.random() < 0.3:
        found.append({"at": iso(start), "profile": profile, "kind": "break_shown", "site": site, "category": None})
        if rng.random() < 0.6:
            found.append({"at": iso(start), "profile": profile, "kind": "break_taken", "site": site, "category": None})
    return found


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(client: Any, path: str) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one render; CPU time is what the page costs on a machine others share."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="breather-dashboard-bench-") as folder:
        home = Path(folder)
        (home / "config").mkdir(parents=True)
        (home / "config" / "rules.toml").write_text(RULES, encoding="utf-8")
        database = home / "data" / "breather.db"
        started = time.perf_counter()
        counts = synthetic_year(database)
        seeded_s = time.perf_counter() - started
        app = create_app({"HOME": str(home), "CLOCK": lambda: NOW})
        size_mb = sum(path.stat().st_size for path in database.parent.glob("breather.db*")) / 1e6
        print(
            f"synthetic year: {len(MEMBERS)} members, {counts['spans']:,} activity spans, {counts['events']:,} events, "
            f"database {size_mb:.1f} MB (written in {seeded_s:.1f} s)"
        )
        results: dict[str, float] = {"database_mb": size_mb, "spans": counts["spans"], "events": counts["events"]}
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time includes waiting)")
        client = app.test_client()
        for label, path in PAGES.items():
            cold_wall, cold_cpu = timed(client, path)
            walls, cpus = zip(*(timed(client, path) for _ in range(ROUNDS)), strict=True)
            p95_wall, p95_cpu = percentile(list(walls), 0.95), percentile(list(cpus), 0.95)
            verdict = "ok" if p95_wall <= 100 else ("ok in CPU time" if p95_cpu <= 100 else "OVER the 100 ms target")
            print(
                f"{label:<18} wall p50 {statistics.median(walls):6.1f} p95 {p95_wall:6.1f} ms | "
                f"CPU p50 {statistics.median(cpus):5.1f} p95 {p95_cpu:5.1f} ms | first render {cold_wall:6.1f} ms "
                f"({cold_cpu:.1f} CPU) | {verdict}"
            )
            results[f"{label} p95_wall_ms"] = p95_wall
            results[f"{label} p95_cpu_ms"] = p95_cpu
            results[f"{label} first_ms"] = cold_wall
        context.close_own_writer(app)
    return results


if __name__ == "__main__":
    main()
