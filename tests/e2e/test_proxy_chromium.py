"""Headless Chromium through a real ``breather serve``: a content warning on a real page, and the break screen.

Both are checked in the DOM and saved as screenshots (``tmp_path``) that a person can look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from breather.rules.exercises import load_exercises
from tests.proxy.conftest import zone_at_midday

pytestmark = pytest.mark.e2e

DISTRESSING = "I want to kill myself tonight, I cannot go on"
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
TITLE = re.compile(rb'(class="titleline"><a href="[^"]*">)([^<]*)')


def rules(extra: str = "") -> str:
    return f"""\
[household]
timezone = "UTC"

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
{extra}
"""


def front_page_with(shared_fixtures: Path, sentence: str | None) -> bytes:
    """The real 2023 HN front page with the first story's title swapped for ``sentence`` (in memory only)."""
    page = (shared_fixtures / "feeds" / "hackernews" / "front_page_2023-10_jblanava.html").read_bytes()
    if sentence is None:
        return page
    return TITLE.sub(lambda m: m.group(1) + sentence.encode(), page, count=1)


def test_chromium_shows_a_reveal_able_warning_on_a_real_page_under_a_strict_csp(
    serve, upstream, chromium, shared_fixtures, tmp_path
) -> None:
    upstream.route(
        "news.ycombinator.com",
        "/",
        front_page_with(shared_fixtures, DISTRESSING),
        headers={"Content-Security-Policy": STRICT_CSP},
    )
    service = serve(rules())
    page = chromium(service).new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("https://news.ycombinator.com/?enc=gzip")

    page.wait_for_selector("html[data-breather=on]", timeout=15000)
    warned = page.locator(".breather-cw")
    assert warned.count() >= 1, (service.health(), service.log()[-2000:])
    assert "self_harm" in (warned.first.get_attribute("data-breather-categories") or "")
    note = page.locator(".breather-warning").first
    assert "self-harm" in note.inner_text().lower()
    assert page.locator(".breather-reveal").count() >= 1
    page.screenshot(path=str(tmp_path / "warning.png"), full_page=False)
    assert not [e for e in errors if "Content Security Policy" in e and "breather" in e.lower()]
    assert service.health()["proxy"]["rewritten"] >= 1

    guide = page.locator(".breather-warning .breather-learn").first
    assert guide.get_attribute("href") == f"{service.web_url}/learn/content-warnings"
    with page.context.expect_page() as opened:
        guide.click()
    opened.value.wait_for_load_state()
    assert opened.value.locator("h1").inner_text() == "Reading content warnings"


def with_meta_policy(page: bytes, policy: str) -> bytes:
    """The page with its policy in a ``<meta http-equiv>`` tag at the top of its head instead of a header."""
    tag = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'.encode()
    return re.sub(rb"<head\b[^>]*>", lambda m: m.group(0) + tag, page, count=1, flags=re.IGNORECASE)


def test_a_page_seen_again_still_runs_the_overlay_when_the_site_revalidates_it(serve, upstream, chromium) -> None:
    """A review found the site's ETag kept on Breather's edited page: Chromium revalidated its cached copy, the site
    answered 304 with its CSP (no nonce), and the overlay was blocked on every later visit: no heartbeats, no break
    screen, no warnings' reveal."""
    page_html = b"<!doctype html><html><head><title>HN</title></head><body><p>hello</p></body></html>"
    validators = {"ETag": '"v1"', "Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT", "Cache-Control": "no-cache"}
    upstream.route(
        "news.ycombinator.com", "/item", page_html, headers={"Content-Security-Policy": STRICT_CSP, **validators}
    )
    service = serve(rules())
    page = chromium(service).new_page()
    for _visit in (1, 2):
        page.goto("https://news.ycombinator.com/item")
        page.wait_for_selector("html[data-breather=on]", timeout=15000)
    assert upstream.requests.count(("news.ycombinator.com", "/item")) == 2, "the second visit was not asked of the site"


def test_chromium_runs_the_overlay_and_warnings_under_a_strict_csp_in_a_meta_tag(
    serve, upstream, chromium, shared_fixtures
) -> None:
    upstream.route(
        "news.ycombinator.com", "/", with_meta_policy(front_page_with(shared_fixtures, DISTRESSING), STRICT_CSP)
    )
    service = serve(rules())
    page = chromium(service).new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("https://news.ycombinator.com/")

    page.wait_for_selector("html[data-breather=on]", timeout=15000)
    assert page.locator(".breather-cw").count() >= 1, (service.health(), service.log()[-2000:])
    assert page.locator(".breather-warning").first.is_visible()
    assert not [e for e in errors if "Content Security Policy" in e and "breather" in e.lower()]


def test_chromium_shows_the_break_screen_when_a_break_is_due_and_a_snooze_dismisses_it(
    serve, upstream, chromium, shared_fixtures, tmp_path
) -> None:
    upstream.route("news.ycombinator.com", "/", front_page_with(shared_fixtures, None))
    service = serve(rules('break_after = "1m"\nbreak_length = "5m"\nmax_snoozes = 2'))
    with service.client() as client:
        for _ in range(2):
            answer = client.post(
                "https://news.ycombinator.com/__breather__/heartbeat",
                json={"visible": True, "active": True},
                headers={"X-Breather": "1"},
            )
            assert answer.status_code == 200
    page = chromium(service).new_page()
    page.goto("https://news.ycombinator.com/")
    screen = page.locator("#breather-break")
    screen.wait_for(state="visible", timeout=15000)
    assert "Time for a breather" in screen.inner_text()
    title = page.locator("#breather-break .breather-exercise-title")
    title.wait_for(state="visible", timeout=15000)
    shipped = {exercise.title: exercise for exercise in load_exercises(None)}
    offered = shipped[title.inner_text()]
    assert page.locator("#breather-break .breather-steps li").count() == len(offered.steps)
    page.locator(".breather-actions").wait_for(state="visible", timeout=15000)
    page.screenshot(path=str(tmp_path / "break.png"))
    assert page.locator("button.breather-done").is_visible()
    # the feed does not show through the break screen, and Tab cannot reach its hidden links
    backdrop = screen.evaluate("node => getComputedStyle(node).backgroundColor")
    assert backdrop.startswith("rgb(") and backdrop.count(",") == 2, backdrop
    for _ in range(6):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(() => { const f = document.activeElement; return f.closest('#breather-break') ? 'break' : f.tagName; })()"
        )
        assert focused in ("break", "BODY"), focused

    page.locator("button.breather-snooze").click()
    screen.wait_for(state="detached", timeout=10000)
    assert page.locator("[inert]").count() == 0  # the feed is usable again at once
    page.reload()
    page.wait_for_selector("html[data-breather=on]", timeout=15000)
    assert page.locator("#breather-break").count() == 0


def test_chromium_gets_the_quiet_hours_page_and_its_override_waits_for_the_friction_delay(
    serve, upstream, chromium, shared_fixtures, tmp_path
) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    window = f"{(now - timedelta(hours=1)):%H}:00-{(now + timedelta(hours=2)):%H}:00"
    upstream.route("news.ycombinator.com", "/", front_page_with(shared_fixtures, None))
    service = serve(rules(f'friction_delay = "3s"\nquiet_hours = {{ daily = "{window}" }}'))
    page = chromium(service).new_page()
    page.goto("https://news.ycombinator.com/")
    assert page.locator("#breather-block").get_attribute("data-kind") == "quiet_hours"
    assert page.locator("#breather-overlay").count() == 0
    override = page.locator("button.breather-override")
    assert override.is_disabled()
    page.screenshot(path=str(tmp_path / "quiet.png"))
    expect(override).to_be_enabled(timeout=10000)
    override.click()
    page.wait_for_selector("html[data-breather=on]", timeout=15000)
    assert page.locator(".titleline").count() > 10
    assert not upstream.asked_for("news.ycombinator.com", "/__breather__/override")


def test_the_feed_the_back_button_brings_back_after_the_limit_turns_into_the_block_page(
    serve, upstream, chromium, shared_fixtures
) -> None:
    """Chromium restores the front page from its back/forward cache, with no request the proxy could answer: the
    overlay asks as the page comes back, instead of at its next heartbeat 30 s later."""
    page_bytes = front_page_with(shared_fixtures, None)
    upstream.route("news.ycombinator.com", "/", page_bytes)
    upstream.route("news.ycombinator.com", "/newest", page_bytes)
    # the household where it is about noon: the minutes below stay on one day whenever the suite runs
    service = serve(rules('daily_limit = "2m"').replace('timezone = "UTC"', f'timezone = "{zone_at_midday()}"'))
    page = chromium(service).new_page()
    page.goto("https://news.ycombinator.com/")
    page.wait_for_selector("html[data-breather=on]", timeout=15000)
    with service.client() as client:
        for _ in range(5):  # two and a half minutes on another device
            client.post(
                "https://news.ycombinator.com/__breather__/heartbeat",
                json={"visible": True, "active": True},
                headers={"X-Breather": "1"},
            )
    page.goto("https://news.ycombinator.com/newest", wait_until="commit")
    expect(page.locator("#breather-block")).to_have_attribute("data-kind", "limit_reached")

    page.go_back(wait_until="commit")
    expect(page.locator("#breather-block")).to_have_attribute("data-kind", "limit_reached", timeout=5000)
    assert page.url == "https://news.ycombinator.com/"
