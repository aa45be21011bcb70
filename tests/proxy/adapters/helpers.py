"""A tiny stand-in judge for unit tests: flags texts that contain a marker phrase, like the classifier would."""

from __future__ import annotations

import json
import re
from typing import Any

from breather.proxy.adapters.base import AdapterContext, Finding

MARKERS = {
    "want to end it all": "self_harm",
    "stopped eating again": "eating_disorder",
    "covered in blood": "violence",
}
DISTRESSING = "I want to end it all tonight, nobody would notice."


def marker_judge(text: str) -> Finding | None:
    lowered = text.lower()
    hits = [(phrase, category) for phrase, category in MARKERS.items() if phrase in lowered]
    if not hits:
        return None
    return Finding(categories=tuple(dict.fromkeys(c for _, c in hits)), evidence=tuple(p for p, _ in hits))


def context(**overrides: Any) -> AdapterContext:
    return AdapterContext(judge=marker_judge, **overrides)


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def as_read(markup: str) -> str:
    """``markup`` with its numeric character references as the characters a browser reads (Breather writes its own
    text in ASCII, so that it reads right in a page of any encoding); named ones such as ``&amp;`` stay."""
    return re.sub(r"&#(\d+);", lambda found: chr(int(found.group(1))), markup)
