"""The browser extension in real Firefox ESR, paired with a real ``breather serve``.

A person's path: the extension is installed (temporarily, as from about:debugging) and its "Set up Breather" tab
opens by itself; they pair on it with a code from the dashboard and press "Allow routing" (Firefox only proxies
sites the extension has permission for). A site outside the rules then loads directly, a social site loads through
the real proxy with Breather's overlay on it, the extension's heartbeat lands in the real SQLite store, and the
popup says that social sites go through Breather and that this Firefox trusts Breather's certificate. Switched
off in the popup, routing stops at once: the next social page does not reach Breather.

Firefox routes with ``proxy.onRequest`` (not a PAC), so this covers the half of ``lib/routing.js`` that Chromium
never runs. The only fake is the internet: the shared ``upstream`` fixture answers as old.reddit.com, and a small
plain-HTTP server on 127.0.0.1 answers as ``direct.test`` (a name only Firefox can resolve, through the
``network.dns.localDomains`` pref: sent through the proxy, it could not load).
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    EXTENSION,
    EXTENSION_PROFILE,
    EXTENSION_RULES,
    SOCIAL_HOST,
    SOCIAL_PAGE,
    extension_heartbeats,
    extension_status,
    pairing_code,
    wait_for,
)
from tests.e2e.firefox import EXTENSION_BASE, Firefox, firefox

pytestmark = pytest.mark.e2e

DIRECT_HOST = "direct.test"
PROFILE = EXTENSION_PROFILE
RULES = EXTENSION_RULES
NEW_SITE = "lobste.rs"
NEW_SITE_RULES = f"""
[sites.lobsters]
adapter = "hackernews"
domains = ["{NEW_SITE}"]
"""
DIRECT_PAGE = b"<!doctype html><html><head><title>Direct</title></head><body><h1>Reached directly</h1></body></html>"
# A social site a plain-HTTP address can reach (old.reddit.com is on Firefox's HSTS preload list: it goes https).
FORUM = "forum.test"
FORUM_RULES = f"""
[sites.forum]
adapter = "hackernews"
domains = ["{FORUM}"]
"""
OWN_PROXY_PAGE = b"<!doctype html><html><head><title>Own</title></head><body><h1>Via their own proxy</h1></body></html>"


@pytest.fixture
def service(serve: Any, upstream: Any) -> Any:
    upstream.route(SOCIAL_HOST, "/r/aww/", SOCIAL_PAGE)
    upstream.route(SOCIAL_HOST, "/r/cats/", SOCIAL_PAGE)
    upstream.route(SOCIAL_HOST, "/r/dogs/", SOCIAL_PAGE)
    return serve(RULES)


@pytest.fixture
def direct_site() -> Iterator[tuple[int, list[str]]]:
    """A plain-HTTP site on 127.0.0.1 that is not in the rules; yields its port and the paths it was asked for."""
    with _page_server(DIRECT_PAGE) as served:
        yield served


@contextlib.contextmanager
def _page_server(page: bytes) -> Iterator[tuple[int, list[str]]]:
    """Answers every GET with ``page``; yields its port and what it was asked for (a full URL when used as a proxy)."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="e2e-page-server", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), asked
    finally:
        server.shutdown()
        server.server_close()


def _flows_seen(service: Any) -> int:
    return int(service.health()["proxy"]["flows_seen"])


def _text(browser: Firefox, handle: str, selector: str) -> str:
    script = "const [selector, done] = arguments; done(document.querySelector(selector)?.innerText ?? null);"
    return str(browser.page_script(handle, script, (selector,)))


def _shown(browser: Firefox, handle: str, selector: str) -> bool:
    script = "const [selector, done] = arguments; done(Boolean(document.querySelector(selector)));"
    return bool(browser.page_script(handle, script, (selector,)))


def _checked(browser: Firefox, handle: str, selector: str) -> bool:
    script = "const [selector, done] = arguments; done(document.querySelector(selector).checked);"
    return bool(browser.page_script(handle, script, (selector,)))


def _storage(browser: Firefox, handle: str, key: str) -> Any:
    script = "const [key, done] = arguments; browser.storage.local.get(key).then((got) => done(got[key] ?? null));"
    return browser.page_script(handle, script, (key,))


def _click(browser: Firefox, handle: str, selector: str) -> None:
    from marionette_driver.by import By

    browser.client.switch_to_window(handle)
    browser.client.find_element(By.CSS_SELECTOR, selector).click()


def _type(browser: Firefox, handle: str, selector: str, text: str) -> None:
    from marionette_driver.by import By

    browser.client.switch_to_window(handle)
    field = browser.client.find_element(By.CSS_SELECTOR, selector)
    field.clear()
    field.send_keys(text)


def _pairing_outcome(browser: Firefox, handle: str) -> str | None:
    """The consent page's answer: "paired", the problem it shows, or None while it is still asking."""
    if _shown(browser, handle, "#done:not([hidden])"):
        return "paired"
    return _text(browser, handle, "#problem") or None


def pair_and_allow_routing(browser: Firefox, service: Any) -> str:
    """The "Set up Breather" tab that opened on install: pair, then Firefox's extra "Allow routing" step."""
    welcome = browser.tab_with_url(f"{EXTENSION_BASE}/welcome/welcome.html")
    # The tab has its address before its page has a body.
    wait_for(lambda: "Never:" in _text(browser, welcome, "body"), 10, "the welcome page's text")
    prefilled = "const [done] = arguments; done(document.querySelector('#service-url').value);"
    default = wait_for(lambda: browser.page_script(welcome, prefilled), 10, "the prefilled service address")
    assert default == "http://127.0.0.1:8765"
    _type(browser, welcome, "#service-url", service.web_url)
    _type(browser, welcome, "#code", pairing_code(service.paths, PROFILE).lower().replace("-", " "))
    # The two consents come unticked: the person ticks what they agree to.
    for box in ("#consent-activity", "#consent-routing"):
        assert not _checked(browser, welcome, box), f"{box} must not come ticked"
        _click(browser, welcome, box)
    _click(browser, welcome, "#pair")
    outcome = wait_for(lambda: _pairing_outcome(browser, welcome), 20, "the pairing answer", service)
    assert outcome == "paired", f"pairing failed on the consent page: {outcome}"
    assert _shown(browser, welcome, "#firefox-step:not([hidden])"), "Firefox's 'Allow routing' step is missing"
    assert SOCIAL_HOST in _text(browser, welcome, "#firefox-sites")
    _click(browser, welcome, "#allow-routing")
    routed = "Social sites now go through Breather."
    wait_for(lambda: _text(browser, welcome, "#routing-text") == routed, 20, "routing to be on", service)
    # The last step says what this Firefox really does: private windows are left out until allowed
    # (isAllowedIncognitoAccess() is false), a temporary add-on is gone when Firefox closes, and where the button is.
    assert "Run in Private Windows" in _text(browser, welcome, "#private-windows")
    assert "temporary add-on" in _text(browser, welcome, "#temporary")
    assert "Pin to Toolbar" in _text(browser, welcome, "#toolbar")
    return welcome


def open_tab(browser: Firefox, url: str, *, may_fail: bool = False) -> str:
    """A new tab in front, at ``url`` (Marionette waits for the page to load; ``may_fail``: or its error page)."""
    from marionette_driver.errors import MarionetteException

    client = browser.client
    handle = str(client.open(type="tab", focus=True)["handle"])
    client.switch_to_window(handle)
    try:
        client.navigate(url)
    except MarionetteException as error:
        if not (may_fail and "error page" in str(error)):
            raise
    return handle


def test_firefox_routes_only_social_sites_through_breather_and_reports_activity(
    service: Any, upstream: Any, direct_site: tuple[int, list[str]], tmp_path: Path
) -> None:
    direct_port, direct_asked = direct_site
    with firefox(tmp_path / "firefox-profile", service.ca, local_names=(DIRECT_HOST, SOCIAL_HOST)) as browser:
        assert browser.install_extension(EXTENSION) == "breather@breather.local"
        welcome = pair_and_allow_routing(browser, service)

        # A site outside the rules goes direct: it loads although the proxy could not even resolve its name.
        flows_before = _flows_seen(service)
        direct = open_tab(browser, f"http://{DIRECT_HOST}:{direct_port}/account")
        assert _text(browser, direct, "h1") == "Reached directly"
        assert "/account" in direct_asked
        assert _flows_seen(service) == flows_before, "the direct site must not pass through Breather"

        # The social site goes through the real proxy (TLS with the Breather CA this profile trusts).
        social = open_tab(browser, f"https://{SOCIAL_HOST}/r/aww/")
        assert _text(browser, social, "h1") == "Recorded old.reddit.com"
        assert upstream.asked_for(SOCIAL_HOST, "/r/aww/")
        assert _flows_seen(service) > flows_before
        wait_for(lambda: _shown(browser, social, "html[data-breather='on']"), 20, "Breather's overlay", service)

        # Fire the heartbeat alarm now instead of waiting 30 s; the listener and the whole path are the real ones.
        browser.page_script(
            welcome,
            "const [done] = arguments;"
            "browser.alarms.create('breather-heartbeat', {delayInMinutes: 0.01, periodInMinutes: 0.5}).then(done);",
        )
        beats = wait_for(lambda: extension_heartbeats(service.paths), 60, "the extension's heartbeat", service)
        assert (PROFILE, SOCIAL_HOST) in beats
        assert {site for _, site in beats} == {SOCIAL_HOST}, "only the social site in front is reported"

        # Within its 30 s heartbeat Breather's overlay on the page tells the service the traffic came through it:
        # the popup's "Social sites go through Breather" line is read from that.
        token = browser.page_script(
            welcome, "const [done] = arguments; browser.storage.local.get('token').then((s) => done(s.token));"
        )
        wait_for(lambda: extension_status(service, token)["through_proxy"], 60, "the proxy to see it", service)

        # The popup page (opened as a tab): routing really on, and this Firefox trusts Breather's certificate.
        # Marionette may not navigate a web tab to an extension page; the extension opens it as it does itself.
        browser.page_script(
            welcome, "const [done] = arguments; browser.tabs.create({url: '/popup/popup.html'}).then(() => done());"
        )
        popup = browser.tab_with_url(f"{EXTENSION_BASE}/popup/popup.html")
        wait_for(lambda: _shown(browser, popup, "#view-status:not([hidden])"), 20, "the popup's day", service)
        assert "Social sites go through Breather" in _text(browser, popup, "#routing")
        assert _text(browser, popup, "#ca") == "This browser trusts Breather's certificate."
        assert _text(browser, popup, "#limit").strip() == "of 60"
        assert not upstream.asked_for(SOCIAL_HOST, "/__breather__/ping"), "the CA check must not reach the site"

        # A site added to the rules (a tightening, in force at once) is one Firefox has not allowed yet: routing must
        # stay on for the sites it allows, and the popup asks for exactly the new one from a click.
        service.paths.rules_file.write_text(RULES + NEW_SITE_RULES, encoding="utf-8")
        headers = {"Authorization": f"Bearer {token}"}

        def served_domains() -> list[str]:
            return list(httpx.get(f"{service.web_url}/api/v1/config", headers=headers, timeout=5).json()["domains"])

        wait_for(lambda: NEW_SITE in served_domains(), 20, "the service to serve the new site", service)
        # The extension refreshes its copy every five minutes on the heartbeat: age it and fire the alarm now.
        browser.page_script(
            welcome,
            "const [done] = arguments; browser.storage.local.get('config').then(({config}) =>"
            " browser.storage.local.set({config: {...config, fetchedAt: 0}})).then(() =>"
            " browser.alarms.create('breather-heartbeat', {delayInMinutes: 0.01, periodInMinutes: 0.5})).then(done);",
        )
        wait_for(
            lambda: NEW_SITE in (_storage(browser, welcome, "config") or {}).get("domains", []),
            60,
            "the extension to take the new site",
            service,
        )
        assert _storage(browser, welcome, "routingEnabled") is True, "a new site switched routing off"
        dogs = open_tab(browser, f"https://{SOCIAL_HOST}/r/dogs/")
        assert _text(browser, dogs, "h1") == "Recorded old.reddit.com"
        assert upstream.asked_for(SOCIAL_HOST, "/r/dogs/")
        browser.client.switch_to_window(popup)
        browser.client.refresh()
        wait_for(lambda: _shown(browser, popup, "#permission-step:not([hidden])"), 20, "the popup to ask", service)
        asking = _text(browser, popup, "#permission")
        assert f"1 site needs Firefox's OK before going through Breather: {NEW_SITE}." in asking
        assert "Social sites go through Breather" in _text(browser, popup, "#routing")
        assert "Run in Private Windows" in _text(browser, popup, "#private-windows")
        assert "temporary add-on" in _text(browser, popup, "#temporary")
        _click(browser, popup, "#allow-sites")
        allowed_shown = "#permission-step[hidden]"
        wait_for(lambda: _shown(browser, popup, allowed_shown), 20, "Firefox to allow the new site", service)
        allowed = browser.page_script(
            popup,
            "const [origins, done] = arguments; browser.permissions.contains({origins}).then(done);",
            ([f"https://*.{NEW_SITE}/*", f"http://*.{NEW_SITE}/*"],),
        )
        assert allowed is True

        # Routing switched off in the popup: the next social page no longer goes through Breather. (Here it cannot
        # load at all: this profile resolves old.reddit.com to 127.0.0.1, where nothing listens on 443.)
        _click(browser, popup, "#routing-switch")
        wait_for(lambda: _shown(browser, popup, "#routing.breather-problem"), 20, "routing to be off", service)
        again = open_tab(browser, f"https://{SOCIAL_HOST}/r/cats/", may_fail=True)
        assert _text(browser, again, "h1") != "Recorded old.reddit.com"
        assert not upstream.asked_for(SOCIAL_HOST, "/r/cats/")


def _document_uri(browser: Firefox, handle: str) -> str:
    """What the tab really shows: the page's own address, or Firefox's error page (``about:neterror?e=…``)."""
    browser.client.switch_to_window(handle)
    return str(browser.client.execute_script("return document.documentURI;"))


def test_firefox_social_site_waits_for_breather_when_it_is_down(
    serve: Any, direct_site: tuple[int, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Breather down: a social site shows Firefox's proxy error, even when this Firefox has a proxy of its own.

    The person's own proxy (a system proxy, as a school or family filter sets) is a page server named by
    ``http_proxy``, which Firefox's "Use system proxy settings" reads: Firefox fails over to it from an extension's
    proxy unless the extension's answer ends in null. ``direct.test`` is exempt from that proxy (``no_proxy``), so
    it shows that a site outside the rules still loads directly, from the same server the social name resolves to.
    """
    direct_port, direct_asked = direct_site
    service = serve(RULES + FORUM_RULES)
    with _page_server(OWN_PROXY_PAGE) as (own_proxy_port, own_proxy_asked):
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{own_proxy_port}")
        monkeypatch.setenv("no_proxy", f"127.0.0.1,localhost,{DIRECT_HOST}")
        local_names = (DIRECT_HOST, SOCIAL_HOST, FORUM)
        with firefox(tmp_path / "firefox-profile", service.ca, local_names=local_names) as browser:
            assert browser.install_extension(EXTENSION) == "breather@breather.local"
            welcome = pair_and_allow_routing(browser, service)
            assert FORUM in _text(browser, welcome, "#firefox-sites")

            # This Firefox really has its own proxy: a site outside the rules and not exempt goes through it.
            other = open_tab(browser, f"http://elsewhere.test:{direct_port}/news")
            assert _text(browser, other, "h1") == "Via their own proxy"
            assert f"http://elsewhere.test:{direct_port}/news" in own_proxy_asked

            assert service.stop() == 0
            forum_url = f"http://{FORUM}:{direct_port}/newest"
            for attempt in ("first", "again"):
                social = open_tab(browser, forum_url, may_fail=True)
                assert forum_url not in own_proxy_asked, f"the {attempt} load skipped Breather for the person's proxy"
                assert "/newest" not in direct_asked, f"the {attempt} load skipped Breather and went direct"
                shown = _document_uri(browser, social)
                assert shown.startswith("about:neterror?e=proxyConnectFailure"), f"the {attempt} load showed {shown}"

            direct = open_tab(browser, f"http://{DIRECT_HOST}:{direct_port}/account")
            assert _text(browser, direct, "h1") == "Reached directly"
            assert "/account" in direct_asked
