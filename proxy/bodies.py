"""Reading and replacing response bodies without ever letting mitmproxy re-compress them.

mitmproxy re-encodes an edited body with its own (slowest) settings when ``content-encoding`` is still set: gzip
level 9 and brotli quality 11, which made a brotli feed page two hundred times slower. Breather sends an edited body
as identity instead, and leaves an unedited one byte-for-byte as it came.

Breather also decodes bodies itself rather than with mitmproxy: mitmproxy's gzip decoder returns whatever it could
inflate from a body cut off mid-stream, without an error, and a user test got half a Hacker News page marked and sent
as if it were the whole page. A body counts as decoded only when its compressed data is complete (gzip, deflate,
brotli and zstd each say where their data ends) with nothing after it; anything else goes out as it came.
"""

from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import brotli
from mitmproxy import http

from breather.proxy.flows import media_type

# zlib's window bits: a gzip or zlib header (detected), a zlib header, no header at all (HTTP "deflate" means zlib
# data, but some servers send it bare).
GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS
ZLIB = zlib.MAX_WBITS
BARE_DEFLATE = -zlib.MAX_WBITS
IDENTITY = frozenset({"", "identity", "none"})

Problem = Literal["truncated", "undecodable"]


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body without its content-encoding, or why there is none: ``truncated`` (its compressed data stops before
    its end: the response was cut off) or ``undecodable`` (corrupt, bytes after the end, a coding Breather does not
    read, such as two codings at once)."""

    body: bytes | None
    problem: Problem | None = None


class Truncated(Exception):
    """The compressed data ended before the end its format marks."""


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
        self.entry: tuple[bytes, str, Decoded] | None = None

    def get(self, raw: bytes, coding: str) -> Decoded | None:
        entry = self.entry
        if entry is None or entry[0] is not raw or entry[1] != coding:
            return None
        return entry[2]


_last = LastDecoded()


def decoded_body(message: http.Message) -> bytes | None:
    """The body without content-encoding, or None when it cannot be decoded whole (truncated, corrupt, unknown)."""
    return decode_body(message).body


def decode_body(message: http.Message) -> Decoded:
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
    decoded = _last.get(raw, coding)
    if decoded is None:
        decoded = _decode(raw, coding)
        _last.entry = (raw, coding, decoded)
    return decoded


def _decode(raw: bytes, coding: str) -> Decoded:
    decoder = DECODERS.get(coding)
    if decoder is None:
        return Decoded(None, "undecodable")
    try:
        return Decoded(decoder(raw))
    except Truncated:
        return Decoded(None, "truncated")
    except Exception:  # zlib.error, brotli.error, ZstdError: corrupt data, or bytes after its end
        return Decoded(None, "undecodable")


def gunzip(raw: bytes) -> bytes:
    """gzip: every member (RFC 1952 allows several, one after the other), each complete."""
    body, rest = _whole_stream(zlib.decompressobj(GZIP_OR_ZLIB), raw)
    if not rest:
        return body
    parts = [body]
    while rest:
        member, rest = _whole_stream(zlib.decompressobj(GZIP_OR_ZLIB), rest)
        parts.append(member)
    return b"".join(parts)


def inflate(raw: bytes) -> bytes:
    """deflate: zlib data, or bare deflate data from the servers that send that, complete and alone."""
    try:
        body, rest = _whole_stream(zlib.decompressobj(ZLIB), raw)
    except zlib.error:
        body, rest = _whole_stream(zlib.decompressobj(BARE_DEFLATE), raw)
    if rest:
        raise zlib.error("bytes after the end of the deflate data")
    return body


def _whole_stream(inflater: zlib._Decompress, raw: bytes) -> tuple[bytes, bytes]:
    """One complete zlib-family stream from the start of ``raw``, and what follows it."""
    body = inflater.decompress(raw)
    if not inflater.eof:
        raise Truncated
    return body, inflater.unused_data


def unbrotli(raw: bytes) -> bytes:
    """brotli: the decoder says when the stream is finished, and fails on any byte after it."""
    decompressor = brotli.Decompressor()
    body: bytes = decompressor.process(raw)
    if not decompressor.is_finished():
        raise Truncated
    return body


def unzstd(raw: bytes) -> bytes:
    """zstd: every frame, each complete."""
    if ZSTD is None:
        raise ValueError("no zstd decoder")
    parts = []
    rest = raw
    while rest:
        decompressor = ZSTD.ZstdDecompressor()
        parts.append(decompressor.decompress(rest))
        if not decompressor.eof:
            raise Truncated
        rest = decompressor.unused_data
    return b"".join(parts)


DECODERS = {"gzip": gunzip, "deflate": inflate, "br": unbrotli, "zstd": unzstd}


def replace_body(message: http.Message, body: bytes) -> None:
    """Set an edited body as identity: drop content-encoding first so nothing gets re-compressed."""
    message.headers.pop("content-encoding", None)
    message.content = body


def is_streamed(message: http.Message) -> bool:
    return message.stream is not False and message.stream is not None


def streamed_for_its_size(message: http.Message) -> bool:
    """Streamed by mitmproxy because the body is over ``body_size_cap`` (``breather serve`` sets mitmproxy's
    ``stream_large_bodies`` to it): Breather itself streams only server-sent event streams."""
    return is_streamed(message) and media_type(message) != "text/event-stream"
