"""`breather demo`."""

from __future__ import annotations

import argparse

from breather.errors import NotAvailableYet
from breather.paths import Paths

HELP = "seed a realistic month of usage for a household of four"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace, paths: Paths) -> int:
    raise NotAvailableYet("breather demo")
