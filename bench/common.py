"""What every benchmark needs: where the shared fixtures are, and repeated timings of one action."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def fixtures_root() -> Path:
    """``../shared/fixtures`` beside the project, or ``BREATHER_FIXTURES``; read in place, never copied."""
    explicit = os.environ.get("BREATHER_FIXTURES")
    return Path(explicit) if explicit else PROJECT_ROOT.parent / "shared" / "fixtures"


def feeds_root() -> Path:
    return fixtures_root() / "feeds"


def timings_ms(action: Callable[[], Any], rounds: int) -> list[float]:
    """Milliseconds for each of ``rounds`` runs of ``action``, after one untimed run to warm caches."""
    action()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples
