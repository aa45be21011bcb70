"""`breather rules`."""

from __future__ import annotations

import argparse

from breather.errors import NotAvailableYet
from breather.paths import Paths

HELP = "check, explain or show the boundary rules"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace, paths: Paths) -> int:
    raise NotAvailableYet("breather rules")
