"""`migrator merge [PLAN]`: merge the pull requests of an apply that the repositories' own rules allow.

Exit 0 only when every selected pull request ended merged, already merged, or handed to GitHub (auto-merge
enabled, in the merge queue); a dry run exits 0 when each of them would.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.apply.journal import Journal, plan_journals
from migrator.apply.pacing import Pacer, add_pacing_arguments, cap_waits, pace_settings
from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    add_plan_or_campaign,
    announce_edits,
    connect_from,
    interrupted,
    matches,
    open_applied,
    pacing_eta,
    remember_recent_writes,
    wait_note,
)
from migrator.commands.verify import parse_duration
from migrator.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migrator.github.merging import METHOD_ORDER, MergeClient
from migrator.merge.decide import MergeOptions
from migrator.merge.executor import MergeOutcome, PullMerge, merge_history, read_for_merge
from migrator.merge.waves import WaveVerdict, judge_wave, wait_for_wave, waves
from migrator.model import is_workflow_path
from migrator.permissions import refuse_unless_able
from migrator.plan.model import Plan
from migrator.plan.shard import Shard
from migrator.progress import Progress
from migrator.verify import render
from migrator.verify.model import Judgement
from migrator.verify.reading import IMAGE_SOURCES, read_facts, targets, verdicts

if TYPE_CHECKING:
    from migrator.github import GitHubClient

Pull = tuple[str, int, str]  # repository, pull request number, base branch

EXAMPLES = """\
  $ migrator merge --dry-run                   # which PRs of the last apply would merge, and why not the others
  $ migrator merge plan.json --limit 5         # merge the first five that the repositories' rules allow
  $ migrator merge --auto --method squash      # let GitHub merge each PR once its checks and reviews pass
  $ migrator merge --verify --canary 2 --wait 30m   # waves: the next only once verify says the last works
  $ migrator merge --campaign acme-release --dry-run   # every PR of the campaign, with its reason
"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_or_campaign(parser, plan_help="default: the last apply (from any directory), or --campaign NAME")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository (repeatable)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N pull requests of the plan")
    parser.add_argument("--dry-run", action="store_true", help="read GitHub and decide as for real; write nothing")
    parser.add_argument(
        "--method",
        choices=METHOD_ORDER,
        help="merge method; default: the first the repository allows, in the order squash, merge, rebase",
    )
    parser.add_argument(
        "--auto", action="store_true", help="enable GitHub's auto-merge where checks or reviews are still pending"
    )
    parser.add_argument(
        "--admin", action="store_true", help="merge past unmet requirements where the token may merge as an admin"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", dest="output_format", help="a table, or JSON"
    )
    waves_group = parser.add_argument_group("waves (--verify): a canary wave, then the next only once verified")
    waves_group.add_argument(
        "--verify", action="store_true", help="merge in waves; after each, wait until `verify` judges it"
    )
    waves_group.add_argument("--canary", type=int, default=1, metavar="N", help="pull requests in the first wave (1)")
    waves_group.add_argument(
        "--wave-size", type=int, metavar="N", help="pull requests per later wave (default: each twice the last)"
    )
    waves_group.add_argument(
        "--wait",
        type=parse_duration,
        default=1800.0,
        metavar="DURATION",
        help="how long to wait for a wave's releases (30m)",
    )
    waves_group.add_argument(
        "--poll-interval", type=float, default=30.0, metavar="SECONDS", help="seconds between verify polls (30)"
    )
    waves_group.add_argument("--image-source", choices=IMAGE_SOURCES, default="jobs", help="as `verify --image-source`")
    pace = parser.add_argument_group("pacing of merges (GitHub: ~80 content-creating writes a minute, ~500 an hour)")
    add_pacing_arguments(pace)
    add_plan_guard_arguments(parser)
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.canary < 1 or (args.wave_size is not None and args.wave_size < 1):
        raise UsageError("--canary and --wave-size must be at least 1")
    loaded, journal, shard = open_applied(args, "merge", lock_for=None if args.dry_run else "merge")
    try:
        plan = loaded.plan
        announce_edits(loaded)
        pulls = _selected(args, plan, journal, shard)
        _note_unfinished(args, plan, journal, loaded.path)
        if not pulls:
            raise UsageError(f"the journal of {loaded.path} shows no pull request to merge in this selection")
        left = max(len(pulls) - args.limit, 0) if args.limit else 0
        pulls = pulls[: args.limit] if args.limit else pulls
        client = cap_waits(connect_from(args, api_url=plan.api_url), args.max_wait)
        if not args.dry_run:
            workflows = any(is_workflow_path(c.path) for r in plan.repos for c in r.changes)
            refuse_unless_able(client.token_info(), plan.token, command="merge", workflows=workflows)
        port = MergeClient(client.transport)
        settings = pace_settings(args)
        pacer = Pacer(settings, max_wait=args.max_wait)
        remember_recent_writes(pacer, journal)
        options = MergeOptions(method=args.method, auto=args.auto, admin=args.admin)
        history = merge_history(plan_journals(loaded.path))
        outcomes: list[MergeOutcome] = []
        stop: WaveVerdict | None = None
        groups = waves(pulls, canary=args.canary, wave_size=args.wave_size) if args.verify else [pulls]
        eta = pacing_eta(pacer, writes_per_repo=1, writes=not args.dry_run)
        with Progress("dry run" if args.dry_run else "merging", eta=eta) as progress:
            pacer.on_wait = lambda seconds: progress.note(wait_note(seconds))
            try:
                for number, group in enumerate(groups, 1):
                    for item in read_for_merge(port, group, sleep=_sleep):
                        progress(len(outcomes), len(pulls), item.repo)
                        step = PullMerge(item, port, journal, pacer, options, history, dry_run=args.dry_run)
                        outcomes.append(step.run())
                    stop = _after_wave(args, client=client, plan=plan, journal=journal, group=group, number=number)
                    if stop is not None and not stop.go_on:
                        break
                    stop = None  # verified (or not asked to verify): the next wave goes
            except KeyboardInterrupt:
                raise interrupted("merge", loaded.path, [p[0] for p in pulls], len(outcomes)) from None
    finally:
        journal.close()
    _report(outcomes, args, None if args.dry_run else str(journal.path), stop)
    if left:
        print(f"{left} more pull requests remain beyond --limit {args.limit}; run merge again without it to go on")
    failed = stop is not None or not all(o.ok for o in outcomes)
    return EXIT_FINDINGS if failed else EXIT_OK


def _selected(args: argparse.Namespace, plan: Plan, journal: Journal, shard: Shard | None) -> list[Pull]:
    """(repository, PR number, base branch) of every PR the journal shows, in plan order, as `--repo` narrows."""
    found = []
    for repo in plan.repos:
        state = journal.repos.get(repo.name)
        if state is None or not state.pr_number or (shard is not None and not shard.contains(repo.name)):
            continue
        if not args.repo or matches(repo.name, args.repo):
            found.append((repo.name, int(state.pr_number), repo.base_branch))
    return found


def _note_unfinished(args: argparse.Namespace, plan: Plan, journal: Journal, path: Path) -> None:
    """Repositories apply set out to open a PR in but whose PR the journal does not hold: apply must finish first."""
    unfinished = [
        r.name
        for r in plan.repos
        if (state := journal.repos.get(r.name)) is not None
        and state.apply_begun
        and not state.pr_number
        and (not args.repo or matches(r.name, args.repo))
    ]
    if unfinished:
        print(
            f"merge: {len(unfinished)} repositories have no pull request in the journal yet ({', '.join(unfinished)}); "
            f"re-run `migrator apply {path}` to finish them",
            file=sys.stderr,
        )


def _after_wave(
    args: argparse.Namespace,
    *,
    client: GitHubClient,
    plan: Plan,
    journal: Journal,
    group: list[Pull],
    number: int,
) -> WaveVerdict | None:
    """With --verify, whether the wave's releases work (None without it)."""
    if not args.verify:
        return None
    if args.dry_run:  # nothing merged, so nothing to verify: every wave is shown as decided
        print(f"merge --verify: dry run: wave {number} is not verified", file=sys.stderr)
        return None
    verdict = _verify_wave(args, client=client, plan=plan, journal=journal, group=group, number=number)
    print(f"merge --verify: {verdict.reason}", file=sys.stderr)
    return verdict


def _verify_wave(
    args: argparse.Namespace,
    *,
    client: GitHubClient,
    plan: Plan,
    journal: Journal,
    group: list[Pull],
    number: int,
) -> WaveVerdict:
    names = {name for name, _, _ in group}
    wanted = targets(plan, journal, lambda name: name in names)

    def poll() -> list[Judgement]:
        return verdicts(read_facts(client, wanted, image_source=args.image_source))

    def note(judgements: list[Judgement]) -> None:
        print(
            f"merge --verify: wave {number}: {render.counts(judgements)}; polling again in {args.poll_interval:g} s",
            file=sys.stderr,
        )

    judgements, timed_out = wait_for_wave(
        poll, wait=args.wait, interval=args.poll_interval, clock=_clock, sleep=_sleep, on_poll=note
    )
    return judge_wave(judgements, number=number, timed_out=timed_out)


def _sleep(seconds: float) -> None:
    """A seam: tests replace it (and `_clock`) with a fake clock."""
    time.sleep(seconds)


def _clock() -> float:
    return time.monotonic()


def _report(
    outcomes: list[MergeOutcome], args: argparse.Namespace, journal: str | None, stop: WaveVerdict | None
) -> None:
    counts = Counter(o.status for o in outcomes)
    where = f"journal: {journal}" if journal else "dry run: nothing written, no journal"
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f"; {where}"
    if args.output_format == "json":
        body: dict[str, object] = {"journal": journal, "summary": summary, "repos": [asdict(o) for o in outcomes]}
        if args.verify:
            body["stopped"] = stop.reason if stop else None
        print(json.dumps(body, indent=2))
        return
    width = max([len(o.repo) for o in outcomes] + [10])
    print(f"{'repository':<{width}}  {'merge':<15} {'PR':<6} detail")
    for o in outcomes:
        print(f"{o.repo:<{width}}  {o.status:<15} #{o.number:<5} {o.detail}")
    print(summary)
    if stop is not None:
        print(f"stopped: {stop.reason}")
