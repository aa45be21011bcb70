"""During quiet hours a real Chromium through a real ``breather serve`` gets nothing of the site, not only no page:
the feed's fetch from the block page itself, the site in an ``<iframe>`` on another site, and the site under its name
with a trailing dot (a user test got all three during quiet hours)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.e2e.conftest import spki_hash

pytestmark = pytest.mark.e2e

FEED = b'{"kind": "Listing", "data": {"children": []}}'
REDDIT_PAGE = b"<!doctype html><html><head><title>reddit</title></head><body><h1>the feed</h1></body></html>"
OTHER_SITE = (
    b"<!doctype html><html><head><title>homework</title></head><body><h1>homework</h1>"
    b'<iframe src="https://old.reddit.com/r/aww/" width="600" height="300"></iframe></body></html>'
)


def quiet_now() -> str:
    now = dt.datetime.now(dt.UTC)
    start, end = (now - dt.timedelta(hours=1)).strftime("%H:00"), (now + dt.timedelta(hours=2)).strftime("%H:00")
    return f'quiet_hours = {{ daily = "{start}-{end}" }}'


def rules(extra: str = "") -> str:
    return f"""\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com", "old.reddit.com"]

[profiles.me]
default = true
{extra}
"""


def test_in_quiet_hours_chromium_gets_nothing_of_the_site_by_script_in_a_frame_or_with_a_trailing_dot(
    serve, upstream, chromium
) -> None:
    upstream.route("www.reddit.com", "/", REDDIT_PAGE)
    upstream.route("www.reddit.com", "/api/feed.json", FEED, "application/json")
    upstream.route("old.reddit.com", "/r/aww/", REDDIT_PAGE)
    service = serve(rules(quiet_now()))
    page = chromium(service).new_page()

    page.goto("https://www.reddit.com/")
    assert page.title() == "Breather · Quiet hours", service.log()[-2000:]
    status, text = page.evaluate(
        "async () => { const r = await fetch('/api/feed.json'); return [r.status, await r.text()]; }"
    )
    assert status == 403 and "The feeds rest until" in text, text
    assert not upstream.asked_for("www.reddit.com", "/api/feed.json"), "the feed's fetch reached the site"

    page.goto("about:blank")
    page.set_content(OTHER_SITE.decode())  # a page of another site, not intercepted, with reddit in a frame
    frame = page.frame_locator("iframe")
    frame.locator("h1").first.wait_for(timeout=15000)
    assert "Quiet hours" in frame.locator("h1").first.inner_text()
    assert not upstream.asked_for("old.reddit.com", "/r/aww/"), "the site in a frame reached the site"

    page.goto("https://www.reddit.com./")
    assert page.title() == "Breather · Quiet hours", "the name with a trailing dot is the same site"

    assert service.health()["proxy"]["requests_refused"] >= 1
    assert not upstream.asked_for("www.reddit.com", "/")


def test_outside_quiet_hours_a_name_with_a_trailing_dot_opens_the_site_with_breather_on_it(
    serve, upstream, chromium
) -> None:
    """Decrypted like the site, the page still loads (mitmproxy's TLS to the site refused the name with its dot)."""
    upstream.route("old.reddit.com.", "/r/aww/", REDDIT_PAGE)  # the Host header keeps the dot
    service = serve(rules())
    # the upstream's certificate trusted too: a name the proxy only tunnels opens, without Breather, as it would
    trusted = f"--ignore-certificate-errors-spki-list={spki_hash(service.ca)},{spki_hash(upstream.ca.cert_pem)}"
    page = chromium(service, trusted).new_page()
    page.goto("https://old.reddit.com./r/aww/")
    page.wait_for_selector("html[data-breather=on]", timeout=15000)
    assert page.locator("h1").first.inner_text() == "the feed"
    assert service.health()["proxy"]["documents_seen"] == 1


def test_in_quiet_hours_an_upload_over_the_size_cap_and_an_oversized_breather_call_never_reach_the_site(
    serve, upstream
) -> None:
    """mitmproxy streams a body over the cap to the site as it arrives, before Breather's ``request`` hook: a review
    sent 5 MB through a real proxy during quiet hours and got the site's own answer back."""
    upstream.route("www.reddit.com", "/api/submit", b'{"ok": true}', "application/json")
    service = serve(rules(quiet_now()))
    five_mb = b"x" * (5 * 1024 * 1024)
    with service.client() as client:
        small = client.post("https://www.reddit.com/api/submit", content=b"x" * 1000)
        assert small.status_code == 403 and small.headers["x-breather"] == "quiet_hours"
        for path in ("/api/submit", "/__breather__/heartbeat"):
            try:
                answer = client.post(
                    f"https://www.reddit.com{path}", content=five_mb, headers={"X-Breather": "1"}, timeout=5
                )
            except httpx.TransportError:
                continue  # cut off: over HTTP/1 the proxy stops reading, and the upload fails when the client gives up
            assert answer.status_code != 200, f"{path}: {answer.text[:200]}"
    assert not upstream.asked_for("www.reddit.com", "/api/submit"), "the upload reached the site"
    assert not upstream.asked_for("www.reddit.com", "/__breather__/heartbeat"), "Breather's call reached the site"
    assert service.health()["proxy"]["requests_refused"] >= 2
