"""Fail open for content: if Breather's own code breaks on a response, the original goes out unchanged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from mitmproxy import http

from breather.proxy import flows
from breather.runtime import Runtime

log = logging.getLogger(__name__)


@contextmanager
def original_on_error(runtime: Runtime, flow: http.HTTPFlow, step: str) -> Iterator[None]:
    """Run one response step; on any exception put back the response as it was, log it and count it."""
    response = flow.response
    saved = (response.headers.copy(), response.raw_content) if response is not None else None
    try:
        yield
    except Exception:
        log.exception("%s failed on a response from %s; passing it through unchanged", step, flow.request.host)
        runtime.counters.increment("passed_after_error")
        flow.metadata[flows.READ_IN_PART] = True
        if response is not None and saved is not None:
            flow.response = response
            response.headers, response.raw_content = saved
