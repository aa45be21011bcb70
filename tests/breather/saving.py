"""A save caught half-way: an editor or a sync tool writing a file in place, in two writes a moment apart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

SECOND_WRITE_AFTER_S = 0.3


@contextmanager
def saved_in_two_writes(path: Path, data: bytes, cut: int) -> Iterator[None]:
    """Write ``data[:cut]`` to ``path`` now, and the rest ``SECOND_WRITE_AFTER_S`` later, while the block runs; the
    whole of ``data`` is in the file when the block ends."""
    with path.open("r+b") as out:
        out.truncate(0)
        out.write(data[:cut])
        out.flush()
        rest = threading.Timer(SECOND_WRITE_AFTER_S, _finish, (out, data[cut:]))
        rest.start()
        try:
            yield
        finally:
            rest.join()


def _finish(out: BinaryIO, rest: bytes) -> None:
    out.write(rest)
    out.flush()
