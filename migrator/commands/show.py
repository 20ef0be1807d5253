"""`migrator show PLAN`: what a plan will do, for review."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from migrator.errors import EXIT_OK
from migrator.paths import readable_file
from migrator.plan.planfile import read_plan
from migrator.plan.render import as_json, as_markdown, as_text
from migrator.progress import page

EXAMPLES = """\
  $ migrator show plan.json                   # summary, then every diff (paged on a terminal)
  $ migrator show plan.json --no-diff         # the per-repository list only
  $ migrator show plan.json --format markdown >> "$GITHUB_STEP_SUMMARY"
  $ migrator show plan.json --format json | jq '.repos[].name'
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", type=Path, metavar="PLAN", help="a plan file written by `migrator plan`")
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        dest="output_format",
        help="text for people, markdown for a review issue or job summary (under 1 MiB), json for tools",
    )
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text")
    parser.add_argument("--no-diff", action="store_true", help="summary and per-repository list only (every format)")
    parser.add_argument("--no-pager", action="store_true", help="never page the output (default: $PAGER on a terminal)")


def run(args: argparse.Namespace) -> int:
    loaded = read_plan(readable_file(args.plan, "plan"))
    if args.output_format == "json":
        sys.stdout.write(json.dumps(as_json(loaded, diffs=not args.no_diff), indent=2) + "\n")
    elif args.output_format == "markdown":
        sys.stdout.write(as_markdown(loaded, diffs=not args.no_diff))
    else:
        tty = sys.stdout.isatty()
        colour = args.color == "always" or (args.color == "auto" and tty and "NO_COLOR" not in os.environ)
        width = shutil.get_terminal_size((120, 24)).columns if tty else 120
        page(as_text(loaded, colour=colour, diffs=not args.no_diff, width=width), enabled=not args.no_pager)
    return EXIT_OK
