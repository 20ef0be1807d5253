"""`Repository.rulesets`: the repository's rulesets and, with `includeParents`, its org's that select it."""

from __future__ import annotations

from typing import Any

from migrator.sandbox import rulesets
from migrator.sandbox.graphql.connection import GqlContext, Info, connection, map_nodes
from migrator.sandbox.graphql.schema import Json
from migrator.sandbox.shapes import iso
from migrator.sandbox.store import Repo, node_id


class Typed:
    """A plain object of a union member (the resolver reads `typename`)."""

    def __init__(self, typename: str, **fields: Any) -> None:
        self.typename = typename
        self.__dict__.update(fields)


def repository_rulesets(ctx: GqlContext, repo: Repo, info: Info, args: Json) -> Json:
    found = ctx.store.rulesets_for(repo) if args.get("includeParents", True) else list(repo.rulesets)
    targets = args.get("targets")
    if targets:
        found = [r for r in found if r.target.upper() in targets]
    return map_nodes(connection(info, found, args), lambda r: RulesetNode(ctx, repo, r))


class RulesetNode:
    typename = "RepositoryRuleset"

    def __init__(self, ctx: GqlContext, repo: Repo, ruleset: rulesets.Ruleset) -> None:
        self.ctx, self.repo, self.ruleset = ctx, repo, ruleset
        self.id = node_id("RepositoryRuleset", str(ruleset.id))
        self.databaseId = ruleset.id
        self.name = ruleset.name
        self.enforcement = ruleset.enforcement.upper()
        self.target = ruleset.target.upper()
        self.createdAt = self.updatedAt = iso(ruleset.created_at)
        self.conditions = {
            "refName": {"include": list(ruleset.include), "exclude": list(ruleset.exclude)},
            "repositoryName": (
                {"include": list(ruleset.repo_include), "exclude": list(ruleset.repo_exclude), "protected": False}
                if ruleset.source_type == "Organization" else None
            ),
            "repositoryId": None,
            "repositoryProperty": None,
        }

    def source(self, info: Info) -> Any:
        from migrator.sandbox.graphql import owners as _owners
        from migrator.sandbox.graphql import repository as _repository

        if self.ruleset.source_type == "Organization":
            return _owners.OrgNode(self.ctx, self.ctx.store.orgs[self.repo.org])
        return _repository.RepoNode(self.ctx, self.repo)

    def rules(self, info: Info, **args: Any) -> Json:
        wanted = args.get("type")
        rules = [r for r in self.ruleset.rules if wanted is None or r.type.upper() == wanted]
        return map_nodes(connection(info, rules, args), lambda r: _rule(self, r))

    def bypassActors(self, info: Info, **args: Any) -> Json:
        return map_nodes(connection(info, list(self.ruleset.bypass_actors), args), lambda a: _actor(self, a))


def _rule(ruleset: RulesetNode, rule: rulesets.Rule) -> Json:
    shape = rulesets.rule_shape(rule).get("parameters") or {}
    parameters: Typed | None = None
    if rule.type == "pull_request":
        parameters = Typed(
            "PullRequestParameters",
            allowedMergeMethods=["merge", "squash", "rebase"],
            dismissStaleReviewsOnPush=shape["dismiss_stale_reviews_on_push"],
            requireCodeOwnerReview=shape["require_code_owner_review"],
            requireLastPushApproval=shape["require_last_push_approval"],
            requiredApprovingReviewCount=shape["required_approving_review_count"],
            requiredReviewThreadResolution=shape["required_review_thread_resolution"],
        )
    elif rule.type == "required_status_checks":
        parameters = Typed(
            "RequiredStatusChecksParameters",
            doNotEnforceOnCreate=shape["do_not_enforce_on_create"],
            requiredStatusChecks=[{"context": c, "integrationId": None} for c in rule.contexts],
            strictRequiredStatusChecksPolicy=shape["strict_required_status_checks_policy"],
        )
    elif rule.type == "update":
        allows = bool(shape.get("update_allows_fetch_and_merge"))
        parameters = Typed("UpdateParameters", updateAllowsFetchAndMerge=allows)
    return {
        "id": node_id("RepositoryRule", f"{ruleset.ruleset.id}:{rule.type}"),
        "type": rule.type.upper(),
        "parameters": parameters,
        "repositoryRuleset": ruleset,
    }


def _actor(ruleset: RulesetNode, actor: rulesets.BypassActor) -> Json:
    bound: Typed | None = None
    if actor.actor_type == "Integration" and actor.actor_id is not None:
        app = ruleset.ctx.store.apps.get(actor.actor_id)
        slug = app.slug if app else f"app-{actor.actor_id}"
        bound = Typed("App", databaseId=actor.actor_id, slug=slug, name=app.name if app else slug,
                      id=node_id("App", str(actor.actor_id)))
    elif actor.actor_type == "Team" and actor.actor_id is not None:
        bound = Typed("Team", databaseId=actor.actor_id, id=node_id("Team", str(actor.actor_id)),
                      slug=f"team-{actor.actor_id}", name=f"team-{actor.actor_id}")
    role = actor.actor_id if actor.actor_type == "RepositoryRole" else None
    return {
        "id": node_id("RepositoryRulesetBypassActor", f"{ruleset.ruleset.id}:{actor.actor_type}:{actor.actor_id}"),
        "actor": bound,
        "bypassMode": "PULL_REQUEST" if actor.bypass_mode == "pull_request" else "ALWAYS",
        "deployKey": actor.actor_type == "DeployKey",
        "enterpriseOwner": False,
        "organizationAdmin": actor.actor_type == "OrganizationAdmin",
        "repositoryRoleDatabaseId": role,
        "repositoryRoleName": rulesets.ROLE_NAMES.get(role) if role is not None else None,
        "repositoryRuleset": ruleset,
    }
