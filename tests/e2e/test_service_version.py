"""A real `breather serve` says which code it runs, and `breather run` / `breather status` (other processes,
started from elsewhere) recognise it as their own: no note about other code for the same checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from breather.version import code_fingerprint, version
from tests.e2e.conftest import Service

pytestmark = pytest.mark.e2e

RULES = """
[household]
timezone = "UTC"

[profiles.me]
"""


def test_the_service_says_its_version_and_code_and_run_finds_it_is_this_code(
    serve: Callable[..., Service],
) -> None:
    service = serve(RULES)
    health = service.health()
    assert (health["version"], health["code"]) == (version(), code_fingerprint())
    written = json.loads(service.paths.service_file.read_text(encoding="utf-8"))
    assert (written["version"], written["code"]) == (version(), code_fingerprint())

    env = {**os.environ, "BREATHER_HOME": str(service.home)}
    run = _breather(env, "run", "--no-window")
    assert run.returncode == 0, run.stderr
    # the running service is found, and it is this code: no note that another version runs
    assert run.stdout.splitlines() == [
        f"Already running: Breather (pid {service.process.pid}, proxy on "
        f"{service.proxy_port}), dashboard at {service.web_url}/"
    ], run.stdout
    status = _breather(env, "status", "--json")
    assert json.loads(status.stdout)["service"]["same_code"] is True


def _breather(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A ``breather`` command by the console script's way in (the installed link tree), not the checkout's folders."""
    return subprocess.run(
        [sys.executable, "-I", "-m", "breather", *args], env=env, cwd="/", capture_output=True, text=True, timeout=60
    )
