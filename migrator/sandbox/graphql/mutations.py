"""The mutation root: every write GraphQL offers in the sandbox."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from migrator.sandbox import merging, ops
from migrator.sandbox.git import valid_ref_name
from migrator.sandbox.graphql.connection import GqlContext, Info, encode_cursor
from migrator.sandbox.graphql.nodes import require_node
from migrator.sandbox.graphql.objects import CommitNode
from migrator.sandbox.graphql.pulls import CommentNode, PullNode, queue_entry
from migrator.sandbox.graphql.repository import RefNode, RepoNode
from migrator.sandbox.graphql.schema import GitHubError, Json
from migrator.sandbox.ops import OpError
from migrator.sandbox.rulesets import Actor
from migrator.sandbox.store import (
    HEADS,
    SANDBOX_USER,
    AutoMerge,
    Repo,
)


def _op(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except OpError as error:
        raise GitHubError(error.gql_type, error.message) from error


class MutationRoot:
    def __init__(self, ctx: GqlContext) -> None:
        self.ctx = ctx

    def _writable_repo(self, repo: Repo) -> Repo:
        _op(lambda: ops.require_write(repo, self.ctx.power))
        return repo

    def _repo_by_id(self, global_id: str) -> Repo:
        node: RepoNode = require_node(self.ctx, global_id, RepoNode)
        return self._writable_repo(node.repo)

    def _pull_by_id(self, global_id: str) -> PullNode:
        node: PullNode = require_node(self.ctx, global_id, PullNode)
        self._writable_repo(node.repo)
        return node

    def createRef(self, info: Info, input: Json) -> Json:
        repo = self._repo_by_id(input["repositoryId"])
        name, oid = str(input["name"]), str(input["oid"])
        if not name.startswith("refs/") or name.count("/") < 2:
            raise GitHubError(
                "UNPROCESSABLE",
                f"Reference name '{name}' is not fully qualified; "
                "use a name starting with refs/, like refs/heads/branch.",
            )
        if not valid_ref_name(name):
            raise GitHubError("UNPROCESSABLE", f"Reference name '{name!r}' is not a valid ref name.")
        if name in repo.refs:
            raise GitHubError("UNPROCESSABLE", f'A ref named "{name}" already exists in the repository.')
        if repo.git.kind(oid) is None:
            raise GitHubError("UNPROCESSABLE", f"Object {oid} does not exist in the repository.")
        _op(lambda: ops.require_workflow_power(self.ctx.power, ops.new_changes(repo, oid)))
        repo.refs[name] = oid
        return {"clientMutationId": input.get("clientMutationId"), "ref": RefNode(self.ctx, repo, name)}

    def deleteRef(self, info: Info, input: Json) -> Json:
        node: RefNode = require_node(self.ctx, input["refId"], RefNode)
        self._writable_repo(node.repo)
        if node.prefix == HEADS and node.repo.protection_for(node.name):
            raise GitHubError("UNPROCESSABLE", f"Cannot delete protected branch {node.name}.")
        del node.repo.refs[node.full]
        return {"clientMutationId": input.get("clientMutationId")}

    def createCommitOnBranch(self, info: Info, input: Json) -> Json:
        repo, branch = self._committable_branch(input["branch"])
        head = repo.branch_sha(branch)
        if head is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a Ref named 'refs/heads/{branch}'.")
        if input["expectedHeadOid"] != head:
            raise GitHubError(
                "STALE_DATA",
                f'Expected branch to point to "{input["expectedHeadOid"]}" but it did not. Pull and try again.',
            )
        changes = self._file_changes(repo, head, input.get("fileChanges") or {})
        _op(lambda: ops.require_workflow_power(self.ctx.power, sorted(changes)))
        _op(
            lambda: ops.require_direct_push(
                repo,
                branch,
                self.ctx.power,
                status=422,
                message=f"Protected branch update failed for refs/heads/{branch}.",
                store=self.ctx.store,
            )
        )
        message = input["message"]
        text = message["headline"] + (f"\n\n{message['body']}" if message.get("body") else "")
        commit = self.ctx.store.commit_changes(repo, parent=head, changes=changes, message=text)
        repo.refs[HEADS + branch] = commit.sha
        repo.pushed_at = self.ctx.store.clock()
        return {
            "clientMutationId": input.get("clientMutationId"),
            "commit": CommitNode(self.ctx, repo, commit.sha),
            "ref": RefNode(self.ctx, repo, HEADS + branch),
        }

    def _committable_branch(self, branch: Json) -> tuple[Repo, str]:
        if branch.get("id"):
            node: RefNode = require_node(self.ctx, branch["id"], RefNode)
            return self._writable_repo(node.repo), node.name
        full = str(branch.get("repositoryNameWithOwner") or "")
        owner, _, name = full.partition("/")
        repo = self.ctx.store.repo(owner, name)
        if repo is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a Repository with the name '{full}'.")
        return self._writable_repo(repo), str(branch.get("branchName") or "")

    @staticmethod
    def _file_changes(repo: Repo, head: str, raw: Json) -> dict[str, bytes | None]:
        existing = repo.files_at(head)
        changes: dict[str, bytes | None] = {}
        for deletion in raw.get("deletions") or ():
            if deletion["path"] not in existing:
                raise GitHubError(
                    "UNPROCESSABLE", f"A path was requested for deletion which does not exist as of commit oid `{head}`"
                )
            changes[deletion["path"]] = None
        for addition in raw.get("additions") or ():
            try:
                changes[addition["path"]] = base64.b64decode(addition["contents"], validate=True)
            except (binascii.Error, ValueError) as error:
                raise GitHubError(
                    "UNPROCESSABLE", f"The contents of {addition['path']} are not valid Base64."
                ) from error
        return changes

    def createPullRequest(self, info: Info, input: Json) -> Json:
        repo = self._repo_by_id(input["repositoryId"])
        pull = _op(
            lambda: ops.create_pull(
                self.ctx.store,
                repo,
                head=input["headRefName"],
                base=input["baseRefName"],
                title=input["title"],
                body=input.get("body"),
                draft=bool(input.get("draft")),
            )
        )
        return {"clientMutationId": input.get("clientMutationId"), "pullRequest": PullNode(self.ctx, repo, pull)}

    def closePullRequest(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["pullRequestId"])
        ops.close_pull(self.ctx.store, node.pull)
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, node.repo, node.pull),
        }

    def mergePullRequest(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["pullRequestId"])
        method = str(input.get("mergeMethod") or "MERGE").lower()
        _op(
            lambda: ops.merge_pull(
                self.ctx.store,
                node.repo,
                node.pull,
                power=self.ctx.power,
                method=method,
                expected_sha=input.get("expectedHeadOid"),
                title=input.get("commitHeadline"),
                message=input.get("commitBody"),
            )
        )
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, node.repo, node.pull),
        }

    def enablePullRequestAutoMerge(self, info: Info, input: Json) -> Json:
        """GitHub refuses auto-merge where the repository does not allow it, and on a pull request that can be
        merged right now ("clean status": merge it instead)."""
        node = self._pull_by_id(input["pullRequestId"])
        repo, pull = node.repo, node.pull
        method = str(input.get("mergeMethod") or "MERGE").lower()
        if not repo.meta.allow_auto_merge:
            raise GitHubError("UNPROCESSABLE", "Pull request Auto merge is not allowed for this repository")
        self._require_open_head(node, input.get("expectedHeadOid"))
        refused = merging.require_method(repo, method)
        if refused:
            raise GitHubError("UNPROCESSABLE", f"Pull request {refused}")
        if merging.merge_state_status(self.ctx.store, repo, pull) in ("CLEAN", "UNSTABLE", "HAS_HOOKS"):
            raise GitHubError("UNPROCESSABLE", "Pull request Pull request is in clean status")
        merging.request_auto_merge(self.ctx.store, repo, pull, self._request(method, queued=False))
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, repo, pull),
            "actor": None,
        }

    def disablePullRequestAutoMerge(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["pullRequestId"])
        if node.pull.auto_merge is not None and not node.pull.auto_merge.queued:
            merging.cancel_auto_merge(self.ctx.store, node.repo, node.pull)
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, node.repo, node.pull),
            "actor": None,
        }

    def enqueuePullRequest(self, info: Info, input: Json) -> Json:
        """The sandbox's merge queue merges an entry (at the end of this request, or of a later one) as soon as
        it could be merged, with the first method the repository allows."""
        node = self._pull_by_id(input["pullRequestId"])
        repo, pull = node.repo, node.pull
        if not merging.in_merge_queue(repo, pull):
            raise GitHubError("UNPROCESSABLE", "Merge queue is not enabled for the base branch of this pull request")
        self._require_open_head(node, input.get("expectedHeadOid"))
        if pull.auto_merge is None or not pull.auto_merge.queued:
            method = repo.meta.merge_methods[0] if repo.meta.merge_methods else "merge"
            merging.request_auto_merge(self.ctx.store, repo, pull, self._request(method, queued=True))
        request = pull.auto_merge
        assert request is not None
        entry = queue_entry(self.ctx, repo, pull, request.enabled_by, request.enabled_at)
        return {"clientMutationId": input.get("clientMutationId"), "mergeQueueEntry": entry}

    def _require_open_head(self, node: PullNode, expected: Any) -> None:
        if node.pull.state != "open":
            raise GitHubError("UNPROCESSABLE", "Pull request is not open")
        if node.pull.draft:
            raise GitHubError("UNPROCESSABLE", "Pull request is still a draft")
        if expected and expected != node.headRefOid:
            raise GitHubError("UNPROCESSABLE", "Head branch was modified. Review and try the merge again.")

    def _request(self, method: str, *, queued: bool) -> AutoMerge:
        login, actor = merging.REQUESTER.get() or (SANDBOX_USER, Actor(SANDBOX_USER))
        return AutoMerge(method, login, self.ctx.power, actor, self.ctx.store.clock(), queued=queued)

    def revertPullRequest(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["pullRequestId"])
        revert = _op(
            lambda: ops.revert_pull(
                self.ctx.store,
                node.repo,
                node.pull,
                title=input.get("title"),
                body=input.get("body"),
                draft=bool(input.get("draft")),
                power=self.ctx.power,
            )
        )
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, node.repo, node.pull),
            "revertPullRequest": PullNode(self.ctx, node.repo, revert),
        }

    def addComment(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["subjectId"])
        if not input["body"]:
            raise GitHubError("UNPROCESSABLE", "Body can't be blank")
        comment = self.ctx.store.add_comment(node.repo, node.pull.number, input["body"])
        comment_node = CommentNode(self.ctx, node.repo, comment)
        edge = {"cursor": encode_cursor(len(node.repo.comments) - 1), "node": comment_node}
        return {
            "clientMutationId": input.get("clientMutationId"),
            "commentEdge": edge,
            "subject": node,
            "timelineEdge": {"cursor": edge["cursor"], "node": comment_node},
        }
