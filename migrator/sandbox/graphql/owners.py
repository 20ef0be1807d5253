"""Users, organisations and teams."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from migrator.sandbox.graphql import repository as _repository
from migrator.sandbox.graphql.connection import GqlContext, Info, connection
from migrator.sandbox.graphql.schema import Json
from migrator.sandbox.store import (
    SANDBOX_USER,
    Org,
    Repo,
    node_id,
)

# ---------------------------------------------------------------- object types


class UserNode:
    typename = "User"

    def __init__(self, ctx: GqlContext, login: str = SANDBOX_USER) -> None:
        self.ctx, self.login = ctx, login
        self.id = node_id("User", login)
        self.url = f"{ctx.base}/{login}"
        self.name = login
        self.email = ""

    def avatarUrl(self, info: Info, **args: Any) -> str:
        return f"{self.ctx.base}/avatars/{self.login}"


class OrgNode:
    typename = "Organization"

    def __init__(self, ctx: GqlContext, org: Org) -> None:
        self.ctx, self.org = ctx, org
        self.id = node_id("Organization", org.login)
        self.login = self.name = org.login
        self.databaseId = org.id
        self.url = f"{ctx.base}/{org.login}"

    def avatarUrl(self, info: Info, **args: Any) -> str:
        return f"{self.ctx.base}/avatars/{self.org.login}"

    def repositories(self, info: Info, **args: Any) -> Json:
        repos = [r for r in self.org.repos.values() if _repo_filter(r, args)]
        order = args.get("orderBy") or {}
        key: Callable[[Repo], Any] = {
            "NAME": lambda r: r.name.lower(),
            "PUSHED_AT": lambda r: (r.pushed_at, r.id),
            "UPDATED_AT": lambda r: (r.pushed_at, r.id),
        }.get(order.get("field", ""), lambda r: (r.created_at, r.id))
        repos.sort(key=key, reverse=order.get("direction") == "DESC")
        result = connection(info, repos, args)
        wrap = functools.partial(_repository.RepoNode, self.ctx)
        result["nodes"] = [wrap(r) for r in result["nodes"]]
        result["edges"] = [{"cursor": e["cursor"], "node": wrap(e["node"])} for e in result["edges"]]
        result["totalDiskUsage"] = 0
        return result

    def repository(self, info: Info, name: str, **args: Any) -> _repository.RepoNode | None:
        repo = self.ctx.store.repo(self.org.login, name)
        return _repository.RepoNode(self.ctx, repo) if repo else None


def _repo_filter(repo: Repo, args: Json) -> bool:
    checks = (
        args.get("isFork") is None or repo.meta.fork == args["isFork"],
        args.get("isArchived") is None or repo.meta.archived == args["isArchived"],
        args.get("privacy") is None or (repo.meta.visibility == "public") == (args["privacy"] == "PUBLIC"),
        args.get("visibility") is None or repo.meta.visibility.upper() == args["visibility"],
        not args.get("isLocked"),
    )
    return all(checks)




class TeamNode:
    typename = "Team"

    def __init__(self, ctx: GqlContext, org: str, slug: str) -> None:
        self.ctx, self.org = ctx, org
        self.id = node_id("Team", f"{org}/{slug}")
        self.databaseId = ctx.store.account_id("Team", f"{org}/{slug}")
        self.name = self.slug = slug
        self.combinedSlug = f"{org}/{slug}"
        self.description = None
        self.privacy = "VISIBLE"
        self.resourcePath = f"/orgs/{org}/teams/{slug}"
        self.url = f"{ctx.base}{self.resourcePath}"

    def organization(self, info: Info) -> OrgNode:
        return OrgNode(self.ctx, self.ctx.store.orgs[self.org])
