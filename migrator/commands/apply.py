"""`migrator apply PLAN|--campaign NAME`: one branch, one commit and one pull request per repository, resumable,
reconciled with what the campaign already has there.

Exit 0 only when no selected repository failed (stale, conflict, failed, throttled, gone, skipped-by-permission).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from migrator.apply.executor import ApplyOptions, Outcome, apply_plan, selected_changes
from migrator.apply.pacing import Pacer, add_pacing_arguments, cap_waits, pace_settings
from migrator.apply.retire import RepoRetire
from migrator.campaign import record_plan
from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    add_plan_or_campaign,
    announce_edits,
    choose_plan,
    connect_from,
    interrupted,
    load_for_remote,
    matches,
    open_journal,
    pacing_eta,
    remember_recent_writes,
    shard_from,
    wait_note,
)
from migrator.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migrator.model import is_workflow_path
from migrator.permissions import refuse_unless_able
from migrator.plan.model import Plan, RepoPlan, Retired
from migrator.plan.shard import Shard
from migrator.progress import Progress
from migrator.state import record_apply

EXAMPLES = """\
  $ migrator apply plan.json --dry-run        # what apply would do; writes nothing
  $ migrator apply plan.json --limit 5        # a canary: the first five repositories
  $ migrator apply plan.json --repo api --label ci --reviewer octocat
  $ migrator apply plan.json                  # the rest; re-running resumes
  $ migrator apply --campaign acme-release --refresh   # the campaign's newest plan; rebase every PR
"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_or_campaign(parser, plan_help="a plan written by `migrator plan` (or --campaign NAME)")
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="also rewrite PRs whose base moved only in files the plan does not change (default: leave them)",
    )
    parser.add_argument(
        "--reopen", action="store_true", help="open a new PR where a person closed the campaign's (default: never)"
    )
    parser.add_argument("--include-review", action="store_true", help="also apply changes marked review")
    parser.add_argument("--dry-run", action="store_true", help="say what would happen; write nothing")
    parser.add_argument("--limit", type=int, metavar="N", help="canary: only the first N enabled repositories")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="a table, or JSON"
    )
    pr = parser.add_argument_group("pull requests")
    pr.add_argument("--draft", action="store_true", help="open draft pull requests")
    pr.add_argument("--label", action="append", default=[], help="label to add (one more write per PR)")
    pr.add_argument("--reviewer", action="append", default=[], help="user to request a review from")
    pr.add_argument("--team-reviewer", action="append", default=[], help="team to request a review from")
    pace = parser.add_argument_group("pacing of content-creating writes (GitHub: ~80/minute, ~500/hour)")
    add_pacing_arguments(pace)
    add_plan_guard_arguments(parser)
    add_connection_arguments(parser)


@dataclass(frozen=True)
class Selected:
    repos: list[RepoPlan]
    left: int  # enabled repositories of the selection that --limit held back


def selected_repos(
    repos: tuple[RepoPlan, ...], names: list[str], limit: int | None, shard: Shard | None = None
) -> Selected:
    chosen = [r for r in repos if r.enabled and (shard is None or shard.contains(r.name))]
    if names:
        chosen = [r for r in chosen if matches(r.name, names)]
        if not chosen:
            raise UsageError(f"none of {', '.join(names)} is an enabled repository of this plan")
    if limit is not None:
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        return Selected(chosen[:limit], max(len(chosen) - limit, 0))
    return Selected(chosen, 0)


def needs_workflow_power(repos: list[RepoPlan], *, include_review: bool) -> bool:
    return any(is_workflow_path(c.path) for r in repos for c in selected_changes(r, include_review=include_review))


def retired_repos(plan: Plan, names: list[str], limit: int | None, shard: Shard | None) -> list[Retired]:
    """The campaign's repositories that need no change any more; a canary (`--limit`) leaves them for later."""
    if limit is not None:
        return []
    chosen = [r for r in plan.retired if shard is None or shard.contains(r.name)]
    return [r for r in chosen if matches(r.name, names)] if names else chosen


def run(args: argparse.Namespace) -> int:
    if args.plan is None and args.campaign is None:
        raise UsageError("apply needs a PLAN (or --campaign NAME for the newest plan of a campaign)")
    loaded = load_for_remote(args, choose_plan(args.plan, args.campaign).path)
    plan = loaded.plan
    shard = shard_from(args, plan)
    retired = retired_repos(plan, args.repo, args.limit, shard)
    if args.repo and not any(matches(r.name, args.repo) for r in plan.repos):
        selected = Selected([], 0) if retired else selected_repos(plan.repos, args.repo, args.limit, shard)
    else:
        selected = selected_repos(plan.repos, args.repo, args.limit, shard)
    repos = selected.repos
    announce_edits(loaded)
    if not repos and not retired:
        return nothing_to_apply(plan, shard)
    settings = pace_settings(args)
    pacer = Pacer(settings, max_wait=args.max_wait)
    client = cap_waits(connect_from(args, api_url=plan.api_url), args.max_wait)
    if not args.dry_run:
        workflows = needs_workflow_power(repos, include_review=args.include_review)
        refuse_unless_able(client.token_info(), plan.token, command="apply", workflows=workflows)
    journal = open_journal(loaded, shard, lock_for="apply")
    if not args.dry_run:
        record_apply(loaded.path, plan_id=plan.plan_id, org=plan.org)
        if plan.campaign is not None:
            record_plan(plan.campaign, org=plan.org, plan=loaded.path, plan_id=plan.plan_id, api_url=plan.api_url)
    options = ApplyOptions(
        include_review=args.include_review,
        dry_run=args.dry_run,
        draft=args.draft,
        labels=tuple(args.label),
        reviewers=tuple(args.reviewer),
        team_reviewers=tuple(args.team_reviewer),
        refresh=args.refresh,
        reopen=args.reopen,
    )
    remember_recent_writes(pacer, journal)
    eta = pacing_eta(pacer, writes_per_repo=3, writes=not args.dry_run)
    try:
        with Progress("applying" if not args.dry_run else "dry run", eta=eta) as progress:
            pacer.on_wait = lambda seconds: progress.note(wait_note(seconds))
            try:
                outcomes = apply_plan(
                    plan, repos, client, journal=journal, pacer=pacer, options=options, progress=progress
                )
                for gone in retired:
                    outcomes.append(RepoRetire(plan, gone, client, journal, pacer, dry_run=args.dry_run).run())
            except KeyboardInterrupt:
                names = [r.name for r in repos] + [r.name for r in retired]
                raise interrupted("apply", loaded.path, names, progress.done) from None
    finally:
        journal.close()
    report(outcomes, args.output_format, None if args.dry_run else journal.path)
    if selected.left:
        print(
            f"{selected.left} more enabled repositories remain beyond --limit {args.limit}; "
            f"run `migrator apply {loaded.path}` without --limit (or with a larger one) to continue"
        )
    return EXIT_OK if all(o.status.ok for o in outcomes) else EXIT_FINDINGS


def nothing_to_apply(plan: Plan, shard: Shard | None) -> int:
    """No enabled repository: say why. A plan whose every change is blocked is a failure (exit 1)."""
    blocked = plan.blocked_reasons()
    if blocked is not None:
        print(f"every change of this plan is blocked, so nothing can be applied: {'; '.join(blocked)}")
        return EXIT_FINDINGS
    where = f"shard {shard}" if shard else "this selection"
    print(f"no enabled repository in {where}; nothing to apply (enable some in the plan, or --include-review)")
    return EXIT_OK


def report(outcomes: list[Outcome], output_format: str, journal: Path | None) -> None:
    """`journal` is None for a dry run, which writes none."""
    if output_format == "json":
        rows = [{**asdict(o), "status": o.status.value} for o in outcomes]
        print(json.dumps({"journal": str(journal) if journal else None, "repos": rows}, indent=2))
        return
    width = max([len(o.repo) for o in outcomes] + [10])
    print(f"{'repository':<{width}}  {'status':<22} {'pull request':<12} detail")
    for o in outcomes:
        pr = f"#{o.pr_number}" if o.pr_number else "-"
        print(f"{o.repo:<{width}}  {o.status.value:<22} {pr:<12} {o.detail or (o.pr_url or '')}")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status.value] = counts.get(o.status.value, 0) + 1
    where = f"; journal: {journal}" if journal else "; dry run: nothing written, no journal"
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + where)
