"""`migrator rollback [PLAN]`: undo the last apply (or PLAN's), from its journal."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict

from migrator.apply.pacing import Pacer, PaceSettings, add_max_wait_argument, cap_waits
from migrator.apply.rollback import RepoRollback
from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    add_plan_or_campaign,
    announce_edits,
    campaign_plans,
    campaign_repos,
    connect_from,
    interrupted,
    matches,
    open_applied,
    pacing_eta,
    remember_recent_writes,
    wait_note,
)
from migrator.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError
from migrator.permissions import refuse_unless_able
from migrator.progress import Progress

EXAMPLES = """\
  $ migrator rollback --dry-run               # what rollback would undo; writes nothing
  $ migrator rollback                         # the last apply, after a confirmation on a terminal
  $ migrator rollback plan.json --repo api --yes
  $ migrator rollback --broken --dry-run      # only what `verify` finds broken by the change
  $ migrator rollback --campaign acme-release  # everything the campaign made, across all of its plans
"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_or_campaign(
        parser, plan_help="default: the last apply (from any directory); a campaign's plan rolls back the campaign"
    )
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository (repeatable)")
    parser.add_argument("--include-review", action="store_true", help="the apply included review changes")
    parser.add_argument(
        "--broken", action="store_true", help="only the repositories `verify` finds broken by the change (reads first)"
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation on a terminal")
    parser.add_argument(
        "--dry-run", action="store_true", help="read GitHub and say what rollback would do; write nothing"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="a table, or JSON"
    )
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
    loaded, journal, shard = open_applied(args, "rollback", lock_for=None if args.dry_run else "rollback")
    plan = loaded.plan
    announce_edits(loaded)
    touched = [
        (owner, r)
        for owner, r in campaign_repos(campaign_plans(loaded))
        if r.name in journal.repos and (shard is None or shard.contains(r.name))
    ]
    if args.repo:
        touched = [(owner, r) for owner, r in touched if matches(r.name, args.repo)]
    if not touched:
        raise UsageError(f"the journal of {loaded.path} shows no applied repository to roll back")
    pacer = Pacer(PaceSettings(min_interval=args.min_interval), max_wait=args.max_wait)
    client = cap_waits(connect_from(args, api_url=plan.api_url), args.max_wait)
    if args.broken:
        from migrator.verify.reading import broken_by_change

        broken = broken_by_change(client, plan, journal, {r.name for _, r in touched})
        touched = [(owner, r) for owner, r in touched if r.name in broken]
        if not touched:
            print("rollback: verify finds no repository broken by the change; nothing to roll back", file=sys.stderr)
            return EXIT_OK
    if not args.dry_run:
        refuse_unless_able(client.token_info(), plan.token, command="rollback", workflows=False)
    if not args.dry_run and not confirmed(args, len(touched)):
        print("rollback: not confirmed; nothing was changed", file=sys.stderr)
        return EXIT_USAGE
    outcomes = []
    remember_recent_writes(pacer, journal)
    eta = pacing_eta(pacer, writes_per_repo=3, writes=not args.dry_run)
    with Progress("dry run" if args.dry_run else "rolling back", eta=eta) as progress:
        pacer.on_wait = lambda seconds: progress.note(wait_note(seconds))
        try:
            for done, (owner, repo) in enumerate(touched):
                progress(done, len(touched), repo.name)
                undo = RepoRollback(owner, repo, client, journal, pacer, args.include_review, dry_run=args.dry_run)
                outcomes.append(undo.run())
        except KeyboardInterrupt:
            raise interrupted("rollback", loaded.path, [r.name for _, r in touched], len(outcomes)) from None
        finally:
            journal.close()
    written = None if args.dry_run else str(journal.path)
    if args.output_format == "json":
        print(json.dumps({"journal": written, "repos": [asdict(o) for o in outcomes]}, indent=2))
    else:
        width = max([len(o.repo) for o in outcomes] + [10])
        print(f"{'repository':<{width}}  {'rollback':<16} {'PR':<6} detail")
        for o in outcomes:
            pr = f"#{o.pr_number}" if o.pr_number else "-"
            print(f"{o.repo:<{width}}  {o.status:<16} {pr:<6} {o.detail}")
        counts = Counter(o.status for o in outcomes)
        where = "dry run: nothing written, no journal" if args.dry_run else f"journal: {journal.path}"
        print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f"; {where}")
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FINDINGS


def confirmed(args: argparse.Namespace, count: int) -> bool:
    """On a terminal, rollback asks first (unless --yes); in scripts and CI it does what it was told."""
    if args.yes or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return True
    try:
        answer = input(f"roll back {count} repositories (close PRs, delete branches, open reverts)? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}
