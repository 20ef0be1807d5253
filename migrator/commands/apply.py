"""`migrator apply PLAN`: one branch, one commit and one pull request per repository, resumable.

Exit 0 only when every selected repository ended applied or already-applied.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from migrator.apply.executor import ApplyOptions, Outcome, apply_plan
from migrator.apply.pacing import Pacer, PaceSettings, add_max_wait_argument, cap_waits
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
from migrator.plan.model import RepoPlan
from migrator.plan.shard import Shard
from migrator.progress import ProgressLine


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", type=Path, metavar="PLAN", help="a plan written by `migrator plan`")
    parser.add_argument("--include-review", action="store_true", help="also apply changes marked review")
    parser.add_argument("--dry-run", action="store_true", help="say what would happen; write nothing")
    parser.add_argument("--limit", type=int, metavar="N", help="canary: only the first N enabled repositories")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository")
    parser.add_argument("--format", choices=("text", "json"), default="text", dest="output_format")
    pr = parser.add_argument_group("pull requests")
    pr.add_argument("--draft", action="store_true", help="open draft pull requests")
    pr.add_argument("--label", action="append", default=[], help="label to add (one more write per PR)")
    pr.add_argument("--reviewer", action="append", default=[], help="user to request a review from")
    pr.add_argument("--team-reviewer", action="append", default=[], help="team to request a review from")
    pace = parser.add_argument_group("pacing of content-creating writes (GitHub: ~80/minute, ~500/hour)")
    defaults = PaceSettings()
    pace.add_argument(
        "--per-minute", type=int, default=defaults.per_minute, help=f"at most so many a minute ({defaults.per_minute})"
    )
    pace.add_argument(
        "--per-hour", type=int, default=defaults.per_hour, help=f"at most this many an hour ({defaults.per_hour})"
    )
    pace.add_argument(
        "--min-interval",
        type=float,
        default=defaults.min_interval,
        metavar="SECONDS",
        help=f"at least this long between two ({defaults.min_interval:g})",
    )
    add_max_wait_argument(pace)
    add_plan_guard_arguments(parser)
    add_connection_arguments(parser)


def selected_repos(
    repos: tuple[RepoPlan, ...], names: list[str], limit: int | None, shard: Shard | None = None
) -> list[RepoPlan]:
    chosen = [r for r in repos if r.enabled and (shard is None or shard.contains(r.name))]
    if names:
        wanted = {n.lower() for n in names}
        chosen = [r for r in chosen if r.name.lower() in wanted or r.name.split("/", 1)[1].lower() in wanted]
        if not chosen:
            raise UsageError(f"none of {', '.join(names)} is an enabled repository of this plan")
    if limit is not None:
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        chosen = chosen[:limit]
    return chosen


def run(args: argparse.Namespace) -> int:
    loaded = load_for_remote(args, args.plan)
    plan = loaded.plan
    shard = shard_from(args, plan)
    repos = selected_repos(plan.repos, args.repo, args.limit, shard)
    announce_edits(loaded)
    settings = PaceSettings(per_minute=args.per_minute, per_hour=args.per_hour, min_interval=args.min_interval)
    pacer = Pacer(settings, max_wait=args.max_wait)
    journal = open_journal(loaded, shard, lock_for="apply")
    client = cap_waits(connect_from(args, api_url=plan.api_url), args.max_wait)
    progress = ProgressLine("applying", extra=lambda: pacer.describe(3 * len(repos) - pacer.writes))
    pacer.on_wait = lambda seconds: progress(pacer.writes // 3, len(repos), "")
    options = ApplyOptions(
        include_review=args.include_review,
        dry_run=args.dry_run,
        draft=args.draft,
        labels=tuple(args.label),
        reviewers=tuple(args.reviewer),
        team_reviewers=tuple(args.team_reviewer),
    )
    try:
        outcomes = apply_plan(plan, repos, client, journal=journal, pacer=pacer, options=options, progress=progress)
    finally:
        progress.close()
        journal.close()
    report(outcomes, args.output_format, journal.path)
    return EXIT_OK if all(o.status.ok for o in outcomes) else EXIT_FINDINGS


def report(outcomes: list[Outcome], output_format: str, journal: Path) -> None:
    if output_format == "json":
        rows = [{**asdict(o), "status": o.status.value} for o in outcomes]
        print(json.dumps({"journal": str(journal), "repos": rows}, indent=2))
        return
    if not outcomes:
        print(f"no enabled repository in this selection; nothing to apply; journal: {journal}")
        return
    width = max([len(o.repo) for o in outcomes] + [10])
    print(f"{'repository':<{width}}  {'status':<22} {'pull request':<12} detail")
    for o in outcomes:
        pr = f"#{o.pr_number}" if o.pr_number else "-"
        print(f"{o.repo:<{width}}  {o.status.value:<22} {pr:<12} {o.detail or (o.pr_url or '')}")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status.value] = counts.get(o.status.value, 0) + 1
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f"; journal: {journal}")
