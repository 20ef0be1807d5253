"""`migrator verify [PLAN]`: did each merged fix make the release work? Read in bulk, judged with evidence."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    add_plan_or_campaign,
    connect_from,
    matches,
    open_applied,
)
from migrator.commands.jobs import add_jobs_argument, use_jobs
from migrator.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migrator.progress import Progress
from migrator.verify import render
from migrator.verify.model import Judgement, Verdict
from migrator.verify.reading import IMAGE_SOURCES, read_facts, targets, verdicts

EXAMPLES = """\
  $ migrator verify                           # the last apply: verified, pending, not-released or broken
  $ migrator verify plan.json --wait 30m      # poll until no repository is pending
  $ migrator verify --format markdown >> "$GITHUB_STEP_SUMMARY"
  $ migrator verify --campaign acme-release
"""

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_or_campaign(parser, plan_help="default: the last apply (from any directory), or --campaign NAME")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository (repeatable)")
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        dest="output_format",
        help="a table, JSON, or Markdown (for a job summary)",
    )
    parser.add_argument(
        "--wait", type=parse_duration, metavar="DURATION", help="poll until none is pending, at most this long (30m)"
    )
    parser.add_argument(
        "--poll-interval", type=float, default=30.0, metavar="SECONDS", help="seconds between polls with --wait"
    )
    parser.add_argument(
        "--image-source",
        choices=IMAGE_SOURCES,
        default="jobs",
        help="image pushes from the runs' jobs (GHCR asked only where two runs built one image), from the jobs and "
        "GHCR for every released image (one request each), or from the sandbox's registry model",
    )
    add_jobs_argument(parser)
    add_plan_guard_arguments(parser, shardable=False)
    add_connection_arguments(parser)


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `2h`, `1d` as seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not found:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (like 90s, 30m, 2h)")
    return float(found.group(1)) * _UNITS[found.group(2)]


def run(args: argparse.Namespace) -> int:
    loaded, journal, _ = open_applied(args, "verify")
    wanted = targets(loaded.plan, journal, lambda name: not args.repo or matches(name, args.repo))
    if args.repo and not wanted:
        raise UsageError(f"none of {', '.join(args.repo)} has a pull request from this plan")
    judgements: list[Judgement] = []
    if wanted:
        client = connect_from(args, api_url=loaded.plan.api_url)
        use_jobs(client, args)
        deadline = _clock() + (args.wait or 0)
        while True:
            with Progress("reading releases") as progress:
                facts = read_facts(client, wanted, image_source=args.image_source, progress=progress)
            judgements = verdicts(facts)
            pending = [j for j in judgements if j.verdict is Verdict.PENDING]
            if not pending or not args.wait or _clock() >= deadline:
                break
            print(f"verify: {render.counts(judgements)}; polling again in {args.poll_interval:g} s", file=sys.stderr)
            _sleep(min(args.poll_interval, max(deadline - _clock(), 0)))
    print(_output(args.output_format, judgements, str(loaded.path)))
    _propose_rollback(judgements, loaded.path)
    if args.wait:
        _gave_up(judgements, args.wait, loaded.path)
    return EXIT_OK if all_verified(judgements) else EXIT_FINDINGS


def _propose_rollback(judgements: list[Judgement], plan: Path) -> None:
    """Name exactly the repositories the change broke (not those still broken despite it), with the command."""
    caused = [j.repo for j in judgements if j.verdict is Verdict.BROKEN and j.caused_by_fix]
    if caused:
        repos = " ".join(f"--repo {name}" for name in caused)
        print(
            f"verify: the change broke {len(caused)} release(s); to revert exactly those: "
            f"migrator rollback {plan} {repos}",
            file=sys.stderr,
        )


def _gave_up(judgements: list[Judgement], waited: float, plan: Path) -> None:
    """After `--wait` ran out with repositories still pending: one line saying so, and what to run next."""
    pending = [j.repo for j in judgements if j.verdict is Verdict.PENDING]
    if pending:
        print(
            f"verify: gave up after {format_duration(waited)} with {len(pending)} of {len(judgements)} still "
            f"pending; next: migrator verify {plan} --wait {format_duration(waited * 2)}",
            file=sys.stderr,
        )


def format_duration(seconds: float) -> str:
    """Seconds as `--wait` takes them: 90s, 30m, 2h, 1d (rounded to the largest whole unit, else seconds)."""
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{seconds / _UNITS[unit]:g}{unit}"
    return f"{seconds:g}s"


def all_verified(judgements: list[Judgement]) -> bool:
    merged = [j for j in judgements if j.verdict is not Verdict.NOT_MERGED]
    return bool(merged) and all(j.verdict is Verdict.VERIFIED for j in merged)


def _output(output_format: str, judgements: list[Judgement], plan: str) -> str:
    if output_format == "json":
        return render.as_json(judgements, plan)
    if output_format == "markdown":
        return render.markdown(judgements)
    return render.text(judgements)


def _sleep(seconds: float) -> None:
    """A seam: tests move a fake clock instead of waiting."""
    time.sleep(seconds)


def _clock() -> float:
    """A seam, with `_sleep`: tests read the fake clock they move."""
    return time.monotonic()
