"""The response pipeline, with the real adapters and the real classifier, on small Reddit-shaped bodies."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import brotli
import pytest
from mitmproxy import http
from mitmproxy.test import tflow

from breather.proxy import feed_warnings, flows
from breather.proxy.feed_warnings import FeedWarnings
from breather.rules.model import CATEGORIES
from breather.runtime import HEAVY_RUN_WARNINGS
from breather.store.model import Event

DISTRESSING = "I want to kill myself tonight, I cannot go on"


def listing(*titles: str) -> bytes:
    children = [
        {"kind": "t3", "data": {"name": f"t3_{n}", "title": title, "selftext": "", "spoiler": False}}
        for n, title in enumerate(titles)
    ]
    return json.dumps({"kind": "Listing", "data": {"children": children, "after": None}}).encode()


def reddit_flow(body: bytes, *, encoding: str | None = None, status: int = 200, ctype: str = "application/json") -> Any:
    flow = tflow.tflow(resp=True)
    flow.request.host = "oauth.reddit.com"
    flow.request.path = "/r/all/new"
    flow.metadata[flows.SITE] = "reddit.com"
    flow.metadata[flows.ADAPTER] = "reddit"
    flow.metadata[flows.PROFILE] = "me"
    raw = body
    headers = {"content-type": ctype}
    if encoding == "gzip":
        raw = gzip.compress(body)
    elif encoding == "br":
        raw = brotli.compress(body)
    if encoding:
        headers["content-encoding"] = encoding
    flow.response = http.Response.make(status, b"", headers)
    flow.response.raw_content = raw
    return flow


# The marking tests give classification a generous budget: the machine is shared, and the budget has its own test.
GENEROUS = {"classify_budget_ms": 5000}


def run(addon: FeedWarnings, flow: Any) -> None:
    asyncio.run(addon.response(flow))


def posts(flow: Any) -> list[dict[str, Any]]:
    return [child["data"] for child in json.loads(flow.response.content)["data"]["children"]]


@pytest.mark.parametrize("encoding", [None, "gzip", "br"])
def test_a_distressing_post_is_marked_and_the_body_goes_out_as_identity(make_runtime, events_of, encoding) -> None:
    runtime = make_runtime(**GENEROUS)
    flow = reddit_flow(listing("Cute dog pictures", DISTRESSING), encoding=encoding)
    run(FeedWarnings(runtime), flow)
    assert "content-encoding" not in flow.response.headers
    assert int(flow.response.headers["content-length"]) == len(flow.response.raw_content)
    assert [post["spoiler"] for post in posts(flow)] == [False, True]
    assert runtime.counters.get("rewritten") == 1
    shown = [event for event in events_of(runtime) if event["kind"] == "warning_shown"]
    assert [(e["site"], e["category"], json.loads(e["detail"])["field"]) for e in shown] == [
        ("reddit.com", "self_harm", "spoiler")
    ]


@pytest.mark.parametrize("encoding", [None, "gzip", "br"])
def test_a_calm_feed_goes_out_byte_for_byte(make_runtime, encoding) -> None:
    runtime = make_runtime(**GENEROUS)
    flow = reddit_flow(listing("Cute dog pictures", "A recipe for bread"), encoding=encoding)
    before = (flow.response.raw_content, flow.response.headers.copy())
    run(FeedWarnings(runtime), flow)
    assert (flow.response.raw_content, flow.response.headers) == before
    assert runtime.counters.get("rewritten") == 0


def unchanged_after(runtime: Any, flow: Any) -> bool:
    before = (flow.response.raw_content, flow.response.headers.copy(), flow.response.status_code)
    run(FeedWarnings(runtime), flow)
    return (flow.response.raw_content, flow.response.headers, flow.response.status_code) == before


def test_non_2xx_answers_pass_unchanged(make_runtime) -> None:
    assert unchanged_after(make_runtime(), reddit_flow(listing(DISTRESSING), status=404))


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [(206, listing(DISTRESSING), {"content-range": "bytes 0-199/4000"}), (204, b"", {}), (205, b"", {})],
)
def test_range_and_no_content_answers_pass_unchanged(make_runtime, status, body, headers) -> None:
    """A 206 carries a byte range of the resource, not the resource: marked, it no longer matches its Content-Range.
    A 204 or 205 must stay without a body."""
    flow = reddit_flow(body, status=status)
    flow.response.headers.update(headers)
    assert unchanged_after(make_runtime(**GENEROUS), flow)


XHTML_PAGE = f"""<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>forum</title></head>
<body><article id="p1"><p>{DISTRESSING}</p></article></body></html>
""".encode()


def test_an_xhtml_page_goes_out_as_it_came_so_the_browser_can_still_read_it(make_runtime) -> None:
    """The warnings are HTML markup (``inert``, ``hidden``, inline script): spliced into an XHTML page they made it
    invalid XML, and the browser showed a parse error instead of the page."""
    flow = reddit_flow(XHTML_PAGE, ctype="application/xhtml+xml; charset=utf-8")
    flow.request.headers["sec-fetch-dest"] = "document"
    flow.metadata[flows.ADAPTER] = "generic"  # reads any <article>
    flow.metadata[flows.CALM_WINDOW] = True
    assert unchanged_after(make_runtime(**GENEROUS), flow)
    ElementTree.fromstring(flow.response.content)


def test_a_body_over_the_size_cap_passes_unchanged_and_is_counted(make_runtime) -> None:
    runtime = make_runtime(body_size_cap=100)
    assert unchanged_after(runtime, reddit_flow(listing(DISTRESSING)))
    assert runtime.counters.get("passed_over_cap") == 1


def test_truncated_gzip_passes_unchanged(make_runtime) -> None:
    flow = reddit_flow(listing(DISTRESSING), encoding="gzip")
    flow.response.raw_content = flow.response.raw_content[:-20]
    assert unchanged_after(make_runtime(), flow)


def test_invalid_utf8_and_unknown_json_pass_unchanged(make_runtime) -> None:
    runtime = make_runtime()
    assert unchanged_after(runtime, reddit_flow(b'{"title": "\xff\xfe kill myself"}'))
    assert unchanged_after(runtime, reddit_flow(json.dumps({"weird": [DISTRESSING]}).encode()))


def test_a_streamed_response_is_not_touched(make_runtime) -> None:
    flow = reddit_flow(listing(DISTRESSING))
    flow.response.stream = True
    assert unchanged_after(make_runtime(), flow)


def test_html_fetched_by_a_script_is_not_a_document_and_passes_unchanged(make_runtime) -> None:
    """A page's script fetching HTML (a fragment, a template) gets it as the site sent it: warnings are for the page a
    person loads. The same response as a page load is marked, so the script's copy is spared for being a script's."""

    def html_flow(dest: str) -> Any:
        body = f"<html><body><article><p>{DISTRESSING}</p></article></body></html>".encode()
        flow = reddit_flow(body, ctype="text/html")
        flow.metadata[flows.ADAPTER] = "generic"  # reads any <article>
        flow.request.headers["sec-fetch-dest"] = dest
        return flow

    runtime = make_runtime(**GENEROUS)
    assert not unchanged_after(runtime, html_flow("document")), "a page load of it is marked"
    assert unchanged_after(runtime, html_flow("empty"))


def test_an_adapter_crash_sends_the_original_and_is_counted(make_runtime, monkeypatch) -> None:
    class Broken:
        name = "broken"

        def rewrite(self, body: bytes, ctx: Any) -> Any:
            raise RuntimeError("adapter bug")

    monkeypatch.setattr(feed_warnings, "adapter_for", lambda *_: Broken())
    runtime = make_runtime()
    flow = reddit_flow(listing(DISTRESSING), encoding="gzip")
    assert unchanged_after(runtime, flow)
    assert runtime.counters.get("passed_after_error") == 1


def test_when_the_classify_budget_is_spent_the_rest_passes_unmarked(make_runtime) -> None:
    runtime = make_runtime(classify_budget_ms=0)
    flow = reddit_flow(listing(DISTRESSING, DISTRESSING + " again", DISTRESSING + " and again"))
    run(FeedWarnings(runtime), flow)
    assert [post["spoiler"] for post in posts(flow)] == [True, False, False]
    assert runtime.counters.get("classify_budget_hit") == 1


def test_topic_quiet_hours_collapse_instead_of_warning(make_runtime, events_of) -> None:
    runtime = make_runtime(**GENEROUS)
    flow = reddit_flow(listing(DISTRESSING))
    flow.metadata[flows.HIDDEN_TOPICS] = frozenset({"self_harm"})
    run(FeedWarnings(runtime), flow)
    shown = [json.loads(e["detail"]) for e in events_of(runtime) if e["kind"] == "warning_shown"]
    assert shown == [{"collapsed": True, "field": "spoiler"}]


def test_heavy_runs_are_remembered_for_the_break_prompt(make_runtime) -> None:
    runtime = make_runtime(**GENEROUS)
    run(FeedWarnings(runtime), reddit_flow(listing(*[DISTRESSING] * 5)))
    assert len(runtime.sessions.read("me").recent_warnings) == 5


@pytest.mark.fixtures
def test_posts_only_high_sensitivity_covers_do_not_bring_the_heavy_posts_break(make_runtime, shared_fixtures) -> None:
    """A user test at self_harm "high": six harmless job-advice comments on Hacker News were covered (high covers
    harmless posts by design, and each can be revealed) and then brought the "a lot of heavy posts" break screen,
    again after every snooze. The break counts what the usual level would warn about."""
    from tests.proxy.conftest import rules_text

    page = (shared_fixtures / "feeds/hackernews/newhackers_ask_comments.html").read_bytes()

    def covered_and_counted(level: str) -> tuple[int, int]:
        runtime = make_runtime(rules_text(extra_me=f'warnings = {{ self_harm = "{level}" }}'), **GENEROUS)
        flow = reddit_flow(page, ctype="text/html")
        flow.request.host, flow.request.path = "news.ycombinator.com", "/item?id=1"
        flow.metadata[flows.SITE], flow.metadata[flows.ADAPTER] = "ycombinator.com", "hackernews"
        flow.request.headers["sec-fetch-dest"] = "document"
        run(FeedWarnings(runtime), flow)
        return flow.response.content.count(b'class="breather-warning"'), len(
            runtime.sessions.read("me").recent_warnings
        )

    covered_high, counted_high = covered_and_counted("high")
    covered_medium, counted_medium = covered_and_counted("medium")
    assert covered_high >= 5, "high covers these harmless comments: the case this test is about"
    assert counted_high == counted_medium == covered_medium < covered_high
    assert counted_high < HEAVY_RUN_WARNINGS


def test_an_html_warning_names_the_helpline_from_the_services_own_override_table(
    make_runtime, monkeypatch, tmp_path
) -> None:
    runtime = make_runtime(**GENEROUS)
    (runtime.paths.config_dir / "crisis_lines.toml").write_text(
        '[GB]\ncountry = "United Kingdom"\nservice = "Household Test Line"\nphone = "555"\n'
        'web = "https://example.org"\nsource = "https://example.org"\nchecked = "2026-11-25"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BREATHER_HOME", str(tmp_path / "another-home"))  # the service's home, not the environment's
    flow = reddit_flow(f"<html><body><article><p>{DISTRESSING}</p></article></body></html>".encode(), ctype="text/html")
    flow.metadata[flows.ADAPTER] = "generic"
    flow.request.headers["sec-fetch-dest"] = "document"
    run(FeedWarnings(runtime), flow)
    page = flow.response.content.decode()
    assert 'class="breather-warning"' in page and "Household Test Line" in page


WARNINGS_OFF = "warnings = { " + ", ".join(f"{category} = 'off'" for category in CATEGORIES) + " }"


def test_with_every_warning_switched_off_no_post_is_even_read(make_runtime, monkeypatch, events_of) -> None:
    from tests.proxy.conftest import rules_text

    asked: list[str] = []
    real_adapter_for = feed_warnings.adapter_for

    def spying_adapter_for(*args: Any) -> Any:
        adapter = real_adapter_for(*args)
        monkeypatch.setattr(adapter, "rewrite", lambda body, ctx: asked.append("rewrite"))
        return adapter

    monkeypatch.setattr(feed_warnings, "adapter_for", spying_adapter_for)
    real_decode_body = feed_warnings.decode_body
    monkeypatch.setattr(
        feed_warnings, "decode_body", lambda r, limit=None: asked.append("decode") or real_decode_body(r, limit)
    )
    runtime = make_runtime(rules_text(extra_me=WARNINGS_OFF), **GENEROUS)
    flow = reddit_flow(listing(DISTRESSING), encoding="gzip")
    assert unchanged_after(runtime, flow)
    assert asked == [] and not [e for e in events_of(runtime) if e["kind"] == "warning_shown"]  # not even decoded
    # The person's own topics still need the posts read.
    runtime = make_runtime(rules_text(extra_me=WARNINGS_OFF + "\nkeywords = ['tonight']"), **GENEROUS)
    run(FeedWarnings(runtime), reddit_flow(listing(DISTRESSING)))
    assert asked == ["decode", "rewrite"]


def test_a_reloaded_feed_logs_each_warned_post_once(make_runtime, events_of) -> None:
    """A user test reloaded one timeline three times and the weekly review counted one post four times (and the
    heavy-run break counted it too). Each reload is still marked; only the first showing is logged."""
    runtime = make_runtime(**GENEROUS)
    addon = FeedWarnings(runtime)
    for _ in range(4):
        flow = reddit_flow(listing("Cute dog pictures", DISTRESSING))
        run(addon, flow)
        assert [post["spoiler"] for post in posts(flow)] == [False, True]
    run(addon, reddit_flow(listing(DISTRESSING, "Cute dog pictures")))  # another post (t3_0), same words
    shown = [event for event in events_of(runtime) if event["kind"] == "warning_shown"]
    assert len(shown) == 2
    assert len(runtime.sessions.read("me").recent_warnings) == 2


def test_the_posts_shown_are_kept_on_disk_as_they_are_logged_not_only_at_a_clean_stop(make_runtime, events_of) -> None:
    """A soak test: the list was written only when the service stopped cleanly, so after a crash the posts shown since
    the last clean stop would have been counted again."""
    runtime = make_runtime(**GENEROUS)
    addon = FeedWarnings(runtime)
    run(addon, reddit_flow(listing("Cute dog pictures", DISTRESSING)))  # no done(): the process dies here
    saved = runtime.paths.shown_warnings.read_text(encoding="utf-8")

    restarted = FeedWarnings(runtime)
    asyncio.run(_running(restarted))
    run(restarted, reddit_flow(listing("Cute dog pictures", DISTRESSING)))
    assert saved and len([e for e in events_of(runtime) if e["kind"] == "warning_shown"]) == 1


def test_a_restart_does_not_count_the_same_warned_posts_again(make_runtime, events_of) -> None:
    """A user test restarted the service between reloads of one feed: warning_shown went 2 -> 5 -> 8."""
    runtime = make_runtime(**GENEROUS)
    before = FeedWarnings(runtime)
    run(before, reddit_flow(listing("Cute dog pictures", DISTRESSING)))
    before.done()
    saved = runtime.paths.shown_warnings.read_text(encoding="utf-8")
    assert "t3_1" not in saved and "kill" not in saved  # digests only
    # private: even without its key, it says how many warned posts were shown, and when
    assert runtime.paths.shown_warnings.stat().st_mode & 0o777 == 0o600

    after = FeedWarnings(runtime)  # a new service: nothing in memory
    asyncio.run(_running(after))
    flow = reddit_flow(listing("Cute dog pictures", DISTRESSING))
    run(after, flow)
    assert [post["spoiler"] for post in posts(flow)] == [False, True], "still marked"
    assert len([event for event in events_of(runtime) if event["kind"] == "warning_shown"]) == 1

    runtime.paths.shown_warnings.write_text("{not json", encoding="utf-8")
    broken = FeedWarnings(runtime)
    asyncio.run(_running(broken))  # an unreadable file is ignored, not fatal
    flow = reddit_flow(listing(DISTRESSING))
    run(broken, flow)
    assert [post["spoiler"] for post in posts(flow)] == [True], "still marked"
    assert len([event for event in events_of(runtime) if event["kind"] == "warning_shown"]) == 2, "and logged"


def _digest(key: bytes, post_id: str) -> str:
    """What anyone can compute for a public post id, given the key: ShownPosts' digest of it for member "me"."""
    return hashlib.blake2b(repr(("me", "reddit.com", post_id)).encode(), key=key, digest_size=12).hexdigest()


def _stored_key(runtime: Any) -> str | None:
    assert runtime.writer.flush(5)
    with sqlite3.connect(runtime.paths.database) as connection:
        row = connection.execute("select value from meta where key = ?", [feed_warnings.SALT_META_KEY]).fetchone()
    return row[0] if row else None


def test_the_list_of_posts_shown_does_not_tell_which_posts_were_shown_without_the_key_kept_elsewhere(
    make_runtime,
) -> None:
    """A review: the file kept its salt beside its digests, so testing each post id of the same public feed told
    which posts member "me" had been warned about, and when. The key is kept in the store, and goes with the file."""
    runtime = make_runtime(**GENEROUS)
    addon = FeedWarnings(runtime)
    asyncio.run(_running(addon))
    run(addon, reddit_flow(listing("Cute dog pictures", DISTRESSING)))  # t3_1 is shown with a warning
    addon.done()
    saved = json.loads(runtime.paths.shown_warnings.read_text(encoding="utf-8"))
    keys_in_file = [bytes.fromhex(text) for text in re.findall(r"[0-9a-f]{32}", json.dumps(saved))]
    recovered = {post for key in keys_in_file for post in ("t3_0", "t3_1") if _digest(key, post) in saved["seen"]}
    assert recovered == set(), "the file alone tells which posts were shown"
    stored = _stored_key(runtime)
    assert stored is not None and _digest(bytes.fromhex(stored), "t3_1") in saved["seen"]

    runtime.forget_usage()  # the dashboard's "Delete everything"
    assert not runtime.paths.shown_warnings.exists() and _stored_key(runtime) is None


def test_a_list_an_earlier_version_wrote_with_its_key_inside_is_read_and_written_again_without_it(
    make_runtime, events_of
) -> None:
    """Upgrading must not count the posts of the last hours again, nor leave the key in the file until the next one."""
    runtime = make_runtime(**GENEROUS)
    key = bytes(range(16))
    earlier = {"salt": key.hex(), "seen": {_digest(key, "t3_1"): datetime.now(UTC).isoformat()}}
    runtime.paths.shown_warnings.write_text(json.dumps(earlier), encoding="utf-8")
    addon = FeedWarnings(runtime)
    asyncio.run(_running(addon))
    assert "salt" not in json.loads(runtime.paths.shown_warnings.read_text(encoding="utf-8"))
    assert _stored_key(runtime) == key.hex()
    run(addon, reddit_flow(listing("Cute dog pictures", DISTRESSING)))
    assert not [event for event in events_of(runtime) if event["kind"] == "warning_shown"]


def test_a_stop_with_a_damaged_store_does_not_wait_to_keep_the_key(make_runtime, caplog) -> None:
    """A damaged breather.db held a stop for 10 s (and each write of the list of posts shown) while the key waited
    on a writer that could not save, and the log said "could not keep the key ...: " with nothing after the colon."""
    runtime = make_runtime(**GENEROUS)
    addon = FeedWarnings(runtime)
    asyncio.run(_running(addon))
    database = runtime.paths.database
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(b"not a database " * 500)
    runtime.log_event(Event("me", "warning_revealed", datetime.now(UTC), "reddit"))
    deadline = time.monotonic() + 10
    while runtime.writer.trouble is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runtime.writer.trouble == "damaged"

    started = time.monotonic()
    run(addon, reddit_flow(listing("Cute dog pictures", DISTRESSING)))  # a warning shown: the list is written
    addon.done()
    assert time.monotonic() - started < 2
    assert "could not keep the key of the list of warned posts already shown: the store cannot save now" in caplog.text


async def _running(addon: FeedWarnings) -> None:
    addon.running()


def test_deleting_everything_while_a_write_of_the_posts_shown_is_queued_leaves_no_trace(
    make_runtime, monkeypatch
) -> None:
    """The list is written on a worker after the post is logged; "Delete everything" on the dashboard in between
    let the queued write bring the file back with the digests of every post shown before the delete."""
    runtime = make_runtime(**GENEROUS)
    addon = FeedWarnings(runtime)
    shown = addon._shown
    queued: list[Any] = []
    monkeypatch.setattr(shown, "write", lambda *snapshot: queued.append(snapshot))  # the worker has not run yet
    run(addon, reddit_flow(listing("Cute dog pictures", DISTRESSING)))
    monkeypatch.undo()
    assert queued

    runtime.forget_usage()  # the dashboard's "Delete everything"
    for snapshot in queued:  # the worker runs now
        shown.write(*snapshot)
    assert not runtime.paths.shown_warnings.exists()

    run(addon, reddit_flow(listing("Cute dog pictures", DISTRESSING)))  # shown again after the delete: kept again
    assert runtime.paths.shown_warnings.exists()
