"""`migrator rollback [PLAN]`: undo the last apply (or PLAN's), from its journal."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from migrator.apply.pacing import Pacer, PaceSettings, add_max_wait_argument, cap_waits
from migrator.apply.rollback import RepoRollback
from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    announce_edits,
    connect_from,
    load_for_remote,
    open_journal,
    shard_from,
)
from migrator.errors import EXIT_FINDINGS, EXIT_OK, UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", type=Path, nargs="?", metavar="PLAN", help="default: the most recent apply")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository")
    parser.add_argument("--include-review", action="store_true", help="the apply included review changes")
    parser.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    parser.add_argument(
        "--min-interval",
        type=float,
        default=PaceSettings().min_interval,
        metavar="SECONDS",
        help="at least this long between content-creating writes",
    )
    add_max_wait_argument(parser)
    add_plan_guard_arguments(parser)
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    loaded = load_for_remote(args, args.plan)
    plan = loaded.plan
    announce_edits(loaded)
    shard = shard_from(args, plan)
    journal = open_journal(loaded, shard, lock_for="rollback")
    touched = [r for r in plan.repos if r.name in journal.repos and (shard is None or shard.contains(r.name))]
    if args.repo:
        wanted = {n.lower() for n in args.repo}
        touched = [r for r in touched if r.name.lower() in wanted or r.name.split("/", 1)[1].lower() in wanted]
    if not touched:
        raise UsageError(f"the journal of {loaded.path} shows no applied repository to roll back")
    pacer = Pacer(PaceSettings(min_interval=args.min_interval), max_wait=args.max_wait)
    client = cap_waits(connect_from(args, api_url=plan.api_url), args.max_wait)
    outcomes = [RepoRollback(plan, repo, client, journal, pacer, args.include_review).run() for repo in touched]
    if args.output_format == "json":
        print(json.dumps({"journal": str(journal.path), "repos": [asdict(o) for o in outcomes]}, indent=2))
    else:
        width = max([len(o.repo) for o in outcomes] + [10])
        print(f"{'repository':<{width}}  {'rollback':<16} {'PR':<6} detail")
        for o in outcomes:
            pr = f"#{o.pr_number}" if o.pr_number else "-"
            print(f"{o.repo:<{width}}  {o.status:<16} {pr:<6} {o.detail}")
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FINDINGS
