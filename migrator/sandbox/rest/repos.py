"""Users, organisations, repositories, installation tokens and the rate limit (secrets: `secrets.py`)."""

from __future__ import annotations

from dataclasses import replace

from migrator.sandbox import apps, shapes
from migrator.sandbox.http import ApiError, Response, not_found
from migrator.sandbox.rest.core import (
    Ctx,
    paginate,
    repo_of,
    route,
)
from migrator.sandbox.store import (
    InstallationToken,
    Repo,
)

# ---------------------------------------------------------------- users, orgs, repos


@route("GET", "/user")
def get_user(ctx: Ctx, g: dict[str, str]) -> Response:
    if ctx.installation_token is not None:  # an installation acts as no user
        raise ApiError(403, "Resource not accessible by integration")
    data = shapes.user(ctx.base)
    data.update(
        {
            "name": "Sandbox User",
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": shapes.iso(1704067200),
            "updated_at": shapes.iso(1704067200),
        }
    )
    return Response(200, data)


@route("GET", "/orgs/(?P<org>[^/]+)")
def get_org(ctx: Ctx, g: dict[str, str]) -> Response:
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    return Response(200, shapes.organization(ctx.base, org))


@route("GET", "/orgs/(?P<org>[^/]+)/repos")
def list_org_repos(ctx: Ctx, g: dict[str, str]) -> Response:
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    kind = ctx.request.param("type", "all")
    repos = [r for r in org.repos.values() if _repo_matches(r, kind or "all")]
    sort = ctx.request.param("sort", "created")
    if sort == "full_name":
        repos.sort(key=lambda r: r.name.lower())
    else:  # created, updated and pushed all follow creation order in the sandbox
        repos.sort(key=lambda r: (r.created_at, r.id))
    direction = ctx.request.param("direction") or ("asc" if sort == "full_name" else "desc")
    if direction == "desc":
        repos.reverse()
    return paginate(
        ctx, repos, lambda r: shapes.repository(ctx.base, ctx.store, r, full=False, admin=ctx.power.is_admin)
    )


def _repo_matches(repo: Repo, kind: str) -> bool:
    return {
        "public": repo.meta.visibility == "public",
        "private": repo.meta.visibility != "public",
        "forks": repo.meta.fork,
        "sources": not repo.meta.fork,
    }.get(kind, True)


@route("GET", "{repo}")
def get_repo(ctx: Ctx, g: dict[str, str]) -> Response:
    return Response(200, shapes.repository(ctx.base, ctx.store, repo_of(ctx, g), admin=ctx.power.is_admin))


@route("GET", "{repo}/topics")
def get_topics(ctx: Ctx, g: dict[str, str]) -> Response:
    return Response(200, {"names": list(repo_of(ctx, g).meta.topics)})


@route("GET", "/repositories/(?P<id>[0-9]+)")
def get_repo_by_id(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = ctx.store.repo_by_id(int(g["id"]))
    if repo is None:
        raise not_found()
    return Response(200, shapes.repository(ctx.base, ctx.store, repo, admin=ctx.power.is_admin))


# ---------------------------------------------------------------- installation tokens


def _installation_token(ctx: Ctx) -> InstallationToken:
    found = ctx.installation_token
    if found is None:
        raise ApiError(403, "This endpoint requires an installation access token")
    return found


@route("GET", "/installation/repositories")
def installation_repositories(ctx: Ctx, g: dict[str, str]) -> Response:
    installation = ctx.store.installations[_installation_token(ctx).installation_id]
    org = ctx.store.org(installation.account)
    repos = [r for r in org.repos.values() if installation.covers(r.name)] if org else []
    response = paginate(
        ctx, repos, lambda r: shapes.repository(ctx.base, ctx.store, r, full=False, admin=ctx.power.is_admin),
        key="repositories",
    )
    response.body["repository_selection"] = "all" if installation.repositories is None else "selected"
    return response


@route("GET", "/apps/(?P<slug>[^/]+)")
def get_app_by_slug(ctx: Ctx, g: dict[str, str]) -> Response:
    """GitHub: public information about an App, with any token."""
    found = next((a for a in ctx.store.apps.values() if a.slug == g["slug"]), None)
    if found is None:
        raise not_found()
    return Response(200, apps.app_json(ctx.base, ctx.store, found))


@route("GET", "/orgs/(?P<org>[^/]+)/installations")
def org_installations(ctx: Ctx, g: dict[str, str]) -> Response:
    """GitHub: "You must be an organization owner with admin:read scope to use this endpoint"."""
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    if not ctx.power.is_admin or ctx.installation_token is not None:
        raise ApiError(403, "You must be an organization owner to list its installations")
    found = sorted((i for i in ctx.store.installations.values() if i.account.lower() == org.login.lower()),
                   key=lambda i: i.id)
    return paginate(ctx, found, lambda i: apps.installation_json(ctx.base, ctx.store, i), key="installations")


@route("DELETE", "/installation/token")
def revoke_installation_token(ctx: Ctx, g: dict[str, str]) -> Response:
    ctx.store.installation_tokens[ctx.token] = replace(_installation_token(ctx), revoked=True)
    return Response(204)


# ---------------------------------------------------------------- rate limit


@route("GET", "/rate_limit")
def rate_limit(ctx: Ctx, g: dict[str, str]) -> Response:
    key = ctx.limit_key or ctx.token
    core = ctx.limits.budget(key, "core").as_json()
    graphql = ctx.limits.budget(key, "graphql").as_json()
    reset = core["reset"]
    other = {
        name: {"limit": limit, "used": 0, "remaining": limit, "reset": reset}
        for name, limit in (
            ("search", 30),
            ("integration_manifest", 5000),
            ("source_import", 100),
            ("code_scanning_upload", 1000),
            ("actions_runner_registration", 10000),
            ("scim", 15000),
            ("dependency_snapshots", 100),
            ("code_search", 10),
        )
    }
    return Response(200, {"resources": {"core": core, "graphql": graphql, **other}, "rate": core})
