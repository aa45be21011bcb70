"""The browser extension in real Chromium, paired with a real ``breather serve``.

A person's path: the extension is loaded, they pair it on the consent page with a code from the dashboard, browse a
social site (through the real proxy, with the Breather CA), the extension's heartbeat lands in the real SQLite store,
and the popup shows today's minutes. Then they switch routing off (the browser's own proxy setting comes back) and
the service stops (the popup says so plainly).

The only fake is the internet: the shared ``upstream`` fixture (tests/e2e/conftest.py) answers as the social site
over HTTPS on 127.0.0.1. The shared ``chromium`` launcher is not used here because it points Chromium at the proxy
with ``--proxy-server``; this test needs the extension's own PAC to do the routing.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from breather.paths import Paths
from tests.e2e.conftest import (
    CHROMIUM,
    EXTENSION,
    EXTENSION_PROFILE,
    EXTENSION_RULES,
    SOCIAL_HOST,
    SOCIAL_PAGE,
    extension_heartbeats,
    extension_status,
    pairing_code,
    spki_hash,
    wait_for,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Worker

pytestmark = pytest.mark.e2e

OTHER_SOCIAL_HOST = "x.com"
PROFILE = EXTENSION_PROFILE
# the Firefox tier's household, plus x.com: the popup shows today's minutes there
RULES = EXTENSION_RULES + '\n[sites.twitter]\nadapter = "twitter"\ndomains = ["x.com"]\n'

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require(path: str, what: str) -> None:
    if not Path(path).exists() and shutil.which(path) is None:
        pytest.fail(f"{what} is needed for this end-to-end test: {path} not found")


@pytest.fixture
def service(serve: Callable[..., Any], upstream: Any) -> Any:
    """A real ``breather serve`` (shared e2e fixture) whose "internet" answers the social page."""
    upstream.route(SOCIAL_HOST, "/r/aww/", SOCIAL_PAGE)
    return serve(RULES)


def _seed_earlier_usage(paths: Paths) -> None:
    """Twenty minutes on x.com earlier today, written the way the proxy writes it, so the popup has a day to show."""
    from breather.store.model import Heartbeat
    from breather.store.writer import Writer

    now = datetime.now(UTC)
    since_midnight = (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    duration = max(0.0, min(20 * 60.0, since_midnight - 120))
    writer = Writer(paths.database).start()
    try:
        writer.heartbeat(
            Heartbeat(PROFILE, OTHER_SOCIAL_HOST, now - timedelta(seconds=duration + 60), duration, source="proxy")
        )
        assert writer.flush(10), "the seeding writer did not commit"
    finally:
        writer.close()


@dataclass
class Chromium:
    context: BrowserContext
    worker: Worker
    base: str

    def current_worker(self) -> Worker:
        """The extension's service worker as it is now (a stopped worker is started again by the next event)."""
        return self.context.service_workers[-1]


@contextlib.contextmanager
def chromium_with_extension(service: Any, profile_dir: Path) -> Iterator[Chromium]:
    _require(CHROMIUM, "Debian's chromium")
    from playwright.sync_api import sync_playwright

    flags = [f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}", *CHROMIUM_FLAGS]
    flags.append(f"--ignore-certificate-errors-spki-list={spki_hash(service.paths.ca_certificate)}")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=CHROMIUM, headless=True, args=flags
        )
        try:
            worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
            yield Chromium(context, worker, f"chrome-extension://{worker.url.split('/')[2]}")
        finally:
            context.close()


def pair_on_consent_page(chromium: Chromium, service: Any) -> str:
    """The consent page: agree, give the service address and the code from the dashboard. Returns what the page
    then says about routing."""
    code = pairing_code(service.paths, PROFILE)
    welcome = chromium.context.new_page()
    welcome.goto(f"{chromium.base}/welcome/welcome.html")
    assert "Never:" in welcome.inner_text("body")
    welcome.fill("#service-url", service.web_url)
    welcome.fill("#code", code.lower().replace("-", " "))
    # The two consents come unticked: the person ticks what they agree to.
    for box in ("#consent-activity", "#consent-routing"):
        assert not welcome.is_checked(box), f"{box} must not come ticked"
        welcome.check(box)
    welcome.click("#pair")
    welcome.wait_for_selector("#done:not([hidden])", timeout=20_000)
    routing = welcome.inner_text("#routing-text")
    assert routing.startswith("Social sites now go through Breather."), routing
    # the form that held the focus is gone: a keyboard or screen-reader user is taken to the news
    assert welcome.evaluate("document.activeElement.id") == "done-heading"
    options = chromium.context.new_page()
    options.goto(f"{chromium.base}/options/options.html")
    options.wait_for_selector("#option-serviceUrl")
    described = options.evaluate(
        "[...document.querySelectorAll('#fields input')].map((input) => [input.id,"
        " document.getElementById(input.getAttribute('aria-describedby') || '')?.textContent || ''])"
    )
    assert described and all(help_text for _, help_text in described), described  # each field reads with its help
    options.close()
    return routing


def test_paired_extension_routes_social_sites_reports_activity_and_shows_the_day(
    service: Any, upstream: Any, tmp_path: Path
) -> None:
    _seed_earlier_usage(service.paths)
    with chromium_with_extension(service, tmp_path / "chromium-profile") as chromium:
        browser, worker, base = chromium.context, chromium.worker, chromium.base
        # no proxy of the person's own before: one short sentence
        assert pair_on_consent_page(chromium, service) == "Social sites now go through Breather."

        proxy = worker.evaluate("chrome.proxy.settings.get({})")
        assert proxy["levelOfControl"] == "controlled_by_this_extension"
        assert proxy["value"]["mode"] == "pac_script"
        pac = proxy["value"]["pacScript"]["data"]
        assert f"PROXY 127.0.0.1:{service.proxy_port}" in pac
        assert '"old.reddit.com"' in pac  # where each site goes: domains.test.js runs buildPac's PAC

        # Browse the social site: the PAC sends it through Breather, which answers with the recorded page.
        social = browser.new_page()
        social.goto(f"https://{SOCIAL_HOST}/r/aww/")
        assert "Recorded old.reddit.com" in social.inner_text("h1")
        assert upstream.asked_for(SOCIAL_HOST, "/r/aww/")
        social.bring_to_front()

        # Fire the heartbeat alarm now instead of waiting 30 s; the listener and the whole path are the real ones.
        worker.evaluate("chrome.alarms.create('breather-heartbeat', {delayInMinutes: 0.01, periodInMinutes: 0.5})")
        beats = wait_for(lambda: extension_heartbeats(service.paths), 30, "the extension's heartbeat", service)
        assert (PROFILE, SOCIAL_HOST) in beats
        assert all(site in {SOCIAL_HOST} for _, site in beats), "only the social site in front is reported"

        # Breather's in-page overlay is there (the page really came through Breather) and, within its 30 s
        # heartbeat, the service reports the traffic as seen through the proxy: what the popup's line says.
        social.wait_for_selector("html[data-breather='on']", timeout=10_000)
        social.mouse.move(40, 40)
        token = chromium.current_worker().evaluate("chrome.storage.local.get('token').then((stored) => stored.token)")
        wait_for(lambda: extension_status(service, token)["through_proxy"], 60, "the proxy to see the traffic", service)
        minutes_before = round(extension_status(service, token)["minutes_today"])
        assert minutes_before >= 1 or datetime.now(UTC).hour == 0

        popup = browser.new_page()
        popup.goto(f"{base}/popup/popup.html")
        popup.wait_for_selector("#view-status:not([hidden])", timeout=20_000)
        minutes_after = round(extension_status(service, token)["minutes_today"])
        # The reddit minutes keep growing while the test runs, so the popup's number lies between two readings.
        assert minutes_before <= int(popup.inner_text("#minutes")) <= minutes_after
        assert popup.inner_text("#limit") == " of 60"
        assert "Social sites go through Breather" in popup.inner_text("#routing")
        assert popup.inner_text("#ca") == "This browser trusts Breather's certificate."
        assert popup.get_attribute("#dashboard", "href") == f"{service.web_url}/"
        assert not upstream.asked_for(SOCIAL_HOST, "/__breather__/ping"), "the CA check must not reach the site"

        # Switching routing off gives the browser back its own proxy setting.
        popup.uncheck("#routing-switch")
        popup.wait_for_selector("#routing.breather-problem", timeout=10_000)
        after = chromium.current_worker().evaluate("chrome.proxy.settings.get({})")
        assert after["levelOfControl"] == "controllable_by_this_extension"
        assert after["value"]["mode"] != "pac_script"

        # The service stops: the popup says so plainly instead of showing stale numbers.
        service.stop()
        popup.reload()
        popup.wait_for_selector("#view-down:not([hidden])", timeout=20_000)
        assert "Breather is not running." in popup.inner_text("#view-down")
        assert service.web_url in popup.inner_text("#down-url")


def test_after_the_browser_restarts_social_sites_still_go_through_breather(
    service: Any, upstream: Any, tmp_path: Path
) -> None:
    """A user test found every social site going direct after a restart, the switch still ticked."""
    profile = tmp_path / "chromium-profile"
    with chromium_with_extension(service, profile) as chromium:
        pair_on_consent_page(chromium, service)

    with chromium_with_extension(service, profile) as chromium:
        proxy = wait_for(lambda: _pac_in_force(chromium), 20, "the extension's routing after the restart", service)
        assert f"PROXY 127.0.0.1:{service.proxy_port}" in proxy["value"]["pacScript"]["data"]
        social = chromium.context.new_page()
        social.goto(f"https://{SOCIAL_HOST}/r/aww/")
        social.wait_for_selector("html[data-breather='on']", timeout=10_000)  # the page came through Breather
        assert upstream.asked_for(SOCIAL_HOST, "/r/aww/")


def _pac_in_force(chromium: Chromium) -> dict[str, Any] | None:
    proxy: dict[str, Any] = chromium.current_worker().evaluate("chrome.proxy.settings.get({})")
    ours = proxy["levelOfControl"] == "controlled_by_this_extension" and proxy["value"].get("mode") == "pac_script"
    return proxy if ours else None


def _revoke_all_tokens(paths: Paths) -> None:
    """What "unpair" on the dashboard's Setup page does to this browser's token."""
    db = sqlite3.connect(paths.database)
    try:
        with db:
            db.execute("update api_tokens set revoked_at = ? where revoked_at is null", [datetime.now(UTC).isoformat()])
    finally:
        db.close()


def test_extension_survives_an_evicted_worker_and_asks_to_pair_again_after_revocation(
    service: Any, tmp_path: Path
) -> None:
    with chromium_with_extension(service, tmp_path / "chromium-profile") as chromium:
        pair_on_consent_page(chromium, service)
        chromium.worker.evaluate("globalThis.breatherTestMarker = 1")

        # Chrome stops idle extension workers; everything must come back from storage when the next event wakes it.
        page = chromium.context.pages[0]
        cdp = chromium.context.new_cdp_session(page)
        cdp.send("ServiceWorker.enable")
        cdp.send("ServiceWorker.stopAllWorkers")
        popup = chromium.context.new_page()
        popup.goto(f"{chromium.base}/popup/popup.html")
        popup.wait_for_selector("#view-status:not([hidden])", timeout=20_000)
        assert popup.inner_text("#limit") == " of 60"
        assert chromium.current_worker().evaluate("String(globalThis.breatherTestMarker)") == "undefined"

        _revoke_all_tokens(service.paths)
        popup.reload()
        popup.wait_for_selector("#view-pair:not([hidden])", timeout=20_000)
        assert "no longer recognises this browser" in popup.inner_text("#pair-revoked")
        assert chromium.current_worker().evaluate("chrome.action.getBadgeText({})") == "!"
