from __future__ import annotations

import gzip
import html
import re
from typing import Any

from mitmproxy import http
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.csp import add_nonce, add_nonce_to_meta
from breather.proxy.overlay import Overlay, inject

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


def test_unsafe_inline_without_nonces_is_left_alone_so_the_site_keeps_working() -> None:
    policy = "script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'"
    assert "nonce" not in add_nonce(policy, "N")


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
