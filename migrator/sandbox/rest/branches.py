"""Branches and their protection."""

from __future__ import annotations

from migrator.sandbox import shapes
from migrator.sandbox.http import ApiError, Response
from migrator.sandbox.rest.core import (
    Ctx,
    paginate,
    repo_of,
    require_admin,
    route,
    writable,
)
from migrator.sandbox.seed import parse_protection
from migrator.sandbox.store import (
    Repo,
)

# ---------------------------------------------------------------- branches

PROTECTION_DOCS = "https://docs.github.com/rest/branches/branch-protection#get-branch-protection"


@route("GET", "{repo}/branches")
def list_branches(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return paginate(
        ctx, repo.branches(), lambda b: shapes.branch(ctx.base, repo, b, repo.branch_sha(b) or "", detailed=False)
    )


def _branch(repo: Repo, name: str) -> str:
    sha = repo.branch_sha(name)
    if sha is None:
        raise ApiError(
            404, "Branch not found", documentation_url="https://docs.github.com/rest/branches/branches#get-a-branch"
        )
    return sha


@route("GET", "{repo}/branches/(?P<branch>.+?)/protection")
def get_protection(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    _branch(repo, g["branch"])
    rule = repo.protection_for(g["branch"])
    if rule is None:
        raise ApiError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
    return Response(200, shapes.protection(ctx.base, ctx.store, repo, g["branch"], rule))


@route("PUT", "{repo}/branches/(?P<branch>.+?)/protection")
def put_protection(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    require_admin(ctx)
    _branch(repo, g["branch"])
    rule = parse_protection(ctx.body())
    ctx.store.set_protection(repo, g["branch"], rule)
    return Response(200, shapes.protection(ctx.base, ctx.store, repo, g["branch"], rule))


@route("DELETE", "{repo}/branches/(?P<branch>.+?)/protection")
def delete_protection(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = writable(ctx, g)
    require_admin(ctx)
    _branch(repo, g["branch"])
    if repo.protection_for(g["branch"]) is None:
        raise ApiError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
    ctx.store.set_protection(repo, g["branch"], None)
    return Response(204)


@route("GET", "{repo}/branches/(?P<branch>.+)")
def get_branch(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    sha = _branch(repo, g["branch"])
    return Response(200, shapes.branch(ctx.base, repo, g["branch"], sha, detailed=True))
