"""`migrator status [PLAN]`: where each pull request of an apply stands, read in bulk."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from migrator.apply.journal import RepoJournal
from migrator.apply.ports import PullStatus
from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    connect_from,
    matches,
    open_applied,
)
from migrator.commands.jobs import add_jobs_argument, use_jobs
from migrator.errors import EXIT_OK, UsageError
from migrator.progress import Progress
from migrator.verify.reading import release_column

EXAMPLES = """\
  $ migrator status                           # the last apply, from any directory
  $ migrator status plan.json --repo api
  $ migrator status --format json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "plan", type=Path, nargs="?", metavar="PLAN", help="default: the last apply (from any directory)"
    )
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository (repeatable)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="a table, or JSON"
    )
    add_jobs_argument(parser)
    add_plan_guard_arguments(parser, shardable=False)
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    loaded, journal, _ = open_applied(args, "status")
    plan = loaded.plan
    repos = {name: state for name, state in journal.repos.items() if not args.repo or matches(name, args.repo)}
    if args.repo and not repos:
        raise UsageError(f"none of {', '.join(args.repo)} was applied from this plan")
    pulls = sorted(
        [(name, state.pr_number) for name, state in repos.items() if state.pr_number]
        + [(name, state.revert_pr_number) for name, state in repos.items() if state.revert_pr_number]
    )
    applied = {name: state.status for name, state in repos.items()}
    statuses = []
    releases: dict[str, str] = {}
    if pulls:
        client = connect_from(args, api_url=plan.api_url)
        use_jobs(client, args)
        with Progress("reading pull requests") as progress:
            statuses = client.pull_statuses(pulls, progress=progress)
        releases = release_column(client, plan, journal, {s.repo for s in statuses if _is_fix(s, repos)})
    if args.output_format == "json":
        print(
            json.dumps(
                {
                    "plan": str(loaded.path),
                    "pulls": [asdict(s) for s in statuses],
                    "apply": dict(sorted(applied.items())),
                    "release": dict(sorted(releases.items())),
                },
                indent=2,
            )
        )
        return EXIT_OK
    width = max([len(s.repo) for s in statuses] + [10])
    print(f"{'repository':<{width}}  {'PR':<6} {'state':<7} {'review':<18} {'mergeable':<11} {'release':<13} checks")
    for s in statuses:
        checks = ", ".join(f"{c.name}: {c.state}" for c in s.checks)
        summary = f"{s.rollup or '-'} ({checks})" if s.rollup or checks else "none reported"
        print(
            f"{s.repo:<{width}}  #{s.number:<5} {s.state:<7} {s.review_decision or '-':<18} "
            f"{s.mergeable or '-':<11} {releases.get(s.repo, '-') if _is_fix(s, repos) else '-':<13} {summary}"
        )
    without = sorted(name for name, state in repos.items() if not state.pr_number)
    for name in without:
        print(f"{name:<{width}}  -      {applied.get(name) or 'not applied'}")
    return EXIT_OK


def _is_fix(status: PullStatus, repos: Mapping[str, RepoJournal]) -> bool:
    """A merged PR of the fix (not a revert PR): the row that gets `verify`'s verdict in the release column."""
    state = repos.get(status.repo)
    return status.state == "merged" and state is not None and state.pr_number == status.number
