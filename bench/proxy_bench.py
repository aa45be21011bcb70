"""Proxy benchmark: plain mitmproxy (mitmdump, no addons) against ``breather serve``, in one run, same responses.

A third contender, the rewrite floor (``bench/rewrite_floor.py``: mitmdump that only decompresses and, for an HTML
document, inserts one tag), shows how much of the gap any proxy that reads and marks pages would have, and how
much is Breather's own.

Both proxies sit in front of the same local HTTPS upstream (the end-to-end tier's, with its own CA) and are asked
for the same real pages from ``../shared/fixtures``: a ~320 KB Hacker News HTML page (three real pages joined, as
a document request so Breather also decides boundaries and injects its overlay) and a ~130 KB Reddit JSON listing,
each plain, gzip and brotli (compressed once per route; the upstream sends with TCP_NODELAY, without which a
compressed body waited ~40 ms for a delayed ACK, for both proxies). Reported: median latency of sequential
requests on one keep-alive connection and the milliseconds Breather adds to it, throughput with a few concurrent
clients, tunnel throughput for a host that is not intercepted, and the service's RSS after 10,000 feed responses.
A fourth contender, Breather with every warning off (its posts are not read), splits Breather's gap into the price
of reading and marking posts and the rest (time boundaries, the overlay, CSP, dispatch to its addons).
The project's targets: latency ≤ 1.15×, throughput ≥ 0.85×, tunnel ≥ 0.95×, RSS ≤ 250 MB. Everything runs on loopback
with bounded loops. Run: ``python -m bench proxy``; ``python -m bench chain`` is the in-process, low-noise view of
Breather's own share.
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import feeds_root
from breather.rules.model import CATEGORIES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LATENCY_REQUESTS = int(os.environ.get("BREATHER_BENCH_LATENCY", "200"))
THROUGHPUT_CLIENTS = 4
THROUGHPUT_REQUESTS = int(os.environ.get("BREATHER_BENCH_THROUGHPUT", "50"))
RSS_RESPONSES = int(os.environ.get("BREATHER_BENCH_RSS", "10000"))
TUNNEL_BYTES = 2 * 1024 * 1024
TUNNEL_REQUESTS = 40
TUNNEL_ROUNDS = 6

RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "oauth.reddit.com", "www.reddit.com", "old.reddit.com"]

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
"""

# The same service with every content warning switched off (a person who wants only break reminders and limits):
# its posts are not read, so the gap between the two Breather rows is the price of reading and marking them.
RULES_WARNINGS_OFF = RULES + "warnings = { " + ", ".join(f"{category} = 'off'" for category in CATEGORIES) + " }\n"

DOCUMENT_HEADERS = {"Accept": "text/html", "Sec-Fetch-Dest": "document"}


def feed_page() -> bytes:
    folder = feeds_root() / "hackernews"
    parts = [
        (folder / name).read_bytes()
        for name in ("newhackers_ask_comments.html", "newhackers_comments.html", "front_page_2023-10_jblanava.html")
    ]
    return b"\n".join(parts)


def json_listing() -> bytes:
    return (feeds_root() / "reddit" / "r_askreddit_hot.json").read_bytes()


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


class Plain:
    """mitmdump without addons (only the upstream mapping the benchmark needs, also loaded into Breather), or with
    the given extra addon scripts."""

    def __init__(self, home: Path, upstream: object, ca_pem: Path, scripts: tuple[Path, ...] = ()) -> None:
        from tests.e2e.conftest import E2E_DIR, UPSTREAM_HOSTS, free_port

        self.port = free_port()
        self.confdir = home / "mitmproxy"
        command = [
            str(Path(sys.executable).with_name("mitmdump")),
            "-q",
            "--listen-host",
            "127.0.0.1",
            "-p",
            str(self.port),
            "--set",
            f"confdir={self.confdir}",
            "--set",
            f"ssl_verify_upstream_trusted_ca={ca_pem}",
            "--set",
            r"ignore_hosts=^bank\.example:",
            "-s",
            str(E2E_DIR / "upstream_map.py"),
            *(argument for script in scripts for argument in ("-s", str(script))),
        ]
        env = {
            **os.environ,
            "BREATHER_TEST_UPSTREAM": upstream.address,  # type: ignore[attr-defined]
            "BREATHER_TEST_HOSTS": ",".join(UPSTREAM_HOSTS),
        }
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self.ca.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)

    @property
    def ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(20)


def thread_cpu_s(pid: int) -> tuple[float, float]:
    """CPU seconds of a process so far: its main thread (mitmproxy's event loop) and all its other threads."""
    ticks = os.sysconf("SC_CLK_TCK")
    main = other = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if int(task.name) == pid:
            main += seconds
        else:
            other += seconds
    return main, other


def client_for(proxy_url: str, ca: Path, upstream_ca: Path) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(ca))
    context.load_verify_locations(cafile=str(upstream_ca))
    return httpx.Client(proxy=proxy_url, verify=context, timeout=30)


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    loop_cpu_ms: float  # per request, on the proxy's event-loop thread
    other_cpu_ms: float  # per request, on its other threads (Breather rewrites bodies in a worker thread)


def measure_latency(make_client: Callable[[], httpx.Client], url: str, headers: dict[str, str], pid: int) -> Latency:
    with make_client() as client:
        for _ in range(5):
            client.get(url, headers=headers).raise_for_status()
        timings = []
        loop_before, other_before = thread_cpu_s(pid)
        for _ in range(LATENCY_REQUESTS):
            started = time.perf_counter()
            client.get(url, headers=headers).raise_for_status()
            timings.append(time.perf_counter() - started)
        loop_after, other_after = thread_cpu_s(pid)
    per_request = 1000 / LATENCY_REQUESTS
    return Latency(
        statistics.median(timings) * 1000,
        (loop_after - loop_before) * per_request,
        (other_after - other_before) * per_request,
    )


def throughput_rps(make_client: Callable[[], httpx.Client], url: str, headers: dict[str, str], per: int) -> float:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with make_client() as client:
                for _ in range(per):
                    client.get(url, headers=headers).raise_for_status()
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THROUGHPUT_CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return THROUGHPUT_CLIENTS * per / elapsed


def tunnel_mb_s(make_client: Callable[[], httpx.Client]) -> float:
    with make_client() as client:
        client.get("https://bank.example/big").raise_for_status()
        started = time.perf_counter()
        for _ in range(TUNNEL_REQUESTS):
            client.get("https://bank.example/big").raise_for_status()
        elapsed = time.perf_counter() - started
    return TUNNEL_REQUESTS * TUNNEL_BYTES / elapsed / 1e6


def main() -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.e2e.conftest import Upstream, make_test_ca, start_service

    page, listing = feed_page(), json_listing()
    print(f"feed page {len(page) / 1024:.0f} KB HTML, listing {len(listing) / 1024:.0f} KB JSON; machine shared")
    with tempfile.TemporaryDirectory(prefix="breather-bench-") as folder:
        root = Path(folder)
        ca = make_test_ca(root / "ca")
        upstream = Upstream(ca).start()
        upstream.route("news.ycombinator.com", "/", page)
        upstream.route("oauth.reddit.com", "/r/AskReddit/hot", listing, "application/json")
        upstream.route("bank.example", "/big", os.urandom(TUNNEL_BYTES), "application/octet-stream")
        plain = Plain(root / "plain", upstream, ca.ca_pem)
        floor = Plain(root / "floor", upstream, ca.ca_pem, (Path(__file__).with_name("rewrite_floor.py"),))
        breather = start_service(root / "breather", RULES, upstream)
        no_warnings = start_service(root / "no-warnings", RULES_WARNINGS_OFF, upstream)
        proxies = {
            "plain": (plain.proxy_url, plain.ca, plain.pid),
            "floor": (floor.proxy_url, floor.ca, floor.pid),
            "breather": (breather.proxy_url, breather.ca, breather.process.pid),
            "no-warn": (no_warnings.proxy_url, no_warnings.ca, no_warnings.process.pid),
        }
        try:
            run_all(proxies, ca.ca_pem)
        finally:
            for proxy in (plain, floor, breather, no_warnings):
                proxy.stop()
            upstream.stop()


def tunnel_rounds(makers: dict[str, Callable[[], httpx.Client]]) -> dict[str, list[float]]:
    """Tunnel throughput measured in alternating rounds (plain first, then Breather first, ...): on a shared machine
    one measurement each made the ratio swing with whatever ran at that moment."""
    rates: dict[str, list[float]] = {name: [] for name in makers}
    for round_number in range(TUNNEL_ROUNDS):
        order = list(makers) if round_number % 2 == 0 else list(reversed(makers))
        for name in order:
            rates[name].append(tunnel_mb_s(makers[name]))
    return rates


def run_all(proxies: dict[str, tuple[str, Path, int]], upstream_ca: Path) -> None:
    cases = [
        (f"html{suffix}", f"https://news.ycombinator.com/{suffix}", DOCUMENT_HEADERS)
        for suffix in ("", "?enc=gzip", "?enc=br")
    ] + [
        (f"json{suffix}", f"https://oauth.reddit.com/r/AskReddit/hot{suffix}", {})
        for suffix in ("", "?enc=gzip", "?enc=br")
    ]
    makers = {name: (lambda u=url, c=ca: client_for(u, c, upstream_ca)) for name, (url, ca, _) in proxies.items()}
    others = [proxy for proxy in proxies if proxy != "plain"]
    print(
        "p50 latency in ms and throughput in requests/s, each with x: against plain mitmproxy (floor: the rewrite "
        "floor; no-warn: Breather with every warning off)"
    )
    print(f"{'case':<15}{'plain':>7}" + "".join(f"{proxy:>9}{'x':>6}" for proxy in others), end="")
    print(f"{'plain rps':>11}" + "".join(f"{proxy:>9}{'x':>6}" for proxy in others))
    cpu_rows = []
    for name, url, headers in cases:
        measured = {proxy: measure_latency(makers[proxy], url, headers, pid) for proxy, (_, _, pid) in proxies.items()}
        latency = {proxy: result.p50_ms for proxy, result in measured.items()}
        rps = {proxy: throughput_rps(makers[proxy], url, headers, THROUGHPUT_REQUESTS) for proxy in proxies}
        row = f"{name:<15}{latency['plain']:>7.2f}"
        row += "".join(f"{latency[proxy]:>9.2f}{latency[proxy] / latency['plain']:>6.2f}" for proxy in others)
        row += f"{rps['plain']:>11.0f}"
        row += "".join(f"{rps[proxy]:>9.0f}{rps[proxy] / rps['plain']:>6.2f}" for proxy in others)
        print(row, flush=True)
        cpu_rows.append((name, measured))
    print("proxy CPU ms per request during the latency runs: event-loop thread + other threads")
    for name, measured in cpu_rows:
        print(
            f"{name:<15}"
            + "".join(
                f"{proxy} {result.loop_cpu_ms:.2f} + {result.other_cpu_ms:.2f}   " for proxy, result in measured.items()
            ),
            flush=True,
        )
    tunnel = tunnel_rounds({name: makers[name] for name in ("plain", "breather")})
    ratios = sorted(b / p for p, b in zip(tunnel["plain"], tunnel["breather"], strict=True))
    plain, breather = statistics.median(tunnel["plain"]), statistics.median(tunnel["breather"])
    print(
        f"tunnel (not intercepted), median of {TUNNEL_ROUNDS} alternating rounds: plain {plain:.0f} MB/s, "
        f"breather {breather:.0f} MB/s, ratio {breather / plain:.2f} (rounds {ratios[0]:.2f}-{ratios[-1]:.2f})",
        flush=True,
    )
    per_client = max(1, RSS_RESPONSES // THROUGHPUT_CLIENTS)
    url = "https://oauth.reddit.com/r/AskReddit/hot?enc=gzip"
    for proxy in ("plain", "breather"):
        throughput_rps(makers[proxy], url, {}, per_client)
    rss = {proxy: rss_mb(pid) for proxy, (_, _, pid) in proxies.items() if proxy != "floor"}
    print(
        f"RSS after {per_client * THROUGHPUT_CLIENTS} feed responses: plain {rss['plain']:.0f} MB, "
        f"breather {rss['breather']:.0f} MB (target ≤ 250 MB)",
        flush=True,
    )


if __name__ == "__main__":
    main()
