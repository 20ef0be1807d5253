"""`migrator status [PLAN]`: where the campaign stands: a summary of counts per state, then each pull request
(its state, review, mergeability, release verdict, URL and checks), read in bulk."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from migrator.apply.journal import RepoJournal
from migrator.apply.ports import PullStatus
from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    add_plan_or_campaign,
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
  $ migrator status --state checks-failing    # the PRs whose checks fail, with their URLs
  $ migrator status --format json | jq '.summary'
  $ migrator status --campaign acme-release      # the campaign's newest plan, with all of its journals
"""

# Each pull request of the campaign is in one of these; `open` in the summary counts every open one, of which
# `touched`, `checks-failing` and `approved` are a part (in that precedence: a failing one is not counted approved).
# `touched` is apply's word: someone else pushed to the campaign's branch, so apply leaves the PR alone.
STATES = ("open", "touched", "checks-failing", "approved", "merged", "closed", "obsolete")
SUMMARY = STATES
FAILING = frozenset({"failure", "error", "cancelled", "timed_out", "action_required", "startup_failure"})
OPEN_STATES = frozenset({"open", "touched", "checks-failing", "approved"})
CLOSED_STATES = frozenset({"closed", "obsolete"})  # no review is wanted any more: the review column stays empty


@dataclass(frozen=True)
class Row:
    repo: str
    number: int | None
    url: str
    state: str  # one of STATES, "revert-<pr state>" for a rollback's revert PR, or the apply outcome without a PR
    pull: PullStatus | None
    release: str | None
    apply: str | None

    @property
    def review(self) -> str | None:
        """GitHub's review decision, except for a PR closed by a person or as obsolete: none is wanted there."""
        if self.pull is None or self.state in CLOSED_STATES:
            return None
        return self.pull.review_decision

    def as_json(self) -> dict[str, Any]:
        pull = self.pull
        return {
            "repo": self.repo,
            "number": self.number,
            "url": self.url,
            "state": self.state,
            "pr_state": pull.state if pull else None,
            "review": self.review,
            "mergeable": pull.mergeable if pull else None,
            "checks": {"rollup": pull.rollup, "runs": [asdict(c) for c in pull.checks]} if pull else None,
            "release": self.release,
            "apply": self.apply,
        }


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_or_campaign(parser, plan_help="default: the last apply (from any directory), or --campaign NAME")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository (repeatable)")
    parser.add_argument(
        "--state",
        action="append",
        default=[],
        choices=STATES,
        help="only pull requests in this state (repeatable; `open` takes in touched, checks-failing and approved; "
        "touched: someone else pushed to the campaign's branch, as apply says)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        dest="output_format",
        help="a table with a summary line, or JSON (keys sorted, repositories by name)",
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
    statuses: list[PullStatus] = []
    releases: dict[str, str] = {}
    if pulls:
        client = connect_from(args, api_url=plan.api_url)
        use_jobs(client, args)
        with Progress("reading pull requests") as progress:
            statuses = client.pull_statuses(pulls, progress=progress)
        releases = release_column(client, plan, journal, {s.repo for s in statuses if _is_fix(s, repos)})
    rows = campaign_rows(statuses, repos, releases)
    summary = summarise(rows)
    shown = [row for row in rows if wanted(row, args.state)]
    if args.output_format == "json":
        print(
            json.dumps(
                {
                    "plan": str(loaded.path),
                    "summary": summary,
                    "repos": [row.as_json() for row in shown],
                    "pulls": [asdict(s) for s in statuses if any(r.pull is s for r in shown)],
                    "apply": {row.repo: row.apply for row in shown},
                    "release": {row.repo: row.release for row in shown if row.release},
                },
                indent=2,
                sort_keys=True,
            )
        )
        return EXIT_OK
    print(table(shown))
    print(summary_line(summary, shown=len(shown), total=len(rows)))
    return EXIT_OK


def campaign_rows(
    statuses: Sequence[PullStatus], repos: Mapping[str, RepoJournal], releases: Mapping[str, str]
) -> list[Row]:
    """One row per pull request (the fix, and a rollback's revert), then one per repository without a PR."""
    rows = []
    for status in statuses:
        fix = _is_fix_pr(status, repos)
        journal = repos.get(status.repo)
        rows.append(
            Row(
                repo=status.repo,
                number=status.number,
                url=status.url,
                state=pull_state(status, journal) if fix else f"revert-{status.state}",
                pull=status,
                release=releases.get(status.repo) if fix and status.state == "merged" else None,
                apply=journal.status if journal else None,
            )
        )
    for name, state in sorted(repos.items()):
        if not state.pr_number:
            rows.append(Row(name, None, "", state.status or "not applied", None, None, state.status))
    return sorted(rows, key=lambda r: (r.repo.lower(), r.number or 0))


def pull_state(status: PullStatus, journal: RepoJournal | None) -> str:
    if status.state == "merged":
        return "merged"
    if status.state == "closed":
        outcome = (journal.status or "") if journal else ""
        return "obsolete" if "obsolete" in outcome else "closed"  # closed by apply: no change is needed any more
    if status.state != "open":
        return status.state  # "unknown": GitHub would not show it
    if journal is not None and journal.status == "touched":
        return "touched"  # as apply and show say: someone else pushed to our branch, apply leaves it alone
    if (status.rollup or "") in FAILING or any(c.state in FAILING for c in status.checks):
        return "checks-failing"
    return "approved" if status.review_decision == "APPROVED" else "open"


def summarise(rows: Sequence[Row]) -> dict[str, int]:
    fixes = [row for row in rows if row.state in STATES]
    counts = {state: sum(row.state == state for row in fixes) for state in SUMMARY}
    counts["open"] = sum(row.state in OPEN_STATES for row in fixes)
    return counts


def wanted(row: Row, states: Sequence[str]) -> bool:
    if not states:
        return True
    return row.state in states or ("open" in states and row.state in OPEN_STATES)


def summary_line(summary: Mapping[str, int], *, shown: int, total: int) -> str:
    counts = ", ".join(f"{summary[state]} {state.replace('-', ' ')}" for state in SUMMARY)
    rows = f"; {shown} of {total} rows shown" if shown != total else ""
    return f"campaign: {counts}{rows}"


def table(rows: Sequence[Row]) -> str:
    width = max([len(r.repo) for r in rows] + [10])
    url_width = max([len(r.url) for r in rows] + [3])
    lines = [
        f"{'repository':<{width}}  {'PR':<6} {'state':<14} {'review':<18} {'mergeable':<11} {'release':<13} "
        f"{'url':<{url_width}} checks"
    ]
    for row in rows:
        s = row.pull
        if s is None:
            lines.append(f"{row.repo:<{width}}  {'-':<6} {row.state:<14} -")
            continue
        checks = ", ".join(f"{c.name}: {c.state}" for c in s.checks)
        summary = f"{s.rollup or '-'} ({checks})" if s.rollup or checks else "none reported"
        lines.append(
            f"{row.repo:<{width}}  #{s.number:<5} {row.state:<14} {row.review or '-':<18} "
            f"{s.mergeable or '-':<11} {row.release or '-':<13} {row.url or '-':<{url_width}} {summary}"
        )
    return "\n".join(lines)


def _is_fix_pr(status: PullStatus, repos: Mapping[str, RepoJournal]) -> bool:
    """The fix's PR (not a rollback's revert PR)."""
    state = repos.get(status.repo)
    return state is not None and state.pr_number == status.number


def _is_fix(status: PullStatus, repos: Mapping[str, RepoJournal]) -> bool:
    """A merged PR of the fix (not a revert PR): the row that gets `verify`'s verdict in the release column."""
    return status.state == "merged" and _is_fix_pr(status, repos)
