"""`breather ca`."""

from __future__ import annotations

import argparse

from breather.errors import NotAvailableYet
from breather.paths import Paths

HELP = "show where Breather's CA certificate is and how to trust it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace, paths: Paths) -> int:
    raise NotAvailableYet("breather ca")
