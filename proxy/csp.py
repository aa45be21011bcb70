"""Add Breather's nonce to a page's Content-Security-Policy so the injected overlay may run, and nothing more.

Only ``script-src``/``style-src`` (or ``default-src`` when they are absent) are touched, and
``script-src-elem``/``style-src-elem`` when the policy has them (they govern ``<script>`` and ``<style>`` elements
ahead of the other two). A directive that allows ``'unsafe-inline'`` without nonces or hashes is left alone: adding a
nonce there would switch ``'unsafe-inline'`` off and break the site's own inline scripts.
"""

from __future__ import annotations

import html
import re

from mitmproxy import http

from breather.proxy.adapters.htmljump import MarkupReader, first_markup

FETCH_DIRECTIVES = ("script-src", "style-src")
ELEMENT_DIRECTIVES = ("script-src-elem", "style-src-elem")

# A start tag whose quoted attribute values may hold ``>``; attributes inside it, with their value span.
# No "<" inside a tag or its quoted values: otherwise every "<meta" of an unclosed run ('<meta "<meta "...') would
# rescan to the end of the head, quadratic in its length. A policy never holds a "<".
META_TAG = re.compile(rb"""<meta\b(?:[^<>"']|"[^<"]*"|'[^<']*')*>""", re.IGNORECASE)
ATTRIBUTE = re.compile(rb"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
HEAD_END = re.compile(rb"</head\s*>|<body\b", re.IGNORECASE)


def _parse(policy: str) -> list[list[str]]:
    return [part.split() for part in policy.split(";") if part.strip()]


def _needs_nonce(sources: list[str]) -> bool:
    lowered = [source.lower() for source in sources]
    if "'unsafe-inline'" not in lowered:
        return True
    return any(source.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for source in lowered)


def add_nonce(policy: str, nonce: str) -> str:
    """Return ``policy`` with ``'nonce-…'`` added wherever an inline script or style would otherwise be blocked."""
    directives = _parse(policy)
    names = [directive[0].lower() for directive in directives if directive]
    token = f"'nonce-{nonce}'"
    for wanted in FETCH_DIRECTIVES:
        target = wanted if wanted in names else "default-src" if "default-src" in names else None
        if target is None:
            continue
        directive = directives[names.index(target)]
        sources = directive[1:]
        if target != wanted and token not in sources and _needs_nonce(sources) and not _is_none(sources):
            directives.append([wanted, *sources, token])
            names.append(wanted)
        else:
            _add_token(directive, token)
    for name in ELEMENT_DIRECTIVES:
        if name in names:
            _add_token(directives[names.index(name)], token)
    _allow_same_origin_fetch(directives, names)
    return "; ".join(" ".join(directive) for directive in directives)


def _is_none(sources: list[str]) -> bool:
    return "'none'" in (source.lower() for source in sources)


def _add_token(directive: list[str], token: str) -> None:
    """The nonce into one directive, in place: instead of ``'none'``, beside other sources where they need it."""
    sources = directive[1:]
    if _is_none(sources):
        directive[1:] = [token]
    elif token not in sources and _needs_nonce(sources):
        directive.append(token)


def _allow_same_origin_fetch(directives: list[list[str]], names: list[str]) -> None:
    """The overlay talks to ``/__breather__/…`` on the page's own origin: make sure ``connect-src`` allows it."""
    target = "connect-src" if "connect-src" in names else "default-src" if "default-src" in names else None
    if target is None:
        return
    sources = directives[names.index(target)][1:]
    if any(source.lower() in {"'self'", "*"} for source in sources):
        return
    kept = [source for source in sources if source.lower() != "'none'"]
    if target == "connect-src":
        directives[names.index(target)][1:] = [*kept, "'self'"]
    else:
        directives.append(["connect-src", *kept, "'self'"])


def add_nonce_to_meta(document: bytes, nonce: str) -> bytes:
    """Add the nonce to every ``<meta http-equiv="Content-Security-Policy">`` in the head.

    Only each such tag's ``content`` value is rewritten; every other byte of the document stays as it was.
    """
    head_end = first_markup(HEAD_END, document)
    limit = head_end.start() if head_end is not None else len(document)
    pieces: list[bytes] = []
    done = 0
    head: MarkupReader | None = None
    for tag in META_TAG.finditer(document, 0, limit):
        span = _policy_value_span(tag.group(0))
        if span is None:
            continue
        head = head or MarkupReader(document[:limit])  # only a page with a policy tag (few) is read for it
        if not head.reads_as_markup(tag.start()):
            continue
        start, end = tag.start() + span[0], tag.start() + span[1]
        pieces += [document[done:start], _rewritten_value(document[start:end], nonce)]
        done = end
    if not pieces:
        return document
    return b"".join([*pieces, memoryview(document)[done:]])  # a view: the page's tail is copied once, not twice


def _policy_value_span(tag: bytes) -> tuple[int, int] | None:
    """Where the ``content`` value sits in a CSP meta tag (quotes included), or None for any other meta tag."""
    attributes: dict[bytes, re.Match[bytes]] = {}
    for match in ATTRIBUTE.finditer(tag, len(b"<meta"), len(tag) - 1):
        if match.group(2) is not None:
            attributes.setdefault(match.group(1).lower(), match)  # as in HTML, the first of a repeated name wins
    equiv = attributes.get(b"http-equiv")
    content = attributes.get(b"content")
    if equiv is None or content is None:
        return None
    if html.unescape(_unquoted(equiv.group(2)).decode("latin-1")).strip().lower() != "content-security-policy":
        return None
    return content.span(2)


def _unquoted(value: bytes) -> bytes:
    return value[1:-1] if value[:1] in (b'"', b"'") else value


def _rewritten_value(value: bytes, nonce: str) -> bytes:
    quote = value[:1] if value[:1] in (b'"', b"'") else b'"'
    policy = html.unescape(_unquoted(value).decode("utf-8", "surrogateescape"))
    escaped = add_nonce(policy, nonce).replace("&", "&amp;").replace(quote.decode(), html.escape(quote.decode()))
    return quote + escaped.encode("utf-8", "surrogateescape") + quote


def add_nonce_to_headers(response: http.Response, nonce: str) -> None:
    for header in ("content-security-policy", "content-security-policy-report-only"):
        policies = response.headers.get_all(header)
        if policies:
            response.headers.set_all(header, [add_nonce(policy, nonce) for policy in policies])
