"""`migrator show PLAN`: what a plan will do, for review."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from migrator.errors import EXIT_OK
from migrator.plan.planfile import read_plan
from migrator.plan.render import as_json, as_markdown, as_text

EXAMPLES = """\
  $ migrator show plan.json                   # summary, then every diff (paged on a terminal)
  $ migrator show plan.json --no-diff         # the per-repository list only
  $ migrator show plan.json --format markdown >> "$GITHUB_STEP_SUMMARY"
  $ migrator show plan.json --format json | jq '.repos[].name'
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", type=Path, metavar="PLAN", help="a plan file written by `migrator plan`")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text", dest="output_format")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--no-diff", action="store_true", help="summary only (every format)")


def run(args: argparse.Namespace) -> int:
    loaded = read_plan(args.plan)
    if args.output_format == "json":
        sys.stdout.write(json.dumps(as_json(loaded, diffs=not args.no_diff), indent=2) + "\n")
    elif args.output_format == "markdown":
        sys.stdout.write(as_markdown(loaded, diffs=not args.no_diff))
    else:
        colour = args.color == "always" or (
            args.color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        )
        sys.stdout.write(as_text(loaded, colour=colour, diffs=not args.no_diff))
    return EXIT_OK
