"""Commit statuses and check runs."""

from __future__ import annotations

from migrator.sandbox import shapes
from migrator.sandbox.http import ApiError, Response, not_found, validation_failed
from migrator.sandbox.rest.core import (
    Ctx,
    Json,
    commit_sha,
    created,
    int_param,
    paginate,
    repo_of,
    route,
    writable,
)
from migrator.sandbox.store import (
    CheckRun,
    Repo,
    Status,
)

# ---------------------------------------------------------------- statuses and check runs

CHECK_CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
    "startup_failure",
)


@route("POST", "{repo}/statuses/(?P<sha>[0-9a-fA-F]+)")
def create_status(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    sha = repo.resolve_commitish(g["sha"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {g['sha']}")
    state = body.get("state")
    if state not in ("error", "failure", "pending", "success"):
        raise validation_failed("Status", field="state", message="state is not included in the list")
    item = Status(
        ctx.store.next_id("status"),
        sha,
        str(state),
        str(body.get("context") or "default"),
        body.get("description"),
        body.get("target_url"),
        ctx.store.clock(),
    )
    repo.statuses.append(item)
    data = shapes.status(ctx.base, repo, item)
    return created(data, data["url"])


def _statuses_for(ctx: Ctx, g: dict[str, str]) -> tuple[Repo, str, list[Status]]:
    repo = repo_of(ctx, g)
    sha = commit_sha(repo, g["ref"])
    return repo, sha, [s for s in reversed(repo.statuses) if s.sha == sha]


@route("GET", "{repo}/commits/(?P<ref>.+)/statuses")
def list_statuses(ctx: Ctx, g: dict[str, str]) -> Response:
    repo, _sha, statuses = _statuses_for(ctx, g)
    return paginate(ctx, statuses, lambda s: shapes.status(ctx.base, repo, s))


@route("GET", "{repo}/statuses/(?P<ref>.+)")
def list_statuses_legacy(ctx: Ctx, g: dict[str, str]) -> Response:
    return list_statuses(ctx, g)


@route("GET", "{repo}/commits/(?P<ref>.+)/status")
def combined_status(ctx: Ctx, g: dict[str, str]) -> Response:
    repo, sha, statuses = _statuses_for(ctx, g)
    latest: dict[str, Status] = {}
    for item in statuses:
        latest.setdefault(item.context, item)
    states = {s.state for s in latest.values()}
    state = (
        "failure" if states & {"failure", "error"} else "pending" if "pending" in states or not states else "success"
    )
    url = f"{ctx.base}/repos/{repo.full_name}"
    return Response(
        200,
        {
            "state": state,
            "statuses": [shapes.status(ctx.base, repo, s) for s in latest.values()],
            "sha": sha,
            "total_count": len(latest),
            "repository": shapes.repository(ctx.base, ctx.store, repo, full=False),
            "commit_url": f"{url}/commits/{sha}",
            "url": f"{url}/commits/{sha}/status",
        },
    )


def _check_run_from(ctx: Ctx, body: Json, existing: CheckRun | None, head_sha: str) -> CheckRun:
    now = ctx.store.clock()
    output = body.get("output") if isinstance(body.get("output"), dict) else {}
    assert isinstance(output, dict)
    conclusion = body.get("conclusion", existing.conclusion if existing else None)
    status = body.get("status") or ("completed" if conclusion else existing.status if existing else "queued")
    if status not in ("queued", "in_progress", "completed", "waiting", "requested", "pending"):
        raise validation_failed("CheckRun", code="invalid", field="status")
    if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
        raise validation_failed("CheckRun", code="invalid", field="conclusion")
    return CheckRun(
        id=existing.id if existing else ctx.store.next_id("check_run"),
        head_sha=head_sha,
        name=str(body.get("name") or (existing.name if existing else "")),
        status=str(status),
        conclusion=conclusion,
        started_at=existing.started_at if existing else now,
        completed_at=now if status == "completed" else None,
        details_url=body.get("details_url", existing.details_url if existing else None),
        external_id=str(body.get("external_id", existing.external_id if existing else "")),
        title=output.get("title", existing.title if existing else None),
        summary=output.get("summary", existing.summary if existing else None),
        text=output.get("text", existing.text if existing else None),
    )


@route("POST", "{repo}/check-runs")
def create_check_run(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    body = ctx.body()
    if not body.get("name"):
        raise validation_failed("CheckRun", code="missing_field", field="name")
    sha = repo.resolve_commitish(str(body.get("head_sha") or ""))
    if sha is None:
        raise validation_failed("CheckRun", code="invalid", field="head_sha")
    run = _check_run_from(ctx, body, None, sha)
    repo.check_runs[run.id] = run
    data = shapes.check_run(ctx.base, repo, run)
    return created(data, data["url"])


def _check_run(repo: Repo, number: str) -> CheckRun:
    run = repo.check_runs.get(int_param(number, 0))
    if run is None:
        raise not_found()
    return run


@route("GET", "{repo}/check-runs/(?P<id>[0-9]+)")
def get_check_run(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return Response(200, shapes.check_run(ctx.base, repo, _check_run(repo, g["id"])))


@route("PATCH", "{repo}/check-runs/(?P<id>[0-9]+)")
def update_check_run(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    existing = _check_run(repo, g["id"])
    run = _check_run_from(ctx, ctx.body(), existing, existing.head_sha)
    repo.check_runs[run.id] = run
    return Response(200, shapes.check_run(ctx.base, repo, run))


@route("GET", "{repo}/commits/(?P<ref>.+)/check-runs")
def list_check_runs(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    sha = commit_sha(repo, g["ref"])
    name, status = ctx.request.param("check_name"), ctx.request.param("status")
    runs = [
        r
        for r in repo.check_runs.values()
        if r.head_sha == sha and (not name or r.name == name) and (not status or r.status == status)
    ]
    return paginate(ctx, runs, lambda r: shapes.check_run(ctx.base, repo, r), key="check_runs")
