"""The query root."""

from __future__ import annotations

from typing import Any

from migrator.sandbox.graphql.connection import GqlContext, Info
from migrator.sandbox.graphql.nodes import lookup_node
from migrator.sandbox.graphql.owners import OrgNode, UserNode
from migrator.sandbox.graphql.repository import RepoNode
from migrator.sandbox.graphql.schema import GitHubError, Json
from migrator.sandbox.shapes import iso

# ---------------------------------------------------------------- roots


class QueryRoot:
    def __init__(self, ctx: GqlContext) -> None:
        self.ctx = ctx

    def organization(self, info: Info, login: str) -> OrgNode:
        org = self.ctx.store.org(login)
        if org is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to an Organization with the login of '{login}'.")
        return OrgNode(self.ctx, org)

    def repositoryOwner(self, info: Info, login: str) -> OrgNode | None:
        org = self.ctx.store.org(login)
        return OrgNode(self.ctx, org) if org else None

    def repository(self, info: Info, owner: str, name: str, **args: Any) -> RepoNode:
        repo = self.ctx.store.repo(owner, name)
        if repo is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return RepoNode(self.ctx, repo)

    def node(self, info: Info, id: str) -> Any:
        found = lookup_node(self.ctx, id)
        if found is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")
        return found

    def nodes(self, info: Info, ids: list[str]) -> list[Any]:
        return [lookup_node(self.ctx, i) for i in ids]

    def viewer(self, info: Info) -> UserNode:
        return UserNode(self.ctx)

    def rateLimit(self, info: Info, dryRun: bool = False) -> Json:
        budget = self.ctx.limits.budget(self.ctx.token, "graphql")
        return {
            "cost": self.ctx.cost.points,
            "limit": budget.limit,
            "remaining": budget.remaining,
            "used": budget.used,
            "resetAt": iso(budget.reset),
            "nodeCount": self.ctx.cost.nodes,
        }
