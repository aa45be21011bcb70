"""Breather: a local well-being proxy for social media."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.2.7"


def _map_sibling_folders_in_a_checkout() -> None:
    """Let ``python -m breather`` work from the repository root.

    There, the folder ``./breather`` shadows the installed package, and it does not contain ``rules``, ``proxy``
    or ``dashboard`` (pyproject maps those from sibling folders). Adding the checkout root to this package's path
    maps ``breather.rules`` to ``./rules`` exactly as the installed package does. Only in a checkout.
    """
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "rules" / "__init__.py").is_file():
        __path__.append(str(root))


_map_sibling_folders_in_a_checkout()
