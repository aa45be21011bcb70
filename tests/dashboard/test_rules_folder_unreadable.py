"""The Rules page when the config folder cannot be searched (its mode changed, a sync tool's permissions): Today
says the rules file cannot be read and the service keeps the last good rules, and the Rules page must say the same
instead of Flask's generic 500 (Python 3.12's ``Path.is_dir`` raises for a folder it may not search).

Run as a person: CI runs as root, whom file modes do not stop, so the dashboard runs under ``setpriv`` without the
capabilities that override them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dashboard.conftest import FAMILY_RULES

RULES_PAGE = """
import sys
from breather.dashboard.app import create_app
app = create_app({"TESTING": True, "HOME": sys.argv[1]})
page = app.test_client().get("/rules")
print(page.status_code)
print(page.get_data(as_text=True))
"""


def test_the_rules_page_says_the_rules_folder_cannot_be_read(tmp_path: Path) -> None:
    if shutil.which("setpriv") is None:
        pytest.fail("this test drops root's file-mode override with setpriv (util-linux): install it")
    home = tmp_path / "home"
    config = home / "config"
    config.mkdir(parents=True)
    (config / "rules.toml").write_text(FAMILY_RULES, encoding="utf-8")
    (home / "data").mkdir()
    (home / "data" / "rules.last-good.toml").write_text(FAMILY_RULES, encoding="utf-8")  # the service keeps one
    config.chmod(0)
    try:
        done = subprocess.run(
            ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-c", RULES_PAGE, str(home)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "BREATHER_HOME": str(home)},
        )
    finally:
        config.chmod(0o700)
    status, _, page = done.stdout.partition("\n")
    assert status == "200", done.stdout[-1500:] + done.stderr[-1500:]
    assert "Permission denied" in page
