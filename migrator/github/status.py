"""`StatusReader.pull_statuses`: where many pull requests stand, a batch of them per GraphQL query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from migrator.apply.ports import CheckState, PullStatus
from migrator.github import queries
from migrator.github.paging import ordered_map
from migrator.github.transport import GraphQLAnswer, Transport

Json = dict[str, Any]
BATCH = 25  # pull requests per query: 2 connections each, so well under one point
UNKNOWN = "unknown"  # the state of a pull request GitHub would not show (deleted, or no access)


class StatusMethods:
    """Mixed into `GitHubClient`, which provides `transport`."""

    transport: Transport

    def pull_statuses(
        self, pulls: Sequence[tuple[str, int]], *, progress: Callable[[int, int, str], None] | None = None
    ) -> list[PullStatus]:
        """In input order. A pull request GitHub does not show comes back with state "unknown"."""
        found: list[PullStatus] = []
        batches = [pulls[start : start + BATCH] for start in range(0, len(pulls), BATCH)]
        answers = ordered_map(self._status_batch, batches, jobs=self.transport.gate.concurrency)
        for batch, answer in zip(batches, answers, strict=True):
            if progress:
                progress(len(found), len(pulls), batch[0][0])
            found.extend(parse_status(repo, number, answer.data.get(f"r{i}")) for i, (repo, number) in enumerate(batch))
        return found

    def _status_batch(self, batch: Sequence[tuple[str, int]]) -> GraphQLAnswer:
        return self.transport.graphql(
            queries.pull_statuses(len(batch)),
            _variables(batch),
            step="status",
            what=f"reading {len(batch)} pull requests",
        )


def _variables(batch: Sequence[tuple[str, int]]) -> Json:
    variables: Json = {}
    for i, (repo, number) in enumerate(batch):
        owner, _, name = repo.partition("/")
        variables.update({f"o{i}": owner, f"n{i}": name, f"k{i}": int(number)})
    return variables


def parse_status(repo: str, number: int, node: Any) -> PullStatus:
    """One `rN` alias of the answer (`pull` and `checks` under it) as a `PullStatus`."""
    pull = node.get("pull") if isinstance(node, dict) else None
    if not isinstance(pull, dict):
        return PullStatus(repo, number, "", UNKNOWN, None, None, None)
    rollup = _rollup(node.get("checks"))
    return PullStatus(
        repo=repo,
        number=number,
        url=str(pull.get("url") or ""),
        state=str(pull.get("state") or UNKNOWN).lower(),
        review_decision=_text(pull.get("reviewDecision")),
        mergeable=_text(pull.get("mergeable")),
        rollup=_lower(rollup.get("state")),
        checks=tuple(c for c in (_check(n) for n in (rollup.get("contexts") or {}).get("nodes") or ()) if c),
    )


def _rollup(checks: Any) -> Json:
    """The head commit's `statusCheckRollup`; {} when there is none or it could not be read."""
    commits = ((checks or {}).get("commits") or {}).get("nodes") if isinstance(checks, dict) else None
    last = commits[-1] if isinstance(commits, list) and commits else None
    commit = last.get("commit") if isinstance(last, dict) else None
    rollup = commit.get("statusCheckRollup") if isinstance(commit, dict) else None
    return rollup if isinstance(rollup, dict) else {}


def _check(node: Any) -> CheckState | None:
    if not isinstance(node, dict):
        return None
    if node.get("__typename") == "CheckRun":
        completed = str(node.get("status") or "").upper() == "COMPLETED"
        state = node.get("conclusion") if completed else node.get("status")
        return CheckState(str(node.get("name") or ""), _lower(state) or "pending")
    if node.get("__typename") == "StatusContext":
        return CheckState(str(node.get("context") or ""), _lower(node.get("state")) or "pending")
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None
