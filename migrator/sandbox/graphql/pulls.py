"""Pull requests, their commits and comments."""

from __future__ import annotations

from typing import Any

from migrator.sandbox import merging, ops
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
    Review,
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
        self.reviewDecision = merging.review_decision(ctx.store, repo, pull)
        self.mergeStateStatus = merging.merge_state_status(ctx.store, repo, pull)
        self.isInMergeQueue = pull.auto_merge is not None and pull.auto_merge.queued
        open_ = pull.state == "open"
        self.viewerCanMergeAsAdmin = open_ and ctx.power.is_admin and merging.bypasses(repo, pull, ctx.power)
        self.viewerCanEnableAutoMerge = open_ and ctx.power.can_write and repo.meta.allow_auto_merge
        self.viewerCanDisableAutoMerge = open_ and ctx.power.can_write and pull.auto_merge is not None

    def autoMergeRequest(self, info: Info) -> Json | None:
        request = self.pull.auto_merge
        if request is None or request.queued:
            return None
        return {
            "mergeMethod": request.method.upper(),
            "enabledAt": iso(request.enabled_at),
            "enabledBy": _owners.UserNode(self.ctx, request.enabled_by),
            "commitHeadline": None,
            "commitBody": None,
            "authorEmail": None,
            "pullRequest": self,
        }

    def mergeQueueEntry(self, info: Info) -> Json | None:
        request = self.pull.auto_merge
        if request is None or not request.queued:
            return None
        return queue_entry(self.ctx, self.repo, self.pull, request.enabled_by, request.enabled_at)

    def reviews(self, info: Info, **args: Any) -> Json:
        states = set(args.get("states") or ())
        author = (args.get("author") or "").lower()
        items = [
            r
            for r in self.pull.reviews
            if (not states or r.state in states) and (not author or r.user.lower() == author)
        ]
        return map_nodes(connection(info, items, args), lambda r: ReviewNode(self.ctx, self.repo, self.pull, r))

    def latestReviews(self, info: Info, **args: Any) -> Json:
        return self._latest(info, args, {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"})

    def latestOpinionatedReviews(self, info: Info, **args: Any) -> Json:
        """Each reviewer's latest review that decides something (approval or change request)."""
        return self._latest(info, args, set(merging.COUNTED_STATES))

    def _latest(self, info: Info, args: Json, states: set[str]) -> Json:
        latest: dict[str, Review] = {}
        for review in self.pull.reviews:
            if review.state in states:
                latest[review.user.lower()] = review
        items = list(latest.values())
        return map_nodes(connection(info, items, args), lambda r: ReviewNode(self.ctx, self.repo, self.pull, r))

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


class ReviewNode:
    typename = "PullRequestReview"

    def __init__(self, ctx: GqlContext, repo: Repo, pull: PullRequest, review: Review) -> None:
        self.ctx, self.repo, self.pull, self.review = ctx, repo, pull, review
        self.id = node_id("PullRequestReview", f"{repo.full_name}:{review.id}")
        self.databaseId = self.fullDatabaseId = review.id
        self.state, self.body, self.bodyText = review.state, review.body, review.body
        self.submittedAt = None if review.state == "PENDING" else iso(review.submitted_at)
        self.createdAt = self.updatedAt = self.publishedAt = iso(review.submitted_at)
        self.url = f"{ctx.base}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review.id}"
        self.authorCanPushToRepository = True
        self.authorAssociation = "MEMBER"

    def author(self, info: Info) -> _owners.UserNode:
        return _owners.UserNode(self.ctx, self.review.user)

    def commit(self, info: Info) -> _objects.CommitNode | None:
        sha = self.review.commit_id
        return _objects.CommitNode(self.ctx, self.repo, sha) if sha in self.repo.git.commits else None

    def pullRequest(self, info: Info) -> PullNode:
        return PullNode(self.ctx, self.repo, self.pull)


def queue_entry(ctx: GqlContext, repo: Repo, pull: PullRequest, enqueuer: str, enqueued_at: float) -> Json:
    """The sandbox's merge queue merges an entry once it could be merged; until then it waits at its position."""
    waiting = sorted(
        (p for p in repo.pulls.values() if p.auto_merge is not None and p.auto_merge.queued and p.state == "open"),
        key=lambda p: (p.auto_merge.enabled_at if p.auto_merge else 0, p.number),
    )
    position = next((i for i, p in enumerate(waiting, 1) if p.number == pull.number), 1)
    head = ctx.store.head_sha(repo, pull)
    return {
        "id": node_id("MergeQueueEntry", f"{repo.full_name}#{pull.number}"),
        "enqueuedAt": iso(enqueued_at),
        "enqueuer": _owners.UserNode(ctx, enqueuer),
        "estimatedTimeToMerge": None,
        "headCommit": _objects.CommitNode(ctx, repo, head) if head in repo.git.commits else None,
        "baseCommit": None,
        "jump": False,
        "solo": False,
        "position": position,
        "state": "MERGED" if pull.merged else "AWAITING_CHECKS",
        "pullRequest": PullNode(ctx, repo, pull),
        "mergeQueue": None,
    }
