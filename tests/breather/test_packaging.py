"""The package-dir mapping only ships what pyproject lists: a forgotten sub-package works in a checkout and is
missing from an installed wheel, so check the list against the folders."""

from __future__ import annotations

import tomllib
from pathlib import Path

FOLDER_OF = {
    "breather": "breather",
    "breather.rules": "rules",
    "breather.proxy": "proxy",
    "breather.dashboard": "dashboard",
}


def _package_name(init: Path, root: Path) -> str:
    relative = init.parent.relative_to(root)
    top, *rest = relative.parts
    base = next(name for name, folder in FOLDER_OF.items() if folder == top)
    return ".".join([base, *rest])


def test_every_python_package_folder_is_listed_in_pyproject(project_root: Path) -> None:
    config = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        _package_name(init, project_root)
        for folder in FOLDER_OF.values()
        for init in (project_root / folder).rglob("__init__.py")
    }
    assert found - listed == set()
    assert config["tool"]["setuptools"]["package-dir"] == {name: folder for name, folder in FOLDER_OF.items()}
