"""Git objects: commits, trees and blobs, and `REV:PATH` expressions."""

from __future__ import annotations

from typing import Any

from migrator.sandbox.git import TREE_MODE
from migrator.sandbox.graphql import actions as _actions
from migrator.sandbox.graphql import checks as _checks
from migrator.sandbox.graphql import repository as _repository
from migrator.sandbox.graphql.connection import GqlContext, Info, connection, map_nodes
from migrator.sandbox.graphql.schema import Json
from migrator.sandbox.shapes import iso
from migrator.sandbox.store import (
    Repo,
    node_id,
)


class GitObjectNode:
    typename = "GitObject"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str) -> None:
        self.ctx, self.repo = ctx, repo
        self.oid = sha
        self.abbreviatedOid = sha[:7]
        self.id = node_id(self.typename, f"{repo.full_name}@{sha}")
        self.commitUrl = f"{ctx.base}/{repo.full_name}/commit/{sha}"
        self.commitResourcePath = f"/{repo.full_name}/commit/{sha}"

    def repository(self, info: Info) -> _repository.RepoNode:
        return _repository.RepoNode(self.ctx, self.repo)


class CommitNode(GitObjectNode):
    typename = "Commit"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str) -> None:
        super().__init__(ctx, repo, sha)
        commit = repo.commit(sha)
        self.message = commit.message
        self.messageHeadline, _, body = commit.message.partition("\n")
        self.messageBody = body.lstrip("\n")
        self.committedDate = iso(commit.committer.timestamp)
        self.authoredDate = iso(commit.author.timestamp)
        self.url = self.commitUrl
        self.author = {
            "name": commit.author.name,
            "email": commit.author.email,
            "date": iso(commit.author.timestamp),
            "user": None,
        }
        self.committer = {
            "name": commit.committer.name,
            "email": commit.committer.email,
            "date": iso(commit.committer.timestamp),
            "user": None,
        }

    def tree(self, info: Info) -> TreeNode:
        return TreeNode(self.ctx, self.repo, self.repo.commit(self.oid).tree, "")

    def parents(self, info: Info, **args: Any) -> Json:
        parents = list(self.repo.commit(self.oid).parents)
        return map_nodes(connection(info, parents, args), lambda s: CommitNode(self.ctx, self.repo, s))

    def history(self, info: Info, **args: Any) -> Json:
        history = self.repo.git.ancestors(self.oid)
        if args.get("path"):
            history = [s for s in history if _touches(self.repo, s, str(args["path"]))]
        return map_nodes(connection(info, history, args), lambda s: CommitNode(self.ctx, self.repo, s))

    def checkSuites(self, info: Info, **args: Any) -> Json:
        return _actions.suite_connection(self.ctx, self.repo, self.oid, info, args)

    def statusCheckRollup(self, info: Info) -> _checks.RollupNode | None:
        contexts = _checks.commit_contexts(self.repo, self.oid)
        return _checks.RollupNode(self.ctx, self.repo, self.oid, contexts) if contexts else None


def _touches(repo: Repo, sha: str, path: str) -> bool:
    commit = repo.commit(sha)
    before = repo.files_at(commit.parents[0]) if commit.parents else {}
    after = repo.files_at(sha)
    return any(
        p == path or p.startswith(path.rstrip("/") + "/")
        for p in set(before) | set(after)
        if before.get(p) != after.get(p)
    )


class TreeNode(GitObjectNode):
    typename = "Tree"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str, path: str) -> None:
        super().__init__(ctx, repo, sha)
        self.path = path

    def entries(self, info: Info) -> list[Json]:
        out = []
        for entry in self.repo.git.trees[self.oid]:
            path = f"{self.path}/{entry.name}" if self.path else entry.name
            is_blob = entry.kind == "blob"
            size = len(self.repo.git.blobs[entry.sha]) if is_blob else 0
            out.append(
                {
                    "name": entry.name,
                    "path": path,
                    "type": entry.kind,
                    "oid": entry.sha,
                    "mode": int(entry.mode if entry.mode != TREE_MODE else "40000", 8),
                    "nameRaw": entry.name,
                    "pathRaw": path,
                    "size": size,
                    "isGenerated": False,
                    "extension": ("." + entry.name.rsplit(".", 1)[1]) if is_blob and "." in entry.name else None,
                    "lineCount": self.repo.git.blobs[entry.sha].count(b"\n") if is_blob else None,
                    "language": None,
                    "submodule": None,
                    "object": git_object(self.ctx, self.repo, entry.sha, path),
                    "repository": _repository.RepoNode(self.ctx, self.repo),
                }
            )
        return out


class BlobNode(GitObjectNode):
    typename = "Blob"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str) -> None:
        super().__init__(ctx, repo, sha)
        data = repo.git.blobs[sha]
        limit = ctx.settings.blob_truncate_bytes
        self.byteSize = len(data)
        self.isBinary = _is_binary(data)
        self.isTruncated = len(data) > limit
        self.text = None if self.isBinary else data[:limit].decode("utf-8", errors="ignore")


def _is_binary(data: bytes) -> bool:
    head = data[:8000]
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(head) - 3  # a multi-byte character cut at the edge is still text
    return False


def git_object(ctx: GqlContext, repo: Repo, sha: str, path: str) -> GitObjectNode | None:
    full = repo.git.resolve_prefix(sha.lower())
    kind = repo.git.kind(full) if full else None
    if full is None or kind is None:
        return None
    if kind == "commit":
        return CommitNode(ctx, repo, full)
    if kind == "tree":
        return TreeNode(ctx, repo, full, path)
    return BlobNode(ctx, repo, full)


def resolve_expression(ctx: GqlContext, repo: Repo, expression: str) -> GitObjectNode | None:
    """`REV:PATH` (REV: HEAD, a branch, a tag or an abbreviated oid) or just `REV`."""
    revision, has_path, path = expression.partition(":")
    revision = revision or "HEAD"
    if revision == "HEAD":
        revision = repo.default_branch
    commit = repo.resolve_commitish(revision)
    if commit is None:
        return None
    if not has_path:
        return CommitNode(ctx, repo, commit)
    path = path.strip("/")
    entry = repo.git.lookup_path(repo.commit(commit).tree, path)
    return git_object(ctx, repo, entry.sha, path) if entry else None
