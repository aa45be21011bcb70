"""`breather serve`."""

from __future__ import annotations

import argparse

from breather.errors import NotAvailableYet
from breather.paths import Paths

HELP = "run the proxy, the dashboard web server and the scheduler"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace, paths: Paths) -> int:
    raise NotAvailableYet("breather serve")
