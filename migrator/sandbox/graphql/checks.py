"""Check runs, statuses and the status check rollup of a commit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from migrator.sandbox.graphql import actions as _actions
from migrator.sandbox.graphql import nodes as _nodes
from migrator.sandbox.graphql import objects as _objects
from migrator.sandbox.graphql import owners as _owners
from migrator.sandbox.graphql import pulls as _pulls
from migrator.sandbox.graphql import repository as _repository
from migrator.sandbox.graphql.connection import GqlContext, Info, connection, map_nodes
from migrator.sandbox.graphql.schema import GitHubError, Json
from migrator.sandbox.shapes import iso
from migrator.sandbox.store import (
    SANDBOX_USER,
    CheckRun,
    PullRequest,
    Repo,
    Status,
    node_id,
)

# ---------------------------------------------------------------- checks and statuses of a commit


CHECK_FAILED = frozenset({"action_required", "cancelled", "failure", "timed_out", "startup_failure"})
CHECK_PASSED = frozenset({"success", "neutral", "skipped"})
_CHECK_RUN_STATES = frozenset(
    {
        "ACTION_REQUIRED",
        "CANCELLED",
        "COMPLETED",
        "FAILURE",
        "IN_PROGRESS",
        "NEUTRAL",
        "PENDING",
        "QUEUED",
        "SKIPPED",
        "STALE",
        "STARTUP_FAILURE",
        "SUCCESS",
        "TIMED_OUT",
        "WAITING",
    }
)


def commit_contexts(repo: Repo, sha: str) -> list[CheckRun | Status]:
    """What the rollup shows for a commit: the latest check run per name, then the latest status per context."""
    runs: dict[str, CheckRun] = {}
    for run in sorted(repo.check_runs.values(), key=lambda r: r.id):
        if run.head_sha == sha:
            runs[run.name] = run
    statuses: dict[str, Status] = {}
    for status in repo.statuses:  # in creation order, so the last one per context wins
        if status.sha == sha:
            statuses[status.context] = status
    return [*runs.values(), *statuses.values()]


def _verdict(item: CheckRun | Status) -> str:
    """ "failure", "pending" or "success": how one context counts towards the rollup."""
    if isinstance(item, Status):
        return {"error": "failure", "failure": "failure", "success": "success"}.get(item.state, "pending")
    if item.status != "completed":
        return "pending"
    conclusion = (item.conclusion or "").lower()
    return "failure" if conclusion in CHECK_FAILED else "success" if conclusion in CHECK_PASSED else "pending"


def rollup_state(items: Sequence[CheckRun | Status]) -> str:
    """GitHub's rule: any failing (or erroring) context fails it, else any unfinished one keeps it pending."""
    verdicts = {_verdict(item) for item in items}
    return "FAILURE" if "failure" in verdicts else "PENDING" if "pending" in verdicts else "SUCCESS"


def _check_run_state(run: CheckRun) -> str:
    state = (run.conclusion if run.status == "completed" and run.conclusion else run.status).upper()
    return state if state in _CHECK_RUN_STATES else "PENDING"


def _is_required(ctx: GqlContext, repo: Repo, name: str, args: Json) -> bool:
    """Whether a context named `name` is a required check of the pull request's base branch."""
    pull: PullRequest | None = None
    if args.get("pullRequestNumber") is not None:
        pull = repo.pulls.get(int(args["pullRequestNumber"]))
    elif args.get("pullRequestId") is not None:
        node = _nodes.lookup_node(ctx, str(args["pullRequestId"]))
        pull = node.pull if isinstance(node, _pulls.PullNode) and node.repo is repo else None
    else:
        raise GitHubError("UNPROCESSABLE", "A pullRequestId or pullRequestNumber is required.")
    if pull is None:
        raise GitHubError("NOT_FOUND", "Could not resolve to a PullRequest.")
    rule = repo.protection_for(pull.base_ref)
    return rule is not None and name in rule.contexts


class CheckRunNode:
    typename = "CheckRun"

    def __init__(self, ctx: GqlContext, repo: Repo, run: CheckRun) -> None:
        self.ctx, self.repo, self.run = ctx, repo, run
        self.id = node_id("CheckRun", f"{repo.full_name}:{run.id}")
        self.databaseId, self.name = run.id, run.name
        self.status = run.status.upper()
        self.conclusion = run.conclusion.upper() if run.conclusion else None
        self.startedAt, self.completedAt = iso(run.started_at), iso(run.completed_at)
        self.detailsUrl, self.externalId = run.details_url, run.external_id
        self.title, self.summary, self.text = run.title, run.summary, run.text
        self.resourcePath = f"/{repo.full_name}/runs/{run.id}"
        self.url = self.permalink = f"{ctx.base}{self.resourcePath}"

    def repository(self, info: Info) -> _repository.RepoNode:
        return _repository.RepoNode(self.ctx, self.repo)

    def isRequired(self, info: Info, **args: Any) -> bool:
        return _is_required(self.ctx, self.repo, self.run.name, args)

    def checkSuite(self, info: Info) -> Any:
        suite = next((r for r in self.repo.runs.values() if r.check_suite_id == self.run.suite_id), None)
        return _actions.CheckSuiteNode(self.ctx, self.repo, suite) if suite is not None else None


class StatusContextNode:
    typename = "StatusContext"

    def __init__(self, ctx: GqlContext, repo: Repo, status: Status) -> None:
        self.ctx, self.repo, self.status = ctx, repo, status
        self.id = node_id("StatusContext", f"{repo.full_name}:{status.id}")
        self.context, self.state = status.context, status.state.upper()
        self.description, self.targetUrl = status.description, status.target_url
        self.createdAt = iso(status.created_at)

    def avatarUrl(self, info: Info, **args: Any) -> str:
        return f"{self.ctx.base}/avatars/{SANDBOX_USER}"

    def creator(self, info: Info) -> _owners.UserNode:
        return _owners.UserNode(self.ctx)

    def commit(self, info: Info) -> _objects.CommitNode:
        return _objects.CommitNode(self.ctx, self.repo, self.status.sha)

    def isRequired(self, info: Info, **args: Any) -> bool:
        return _is_required(self.ctx, self.repo, self.status.context, args)


class RollupNode:
    typename = "StatusCheckRollup"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str, items: list[CheckRun | Status]) -> None:
        self.ctx, self.repo, self.sha, self.items = ctx, repo, sha, items
        self.id = node_id("StatusCheckRollup", f"{repo.full_name}@{sha}")
        self.state = rollup_state(items)

    def commit(self, info: Info) -> _objects.CommitNode:
        return _objects.CommitNode(self.ctx, self.repo, self.sha)

    def contexts(self, info: Info, **args: Any) -> Json:
        def wrap(item: CheckRun | Status) -> CheckRunNode | StatusContextNode:
            if isinstance(item, CheckRun):
                return CheckRunNode(self.ctx, self.repo, item)
            return StatusContextNode(self.ctx, self.repo, item)

        result = map_nodes(connection(info, self.items, args), wrap)
        runs = [i for i in self.items if isinstance(i, CheckRun)]
        statuses = [i for i in self.items if isinstance(i, Status)]
        run_counts = Counter(_check_run_state(r) for r in runs)
        status_counts = Counter(s.state.upper() for s in statuses)
        result.update(
            {
                "checkRunCount": len(runs),
                "statusContextCount": len(statuses),
                "checkRunCountsByState": [{"state": k, "count": n} for k, n in sorted(run_counts.items())],
                "statusContextCountsByState": [{"state": k, "count": n} for k, n in sorted(status_counts.items())],
            }
        )
        return result
