from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from breather.cli import COMMANDS, main


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in ("run", "serve", "open", "rules", "classify", "eval", "export", "ca", "status"):
        assert name in out
        assert name in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_home(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--home" in capsys.readouterr().out


def test_module_runs_from_the_checkout_root(project_root: Path) -> None:
    """From the repository root ./breather shadows the installed package; the sibling folders must still map."""
    result = subprocess.run(
        [sys.executable, "-c", "import breather.rules, breather.proxy, breather.dashboard; print('ok')"],
        capture_output=True,
        text=True,
        check=False,
        cwd=project_root,
    )
    assert result.stdout.strip() == "ok", result.stderr
    version = subprocess.run(
        [sys.executable, "-m", "breather", "--version"], capture_output=True, text=True, check=False, cwd=project_root
    )
    assert version.stdout.startswith("breather ")
