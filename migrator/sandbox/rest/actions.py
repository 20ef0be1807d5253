"""GitHub Actions: workflows, workflow runs and their jobs, as the Actions model recorded them.

Shapes follow GitHub's REST reference ("Workflows", "Workflow runs", "Workflow jobs"): a job's id is its check
run's id; runs list newest first; `branch`, `event`, `head_sha`, `status` (a status or a conclusion), `actor`
and `check_suite_id` filter them.
"""

from __future__ import annotations

from migrator.sandbox import shapes
from migrator.sandbox.actions.documents import is_workflow_file, parse_workflow
from migrator.sandbox.actions.model import JobRecord, StepRecord, WorkflowRun
from migrator.sandbox.http import Response, not_found
from migrator.sandbox.rest.core import Ctx, Json, int_param, paginate, repo_of, route
from migrator.sandbox.store import SANDBOX_USER, Repo, Store, node_id

RUN_STATUSES = frozenset({"queued", "in_progress", "completed", "waiting", "requested", "pending"})


def actor_json(ctx: Ctx, login: str) -> Json:
    kind = "Bot" if login.endswith("[bot]") else "User"
    return shapes.user(ctx.base, login, ctx.store.account_id(kind, login) if login != SANDBOX_USER else 1, kind)


def _workflows(repo: Repo, store: Store) -> list[tuple[int, str, str]]:
    """(id, path, name) of the workflow files on the default branch, and of any that ever ran."""
    found: dict[str, str] = {}
    head = repo.branch_sha(repo.default_branch)
    if head:
        for path, entry in sorted(repo.files_at(head).items()):
            if is_workflow_file(path):
                found[path] = parse_workflow(path, repo.git.blobs[entry.sha]).name
    for run in repo.runs.values():
        found.setdefault(run.path, run.name)
    for path in found:
        if path not in repo.workflow_ids:
            repo.workflow_ids[path] = store.next_id("workflow")
    return sorted(((repo.workflow_ids[p], p, n) for p, n in found.items()), key=lambda w: w[0])


def workflow_json(ctx: Ctx, repo: Repo, item: tuple[int, str, str]) -> Json:
    workflow_id, path, name = item
    web = f"{shapes.web_root(ctx.base)}/{repo.full_name}"
    return {
        "id": workflow_id,
        "node_id": node_id("Workflow", f"{repo.full_name}:{workflow_id}"),
        "name": name,
        "path": path,
        "state": "active",
        "created_at": shapes.iso(repo.created_at),
        "updated_at": shapes.iso(repo.pushed_at),
        "url": f"{ctx.base}/repos/{repo.full_name}/actions/workflows/{workflow_id}",
        "html_url": f"{web}/blob/{repo.default_branch}/{path}",
        "badge_url": f"{web}/workflows/{path.rsplit('/', 1)[-1]}/badge.svg",
    }


@route("GET", "{repo}/actions/workflows")
def list_workflows(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return paginate(ctx, _workflows(repo, ctx.store), lambda w: workflow_json(ctx, repo, w), key="workflows")


@route("GET", "{repo}/actions/workflows/(?P<workflow>[^/]+)")
def get_workflow(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return Response(200, workflow_json(ctx, repo, _workflow(repo, ctx.store, g["workflow"])))


def _workflow(repo: Repo, store: Store, key: str) -> tuple[int, str, str]:
    for item in _workflows(repo, store):
        if key in (str(item[0]), item[1].rsplit("/", 1)[-1]):
            return item
    raise not_found()


def run_json(ctx: Ctx, repo: Repo, run: WorkflowRun) -> Json:
    api = f"{ctx.base}/repos/{repo.full_name}"
    commit = repo.commit(run.head_sha)
    minimal = shapes.repository(ctx.base, ctx.store, repo, full=False)
    return {
        "id": run.id,
        "name": run.name,
        "node_id": node_id("WorkflowRun", f"{repo.full_name}:{run.id}"),
        "check_suite_id": run.check_suite_id,
        "check_suite_node_id": node_id("CheckSuite", f"{repo.full_name}:{run.check_suite_id}"),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "display_title": run.display_title,
        "run_number": run.run_number,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "url": f"{api}/actions/runs/{run.id}",
        "html_url": f"{shapes.web_root(ctx.base)}/{repo.full_name}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": shapes.iso(run.created_at),
        "updated_at": shapes.iso(run.updated_at),
        "actor": actor_json(ctx, run.actor),
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": shapes.iso(run.created_at),
        "triggering_actor": actor_json(ctx, run.actor),
        "jobs_url": f"{api}/actions/runs/{run.id}/jobs",
        "logs_url": f"{api}/actions/runs/{run.id}/logs",
        "check_suite_url": f"{api}/check-suites/{run.check_suite_id}",
        "artifacts_url": f"{api}/actions/runs/{run.id}/artifacts",
        "cancel_url": f"{api}/actions/runs/{run.id}/cancel",
        "rerun_url": f"{api}/actions/runs/{run.id}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{api}/actions/workflows/{run.workflow_id}",
        "head_commit": {
            "id": commit.sha,
            "tree_id": commit.tree,
            "message": commit.message,
            "timestamp": shapes.iso(commit.committer.timestamp),
            "author": {"name": commit.author.name, "email": commit.author.email},
            "committer": {"name": commit.committer.name, "email": commit.committer.email},
        },
        "repository": minimal,
        "head_repository": minimal,
    }


def _matches(run: WorkflowRun, ctx: Ctx) -> bool:
    wanted = {name: ctx.request.param(name) for name in ("branch", "event", "head_sha", "status", "actor")}
    suite = ctx.request.param("check_suite_id")
    status = wanted["status"]
    return (
        (not wanted["branch"] or run.head_branch == wanted["branch"])
        and (not wanted["event"] or run.event == wanted["event"])
        and (not wanted["head_sha"] or run.head_sha == wanted["head_sha"])
        and (not wanted["actor"] or run.actor.lower() == str(wanted["actor"]).lower())
        and (not suite or str(run.check_suite_id) == suite)
        and (not status or (run.status if status in RUN_STATUSES else run.conclusion) == status)
    )


def _runs(ctx: Ctx, repo: Repo, workflow_id: int | None = None) -> Response:
    runs = [r for r in reversed(list(repo.runs.values())) if workflow_id in (None, r.workflow_id) and _matches(r, ctx)]
    return paginate(ctx, runs, lambda r: run_json(ctx, repo, r), key="workflow_runs")


@route("GET", "{repo}/actions/runs")
def list_runs(ctx: Ctx, g: dict[str, str]) -> Response:
    return _runs(ctx, repo_of(ctx, g))


@route("GET", "{repo}/actions/workflows/(?P<workflow>[^/]+)/runs")
def list_workflow_runs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return _runs(ctx, repo, _workflow(repo, ctx.store, g["workflow"])[0])


def _run(repo: Repo, number: str) -> WorkflowRun:
    run = repo.runs.get(int_param(number, 0))
    if run is None:
        raise not_found()
    return run


@route("GET", "{repo}/actions/runs/(?P<id>[0-9]+)")
def get_run(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return Response(200, run_json(ctx, repo, _run(repo, g["id"])))


def _step_json(step: StepRecord) -> Json:
    return {
        "name": step.name,
        "status": step.status,
        "conclusion": step.conclusion,
        "number": step.number,
        "started_at": shapes.iso(step.started_at) if step.started_at is not None else None,
        "completed_at": shapes.iso(step.completed_at) if step.completed_at is not None else None,
    }


def job_json(ctx: Ctx, repo: Repo, run: WorkflowRun, job: JobRecord) -> Json:
    api = f"{ctx.base}/repos/{repo.full_name}"
    return {
        "id": job.id,
        "run_id": run.id,
        "run_url": f"{api}/actions/runs/{run.id}",
        "run_attempt": 1,
        "node_id": node_id("CheckRun", f"{repo.full_name}:{job.check_run_id}"),
        "head_sha": run.head_sha,
        "url": f"{api}/actions/jobs/{job.id}",
        "html_url": f"{shapes.web_root(ctx.base)}/{repo.full_name}/actions/runs/{run.id}/job/{job.id}",
        "status": job.status,
        "conclusion": job.conclusion,
        "created_at": shapes.iso(job.started_at),
        "started_at": shapes.iso(job.started_at),
        "completed_at": shapes.iso(job.completed_at) if job.completed_at is not None else None,
        "name": job.name,
        "steps": [_step_json(s) for s in job.steps],
        "check_run_url": f"{api}/check-runs/{job.check_run_id}",
        "labels": ["ubuntu-latest"],
        "runner_id": 1,
        "runner_name": "GitHub Actions 1",
        "runner_group_id": 2,
        "runner_group_name": "GitHub Actions",
        "workflow_name": run.name,
        "head_branch": run.head_branch,
    }


@route("GET", "{repo}/actions/runs/(?P<id>[0-9]+)/jobs")
def list_run_jobs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    run = _run(repo, g["id"])
    return paginate(ctx, list(run.jobs), lambda j: job_json(ctx, repo, run, j), key="jobs")


@route("GET", "{repo}/actions/runs/(?P<id>[0-9]+)/attempts/1/jobs")
def list_attempt_jobs(ctx: Ctx, g: dict[str, str]) -> Response:
    return list_run_jobs(ctx, g)


@route("GET", "{repo}/actions/jobs/(?P<id>[0-9]+)")
def get_job(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    for run in repo.runs.values():
        for job in run.jobs:
            if str(job.id) == g["id"]:
                return Response(200, job_json(ctx, repo, run, job))
    raise not_found()


@route("GET", "{repo}/actions/jobs/(?P<id>[0-9]+)/logs")
def get_job_log(ctx: Ctx, g: dict[str, str]) -> Response:
    """The job's log as text (GitHub redirects to a download; the sandbox answers the text itself)."""
    repo = repo_of(ctx, g)
    for run in repo.runs.values():
        for job in run.jobs:
            if str(job.id) == g["id"]:
                text = "\n".join(job.log) + "\n"
                return Response(200, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})
    raise not_found()


def suite_json(ctx: Ctx, repo: Repo, run: WorkflowRun) -> Json:
    """A workflow run's check suite (GitHub's REST reference, "Check suites")."""
    api = f"{ctx.base}/repos/{repo.full_name}"
    checks = [repo.check_runs[j.check_run_id] for j in run.jobs if j.check_run_id in repo.check_runs]
    app = shapes.check_run(ctx.base, repo, checks[0])["app"] if checks else None
    data = run_json(ctx, repo, run)
    return {
        "id": run.check_suite_id,
        "node_id": data["check_suite_node_id"],
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "status": run.status,
        "conclusion": run.conclusion,
        "url": f"{api}/check-suites/{run.check_suite_id}",
        "before": None,
        "after": run.head_sha,
        "pull_requests": [],
        "app": app,
        "repository": data["repository"],
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "head_commit": data["head_commit"],
        "latest_check_runs_count": len(checks),
        "check_runs_url": f"{api}/check-suites/{run.check_suite_id}/check-runs",
        "rerequestable": True,
        "runs_rerequestable": True,
    }


@route("GET", "{repo}/commits/(?P<ref>.+)/check-suites")
def list_check_suites(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    sha = repo.resolve_commitish(g["ref"])
    if sha is None:
        raise not_found()
    suites = [r for r in repo.runs.values() if r.head_sha == sha]
    return paginate(ctx, suites, lambda r: suite_json(ctx, repo, r), key="check_suites")


@route("GET", "{repo}/check-suites/(?P<id>[0-9]+)")
def get_check_suite(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    run = next((r for r in repo.runs.values() if str(r.check_suite_id) == g["id"]), None)
    if run is None:
        raise not_found()
    return Response(200, suite_json(ctx, repo, run))
