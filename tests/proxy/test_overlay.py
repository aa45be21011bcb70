from __future__ import annotations

import asyncio
import gzip
import html
import re
from typing import Any

import pytest
from mitmproxy import http
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.csp import add_nonce, add_nonce_to_meta
from breather.proxy.feed_warnings import FeedWarnings
from breather.proxy.overlay import Overlay, inject
from tests.proxy.conftest import rules_text

PAGE = b"<!doctype html><html><head><title>feed</title></head><body><p>hello</p></body></html>"


def page_flow(body: bytes = PAGE, *, status: int = 200, dest: str = "document", headers: dict[str, str] | None = None):
    flow = tflow.tflow(resp=True)
    flow.request.host = "news.ycombinator.com"
    flow.request.headers["sec-fetch-dest"] = dest
    flow.metadata[flows.SITE] = "news.ycombinator.com"
    flow.response = http.Response.make(status, body, {"content-type": "text/html; charset=utf-8", **(headers or {})})
    return flow


def nonce_in(body: bytes) -> str:
    match = re.search(rb'<script nonce="([^"]+)" id="breather-overlay"', body)
    assert match, body[:400]
    return match.group(1).decode()


def test_a_document_gets_the_overlay_before_head_end_with_a_nonce_in_its_csp(make_runtime) -> None:
    csp = "default-src 'self'; script-src 'self' https://cdn.example"
    flow = page_flow(headers={"content-security-policy": csp})
    Overlay(make_runtime()).response(flow)
    body = flow.response.content
    nonce = nonce_in(body)
    assert body.index(b'id="breather-overlay"') < body.index(b"</head>")
    assert f"script-src 'self' https://cdn.example 'nonce-{nonce}'" in flow.response.headers["content-security-policy"]
    assert f"style-src 'self' 'nonce-{nonce}'" in flow.response.headers["content-security-policy"]


def test_a_gzip_page_is_sent_as_identity_after_injection(make_runtime) -> None:
    flow = page_flow(headers={"content-encoding": "gzip"})
    flow.response.raw_content = gzip.compress(PAGE)
    Overlay(make_runtime()).response(flow)
    assert "content-encoding" not in flow.response.headers
    assert b"breather-overlay" in flow.response.raw_content


def untouched(runtime: Any, flow: Any) -> bool:
    before = flow.response.raw_content
    Overlay(runtime).response(flow)
    return flow.response.raw_content == before


def test_error_pages_fragments_and_other_sites_are_left_alone(make_runtime) -> None:
    runtime = make_runtime()
    assert untouched(runtime, page_flow(status=404))
    assert untouched(runtime, page_flow(dest="empty"))
    not_ours = page_flow()
    del not_ours.metadata[flows.SITE]
    assert untouched(runtime, not_ours)


def test_a_break_that_is_due_reaches_the_overlay_config(make_runtime) -> None:
    flow = page_flow()
    flow.metadata[flows.BREAK_DUE] = {"kind": "cadence", "reason": "25 minutes", "snooze_allowed": False}
    Overlay(make_runtime()).response(flow)
    assert b"&quot;break_due&quot;:true" in flow.response.content
    assert b"&quot;snooze_allowed&quot;:false" in flow.response.content


def test_injection_falls_back_to_body_then_to_the_start() -> None:
    assert inject(b"<body class=x><p>a</p>", b"<X>") == b"<body class=x><X><p>a</p>"
    assert inject(b"<p>a</p>", b"<X>") == b"<X><p>a</p>"


SITE_SCRIPT = b"<script>var frame = '<html><head></head><body>ad</body></html>'; window.ok = frame.length;</script>"
SITE_STATE = b'<script type="application/json">{"post":"Tip: put your analytics tag before </head>."}</script>'


@pytest.mark.parametrize(
    "script",
    [SITE_SCRIPT, SITE_STATE, b"<!-- </head> -->", b"<title>a </head> tip</title>"],
    ids=["script-string", "json-state", "comment", "title"],
)
def test_a_head_end_in_the_sites_own_script_or_comment_is_not_where_the_overlay_goes(make_runtime, script) -> None:
    """Inserted there, the overlay's ``</script>`` closed the site's script early: the site's script failed."""
    page = b"<!doctype html><html><head>" + script + b"</head><body><p>hello</p></body></html>"
    flow = page_flow(page)
    Overlay(make_runtime()).response(flow)
    body = flow.response.content
    assert body.startswith(b"<!doctype html><html><head>" + script + b"<style nonce=")
    assert body.endswith(b"</script></head><body><p>hello</p></body></html>")


def test_a_body_tag_in_the_sites_own_script_is_not_where_the_overlay_goes() -> None:
    page = b"<script>document.write('<body>')</script><body class=x><p>a</p>"
    assert inject(page, b"<X>") == b"<script>document.write('<body>')</script><body class=x><X><p>a</p>"


def test_a_head_end_in_a_script_does_not_hide_the_meta_policy_after_it(make_runtime) -> None:
    tag = f'<meta http-equiv="Content-Security-Policy" content="{META_POLICY}">'.encode()
    flow = page_flow(b"<!doctype html><html><head>" + SITE_STATE + tag + b"</head><body>x</body></html>")
    Overlay(make_runtime()).response(flow)
    nonce = nonce_in(flow.response.content)
    assert f"script-src 'self' https://cdn.example 'nonce-{nonce}'".encode() in flow.response.content


def test_a_policy_tag_inside_the_sites_script_is_left_as_the_site_wrote_it() -> None:
    script = b'<script>var tag = \'<meta http-equiv="Content-Security-Policy" content="script-src a">\';</script>'
    document = b"<html><head>" + script + b"</head><body></body></html>"
    assert add_nonce_to_meta(document, "N") == document


UTF16_PAGE = "<!doctype html><html><head><title>Hallo Welt</title></head><body><p>Grüße aus Köln</p></body></html>"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (UTF16_PAGE.encode("utf-16"), "text/html"),
        (UTF16_PAGE.encode("utf-16-be"), "text/html; charset=UTF-16BE"),
        (UTF16_PAGE.encode("utf-16-le"), 'text/html; charset="utf-16le"'),
        (b"\xfe\xff" + UTF16_PAGE.encode("utf-16-be"), "text/html; charset=utf-8"),
    ],
    ids=["bom", "header-be", "header-le-quoted", "bom-over-header"],
)
def test_a_utf16_page_goes_out_as_it_came(make_runtime, body, content_type) -> None:
    """The overlay's ASCII markup at the start of a UTF-16 page turned the whole page into CJK-looking garbage."""
    flow = page_flow(body, headers={"content-type": content_type})
    Overlay(make_runtime()).response(flow)
    assert flow.response.content == body


def test_a_utf8_page_with_a_byte_order_mark_still_gets_the_overlay(make_runtime) -> None:
    flow = page_flow(b"\xef\xbb\xbf" + PAGE, headers={"content-type": "text/html; charset=utf-16"})
    Overlay(make_runtime()).response(flow)
    assert b'id="breather-overlay"' in flow.response.content


def test_unsafe_inline_without_nonces_is_left_alone_so_the_site_keeps_working() -> None:
    """A nonce beside 'unsafe-inline' makes browsers ignore 'unsafe-inline', which would block the site's own inline
    scripts and styles: such a policy goes out exactly as it came."""
    policy = "script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'"
    assert add_nonce(policy, "N") == policy


def test_a_nonce_policy_gets_ours_added_and_connect_src_allows_the_local_api() -> None:
    policy = "script-src 'nonce-site' 'strict-dynamic'; connect-src https://api.example"
    result = add_nonce(policy, "N")
    assert "script-src 'nonce-site' 'strict-dynamic' 'nonce-N'" in result
    assert "connect-src https://api.example 'self'" in result


META_POLICY = "default-src 'self'; script-src 'self' https://cdn.example"


def meta_page(tag: bytes) -> bytes:
    return b"<!doctype html><html><head><meta charset=utf-8>" + tag + b"<title>feed</title></head><body>x</body></html>"


def test_a_policy_in_a_meta_tag_gets_the_nonce_and_the_rest_of_the_page_is_untouched(make_runtime) -> None:
    tag = f'<meta http-equiv="Content-Security-Policy" content="{META_POLICY}">'.encode()
    flow = page_flow(meta_page(tag))
    Overlay(make_runtime()).response(flow)
    body = flow.response.content
    nonce = nonce_in(body)
    expected = (
        f"default-src 'self'; script-src 'self' https://cdn.example 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'"
    )
    new_tag = f'<meta http-equiv="Content-Security-Policy" content="{expected}">'.encode()
    markup_start = body.index(b"<style nonce=")
    assert body[:markup_start] == meta_page(new_tag)[: meta_page(new_tag).index(b"</head>")]
    assert body[body.index(b"</head>") :] == b"</head><body>x</body></html>"
    assert "content-security-policy" not in flow.response.headers


def test_header_and_meta_policies_both_get_the_same_nonce(make_runtime) -> None:
    tag = b"<META Content='script-src &#39;nonce-site&#39;' HTTP-EQUIV=content-security-policy>"
    flow = page_flow(meta_page(tag), headers={"content-security-policy": "style-src 'self'"})
    Overlay(make_runtime()).response(flow)
    nonce = nonce_in(flow.response.content)
    assert f"style-src 'self' 'nonce-{nonce}'" == flow.response.headers["content-security-policy"]
    found = re.search(rb"<META Content='([^']*)' HTTP-EQUIV=content-security-policy>", flow.response.content)
    assert found, flow.response.content[:300]
    assert html.unescape(found.group(1).decode()) == f"script-src 'nonce-site' 'nonce-{nonce}'"


def test_a_header_policy_alone_leaves_the_head_byte_identical(make_runtime) -> None:
    flow = page_flow(
        meta_page(b'<meta name="referrer" content="origin">'), headers={"content-security-policy": META_POLICY}
    )
    Overlay(make_runtime()).response(flow)
    nonce = nonce_in(flow.response.content)
    assert flow.response.content.startswith(meta_page(b'<meta name="referrer" content="origin">').split(b"</head>")[0])
    assert f"'nonce-{nonce}'" in flow.response.headers["content-security-policy"]


def test_a_meta_policy_relying_on_unsafe_inline_only_gains_connect_src_self(make_runtime) -> None:
    tag = b'<meta http-equiv="Content-Security-Policy" content="default-src https://cdn.example \'unsafe-inline\'">'
    flow = page_flow(meta_page(tag))
    Overlay(make_runtime()).response(flow)
    head = flow.response.content.split(b"<style nonce=")[0]
    policy = "default-src https://cdn.example 'unsafe-inline'; connect-src https://cdn.example 'unsafe-inline' 'self'"
    assert f'<meta http-equiv="Content-Security-Policy" content="{policy}">'.encode() in head
    assert b"nonce-" not in head


def test_meta_policies_outside_the_head_are_not_touched() -> None:
    tag = b'<meta http-equiv="Content-Security-Policy" content="script-src \'self\'">'
    document = b"<html><head></head><body>" + tag + b"</body></html>"
    assert add_nonce_to_meta(document, "N") == document


def test_script_and_style_element_directives_get_the_nonce_too() -> None:
    """CSP Level 3: ``<script>`` and ``<style>`` elements answer to ``*-src-elem`` first; a nonce only in
    ``script-src``/``style-src`` left the overlay blocked on such a site."""
    policy = "script-src 'self'; script-src-elem 'self' https://cdn.example; style-src-elem 'self'"
    result = add_nonce(policy, "N")
    assert "script-src-elem 'self' https://cdn.example 'nonce-N'" in result
    assert "style-src-elem 'self' 'nonce-N'" in result
    assert "script-src 'self' 'nonce-N'" in result
    unsafe_inline = "script-src-elem 'unsafe-inline'"
    assert add_nonce(unsafe_inline, "N") == unsafe_inline  # the site's own inline scripts keep working
    assert add_nonce("style-src-elem 'none'", "N") == "style-src-elem 'nonce-N'"


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (206, PAGE[:40], {"content-range": f"bytes 0-39/{len(PAGE)}"}),
        (204, b"", {}),
        (205, b"", {}),
    ],
)
def test_range_and_no_content_answers_go_out_as_they_came(make_runtime, status, body, headers) -> None:
    """A 206 that grew no longer matched its Content-Range (the browser pieced a broken page together); a 204 with a
    body breaks HTTP/1 framing for the next answer on the connection."""
    flow = page_flow(body, status=status, headers={"content-security-policy": "script-src 'self'", **headers})
    before = (flow.response.raw_content, flow.response.headers.copy())
    Overlay(make_runtime()).response(flow)
    assert (flow.response.raw_content, flow.response.headers) == before


FORUM_RULES = '[sites.forum]\nadapter = "generic"\ndomains = ["forum.example"]\n'
DISTRESSING = "I want to kill myself tonight, I cannot go on"
NEAR_CAP = 20_000


def near_cap_page(head: bytes = b"") -> bytes:
    """A forum page a little under NEAR_CAP: one distressing post, then calm ones; its marks push it over."""
    page = b"<!doctype html><html><head><title>forum</title>" + head + b"</head><body>"
    page += f"<article id='p1'><p>{DISTRESSING}</p></article>".encode()
    filler = b"<p>" + b"calm words " * 10 + b"</p>\n"
    while len(page) + len(filler) < NEAR_CAP - 100:
        page += filler
    return page + b"</body></html>"


def forum_flow(body: bytes, headers: dict[str, str]) -> Any:
    flow = page_flow(body, headers=headers)
    flow.request.host = "forum.example"
    flow.metadata[flows.SITE] = "forum.example"
    flow.metadata[flows.ADAPTER] = "generic"
    flow.metadata[flows.PROFILE] = "me"
    return flow


def marked_then_overlaid(runtime: Any, flow: Any) -> bytes:
    """Through the response steps as the proxy runs them: the content warnings, then the overlay."""
    asyncio.run(FeedWarnings(runtime).response(flow))
    Overlay(runtime).response(flow)
    return bytes(flow.response.content)


def reveal_nonce(body: bytes) -> str:
    match = re.search(rb'<script nonce="([^"]+)" data-breather="reveal">', body)
    assert match, "the page was not marked"
    return match.group(1).decode()


def test_a_page_the_warnings_push_over_the_cap_still_lets_its_posts_be_revealed(make_runtime) -> None:
    """The overlay is not injected into a page over the cap, and it was the only step that put the nonce into the
    page's CSP: the site's policy then blocked warnings.css and reveal.js, and "Show post" did nothing."""
    runtime = make_runtime(rules_text(extra_profiles=FORUM_RULES), body_size_cap=NEAR_CAP, classify_budget_ms=5000)
    meta = b'<meta http-equiv="Content-Security-Policy" content="style-src \'self\'">'
    page = near_cap_page(meta)
    assert len(page) < NEAR_CAP
    flow = forum_flow(page, {"content-security-policy": "script-src 'self'; style-src 'self'"})
    body = marked_then_overlaid(runtime, flow)
    assert len(body) > NEAR_CAP and b'id="breather-overlay"' not in body
    nonce = reveal_nonce(body)
    policy = flow.response.headers["content-security-policy"]
    assert f"script-src 'self' 'nonce-{nonce}'" in policy and f"style-src 'self' 'nonce-{nonce}'" in policy
    assert (
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"style-src 'self' 'nonce-{nonce}'\">".encode() in body
    )


def test_when_the_overlay_step_fails_the_warnings_it_leaves_in_the_page_still_work(make_runtime, monkeypatch) -> None:
    runtime = make_runtime(rules_text(extra_profiles=FORUM_RULES), classify_budget_ms=5000)

    def broken(self: Overlay, flow: Any) -> dict[str, Any]:
        raise RuntimeError("helpline table unreadable")

    monkeypatch.setattr(Overlay, "_config", broken)
    page = b"<html><head></head><body>" + f"<article id='p1'><p>{DISTRESSING}</p></article>".encode() + b"</body>"
    flow = forum_flow(page, {"content-security-policy": "script-src 'self'; style-src 'self'"})
    body = marked_then_overlaid(runtime, flow)
    assert b'id="breather-overlay"' not in body and runtime.counters.get("passed_after_error") == 1
    nonce = reveal_nonce(body)
    assert f"script-src 'self' 'nonce-{nonce}'" in flow.response.headers["content-security-policy"]


def test_a_page_over_the_cap_that_nothing_marked_keeps_its_policy(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_profiles=FORUM_RULES), body_size_cap=1000)
    flow = forum_flow(near_cap_page(), {"content-security-policy": "script-src 'self'"})
    before = (flow.response.raw_content, flow.response.headers.copy())
    marked_then_overlaid(runtime, flow)
    assert (flow.response.raw_content, flow.response.headers) == before
