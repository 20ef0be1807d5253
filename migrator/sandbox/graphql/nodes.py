"""Global node ids back to objects (`node`, `nodes` and mutation inputs)."""

from __future__ import annotations

from typing import Any

from migrator.sandbox.graphql import objects as _objects
from migrator.sandbox.graphql import owners as _owners
from migrator.sandbox.graphql import pulls as _pulls
from migrator.sandbox.graphql import repository as _repository
from migrator.sandbox.graphql.connection import GqlContext
from migrator.sandbox.graphql.schema import GitHubError
from migrator.sandbox.store import (
    parse_node_id,
)

# ---------------------------------------------------------------- node lookup


def _split_repo_key(key: str, separator: str) -> tuple[str, str, str] | None:
    full, sep, rest = key.partition(separator)
    owner, _, name = full.partition("/")
    return (owner, name, rest) if sep and owner and name else None


def lookup_node(ctx: GqlContext, global_id: str) -> Any:
    parsed = parse_node_id(global_id)
    if parsed is None:
        return None
    kind, key = parsed
    store = ctx.store
    if kind == "Organization":
        org = store.org(key)
        return _owners.OrgNode(ctx, org) if org else None
    if kind == "Repository":
        owner, _, name = key.partition("/")
        repo = store.repo(owner, name)
        return _repository.RepoNode(ctx, repo) if repo else None
    separators = {
        "Ref": ":",
        "PullRequest": "#",
        "Commit": "@",
        "Tree": "@",
        "Blob": "@",
        "IssueComment": ":",
        "BranchProtectionRule": ":",
    }
    if kind not in separators:
        return None
    parts = _split_repo_key(key, separators[kind])
    repo = store.repo(parts[0], parts[1]) if parts else None
    if parts is None or repo is None:
        return None
    rest = parts[2]
    if kind == "Ref":
        return _repository.RefNode(ctx, repo, rest) if rest in repo.refs else None
    if kind == "PullRequest":
        pull = repo.pulls.get(int(rest)) if rest.isdigit() else None
        return _pulls.PullNode(ctx, repo, pull) if pull else None
    if kind == "IssueComment":
        comment = next((c for c in repo.comments if str(c.id) == rest), None)
        return _pulls.CommentNode(ctx, repo, comment) if comment else None
    if kind == "BranchProtectionRule":
        rule = repo.protection_for(rest)
        return _repository.ProtectionNode(ctx, repo, rest, rule) if rule else None
    return _objects.git_object(ctx, repo, rest, "")


def require_node(ctx: GqlContext, global_id: str, kind: type[Any]) -> Any:
    found = lookup_node(ctx, global_id)
    if not isinstance(found, kind):
        raise GitHubError("NOT_FOUND", f"Could not resolve to a node with the global id of '{global_id}'")
    return found
