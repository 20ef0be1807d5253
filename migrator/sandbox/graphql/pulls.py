"""Pull requests, their commits and comments."""

from __future__ import annotations

from typing import Any

from migrator.sandbox import ops
from migrator.sandbox.graphql import objects as _objects
from migrator.sandbox.graphql import owners as _owners
from migrator.sandbox.graphql import repository as _repository
from migrator.sandbox.graphql.connection import GqlContext, Info, connection, map_nodes
from migrator.sandbox.graphql.schema import Json
from migrator.sandbox.shapes import iso
from migrator.sandbox.store import (
    HEADS,
    Comment,
    PullRequest,
    Repo,
    node_id,
)


def pull_state(pull: PullRequest) -> str:
    return "MERGED" if pull.merged else pull.state.upper()




def pull_connection(ctx: GqlContext, repo: Repo, info: Info, args: Json) -> Json:
    states = set(args.get("states") or ())
    labels = {label.lower() for label in args.get("labels") or ()}
    pulls = [
        p
        for p in sorted(repo.pulls.values(), key=lambda p: p.number)
        if (not states or pull_state(p) in states)
        and (not args.get("headRefName") or p.head_ref == args["headRefName"])
        and (not args.get("baseRefName") or p.base_ref == args["baseRefName"])
        and (not labels or labels & {n.lower() for n in p.labels})
    ]
    if (args.get("orderBy") or {}).get("direction") == "DESC":
        pulls.reverse()
    return map_nodes(connection(info, pulls, args), lambda p: PullNode(ctx, repo, p))




# ---------------------------------------------------------------- pull requests


def pull_commits(repo: Repo, pull: PullRequest, head: str) -> list[str]:
    """The pull request's own commits, oldest first: those of its head that its base did not have.

    A merged pull request is measured against the base as it was (the merge commit's first parent), so it
    keeps its commits after the merge, as on GitHub.
    """
    if head not in repo.git.commits:
        return []
    base = repo.branch_sha(pull.base_ref)
    if pull.merged and pull.merge_commit_sha in repo.git.commits:
        parents = repo.commit(str(pull.merge_commit_sha)).parents
        base = parents[0] if parents else base
    behind = set(repo.git.ancestors(base)) if base else set()
    own = [sha for sha in repo.git.ancestors(head) if sha not in behind]
    return list(reversed(own)) or [head]


class PullCommitNode:
    typename = "PullRequestCommit"

    def __init__(self, ctx: GqlContext, repo: Repo, pull: PullRequest, sha: str) -> None:
        self.ctx, self.repo, self.pull, self.sha = ctx, repo, pull, sha
        self.id = node_id("PullRequestCommit", f"{repo.full_name}#{pull.number}@{sha}")
        self.resourcePath = f"/{repo.full_name}/pull/{pull.number}/commits/{sha}"
        self.url = f"{ctx.base}{self.resourcePath}"

    def commit(self, info: Info) -> _objects.CommitNode:
        return _objects.CommitNode(self.ctx, self.repo, self.sha)

    def pullRequest(self, info: Info) -> PullNode:
        return PullNode(self.ctx, self.repo, self.pull)


class PullNode:
    typename = "PullRequest"

    def __init__(self, ctx: GqlContext, repo: Repo, pull: PullRequest) -> None:
        self.ctx, self.repo, self.pull = ctx, repo, pull
        self.id = node_id("PullRequest", f"{repo.full_name}#{pull.number}")
        self.databaseId, self.number = pull.id, pull.number
        self.title, self.body = pull.title, pull.body or ""
        self.state = pull_state(pull)
        self.url = self.permalink = f"{ctx.base}/{repo.full_name}/pull/{pull.number}"
        self.headRefName, self.baseRefName = pull.head_ref, pull.base_ref
        self.headRefOid = ctx.store.head_sha(repo, pull)
        self.baseRefOid = repo.branch_sha(pull.base_ref) or ""
        self.merged, self.mergedAt = pull.merged, iso(pull.merged_at)
        self.closed, self.closedAt = pull.state == "closed", iso(pull.closed_at)
        self.isDraft = pull.draft
        self.createdAt, self.updatedAt = iso(pull.created_at), iso(pull.updated_at)
        self.mergeable = (
            "UNKNOWN"
            if pull.state != "open"
            else (
                "MERGEABLE" if ops.merged_files(repo, self.baseRefOid, self.headRefOid) is not None else "CONFLICTING"
            )
        )
        rule = repo.protection_for(pull.base_ref)
        # Reviews are not modelled, so none ever approves: required reviews are always still required.
        self.reviewDecision = "REVIEW_REQUIRED" if rule is not None and rule.required_reviews > 0 else None

    def author(self, info: Info) -> _owners.UserNode:
        return _owners.UserNode(self.ctx, self.pull.user)

    def repository(self, info: Info) -> _repository.RepoNode:
        return _repository.RepoNode(self.ctx, self.repo)

    def headRef(self, info: Info) -> _repository.RefNode | None:
        name = HEADS + self.pull.head_ref
        return _repository.RefNode(self.ctx, self.repo, name) if name in self.repo.refs else None

    def baseRef(self, info: Info) -> _repository.RefNode | None:
        name = HEADS + self.pull.base_ref
        return _repository.RefNode(self.ctx, self.repo, name) if name in self.repo.refs else None

    def mergeCommit(self, info: Info) -> _objects.CommitNode | None:
        sha = self.pull.merge_commit_sha
        return _objects.CommitNode(self.ctx, self.repo, sha) if sha else None

    def labels(self, info: Info, **args: Any) -> Json:
        items = [self.ctx.store.label(self.repo, n) for n in self.pull.labels]
        return map_nodes(
            connection(info, items, args),
            lambda item: {
                "id": node_id("Label", f"{self.repo.full_name}:{item.id}"),
                "name": item.name,
                "color": item.color,
                "description": item.description,
                "isDefault": False,
            },
        )

    def comments(self, info: Info, **args: Any) -> Json:
        items = [c for c in self.repo.comments if c.issue_number == self.pull.number]
        return map_nodes(connection(info, items, args), lambda c: CommentNode(self.ctx, self.repo, c))

    def commits(self, info: Info, **args: Any) -> Json:
        shas = pull_commits(self.repo, self.pull, self.headRefOid)
        return map_nodes(connection(info, shas, args), lambda s: PullCommitNode(self.ctx, self.repo, self.pull, s))

    def reviewRequests(self, info: Info, **args: Any) -> Json:
        items = [("User", u) for u in self.pull.requested_reviewers] + [("Team", t) for t in self.pull.requested_teams]
        return map_nodes(connection(info, items, args), self._review_request)

    def _review_request(self, item: tuple[str, str]) -> Json:
        kind, name = item
        reviewer: _owners.UserNode | _owners.TeamNode = (
            _owners.UserNode(self.ctx, name) if kind == "User" else _owners.TeamNode(self.ctx, self.repo.org, name)
        )
        key = f"{self.repo.full_name}#{self.pull.number}:{kind}:{name}"
        return {
            "id": node_id("ReviewRequest", key),
            "databaseId": self.ctx.store.account_id("ReviewRequest", key),
            "asCodeOwner": False,
            "pullRequest": self,
            "requestedReviewer": reviewer,
        }


class CommentNode:
    typename = "IssueComment"

    def __init__(self, ctx: GqlContext, repo: Repo, comment: Comment) -> None:
        self.ctx, self.repo, self.comment = ctx, repo, comment
        self.id = node_id("IssueComment", f"{repo.full_name}:{comment.id}")
        self.databaseId, self.body = comment.id, comment.body
        self.bodyText = comment.body
        self.createdAt = self.updatedAt = iso(comment.created_at)
        self.url = f"{ctx.base}/{repo.full_name}/pull/{comment.issue_number}#issuecomment-{comment.id}"

    def author(self, info: Info) -> _owners.UserNode:
        return _owners.UserNode(self.ctx, self.comment.user)
