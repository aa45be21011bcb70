"""Usage-store benchmark: writer throughput, and the dashboard's 30-day question on a synthetic household year.

The project's targets: at least 20,000 heartbeats/s through the writer; "minutes per site per member per day for
30 days" in at most 50 ms on a year of a five-person household. Run: ``python -m bench store``.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from breather.store import queries
from breather.store.db import open_database
from breather.store.model import Event, Heartbeat, iso_from_epoch
from breather.store.writer import Writer

ZONE = ZoneInfo("Europe/Berlin")
MEMBERS = ("ana", "ben", "cleo", "dev", "eli")
SITES = (
    "reddit.com",
    "old.reddit.com",
    "x.com",
    "instagram.com",
    "tiktok.com",
    "youtube.com",
    "facebook.com",
    "news.ycombinator.com",
    "bsky.app",
    "mastodon.social",
)
YEAR_START = date(2025, 1, 1)
DAYS = 365
HEARTBEATS = 200_000


def writer_throughput(folder: Path, label: str, spacing_s: float) -> float:
    """Heartbeats/s from first enqueue to everything committed (flush), objects built beforehand."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    beats = [
        Heartbeat(MEMBERS[n % 5], SITES[n % len(SITES)], start + timedelta(seconds=n * spacing_s))
        for n in range(HEARTBEATS)
    ]
    writer = Writer(folder / f"{label}.db").start()
    began = time.perf_counter()
    for beat in beats:
        writer.heartbeat(beat)
    enqueued = time.perf_counter() - began
    writer.flush(timeout=600)
    total = time.perf_counter() - began
    writer.close()
    rate = HEARTBEATS / total
    print(
        f"writer, {label}: {rate:,.0f} heartbeats/s end to end ({HEARTBEATS:,} in {total:.2f} s; "
        f"enqueue alone {HEARTBEATS / enqueued:,.0f}/s, {writer.stats.batches} batches)"
    )
    return rate


def event_throughput(folder: Path) -> float:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        Event(
            MEMBERS[n % 5],
            "warning_shown",
            start + timedelta(seconds=n),
            site=SITES[n % len(SITES)],
            category="violence",
            detail={"field": "sensitive"},
        )
        for n in range(HEARTBEATS // 2)
    ]
    writer = Writer(folder / "events.db").start()
    began = time.perf_counter()
    for event in events:
        writer.event(event)
    writer.flush(timeout=600)
    total = time.perf_counter() - began
    writer.close()
    rate = len(events) / total
    print(f"writer, events: {rate:,.0f} events/s end to end")
    return rate


def synthetic_year(path: Path) -> tuple[int, int]:
    """A year of five people: 6-14 sessions a day each, a session hopping over 1-3 sites for 1-30 minutes each."""
    rng = random.Random(7)
    spans: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    for offset in range(DAYS):
        midnight = datetime.combine(YEAR_START + timedelta(days=offset), datetime.min.time(), tzinfo=ZONE)
        for member in MEMBERS:
            for _ in range(rng.randint(6, 14)):
                moment = midnight.timestamp() + rng.uniform(6.5, 23.8) * 3600
                for _ in range(rng.randint(1, 3)):
                    length = rng.uniform(60, 1800)
                    site = rng.choice(SITES)
                    spans.append(
                        {
                            "profile": member,
                            "site": site,
                            "start": iso_from_epoch(moment),
                            "end": iso_from_epoch(moment + length),
                            "duration_s": length,
                            "source": "extension",
                            "is_open": 0,
                        }
                    )
                    for _ in range(rng.randint(0, 3)):
                        events.append(
                            {
                                "at": iso_from_epoch(moment + rng.uniform(0, length)),
                                "profile": member,
                                "kind": "warning_shown",
                                "site": site,
                                "category": "violence",
                            }
                        )
                    moment += length + rng.uniform(5, 300)
    db = open_database(path)
    with db.atomic():
        db["profiles"].insert_all([{"name": m, "created": iso_from_epoch(0)} for m in MEMBERS])
        db["activity"].insert_all(sorted(spans, key=lambda row: str(row["start"])), batch_size=5000)
        db["events"].insert_all(sorted(events, key=lambda row: str(row["at"])), batch_size=5000)
    db.execute("ANALYZE")
    db.close()
    return len(spans), len(events)


def timed(label: str, query: Callable[[], object], runs: int = 25) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        query()
        samples.append((time.perf_counter() - began) * 1000)
    median = statistics.median(samples)
    print(f"{label}: median {median:.1f} ms, worst {max(samples):.1f} ms over {runs} runs")
    return median


def query_speed(folder: Path) -> float:
    path = folder / "year.db"
    began = time.perf_counter()
    span_count, event_count = synthetic_year(path)
    print(
        f"synthetic year: {span_count:,} spans, {event_count:,} events for {len(MEMBERS)} members "
        f"(built in {time.perf_counter() - began:.1f} s, {path.stat().st_size / 1e6:.1f} MB)"
    )
    db = open_database(path)
    last = YEAR_START + timedelta(days=DAYS - 1)
    first = last - timedelta(days=29)
    rows = queries.minutes_per_site_per_day(db, first, last, ZONE)
    print(f"30 days x {len(MEMBERS)} members: {len(rows)} (day, member, site) rows")
    timed(
        "  from spans only (nothing rolled up yet)",
        lambda: queries.minutes_per_site_per_day(db, first, last, ZONE, use_rollups=False),
    )
    began = time.perf_counter()
    for offset in range(29):  # what the nightly rollup job leaves: every finished day, today still live
        queries.rollup_day(db, first + timedelta(days=offset), ZONE)
    print(f"  rolling up 29 days took {(time.perf_counter() - began) * 1000:.0f} ms")
    answer = timed(
        "  as the dashboard asks it (29 rolled-up days + today live)",
        lambda: queries.minutes_per_site_per_day(db, first, last, ZONE),
    )
    assert queries.minutes_per_site_per_day(db, first, last, ZONE) == rows, "rollups must give the live answer"
    now = datetime.combine(last, datetime.min.time(), tzinfo=ZONE) + timedelta(hours=21)
    timed(
        "minutes_today for one member (proxy decision path)",
        lambda: queries.minutes_today(db, "ana", now, ZONE),
        runs=200,
    )
    timed("events per day, 30 days", lambda: queries.events_per_day(db, first, last, ZONE))
    db.close()
    return answer


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="breather-store-bench-") as raw:
        folder = Path(raw)
        merged = writer_throughput(folder, "pulses merging into spans", spacing_s=0.05)
        writer_throughput(folder, "every heartbeat a new span", spacing_s=600)
        event_throughput(folder)
        query_ms = query_speed(folder)
    print(
        f"targets: >= 20,000 heartbeats/s -> {merged:,.0f} ({'met' if merged >= 20_000 else 'MISSED'}); "
        f"30-day query <= 50 ms -> {query_ms:.1f} ms ({'met' if query_ms <= 50 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
