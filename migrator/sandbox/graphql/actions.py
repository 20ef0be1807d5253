"""Check suites with their workflow runs, workflows, and releases (GitHub's GraphQL reference: `CheckSuite`,
`WorkflowRun`, `Workflow`, `Release`, `Commit.checkSuites`, `Repository.latestRelease` and `releases`).

Every workflow run is one check suite of the GitHub Actions app on its head commit; its jobs are the suite's check
runs. Release authors are `User`s: a release a bot made has a null author, as on GitHub.
"""

from __future__ import annotations

from typing import Any

from migrator.sandbox.actions.model import Release, WorkflowRun
from migrator.sandbox.graphql import checks as _checks
from migrator.sandbox.graphql import objects as _objects
from migrator.sandbox.graphql import owners as _owners
from migrator.sandbox.graphql import repository as _repository
from migrator.sandbox.graphql.connection import GqlContext, Info, connection, map_nodes
from migrator.sandbox.graphql.schema import Json
from migrator.sandbox.shapes import iso
from migrator.sandbox.store import HEADS, Repo, node_id

ACTIONS_APP = {"id": node_id("App", "github-actions"), "databaseId": 15368, "name": "GitHub Actions",
               "slug": "github-actions", "url": "https://github.com/apps/github-actions"}


def commit_suites(repo: Repo, sha: str) -> list[WorkflowRun]:
    return [run for run in repo.runs.values() if run.head_sha == sha]


def suite_connection(ctx: GqlContext, repo: Repo, sha: str, info: Info, args: Json) -> Json:
    runs = commit_suites(repo, sha)
    wanted = args.get("filterBy") or {}
    if wanted.get("appId") not in (None, ACTIONS_APP["databaseId"]):
        runs = []
    if wanted.get("checkName"):
        runs = [r for r in runs if any(j.name == wanted["checkName"] for j in r.jobs)]
    return map_nodes(connection(info, runs, args), lambda r: CheckSuiteNode(ctx, repo, r))


class CheckSuiteNode:
    typename = "CheckSuite"

    def __init__(self, ctx: GqlContext, repo: Repo, run: WorkflowRun) -> None:
        self.ctx, self.repo, self.run = ctx, repo, run
        self.id = node_id("CheckSuite", f"{repo.full_name}:{run.check_suite_id}")
        self.databaseId = run.check_suite_id
        self.status = run.status.upper()
        self.conclusion = run.conclusion.upper() if run.conclusion else None
        self.createdAt, self.updatedAt = iso(run.created_at), iso(run.updated_at)
        self.resourcePath = f"/{repo.full_name}/commit/{run.head_sha}/checks?check_suite_id={run.check_suite_id}"
        self.url = f"{ctx.base}{self.resourcePath}"
        self.app = ACTIONS_APP

    def commit(self, info: Info) -> _objects.CommitNode:
        return _objects.CommitNode(self.ctx, self.repo, self.run.head_sha)

    def repository(self, info: Info) -> _repository.RepoNode:
        return _repository.RepoNode(self.ctx, self.repo)

    def branch(self, info: Info) -> _repository.RefNode | None:
        name = HEADS + (self.run.head_branch or "")
        return _repository.RefNode(self.ctx, self.repo, name) if name in self.repo.refs else None

    def workflowRun(self, info: Info) -> WorkflowRunNode:
        return WorkflowRunNode(self.ctx, self.repo, self.run)

    def checkRuns(self, info: Info, **args: Any) -> Json:
        runs = [self.repo.check_runs[j.check_run_id] for j in self.run.jobs if j.check_run_id in self.repo.check_runs]
        wanted = args.get("filterBy") or {}
        if wanted.get("checkName"):
            runs = [r for r in runs if r.name == wanted["checkName"]]
        if wanted.get("conclusions"):
            runs = [r for r in runs if (r.conclusion or "").upper() in wanted["conclusions"]]
        return map_nodes(connection(info, runs, args), lambda r: _checks.CheckRunNode(self.ctx, self.repo, r))


class WorkflowRunNode:
    typename = "WorkflowRun"

    def __init__(self, ctx: GqlContext, repo: Repo, run: WorkflowRun) -> None:
        self.ctx, self.repo, self.run = ctx, repo, run
        self.id = node_id("WorkflowRun", f"{repo.full_name}:{run.id}")
        self.databaseId, self.runNumber, self.event = run.id, run.run_number, run.event
        self.createdAt, self.updatedAt = iso(run.created_at), iso(run.updated_at)
        self.resourcePath = f"/{repo.full_name}/actions/runs/{run.id}"
        self.url = f"{ctx.base}{self.resourcePath}"
        self.file = {"path": run.path, "id": node_id("WorkflowRunFile", f"{repo.full_name}:{run.id}"),
                     "resourcePath": f"/{repo.full_name}/blob/{run.head_sha}/{run.path}",
                     "url": f"{ctx.base}/{repo.full_name}/blob/{run.head_sha}/{run.path}"}

    def checkSuite(self, info: Info) -> CheckSuiteNode:
        return CheckSuiteNode(self.ctx, self.repo, self.run)

    def workflow(self, info: Info) -> WorkflowNode:
        return WorkflowNode(self.ctx, self.repo, self.run.workflow_id, self.run.path, self.run.name)


class WorkflowNode:
    typename = "Workflow"

    def __init__(self, ctx: GqlContext, repo: Repo, workflow_id: int, path: str, name: str) -> None:
        self.ctx, self.repo, self.path = ctx, repo, path
        self.id = node_id("Workflow", f"{repo.full_name}:{workflow_id}")
        self.databaseId, self.name, self.state = workflow_id, name, "ACTIVE"
        self.createdAt, self.updatedAt = iso(repo.created_at), iso(repo.pushed_at)
        self.resourcePath = f"/{repo.full_name}/actions/workflows/{path.rsplit('/', 1)[-1]}"
        self.url = f"{ctx.base}{self.resourcePath}"

    def runs(self, info: Info, **args: Any) -> Json:
        runs = [r for r in reversed(list(self.repo.runs.values())) if r.workflow_id == self.databaseId]
        return map_nodes(connection(info, runs, args), lambda r: WorkflowRunNode(self.ctx, self.repo, r))


class ReleaseNode:
    typename = "Release"

    def __init__(self, ctx: GqlContext, repo: Repo, release: Release, *, latest: bool) -> None:
        self.ctx, self.repo, self.release = ctx, repo, release
        self.id = node_id("Release", f"{repo.full_name}:{release.id}")
        self.databaseId, self.name, self.tagName = release.id, release.name, release.tag_name
        self.description = release.body
        self.isDraft, self.isPrerelease, self.isLatest = release.draft, release.prerelease, latest
        self.createdAt = self.updatedAt = iso(release.created_at)
        self.publishedAt = iso(release.published_at) if release.published_at is not None else None
        self.resourcePath = f"/{repo.full_name}/releases/tag/{release.tag_name}"
        self.url = f"{ctx.base}{self.resourcePath}"

    def author(self, info: Info) -> _owners.UserNode | None:
        login = self.release.author
        return None if login.endswith("[bot]") else _owners.UserNode(self.ctx, login)

    def tag(self, info: Info) -> _repository.RefNode | None:
        name = f"refs/tags/{self.release.tag_name}"
        return _repository.RefNode(self.ctx, self.repo, name) if name in self.repo.refs else None

    def tagCommit(self, info: Info) -> _objects.CommitNode | None:
        sha = self.repo.refs.get(f"refs/tags/{self.release.tag_name}")
        return _objects.CommitNode(self.ctx, self.repo, sha) if sha else None

    def repository(self, info: Info) -> _repository.RepoNode:
        return _repository.RepoNode(self.ctx, self.repo)

    def releaseAssets(self, info: Info, **args: Any) -> Json:
        return connection(info, [], args)


def latest(repo: Repo) -> Release | None:
    ordered = sorted(repo.releases.values(), key=lambda r: (r.created_at, r.id), reverse=True)
    return next((r for r in ordered if not r.draft and not r.prerelease), None)


def latest_release(ctx: GqlContext, repo: Repo) -> ReleaseNode | None:
    found = latest(repo)
    return ReleaseNode(ctx, repo, found, latest=True) if found else None


def release_connection(ctx: GqlContext, repo: Repo, info: Info, args: Json) -> Json:
    order = args.get("orderBy") or {}
    key = (lambda r: r.name.lower()) if order.get("field") == "NAME" else (lambda r: (r.created_at, r.id))
    items = sorted(repo.releases.values(), key=key, reverse=order.get("direction") == "DESC")
    newest = latest(repo)
    return map_nodes(connection(info, items, args),
                     lambda r: ReleaseNode(ctx, repo, r, latest=newest is not None and r.id == newest.id))
