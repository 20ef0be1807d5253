"""Actions secrets, by name only, as GitHub lists them (a secret's value is never readable through the API).

    GET /repos/{owner}/{repo}/actions/secrets                 the repository's own secrets
    GET /repos/{owner}/{repo}/actions/organization-secrets    the org's secrets this repository may read
    GET /orgs/{org}/actions/secrets                           the org's secrets, with their visibility

A seed declares them as names, or as names with the values the Actions model expands (see `seed`).
"""

from __future__ import annotations

from migrator.sandbox import shapes
from migrator.sandbox.http import Response, not_found
from migrator.sandbox.rest.core import Ctx, Json, paginate, repo_of, route


def _secret(name: str, visibility: str | None = None) -> Json:
    data: Json = {"name": name, "created_at": shapes.iso(1704067200), "updated_at": shapes.iso(1704067200)}
    if visibility:
        data["visibility"] = visibility
    return data


@route("GET", "{repo}/actions/secrets")
def list_repo_secrets(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    return paginate(ctx, sorted(repo.meta.secrets), _secret, key="secrets")


@route("GET", "{repo}/actions/organization-secrets")
def list_repo_org_secrets(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    names = sorted(ctx.store.orgs[repo.org].secrets)
    return paginate(ctx, names, _secret, key="secrets")


@route("GET", "/orgs/(?P<org>[^/]+)/actions/secrets")
def list_org_secrets(ctx: Ctx, g: dict[str, str]) -> Response:
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    return paginate(ctx, sorted(org.secrets), lambda n: _secret(n, "all"), key="secrets")
