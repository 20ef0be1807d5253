"""`migrator report [PLAN]`: the campaign as a picture (placeholder)."""

from __future__ import annotations

import argparse

EXAMPLES = "  $ migrator report --format html --out report.html\n"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="the file to write")


def run(args: argparse.Namespace) -> int:
    return 0
