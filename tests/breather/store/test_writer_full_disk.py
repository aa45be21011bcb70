"""A full disk passes, as another program's lock does: what is logged meanwhile is kept and saved once there is room
(the writer dropped it after three tries 250 ms apart, so a download filling the disk for seconds lost it for good).

Needs a small filesystem of its own: a 4 MB tmpfs, mounted as root (CI runs as root)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.store.model import Event
from breather.store.writer import Writer


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted at the end. Fails (never skips) where it cannot be made: the test would prove nothing."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.fail("this test mounts a 4 MB tmpfs: it needs the mount tool and root (as in CI)")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.fail(f"could not mount a 4 MB tmpfs for the full disk: {made.stderr.decode(errors='replace')}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_up(mount: Path) -> Path:
    """Fill the filesystem to the last byte, as a download or a sync client fills a laptop's disk."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"x" * size)
    finally:
        os.close(fd)
    return filler


def saved_warnings(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM events WHERE kind = 'warning_shown'").fetchone()[0])


def test_what_is_logged_while_the_disk_is_full_is_saved_once_it_has_room(small_disk: Path) -> None:
    database = small_disk / "data" / "breather.db"
    writer = Writer(database, flush_ms=250).start()
    start = datetime.now(UTC)

    def log(seq: int) -> None:
        writer.event(Event("sam", "warning_shown", start + timedelta(seconds=seq), site="x.com", category="violence"))

    try:
        for seq in range(10):
            log(seq)
        assert writer.flush()
        filler = fill_up(small_disk)
        for seq in range(10, 30):  # two seconds of use while a download fills the disk
            log(seq)
            time.sleep(0.1)
        time.sleep(1)
        assert not writer.flush(1), "the writer said it saved with the disk full"
        assert (writer.state()["saving"], writer.state()["trouble"]) == (False, "full")
        filler.unlink()  # the download is deleted: room again
        assert writer.flush(10), "the writer did not save what it kept once the disk had room"
        assert writer.state()["saving"] is True
    finally:
        writer.close()
    assert saved_warnings(database) == 30, "what was logged while the disk was full is lost for good"
    assert writer.stats.dropped == writer.stats.dropped_batches == 0
