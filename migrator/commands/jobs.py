"""`--jobs N`: how many GraphQL reads `plan`, `status` and `verify` keep in flight (writes stay one at a time)."""

from __future__ import annotations

import argparse

DEFAULT_JOBS = 4
MAX_JOBS = 100  # GitHub's limit on concurrent requests


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"{value} is out of range; use 1 to {MAX_JOBS} (GitHub's concurrency limit)")
    return value


def add_jobs_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"GraphQL pages read at once (default {DEFAULT_JOBS}, at most {MAX_JOBS}); the result is the same",
    )


def use_jobs(client: object, args: argparse.Namespace) -> None:
    """Set the client's jobs; a reader without concurrency (a test's fake) reads one page at a time."""
    set_jobs = getattr(client, "set_jobs", None)
    if callable(set_jobs):
        set_jobs(getattr(args, "jobs", DEFAULT_JOBS))
