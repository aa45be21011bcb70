"""Reading and replacing response bodies without ever letting mitmproxy re-compress them.

mitmproxy re-encodes an edited body with its own (slowest) settings when ``content-encoding`` is still set: gzip
level 9 and brotli quality 11, which made a brotli feed page two hundred times slower. Breather sends an edited body
as identity instead, and leaves an unedited one byte-for-byte as it came.
"""

from __future__ import annotations

from mitmproxy import http


def decoded_body(message: http.Message) -> bytes | None:
    """The body without content-encoding, or None when it cannot be decoded (truncated gzip, unknown coding)."""
    if message.raw_content is None:
        return None
    try:
        return message.get_content(strict=True)
    except ValueError:
        return None


def replace_body(message: http.Message, body: bytes) -> None:
    """Set an edited body as identity: drop content-encoding first so nothing gets re-compressed."""
    message.headers.pop("content-encoding", None)
    message.content = body


def is_streamed(message: http.Message) -> bool:
    return message.stream is not False and message.stream is not None
