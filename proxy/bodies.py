"""Reading and replacing response bodies without ever letting mitmproxy re-compress them.

mitmproxy re-encodes an edited body with its own (slowest) settings when ``content-encoding`` is still set: gzip
level 9 and brotli quality 11, which made a brotli feed page two hundred times slower. Breather sends an edited body
as identity instead, and leaves an unedited one byte-for-byte as it came.

Breather also decodes bodies itself rather than with mitmproxy: mitmproxy's gzip decoder returns whatever it could
inflate from a body cut off mid-stream, without an error, and a user test got half a Hacker News page marked and sent
as if it were the whole page. A body counts as decoded only when its compressed data is complete (gzip, deflate,
brotli and zstd each say where their data ends) with nothing after it; anything else goes out as it came.

``content-encoding`` is read as browsers read it: ``x-gzip`` is gzip (RFC 9110 8.4.1.3), and a list of codings
(``gzip, br``: gzip applied first) is undone right to left, ``identity`` skipped, each layer held to the same
completeness check and size cap (a review found ``x-gzip`` and stacked codings going out unread, shown by Chromium).
"""

from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import brotli
from mitmproxy import http

from breather.proxy.flows import media_type

# zlib's window bits: a gzip or zlib header (detected), a zlib header, no header at all (HTTP "deflate" means zlib
# data, but some servers send it bare).
GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS
ZLIB = zlib.MAX_WBITS
BARE_DEFLATE = -zlib.MAX_WBITS
IDENTITY = frozenset({"", "identity", "none"})
# Names a coding also goes by (RFC 9110 8.4.1.3: "a recipient SHOULD consider x-gzip to be equivalent to gzip").
ALIASES = {"x-gzip": "gzip"}

Problem = Literal["truncated", "undecodable", "over_cap"]


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body without its content-encoding, or why there is none: ``truncated`` (the compressed data of some layer
    stops before its end: the response was cut off), ``undecodable`` (corrupt, bytes after the end, a coding Breather
    does not read) or ``over_cap`` (some layer decodes to more than the cap)."""

    body: bytes | None
    problem: Problem | None = None


class Truncated(Exception):
    """The compressed data ended before the end its format marks."""


class OverCap(Exception):
    """The body would decode to more than the size cap: decoding stops there (a small body can expand enormously)."""


def _zstd_module() -> ModuleType | None:
    """Python 3.14's zstd, else the backport recent mitmproxy releases install; without either, zstd passes through."""
    for name in ("compression.zstd", "backports.zstd"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


ZSTD = _zstd_module()


class LastDecoded:
    """The most recent decode, by the identity of its raw bytes (mitmproxy hands out the same object every time).
    One tuple, replaced whole, so a reader never pairs one body's bytes with another's result."""

    def __init__(self) -> None:
        self.entry: tuple[bytes, tuple[str, int | None], Decoded] | None = None

    def get(self, raw: bytes, coding: str, limit: int | None) -> Decoded | None:
        entry = self.entry
        if entry is None or entry[0] is not raw or entry[1] != (coding, limit):
            return None
        return entry[2]


_last = LastDecoded()


def decoded_body(message: http.Message, limit: int | None = None) -> bytes | None:
    """The body without content-encoding, or None when it cannot be decoded whole (truncated, corrupt, unknown, or
    more than ``limit`` bytes once decoded)."""
    return decode_body(message, limit).body


def decode_body(message: http.Message, limit: int | None = None) -> Decoded:
    """The body without content-encoding, or why it cannot be had (see :class:`Decoded`).

    The last result is kept: a page that goes through unedited is decoded by the content warnings and again by the
    overlay, and the second time costs nothing.
    """
    raw = message.raw_content
    if raw is None:  # streamed: nothing was kept to decode
        return Decoded(None)
    coding = message.headers.get("content-encoding", "").strip().lower()
    if coding in IDENTITY or not raw:
        return Decoded(raw)
    decoded = _last.get(raw, coding, limit)
    if decoded is None:
        decoded = _decode(raw, coding, limit)
        _last.entry = (raw, (coding, limit), decoded)
    return decoded


def _decode(raw: bytes, coding: str, limit: int | None) -> Decoded:
    layers = (coding,) if coding in DECODERS else codings(coding)  # one known coding, the usual case, as it was
    if layers is None:
        return Decoded(None, "undecodable")
    try:
        body = raw
        for layer in reversed(layers):  # the last coding listed is the last one applied
            body = DECODERS[layer](body, limit)
        return Decoded(body)
    except Truncated:
        return Decoded(None, "truncated")
    except OverCap:
        return Decoded(None, "over_cap")
    except Exception:  # zlib.error, brotli.error, ZstdError: corrupt data, or bytes after its end
        return Decoded(None, "undecodable")


def codings(header: str) -> tuple[str, ...] | None:
    """The codings a ``content-encoding`` value lists, in the order they were applied, by the names ``DECODERS``
    knows (``identity`` left out: it changes nothing); None when one of them is a coding Breather does not read."""
    names = (ALIASES.get(name, name) for name in (part.strip() for part in header.lower().split(",")))
    layers = tuple(name for name in names if name not in IDENTITY)
    return layers if all(name in DECODERS for name in layers) else None


def gunzip(raw: bytes, limit: int | None = None) -> bytes:
    """gzip: every member (RFC 1952 allows several, one after the other), each complete."""
    body, rest = _whole_stream(zlib.decompressobj(GZIP_OR_ZLIB), raw, limit)
    if not rest:
        return body
    parts = [body]
    while rest:
        member, rest = _whole_stream(zlib.decompressobj(GZIP_OR_ZLIB), rest, _left(limit, parts))
        parts.append(member)
    return b"".join(parts)


def _left(limit: int | None, parts: list[bytes]) -> int | None:
    return None if limit is None else limit - sum(len(part) for part in parts)


def inflate(raw: bytes, limit: int | None = None) -> bytes:
    """deflate: zlib data, or bare deflate data from the servers that send that, complete and alone."""
    try:
        body, rest = _whole_stream(zlib.decompressobj(ZLIB), raw, limit)
    except zlib.error:
        body, rest = _whole_stream(zlib.decompressobj(BARE_DEFLATE), raw, limit)
    if rest:
        raise zlib.error("bytes after the end of the deflate data")
    return body


def _whole_stream(inflater: zlib._Decompress, raw: bytes, limit: int | None) -> tuple[bytes, bytes]:
    """One complete zlib-family stream from the start of ``raw``, and what follows it."""
    if limit is None:
        body = inflater.decompress(raw)
    else:
        body = inflater.decompress(raw, limit + 1)  # one byte past the cap says "too big" without inflating the rest
        if len(body) > limit or inflater.unconsumed_tail:
            raise OverCap
    if not inflater.eof:
        raise Truncated
    return body, inflater.unused_data


def unbrotli(raw: bytes, limit: int | None = None) -> bytes:
    """brotli: the decoder says when the stream is finished, and fails on any byte after it."""
    decompressor = brotli.Decompressor()
    body: bytes = decompressor.process(raw) if limit is None else _brotli_within(decompressor, raw, limit)
    if not decompressor.is_finished():
        raise Truncated
    return body


def _brotli_within(decompressor: Any, raw: bytes, limit: int) -> bytes:
    try:
        body: bytes = decompressor.process(raw, output_buffer_limit=limit + 1)
    except TypeError:  # a brotli older than 1.1 has no output limit: decode whole, then judge its size
        body = decompressor.process(raw)
    if len(body) > limit:
        raise OverCap
    return body


def unzstd(raw: bytes, limit: int | None = None) -> bytes:
    """zstd: every frame, each complete."""
    if ZSTD is None:
        raise ValueError("no zstd decoder")
    parts: list[bytes] = []
    rest = raw
    while rest:
        decompressor = ZSTD.ZstdDecompressor()
        left = _left(limit, parts)
        parts.append(decompressor.decompress(rest) if left is None else decompressor.decompress(rest, left + 1))
        if left is not None and (len(parts[-1]) > left or (not decompressor.eof and decompressor.needs_input is False)):
            raise OverCap
        if not decompressor.eof:
            raise Truncated
        rest = decompressor.unused_data
    return b"".join(parts)


DECODERS = {"gzip": gunzip, "deflate": inflate, "br": unbrotli, "zstd": unzstd}


# Validators and ranges of the site's own body: kept on an edited one, a browser revalidated its cached copy of the
# edited page, got the site's 304 with the site's CSP, and put that CSP (no nonce) on the page, so the overlay and
# the warnings' reveal stopped working there.
SITE_BODY_HEADERS = ("etag", "last-modified", "accept-ranges", "content-md5", "digest", "content-digest")


def replace_body(message: http.Message, body: bytes) -> None:
    """Set an edited body as identity: drop content-encoding first so nothing gets re-compressed, and the headers
    that describe the site's body (an edited body is another representation)."""
    drop_site_body_headers(message)
    message.content = body


def drop_site_body_headers(message: http.Message) -> None:
    """The headers an edited body loses: its content-encoding, and on a response its validators and ranges."""
    message.headers.pop("content-encoding", None)
    if isinstance(message, http.Response):
        for name in SITE_BODY_HEADERS:
            message.headers.pop(name, None)


def is_streamed(message: http.Message) -> bool:
    return message.stream is not False and message.stream is not None


def streamed_for_its_size(message: http.Message) -> bool:
    """Streamed by mitmproxy because the body is over ``body_size_cap`` (``breather serve`` sets mitmproxy's
    ``stream_large_bodies`` to it): Breather itself streams only server-sent event streams."""
    return is_streamed(message) and media_type(message) != "text/event-stream"
