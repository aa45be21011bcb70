"""Which code is this: the package's version, a fingerprint of its files, and the extension shipped beside it.

After ``git pull`` an older ``breather serve`` (or an older extension in a browser) can keep running the old code
without a word (a user test's household had its social sites go direct after every browser restart because of it).
The service writes its version and fingerprint in its service file and ``/healthz``; ``breather run`` and
``breather status`` compare them with their own. The extension's manifest carries the project's version, and
``extension/CODE_HASH`` records a hash of its shipped files so a change without a version bump fails the tests:
``python -m breather.version --record-extension`` records it again.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib.util
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from breather import __version__

# The folders of the one ``breather`` package (pyproject maps the last three from sibling folders).
PACKAGE_PARTS = ("breather", "breather.rules", "breather.proxy", "breather.dashboard")
NOT_CODE_DIRS = {"__pycache__"}
NOT_CODE_SUFFIXES = {".pyc", ".pyo"}
CODE_HASH_FILE = "CODE_HASH"
RECORD_COMMAND = "python -m breather.version --record-extension"
BUMP_FILES = (
    "bump the version (the same in pyproject.toml, breather/__init__.py, extension/manifest.json and "
    "extension/lib/version.js)"
)
# Never in what web-ext packages, beside the ``webExt.ignoreFiles`` of extension/package.json.
EXTENSION_NEVER_SHIPPED = ("node_modules", "web-ext-artifacts", CODE_HASH_FILE)
TEXT_SUFFIXES = {".js", ".mjs", ".json", ".html", ".css", ".svg", ".txt", ".md"}


def version() -> str:
    return __version__


@cache
def code_fingerprint() -> str:
    """A short hash of every file of the package (code and data, not caches): any change to the code, committed or
    not, changes it. Computed once per process: about 18 ms for the ~170 files (1.9 MB) on a 2-core machine."""
    digest = hashlib.sha256()
    for part in PACKAGE_PARTS:
        folder = _package_folder(part)
        if folder is None:
            continue
        for path in _code_files(folder, skip=_other_parts_inside(part)):
            digest.update(f"{part}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def _package_folder(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _other_parts_inside(part: str) -> set[str]:
    """``breather``'s folders that are parts of their own: inside it when installed, beside it in a checkout."""
    return {other.removeprefix(f"{part}.") for other in PACKAGE_PARTS if other.startswith(f"{part}.")}


def _code_files(folder: Path, skip: set[str]) -> Iterator[Path]:
    """Files under ``folder`` but not in its sub-folders ``skip`` (symlinks followed: a strict editable install is a
    tree of links), sorted."""
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if relative[0] in skip or any(part in NOT_CODE_DIRS or part.startswith(".") for part in relative):
            continue
        if path.suffix in NOT_CODE_SUFFIXES or not path.is_file():
            continue
        found.append(path)
    return iter(sorted(found))


# --- The extension shipped with this code ---------------------------------------------------------------------------


def source_root() -> Path | None:
    """The checkout this package runs from; None for an installed wheel (no extension beside it there)."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def extension_folder() -> Path | None:
    root = source_root()
    folder = root / "extension" if root is not None else None
    return folder if folder is not None and (folder / "manifest.json").is_file() else None


def extension_version(folder: Path | None = None) -> str | None:
    """The version in the extension's manifest, when the extension is here (a checkout); else None."""
    folder = folder or extension_folder()
    if folder is None:
        return None
    try:
        value = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def extension_shipped_files(folder: Path) -> list[Path]:
    """What ``web-ext build`` packages: everything but its ``ignoreFiles``, node_modules and dotfiles."""
    ignored = [*EXTENSION_NEVER_SHIPPED, *_web_ext_ignore_files(folder)]
    shipped = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).as_posix()
        top = relative.split("/")[0]
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        if any(fnmatch.fnmatch(top, pattern) or fnmatch.fnmatch(relative, pattern) for pattern in ignored):
            continue
        if path.is_file():
            shipped.append(path)
    return sorted(shipped, key=lambda path: path.relative_to(folder).as_posix())


def _web_ext_ignore_files(folder: Path) -> list[str]:
    try:
        config = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(pattern) for pattern in config.get("webExt", {}).get("ignoreFiles", [])]


def extension_code_hash(folder: Path) -> str:
    """sha256 over the shipped files' paths and contents; text files with their line endings normalised, so a
    checkout with CRLF endings (Windows' git) gives the same hash."""
    digest = hashlib.sha256()
    for path in extension_shipped_files(folder):
        data = path.read_bytes()
        if path.suffix in TEXT_SUFFIXES:
            data = data.replace(b"\r\n", b"\n")
        digest.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def recorded_extension_code(folder: Path) -> tuple[str, str] | None:
    """(version, hash) from ``extension/CODE_HASH``: its one line that is not a comment, ``VERSION HASH``."""
    try:
        text = (folder / CODE_HASH_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1 or len(lines[0]) != 2:
        raise ValueError(f"{folder / CODE_HASH_FILE}: expected one line `VERSION SHA256`; run `{RECORD_COMMAND}`")
    return lines[0][0], lines[0][1]


def record_extension_code(folder: Path) -> str:
    """Writes ``extension/CODE_HASH`` for the extension as it is now; returns the line written."""
    manifest_version = extension_version(folder)
    if manifest_version is None:
        raise SystemExit(f"{folder / 'manifest.json'} has no version")
    line = f"{manifest_version} {extension_code_hash(folder)}"
    (folder / CODE_HASH_FILE).write_text(
        "# The extension's version and a hash of the files it ships (what web-ext packages). A test fails when the\n"
        f"# files change and this does not: {BUMP_FILES}, then run `{RECORD_COMMAND}`.\n{line}\n",
        encoding="utf-8",
        newline="\n",
    )
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breather.version", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--record-extension", action="store_true", help="record the extension's version and code hash in CODE_HASH"
    )
    args = parser.parse_args(argv)
    if not args.record_extension:
        print(f"breather {version()} (code {code_fingerprint()}); extension {extension_version() or 'not here'}")
        return 0
    folder = extension_folder()
    if folder is None:
        raise SystemExit("no extension/ folder beside this package: run this in a checkout")
    print(f"recorded in {folder / CODE_HASH_FILE}: {record_extension_code(folder)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
