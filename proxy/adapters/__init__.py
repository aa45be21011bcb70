"""Site adapters: find posts in a platform response and mark the flagged ones.

``adapter_for(name, path, content_type)`` picks the adapter for a site group's ``adapter`` value and the response's
content type; the contract lives in :mod:`breather.proxy.adapters.base` and ``docs/interfaces.md``.
"""

from __future__ import annotations

from breather.proxy.adapters.base import Adapter
from breather.proxy.adapters.registry import ADAPTER_NAMES, adapter_for

__all__ = ["ADAPTER_NAMES", "Adapter", "adapter_for"]
