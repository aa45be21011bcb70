"""A damaged usage database, a full disk or an unreadable rules file is the person's to fix: commands say so in one
line naming the file and what to do (not "unexpected error ... run with --debug"), never touch the file, and
`breather status` reports what it can read around what it cannot."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from breather.paths import Paths
from breather.store.db import open_database


def damaged_store(home: Path) -> tuple[Path, str]:
    """A home whose breather.db was cut to half (a copy cut short, a restore from a half backup)."""
    paths = Paths.resolve(home).ensure()
    open_database(paths.database).close()
    with paths.database.open("r+b") as file:
        file.truncate(paths.database.stat().st_size // 2)
    return paths.database, hashlib.sha256(paths.database.read_bytes()).hexdigest()


def breather(home: Path, *args: str, prefix: tuple[str, ...] = ()) -> str:
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "breather", *args],
        env={**os.environ, "BREATHER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout + done.stderr


def test_serve_on_a_damaged_store_names_the_file_says_what_to_do_and_keeps_it(tmp_path: Path) -> None:
    database, digest = damaged_store(tmp_path / "home")
    said = breather(tmp_path / "home", "serve", "--proxy-port", "0", "--web-port", "0")
    assert "unexpected error" not in said
    assert str(database) in said and "damaged" in said and "Move it aside" in said, said
    assert hashlib.sha256(database.read_bytes()).hexdigest() == digest, "the damaged store was written over"


def test_status_on_a_damaged_store_still_reports_the_service_and_the_rules(tmp_path: Path) -> None:
    database, digest = damaged_store(tmp_path / "home")
    said = breather(tmp_path / "home", "status")
    assert "is not running" in said and "Rules:" in said, said
    assert f"today's usage could not be read: {database}" in said and "nothing yet" not in said, said
    assert hashlib.sha256(database.read_bytes()).hexdigest() == digest


def test_status_with_an_unreadable_rules_file_says_so_and_the_rest(tmp_path: Path) -> None:
    """Run without root's exemption from file modes (CI runs as root): a person's rules file made unreadable."""
    if shutil.which("setpriv") is None:
        pytest.fail("this test drops root's file-mode override with setpriv (util-linux): install it")
    paths = Paths.resolve(tmp_path / "home").ensure()
    open_database(paths.database).close()
    paths.rules_file.write_text('[household]\ntimezone = "UTC"\n', encoding="utf-8")
    paths.rules_file.chmod(0)
    said = breather(tmp_path / "home", "status", prefix=("setpriv", "--bounding-set=-dac_override,-dac_read_search"))
    assert "is not running" in said and "Today (" in said, said
    assert str(paths.rules_file) in said and "Permission denied" in said, said
    assert f"{paths.rules_file}: cannot read" in said and "give it read access" in said, said  # not at a made-up 1:1


def test_a_home_one_may_not_write_says_what_to_do(tmp_path: Path) -> None:
    """A robustness test: a read-only home gave "service.lock: Permission denied" and nothing more."""
    if shutil.which("setpriv") is None:
        pytest.fail("this test drops root's file-mode override with setpriv (util-linux): install it")
    home = tmp_path / "home"
    paths = Paths.resolve(home).ensure()
    for folder in (home, paths.config_dir, paths.data_dir, paths.state_dir):
        folder.chmod(0o555)
    try:
        said = breather(
            home,
            "serve",
            "--proxy-port",
            "0",
            "--web-port",
            "0",
            prefix=("setpriv", "--bounding-set=-dac_override,-dac_read_search"),
        )
    finally:
        for folder in (home, paths.config_dir, paths.data_dir, paths.state_dir):
            folder.chmod(0o755)
    assert "Permission denied: you may not use it" in said, said
    assert "choose another Breather home with --home DIR" in said, said
