"""Rulesets (`…/rulesets`, `…/rules/branches/{branch}`) and Actions permissions, repository and org level."""

from __future__ import annotations

from migrator.sandbox import rulesets
from migrator.sandbox.http import ApiError, Response, not_found
from migrator.sandbox.rest.core import Ctx, paginate, repo_of, route
from migrator.sandbox.shapes import web_root
from migrator.sandbox.store import Org, Repo

RULESETS_DOCS = "https://docs.github.com/rest/repos/rules#get-a-repository-ruleset"
ORG_RULESETS_DOCS = "https://docs.github.com/rest/orgs/rules#get-all-organization-repository-rulesets"
SELECTED_DOCS = "https://docs.github.com/rest/actions/permissions#get-allowed-actions-and-reusable-workflows-for-an-organization"


def _org(ctx: Ctx, g: dict[str, str]) -> Org:
    org = ctx.store.org(g["org"])
    if org is None:
        raise not_found()
    return org


def _flag(ctx: Ctx, name: str, default: bool) -> bool:
    value = ctx.request.param(name)
    return default if value is None else value.lower() not in ("false", "0")


def _repo_rulesets(ctx: Ctx, repo: Repo) -> list[rulesets.Ruleset]:
    found = ctx.store.rulesets_for(repo) if _flag(ctx, "includes_parents", True) else list(repo.rulesets)
    targets = ctx.request.param("targets")
    if targets:
        wanted = {t.strip() for t in targets.split(",")}
        found = [r for r in found if r.target in wanted]
    return found


@route("GET", "{repo}/rulesets")
def list_repo_rulesets(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    actor = ctx.store.actor_of(ctx.token, ctx.power)
    web = web_root(ctx.base)
    return paginate(
        ctx, _repo_rulesets(ctx, repo), lambda r: rulesets.ruleset_shape(web, ctx.base, r, actor, detailed=False)
    )


@route("GET", "{repo}/rulesets/(?P<id>[0-9]+)")
def get_repo_ruleset(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    found = next((r for r in _repo_rulesets(ctx, repo) if r.id == int(g["id"])), None)
    if found is None:
        raise ApiError(404, "Not Found", documentation_url=RULESETS_DOCS)
    actor = ctx.store.actor_of(ctx.token, ctx.power)
    return Response(200, rulesets.ruleset_shape(web_root(ctx.base), ctx.base, found, actor, detailed=True))


@route("GET", "{repo}/rules/branches/(?P<branch>.+)")
def rules_for_branch(ctx: Ctx, g: dict[str, str]) -> Response:
    """Every rule of an active ruleset that applies to the branch (it need not exist), org rulesets first."""
    repo = repo_of(ctx, g)
    applicable = [r for r in ctx.store.rules_for(repo, "refs/heads/" + g["branch"]) if r.enforcement == "active"]
    rules = [(rule, ruleset) for ruleset in applicable for rule in ruleset.rules]
    return paginate(ctx, rules, lambda item: rulesets.detailed_rule_shape(item[0], item[1]))


@route("GET", "/orgs/(?P<org>[^/]+)/rulesets")
def list_org_rulesets(ctx: Ctx, g: dict[str, str]) -> Response:
    org = _org(ctx, g)
    if not ctx.power.is_admin:
        raise not_found()
    web = web_root(ctx.base)
    return paginate(ctx, org.rulesets, lambda r: rulesets.ruleset_shape(web, ctx.base, r, None, detailed=False))


@route("GET", "/orgs/(?P<org>[^/]+)/rulesets/(?P<id>[0-9]+)")
def get_org_ruleset(ctx: Ctx, g: dict[str, str]) -> Response:
    org = _org(ctx, g)
    found = next((r for r in org.rulesets if r.id == int(g["id"])), None)
    if found is None or not ctx.power.is_admin:
        raise ApiError(404, "Not Found", documentation_url=ORG_RULESETS_DOCS)
    return Response(200, rulesets.ruleset_shape(web_root(ctx.base), ctx.base, found, None, detailed=True))


# ---------------------------------------------------------------- Actions permissions


def _policy_body(ctx: Ctx, policy: rulesets.ActionsPolicy, selected_url: str) -> dict[str, object]:
    body: dict[str, object] = {"allowed_actions": policy.allowed_actions}
    if policy.allowed_actions == "selected":
        body["selected_actions_url"] = selected_url
    body["sha_pinning_required"] = policy.sha_pinning_required
    return body


def _selected(policy: rulesets.ActionsPolicy) -> Response:
    if policy.allowed_actions != "selected":
        raise ApiError(409, "Allowed actions must be set to selected", documentation_url=SELECTED_DOCS)
    return Response(
        200,
        {
            "github_owned_allowed": policy.github_owned_allowed,
            "verified_allowed": policy.verified_allowed,
            "patterns_allowed": list(policy.patterns_allowed),
        },
    )


@route("GET", "/orgs/(?P<org>[^/]+)/actions/permissions")
def org_actions_permissions(ctx: Ctx, g: dict[str, str]) -> Response:
    org = _org(ctx, g)
    if not ctx.power.is_admin:
        raise ApiError(403, "Must have admin rights to Repository.")
    policy = org.actions
    body: dict[str, object] = {"enabled_repositories": "all" if policy.enabled else "none"}
    if policy.enabled:
        body.update(_policy_body(ctx, policy, f"{ctx.base}/orgs/{org.login}/actions/permissions/selected-actions"))
    return Response(200, body)


@route("GET", "/orgs/(?P<org>[^/]+)/actions/permissions/selected-actions")
def org_selected_actions(ctx: Ctx, g: dict[str, str]) -> Response:
    org = _org(ctx, g)
    if not ctx.power.is_admin:
        raise ApiError(403, "Must have admin rights to Repository.")
    return _selected(org.actions)


@route("GET", "{repo}/actions/permissions")
def repo_actions_permissions(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    if not ctx.power.is_admin:
        raise ApiError(403, "Must have admin rights to Repository.")
    policy = ctx.store.actions_policy(repo)
    body: dict[str, object] = {"enabled": policy.enabled}
    if policy.enabled:
        selected = f"{ctx.base}/repos/{repo.full_name}/actions/permissions/selected-actions"
        body.update(_policy_body(ctx, policy, selected))
    return Response(200, body)


@route("GET", "{repo}/actions/permissions/selected-actions")
def repo_selected_actions(ctx: Ctx, g: dict[str, str]) -> Response:
    repo = repo_of(ctx, g)
    if not ctx.power.is_admin:
        raise ApiError(403, "Must have admin rights to Repository.")
    return _selected(ctx.store.actions_policy(repo))
