"""Calm mode in a real Chromium: counters are hidden on the page a person sees, posts and actions are not.

Hacker News and m.facebook.com on their real recorded pages; www.reddit.com's shreddit components on a page written
here in their documented shape (no real www.reddit page was recorded), with the counters inside shadow roots.
Pages are served with a strict nonce-only CSP where Breather's injected markup has to run under it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.overlay import asset, calm_markup, inject
from tests.proxy.conftest import CspSite

pytestmark = pytest.mark.e2e

NONCE = "c4lmn0nce"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'"


def open_served(browser: Any, page: bytes) -> tuple[Any, list[str], CspSite]:
    tab = browser.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    site = CspSite(page, CSP)
    tab.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())  # no internet: fail fast
    tab.goto(site.url, wait_until="load")
    return tab, errors, site


VISIBILITY = "element => getComputedStyle(element).visibility"


# --- Hacker News: the real front page -----------------------------------------------------------------------------


@pytest.mark.fixtures
def test_hacker_news_points_are_hidden_and_stories_stay(headless_chromium: Any, shared_fixtures: Path) -> None:
    page = (shared_fixtures / "feeds/hackernews/front_page_2023-10_jblanava.html").read_bytes()
    tab, errors, site = open_served(headless_chromium, inject(page, calm_markup(NONCE)))
    try:
        scores = tab.locator("span.score")
        assert scores.count() >= 20
        assert set(scores.evaluate_all(f"all => all.map({VISIBILITY})")) == {"hidden"}
        titles = tab.locator(".titleline > a")
        assert titles.count() >= 20
        assert set(titles.evaluate_all(f"all => all.map({VISIBILITY})")) == {"visible"}
        comment_links = tab.locator(".subline a[href^='item?id=']")
        assert set(comment_links.evaluate_all(f"all => all.map({VISIBILITY})")) == {"visible"}
        assert not [e for e in errors if "breather" in e.lower()]
    finally:
        site.close()


@pytest.mark.fixtures
def test_without_calm_the_same_points_show(headless_chromium: Any, shared_fixtures: Path) -> None:
    page = (shared_fixtures / "feeds/hackernews/front_page_2023-10_jblanava.html").read_bytes()
    tab, _errors, site = open_served(headless_chromium, page)
    try:
        assert set(tab.locator("span.score").evaluate_all(f"all => all.map({VISIBILITY})")) == {"visible"}
    finally:
        site.close()


# --- www.reddit.com (shreddit): counters inside open shadow roots ------------------------------------------------

# Written here after the documented shape of shreddit's markup: <shreddit-post score comment-count> with the title
# slotted in from the light DOM and the numbers drawn by <faceplate-number> inside the post's shadow root; comments'
# scores inside <shreddit-comment-action-row>'s shadow root. The components are defined at the end of the page (as
# when their bundle loads late); like Lit, each replaces its shadow root's adoptedStyleSheets when it renders; one
# post comes server-rendered in a declarative shadow root; a third post arrives later, as infinite scroll adds them.
SHREDDIT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>r/breadit</title></head>
<body>
<shreddit-feed>
  <shreddit-post id="t3_a" score="4312" comment-count="87">
    <a slot="title" href="/r/breadit/comments/a/">A slow loaf, start to finish</a>
  </shreddit-post>
  <shreddit-post id="t3_b" score="951" comment-count="12">
    <template shadowrootmode="open"><div class="actions"><button upvote>up</button>
      <faceplate-number number="951">951</faceplate-number><button downvote>down</button>
      <a class="comments" href="/r/breadit/comments/b/"><faceplate-number number="12">12</faceplate-number></a></div>
      <slot name="title"></slot></template>
    <a slot="title" href="/r/breadit/comments/b/">Starter that smells of apples</a>
  </shreddit-post>
</shreddit-feed>
<shreddit-comment thingid="t1_c" score="33">
  <div slot="comment"><p>Try a longer cold proof.</p></div>
  <shreddit-comment-action-row slot="actionRow" score="33"></shreddit-comment-action-row>
</shreddit-comment>
<script nonce="{nonce}">
  const own = new CSSStyleSheet();
  own.replaceSync(".actions {{ display: flex; gap: 4px; }}");
  const actions = (score, comments) => `<div class="actions"><button upvote>up</button>` +
    `<faceplate-number number="${{score}}">${{score}}</faceplate-number><button downvote>down</button>` +
    (comments === null ? "" :
      `<a class="comments"><faceplate-number number="${{comments}}">${{comments}}</faceplate-number></a>`) +
    `</div><slot name="title"></slot>`;
  class Post extends HTMLElement {{
    connectedCallback() {{
      const root = this.shadowRoot || this.attachShadow({{ mode: "open" }});
      root.adoptedStyleSheets = [own];
      root.innerHTML = actions(this.getAttribute("score"), this.getAttribute("comment-count"));
    }}
  }}
  class ActionRow extends HTMLElement {{
    connectedCallback() {{
      const root = this.shadowRoot || this.attachShadow({{ mode: "open" }});
      root.adoptedStyleSheets = [own];
      root.innerHTML = actions(this.getAttribute("score"), null);
    }}
  }}
  customElements.define("shreddit-post", Post);
  customElements.define("shreddit-comment-action-row", ActionRow);
  setTimeout(() => {{
    const later = document.createElement("shreddit-post");
    later.id = "t3_c";
    later.setAttribute("score", "77");
    later.setAttribute("comment-count", "5");
    later.innerHTML = '<a slot="title" href="/r/breadit/comments/c/">Rye, finally</a>';
    document.querySelector("shreddit-feed").append(later);
    requestAnimationFrame(() => requestAnimationFrame(() => {{ window.scrolledIn = true; }}));
  }}, 50);
</script>
</body></html>
"""

SHADOW_STATE = """() => [...document.querySelectorAll("shreddit-post, shreddit-comment-action-row")].map((host) => ({
  id: host.id || host.localName,
  numbers: [...host.shadowRoot.querySelectorAll("faceplate-number")].map((n) => getComputedStyle(n).visibility),
  buttons: [...host.shadowRoot.querySelectorAll("button")].map((b) => getComputedStyle(b).visibility),
  title: host.querySelector("[slot=title]") ? getComputedStyle(host.querySelector("[slot=title]")).visibility : null,
}))"""


def shreddit_state(browser: Any, page: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    tab, errors, site = open_served(browser, page)
    try:
        tab.wait_for_function("() => window.scrolledIn === true")
        return tab.evaluate(SHADOW_STATE), errors
    finally:
        site.close()


def test_shreddit_counters_inside_shadow_roots_are_hidden_and_the_rest_stays(headless_chromium: Any) -> None:
    page = SHREDDIT_PAGE.format(nonce=NONCE).encode()
    state, errors = shreddit_state(headless_chromium, inject(page, calm_markup(NONCE)))
    assert [host["id"] for host in state] == ["t3_a", "t3_b", "t3_c", "shreddit-comment-action-row"]
    for host in state:
        assert host["numbers"] and set(host["numbers"]) == {"hidden"}, host
        assert host["buttons"] and set(host["buttons"]) == {"visible"}, host
    assert [host["title"] for host in state[:3]] == ["visible"] * 3
    assert errors == []


def test_without_calm_the_shreddit_counters_show(headless_chromium: Any) -> None:
    page = SHREDDIT_PAGE.format(nonce=NONCE).encode()
    state, _errors = shreddit_state(headless_chromium, page)
    assert {visibility for host in state for visibility in host["numbers"]} == {"visible"}


# --- Signed-in badges: www.reddit.com's header and m.facebook.com's jewels ---------------------------------------

# The recordings are signed out, so these pages are written here after the signed-in markup: www.reddit.com's header
# puts a <dynamic-badge data-id="notification-count-element"> beside the bell (#notifications-inbox-button) and a
# badge with the id #header-action-item-chat-button-badge on the chat button, in the page's own DOM (the badge draws
# its number in its shadow root); m.facebook.com's top bar has one .jewel per tab, whose link holds the tab's name
# and a <span data-sigil="count"> with the red number.
SIGNED_IN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>signed in</title></head>
<body>
<reddit-header-action-items><header><nav>
  <span id="header-action-item-chat-button"><a href="/chat" class="bell">Chat</a>
    <dynamic-badge id="header-action-item-chat-button-badge" initial-count="2"></dynamic-badge></span>
  <faceplate-tracker noun="inbox"><a id="notifications-inbox-button" class="bell" href="/notifications">Inbox</a>
    <dynamic-badge data-id="notification-count-element" initial-count="5"></dynamic-badge></faceplate-tracker>
</nav></header></reddit-header-action-items>
<div id="mJewelNav">
  <div class="_59te jewel _hzb hasCount" id="requests_jewel" data-sigil="nav-popover requests">
    <a href="/friends/center/requests/" class="_19no touchable bell" data-sigil="icon"><span>Friend requests</span>
      <div class="_2ftp"><div class="_59tf" data-sigil="messenger_icon">
        <span class="_59tg" data-sigil="count">1</span></div></div></a></div>
  <div class="_59te jewel _hzb hasCount" id="notifications_jewel" data-sigil="nav-popover notifications">
    <a href="/notifications.php" class="_19no touchable bell" data-sigil="icon"><span>Notifications</span>
      <div class="_2ftp"><div class="_59tf" data-sigil="messenger_icon">
        <span class="_59tg" data-sigil="count">7</span></div></div></a></div>
</div>
<script nonce="{nonce}">
  customElements.define("dynamic-badge", class extends HTMLElement {{
    connectedCallback() {{
      const count = this.getAttribute("initial-count");
      this.attachShadow({{ mode: "open" }}).innerHTML = `<span class="count">${{count}}</span>`;
    }}
  }});
</script>
</body></html>
"""

BADGE_STATE = """() => ({
  badges: [...document.querySelectorAll("dynamic-badge, .jewel [data-sigil~=count]")].map((badge) => {
    const box = badge.getBoundingClientRect();
    return { shown: getComputedStyle(badge).visibility === "visible" && box.width * box.height > 0, count:
      badge.shadowRoot ? badge.shadowRoot.textContent : badge.textContent };
  }),
  bells: [...document.querySelectorAll(".bell")].map((bell) => [bell.textContent.trim(),
    getComputedStyle(bell).visibility === "visible" && bell.getBoundingClientRect().width > 0]),
})"""


def signed_in_state(browser: Any, page: bytes) -> dict[str, Any]:
    tab, errors, site = open_served(browser, page)
    try:
        assert errors == []
        return tab.evaluate(BADGE_STATE)
    finally:
        site.close()


def test_signed_in_unread_badges_are_hidden_and_their_buttons_stay(headless_chromium: Any) -> None:
    page = SIGNED_IN_PAGE.format(nonce=NONCE).encode()
    calmed = signed_in_state(headless_chromium, inject(page, calm_markup(NONCE)))
    assert [badge["count"] for badge in calmed["badges"]] == ["2", "5", "1", "7"]
    assert [badge["shown"] for badge in calmed["badges"]] == [False] * 4
    assert [name.split()[0] for name, _ in calmed["bells"]] == ["Chat", "Inbox", "Friend", "Notifications"]
    assert all(shown for _, shown in calmed["bells"]), "the bell, chat and jewel links stay usable"


def test_without_calm_the_signed_in_badges_show(headless_chromium: Any) -> None:
    page = SIGNED_IN_PAGE.format(nonce=NONCE).encode()
    state = signed_in_state(headless_chromium, page)
    assert [badge["shown"] for badge in state["badges"]] == [True] * 4


# --- m.facebook.com: the real recorded pages and the "see more" fragments ----------------------------------------

COUNTER_TEXT = re.compile(r"^[\s·]*\d[\d,.]*\s*[KM]?\s+(?:Likes?|comments?|shares?|replies|reply|people)\b")
POST_SELECTORS = "._5rgt, .msg, [data-sigil~='comment-body'], [data-sigil~='ufi-inline-like'], h3, header a"
TEXTS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text) found.push([text, getComputedStyle(node.parentElement).visibility]);
  }
  return found;
}"""
POSTS = f"() => [...document.querySelectorAll({json.dumps(POST_SELECTORS)})].map((e) => getComputedStyle(e).visibility)"
ADD_CALM = (
    "css => { const style = document.createElement('style'); style.textContent = css; document.head.append(style); }"
)


def facebook_pages(shared_fixtures: Path) -> list[tuple[str, str]]:
    folder = shared_fixtures / "feeds/facebook"
    pages = [(path.name, undefer(path.read_text(encoding="utf-8"))) for path in sorted(folder.glob("*.html"))]
    payload = json.loads((folder / "m_facebook_page_content_list_view_more.forloop_json.txt").read_text()[9:])
    fragments = [node["html"] for node in walk(payload) if isinstance(node.get("html"), str)]
    pages.append(("see-more fragments", "<html><head></head><body>" + "".join(fragments) + "</body></html>"))
    return pages


DEFERRED = re.compile(r"<code\b[^>]*><!--(.*?)--></code>", re.DOTALL)


def undefer(page: str) -> str:
    """What Facebook's script does on load: the markup it ships inside ``<code><!-- ... --></code>`` becomes page."""
    return DEFERRED.sub(lambda match: match.group(1), page)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


@pytest.mark.fixtures
def test_facebook_counts_are_hidden_and_posts_and_actions_are_not(
    headless_chromium: Any, shared_fixtures: Path
) -> None:
    # The recorded pages' own scripts cannot run offline.
    context = headless_chromium.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.route("**/*", lambda route: route.abort())
    counters_hidden = 0
    for name, html in facebook_pages(shared_fixtures):
        tab.set_content(html, wait_until="domcontentloaded")
        before = tab.evaluate(TEXTS)
        posts_before = tab.evaluate(POSTS)
        tab.evaluate(ADD_CALM, asset("calm.css"))
        after = tab.evaluate(TEXTS)
        assert [text for text, _ in after] == [text for text, _ in before], name
        for (text, was), (_, now) in zip(before, after, strict=True):
            if COUNTER_TEXT.match(text):
                assert now == "hidden", f"{name}: {text!r} still shows"
                counters_hidden += was == "visible"
            elif was != now:
                assert text in ("like this.",), f"{name}: calm hid {text!r}, which is not a counter"
        assert posts_before and tab.evaluate(POSTS) == posts_before, f"{name}: a post or action changed visibility"
    assert counters_hidden >= 30, "the recorded pages show dozens of counts"
    context.close()
