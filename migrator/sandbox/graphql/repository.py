"""Repositories, their refs and branch protection rules."""

from __future__ import annotations

from typing import Any

from migrator.sandbox.graphql import actions as _actions
from migrator.sandbox.graphql import objects as _objects
from migrator.sandbox.graphql import owners as _owners
from migrator.sandbox.graphql import pulls as _pulls
from migrator.sandbox.graphql import rulesets as _rulesets
from migrator.sandbox.graphql.connection import GqlContext, Info, connection, map_nodes
from migrator.sandbox.graphql.rulesets import Typed
from migrator.sandbox.graphql.schema import Json
from migrator.sandbox.protection import Allowances
from migrator.sandbox.shapes import iso
from migrator.sandbox.store import (
    HEADS,
    Protection,
    Repo,
    node_id,
)


class RepoNode:
    typename = "Repository"

    def __init__(self, ctx: GqlContext, repo: Repo) -> None:
        self.ctx, self.repo = ctx, repo
        repo.ensure_loaded()
        meta = repo.meta
        self.id = node_id("Repository", repo.full_name)
        self.databaseId = repo.id
        self.name = repo.name
        self.nameWithOwner = repo.full_name
        self.url = f"{ctx.base}/{repo.full_name}"
        self.description = meta.description
        self.isArchived, self.isFork, self.isEmpty = meta.archived, meta.fork, repo.is_empty
        self.isPrivate = meta.visibility != "public"
        self.visibility = meta.visibility.upper()
        self.isDisabled = self.isLocked = self.isTemplate = self.isMirror = False
        self.createdAt, self.pushedAt, self.updatedAt = iso(repo.created_at), iso(repo.pushed_at), iso(repo.pushed_at)
        self.viewerPermission = "ADMIN" if ctx.power.is_admin else "READ" if not ctx.power.can_write else "WRITE"
        self.stargazerCount = self.forkCount = 0
        self.mergeCommitAllowed = "merge" in meta.merge_methods
        self.squashMergeAllowed = "squash" in meta.merge_methods
        self.rebaseMergeAllowed = "rebase" in meta.merge_methods
        self.autoMergeAllowed = meta.allow_auto_merge

    def mergeQueue(self, info: Info, branch: str | None = None) -> Json | None:
        """The default branch's queue when the repository merges through one (the sandbox's only kind)."""
        if not self.repo.meta.merge_queue or (branch or self.repo.default_branch) != self.repo.default_branch:
            return None
        return {
            "id": node_id("MergeQueue", f"{self.repo.full_name}:{self.repo.default_branch}"),
            "url": f"{self.url}/queue/{self.repo.default_branch}",
            "resourcePath": f"/{self.repo.full_name}/queue/{self.repo.default_branch}",
            "nextEntryEstimatedTimeToMerge": None,
            "repository": self,
        }

    def owner(self, info: Info) -> _owners.OrgNode:
        return _owners.OrgNode(self.ctx, self.ctx.store.orgs[self.repo.org])

    def defaultBranchRef(self, info: Info) -> RefNode | None:
        branch = self.repo.default_branch
        return RefNode(self.ctx, self.repo, HEADS + branch) if self.repo.branch_sha(branch) else None

    def ref(self, info: Info, qualifiedName: str) -> RefNode | None:
        for name in (qualifiedName, HEADS + qualifiedName, "refs/tags/" + qualifiedName):
            if name in self.repo.refs:
                return RefNode(self.ctx, self.repo, name)
        return None

    def refs(self, info: Info, refPrefix: str, **args: Any) -> Json:
        query = args.get("query") or ""
        names = sorted(n for n in self.repo.refs if n.startswith(refPrefix) and query in n[len(refPrefix) :])
        return map_nodes(connection(info, names, args), lambda n: RefNode(self.ctx, self.repo, n))

    def object(self, info: Info, expression: str | None = None, oid: str | None = None) -> Any:
        if oid is not None:
            return _objects.git_object(self.ctx, self.repo, oid, "")
        return _objects.resolve_expression(self.ctx, self.repo, expression or "HEAD")

    def repositoryTopics(self, info: Info, **args: Any) -> Json:
        topics = [
            {
                "topic": {"name": t, "id": node_id("Topic", t)},
                "url": f"{self.ctx.base}/topics/{t}",
                "id": node_id("RepositoryTopic", f"{self.repo.full_name}:{t}"),
            }
            for t in self.repo.meta.topics
        ]
        return connection(info, topics, args)

    def branchProtectionRules(self, info: Info, **args: Any) -> Json:
        rules = sorted(self.repo.protections.items())
        return map_nodes(
            connection(info, rules, args), lambda item: ProtectionNode(self.ctx, self.repo, item[0], item[1])
        )

    def rulesets(self, info: Info, **args: Any) -> Json:
        return _rulesets.repository_rulesets(self.ctx, self.repo, info, args)

    def latestRelease(self, info: Info) -> _actions.ReleaseNode | None:
        return _actions.latest_release(self.ctx, self.repo)

    def releases(self, info: Info, **args: Any) -> Json:
        return _actions.release_connection(self.ctx, self.repo, info, args)

    def release(self, info: Info, tagName: str) -> _actions.ReleaseNode | None:
        found = next((r for r in self.repo.releases.values() if r.tag_name == tagName), None)
        newest = _actions.latest(self.repo)
        return _actions.ReleaseNode(self.ctx, self.repo, found, latest=found is newest) if found else None

    def pullRequests(self, info: Info, **args: Any) -> Json:
        return _pulls.pull_connection(self.ctx, self.repo, info, args)

    def pullRequest(self, info: Info, number: int) -> _pulls.PullNode | None:
        pull = self.repo.pulls.get(number)
        return _pulls.PullNode(self.ctx, self.repo, pull) if pull else None


class ProtectionNode:
    typename = "BranchProtectionRule"

    def __init__(self, ctx: GqlContext, repo: Repo, branch: str, rule: Protection) -> None:
        self.ctx, self.repo = ctx, repo
        self.id = node_id("BranchProtectionRule", f"{repo.full_name}:{branch}")
        self.pattern = branch
        self.isAdminEnforced = rule.enforce_admins
        self.requiresStatusChecks = bool(rule.contexts)
        self.requiredStatusCheckContexts = list(rule.contexts)
        self.requiredStatusChecks = [{"context": c, "app": None} for c in rule.contexts]
        self.requiresStrictStatusChecks = rule.strict
        self.requiresApprovingReviews = rule.required_reviews > 0
        self.requiredApprovingReviewCount = rule.required_reviews or None
        for flag in (
            "allowsDeletions",
            "allowsForcePushes",
            "blocksCreations",
            "dismissesStaleReviews",
            "lockBranch",
            "requiresCodeOwnerReviews",
            "requiresCommitSignatures",
            "requireLastPushApproval",
            "requiresConversationResolution",
            "requiresDeployments",
            "requiresLinearHistory",
            "restrictsReviewDismissals",
            "lockAllowsFetchAndMerge",
        ):
            setattr(self, flag, False)
        self.rule = rule
        self.restrictsPushes = rule.restrictions is not None

    def bypassPullRequestAllowances(self, info: Info, **args: Any) -> Json:
        return self._allowances(info, args, self.rule.bypass_pull_requests, "BypassPullRequestAllowance")

    def pushAllowances(self, info: Info, **args: Any) -> Json:
        return self._allowances(info, args, self.rule.restrictions or Allowances(), "PushAllowance")

    def _allowances(self, info: Info, args: Json, allowed: Allowances, kind: str) -> Json:
        actors = [
            _allowed_actor(self.ctx, self.repo, t, name)
            for t, names in (("User", allowed.users), ("Team", allowed.teams), ("App", allowed.apps))
            for name in names
        ]

        def node(actor: Typed) -> Json:
            key = f"{self.id}:{actor.typename}:{actor.__dict__['databaseId']}"
            return {"id": node_id(kind, key), "actor": actor, "branchProtectionRule": self}

        return map_nodes(connection(info, actors, args), node)

    def repository(self, info: Info) -> RepoNode:
        return RepoNode(self.ctx, self.repo)


def _allowed_actor(ctx: GqlContext, repo: Repo, kind: str, name: str) -> Typed:
    if kind == "App":
        app = next((a for a in ctx.store.apps.values() if name.lower() in (a.slug.lower(), str(a.id))), None)
        app_id = app.id if app else ctx.store.account_id("App", name)
        slug = app.slug if app else name
        return Typed(
            "App", id=node_id("App", str(app_id)), databaseId=app_id, slug=slug, name=app.name if app else name
        )
    if kind == "Team":
        team_id = ctx.store.account_id("Team", f"{repo.org}/{name}")
        return Typed("Team", id=node_id("Team", f"{repo.org}/{name}"), databaseId=team_id, slug=name, name=name)
    user_id = ctx.store.account_id("User", name)
    return Typed("User", id=node_id("User", str(user_id)), databaseId=user_id, login=name, name=None)


class RefNode:
    typename = "Ref"

    def __init__(self, ctx: GqlContext, repo: Repo, full_name: str) -> None:
        self.ctx, self.repo, self.full = ctx, repo, full_name
        self.id = node_id("Ref", f"{repo.full_name}:{full_name}")
        parts = full_name.split("/", 2)
        self.prefix = f"{parts[0]}/{parts[1]}/"
        self.name = parts[2]

    def target(self, info: Info) -> Any:
        return _objects.git_object(self.ctx, self.repo, self.repo.refs[self.full], "")

    def repository(self, info: Info) -> RepoNode:
        return RepoNode(self.ctx, self.repo)

    def branchProtectionRule(self, info: Info) -> ProtectionNode | None:
        rule = self.repo.protection_for(self.name) if self.prefix == HEADS else None
        return ProtectionNode(self.ctx, self.repo, self.name, rule) if rule else None

    def associatedPullRequests(self, info: Info, **args: Any) -> Json:
        return _pulls.pull_connection(self.ctx, self.repo, info, {**args, "headRefName": self.name})
