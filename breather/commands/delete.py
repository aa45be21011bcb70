"""`breather delete`."""

from __future__ import annotations

import argparse

from breather.errors import NotAvailableYet
from breather.paths import Paths

HELP = "delete all usage data (asks for confirmation)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace, paths: Paths) -> int:
    raise NotAvailableYet("breather delete")
