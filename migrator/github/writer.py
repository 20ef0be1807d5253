"""The write side of the adapter: `migrator.apply.ports.Writer` over GitHub's APIs.

Reads (`repo_state`, `commit`) are GraphQL under the read retry. Each content-creating write is ONE
request, never repeated here: a failure becomes a `WriteError` (see `refusals`) and the executor reads
back before it decides anything. (Below this layer the transport re-sends a request GitHub refused 401
with a freshly minted installation token: a refused credential did nothing, so nothing is repeated.)

Which API for which write:
- branches: REST `POST /git/refs` and `DELETE /git/refs/heads/B`. GraphQL `createRef`/`deleteRef` need
  node ids (the repository's, the ref's): one more read per write, or a cache to keep right.
- the commit: GraphQL `createCommitOnBranch`, the only API that makes a multi-file commit in one request,
  refuses a moved branch (`expectedHeadOid`) and leaves a commit GitHub signs.
- pull requests, labels, reviewers, comments, closing: REST, which addresses a PR by its number.
- a campaign's update onto a new base: REST `POST /git/trees` (on the base commit's tree) and `POST /git/commits`
  (its one parent the base), then `PATCH /git/refs/heads/B` with `force`. The branch moves once, from our old
  commit to the new one, and never points at the base itself (GitHub may close a PR whose head has no commits).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from requests.utils import parse_header_links

from migrator.apply.ports import (
    Ambiguous,
    CommitInfo,
    Forbidden,
    Gone,
    PullInfo,
    PullRequestSpec,
    ReadFailed,
    RepoState,
    Vanished,
    WriteError,
)
from migrator.errors import AuthError, RemoteError
from migrator.github import queries
from migrator.github.refusals import WIRE_ERRORS, graphql_refusal, http_refusal, one_line
from migrator.github.retry import RetryPolicy, classify
from migrator.github.transport import GraphQLAnswer, Transport
from migrator.log import get_logger

Json = dict[str, Any]
T = TypeVar("T")
HEADS = "refs/heads/"


class WriteMethods:
    """Mixed into `GitHubClient`, which provides `transport`."""

    transport: Transport

    @property
    def _policy(self) -> RetryPolicy:
        return self.transport.policy

    # ------------------------------------------------------------ reads

    def repo_state(self, repo: str, *, branch: str, paths: Sequence[str]) -> RepoState:
        owner, name = _split(repo)
        folders = sorted({path.rpartition("/")[0] for path in paths})
        variables: Json = {"owner": owner, "name": name, "ref": HEADS + branch, "branch": branch}
        variables.update({f"p{i}": f"HEAD:{path}" for i, path in enumerate(paths)})
        variables.update({f"d{i}": f"HEAD:{folder}" for i, folder in enumerate(folders)})
        node = self._read_repository(
            queries.repo_state(len(paths), len(folders)), variables, repo, f"reading the state of {repo}"
        )
        default = node.get("defaultBranchRef")
        if not isinstance(default, dict) or not isinstance((default.get("target") or {}).get("oid"), str):
            raise Vanished(f"{repo} has no default branch any more (deleted since the plan)")
        pulls = node.get("pullRequests") or {}
        modes: dict[str, str | None] = {}
        for index, folder in enumerate(folders):
            entries = (node.get(f"d{index}") or {}).get("entries") or ()
            found = {str(e.get("name")): e.get("mode") for e in entries if isinstance(e, dict)}
            for path in paths:
                parent, _, leaf = path.rpartition("/")
                if parent == folder:
                    modes[path] = _mode(found.get(leaf))
        return RepoState(
            default_branch=str(default["name"]),
            default_head=str(default["target"]["oid"]),
            blobs={path: _oid(node.get(f"p{i}")) for i, path in enumerate(paths)},
            branch_head=_commit_info((node.get("branch") or {}).get("target")),
            pulls=tuple(_pull_info(p) for p in pulls.get("nodes") or () if _same_repo(p, repo)),
            modes=modes,
        )

    def comment_bodies(self, repo: str, number: int) -> list[str]:
        """Every comment on PR `number`, oldest first (REST pages, under the read retry)."""
        what = f"reading the comments of #{number} of {repo}"
        url: str | None = f"/repos/{quote(repo, safe='/')}/issues/{number}/comments"
        params: Json | None = {"per_page": 100}
        bodies: list[str] = []
        while url:
            try:
                got = self.transport.rest_get(url, params, what=what, step="rollback", repo=repo)
            except RemoteError as error:  # retries spent: nothing was written
                raise ReadFailed(f"{error.message}; nothing was written") from None
            if got is None:  # only with `unknown_on`, which this read does not pass
                break
            headers, data = got
            for item in data if isinstance(data, list) else ():
                if isinstance(item, dict):
                    bodies.append(str(item.get("body") or ""))
            url, params = _next_link(headers), None
        return bodies

    def commit(self, repo: str, oid: str) -> CommitInfo:
        owner, name = _split(repo)
        node = self._read_repository(
            queries.COMMIT, {"owner": owner, "name": name, "oid": oid}, repo, f"reading commit {oid[:10]} of {repo}"
        )
        info = _commit_info(node.get("object"))
        if info is None:
            raise Forbidden(f"GitHub has no commit {oid[:10]} in {repo} that this token can see")
        return info

    def _read_repository(self, query: str, variables: Json, repo: str, what: str) -> Json:
        def attempt() -> GraphQLAnswer:
            return self.transport.post_graphql(query, variables)

        try:
            answer: GraphQLAnswer = self.transport.read(attempt, what=what, step="apply", repo=repo)
        except WIRE_ERRORS as error:
            raise self._read_refusal(error, what) from error
        node = answer.data.get("repository")
        if isinstance(node, dict):
            return node
        if any(e.type == "NOT_FOUND" for e in answer.errors):
            raise Gone(f"{repo} is gone: deleted, or no longer visible to this token ({answer.errors[0].message})")
        if answer.errors:
            refusal = graphql_refusal(answer.errors, answer.headers, what=what, policy=self._policy)
            raise ReadFailed(str(refusal)) if isinstance(refusal, Ambiguous) else refusal
        raise ReadFailed(f"GitHub's answer to {what} had no repository; nothing was written: run again")

    def _read_refusal(self, error: BaseException, what: str) -> WriteError | AuthError:
        """A read that failed for good. Nothing was written, so it is never "ambiguous"."""
        refusal = self._refusal(error, what)
        if isinstance(refusal, Ambiguous):
            attempts = self._policy.max_attempts
            detail = one_line(str(error)) if isinstance(error, ValueError) else self._failure_text(error)
            return ReadFailed(f"{what} failed {attempts} times ({detail}); nothing was written: run again later")
        return refusal

    def _failure_text(self, error: BaseException) -> str:
        return classify(error, now=self._policy.clock()).describe or type(error).__name__

    # ------------------------------------------------------------ writes: branches and the commit

    def create_branch(self, repo: str, *, branch: str, oid: str) -> None:
        self._rest(repo, "POST", "git/refs", {"ref": HEADS + branch, "sha": oid}, what=f"creating {branch} in {repo}")

    def delete_branch(self, repo: str, branch: str) -> None:
        self._rest(
            repo, "DELETE", f"git/refs/heads/{quote(branch, safe='/')}", None, what=f"deleting {branch} in {repo}"
        )

    def commit_files(
        self,
        repo: str,
        *,
        branch: str,
        expected_head: str,
        headline: str,
        body: str,
        additions: Mapping[str, bytes],
        deletions: Sequence[str],
    ) -> str:
        what = f"committing to {branch} in {repo}"
        changes = {
            "additions": [{"path": p, "contents": base64.b64encode(c).decode("ascii")} for p, c in additions.items()],
            "deletions": [{"path": p} for p in deletions],
        }
        message = {"headline": headline, "body": body} if body else {"headline": headline}
        payload = {
            "input": {
                "branch": {"repositoryNameWithOwner": repo, "branchName": branch},
                "expectedHeadOid": expected_head,
                "message": message,
                "fileChanges": changes,
            }
        }
        result = self._mutation(queries.CREATE_COMMIT, payload, "createCommitOnBranch", repo=repo, what=what)
        oid = (result.get("commit") or {}).get("oid")
        if not isinstance(oid, str):
            raise Ambiguous(f"GitHub's answer to {what} had no commit id; read back first")
        return oid

    def create_tree(
        self, repo: str, *, base_tree: str, additions: Mapping[str, bytes], deletions: Sequence[str]
    ) -> str:
        items: list[Json] = [
            {"path": path, "mode": "100644", "type": "blob", "content": content.decode("utf-8", "surrogateescape")}
            for path, content in additions.items()
        ]
        items += [{"path": path, "mode": "100644", "type": "blob", "sha": None} for path in deletions]
        what = f"building a tree in {repo}"
        data = self._rest(repo, "POST", "git/trees", {"base_tree": base_tree, "tree": items}, what=what)
        return _sha_of(data, what)

    def create_commit(self, repo: str, *, tree: str, parents: Sequence[str], message: str) -> str:
        what = f"making a commit in {repo}"
        body = {"tree": tree, "parents": list(parents), "message": message}
        return _sha_of(self._rest(repo, "POST", "git/commits", body, what=what), what)

    def force_branch(self, repo: str, *, branch: str, oid: str) -> None:
        self._rest(
            repo,
            "PATCH",
            f"git/refs/heads/{quote(branch, safe='/')}",
            {"sha": oid, "force": True},
            what=f"moving {branch} in {repo}",
        )

    # ------------------------------------------------------------ writes: pull requests

    def create_pull(self, repo: str, spec: PullRequestSpec) -> PullInfo:
        what = f"opening a pull request from {spec.head} in {repo}"
        body = {"title": spec.title, "head": spec.head, "base": spec.base, "body": spec.body, "draft": spec.draft}
        data = self._rest(repo, "POST", "pulls", body, what=what)
        try:
            return _rest_pull(data)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise Ambiguous(f"GitHub's answer to {what} could not be read; read back first") from None

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        self._rest(
            repo, "POST", f"issues/{number}/labels", {"labels": list(labels)}, what=f"labelling #{number} of {repo}"
        )

    def request_reviewers(self, repo: str, number: int, *, users: Sequence[str], teams: Sequence[str]) -> None:
        self._rest(
            repo,
            "POST",
            f"pulls/{number}/requested_reviewers",
            {"reviewers": list(users), "team_reviewers": list(teams)},
            what=f"requesting reviews on #{number} of {repo}",
        )

    def comment(self, repo: str, number: int, body: str) -> None:
        self._rest(repo, "POST", f"issues/{number}/comments", {"body": body}, what=f"commenting on #{number} of {repo}")

    def close_pull(self, repo: str, number: int) -> None:
        self._rest(repo, "PATCH", f"pulls/{number}", {"state": "closed"}, what=f"closing #{number} of {repo}")

    # ------------------------------------------------------------ one request each

    def _rest(self, repo: str, verb: str, path: str, body: Mapping[str, Any] | None, *, what: str) -> Any:
        url = f"/repos/{quote(repo, safe='/')}/{path}"
        return self._once(lambda: self.transport.send(verb, url, body)[1], repo=repo, what=what)

    def _mutation(self, query: str, variables: Json, field: str, *, repo: str, what: str) -> Json:
        answer: GraphQLAnswer = self._once(lambda: self.transport.post_graphql(query, variables), repo=repo, what=what)
        result = answer.data.get(field)
        if isinstance(result, dict):
            return result
        if answer.errors:
            raise graphql_refusal(answer.errors, answer.headers, what=what, policy=self._policy)
        raise Ambiguous(f"GitHub's answer to {what} had no result; read back first")

    def _once(self, send: Callable[[], T], *, repo: str, what: str) -> T:
        logger = get_logger(repo=repo, step="write")
        try:
            result = send()
        except WIRE_ERRORS as error:
            refusal = self._refusal(error, what)
            logger.warning("github.write_failed", what=what, error=type(refusal).__name__, detail=str(refusal))
            raise refusal from error
        logger.debug("github.write", what=what)
        return result

    def _refusal(self, error: BaseException, what: str) -> WriteError | AuthError:
        return http_refusal(error, what=what, policy=self._policy, credential_source=self.transport.credential_source)


def _sha_of(data: Any, what: str) -> str:
    sha = data.get("sha") if isinstance(data, dict) else None
    if not isinstance(sha, str):
        raise Ambiguous(f"GitHub's answer to {what} had no sha; read back first")
    return sha


def _split(repo: str) -> tuple[str, str]:
    owner, _, name = repo.partition("/")
    return owner, name


def _oid(blob: Any) -> str | None:
    oid = blob.get("oid") if isinstance(blob, dict) else None
    return oid if isinstance(oid, str) else None


def _mode(raw: Any) -> str | None:
    """GraphQL gives a tree entry's mode as an integer (0o100644 as 33188); git writes it in octal."""
    if isinstance(raw, int):
        return f"{raw:o}"
    return str(raw) if isinstance(raw, str) else None


def _next_link(headers: Mapping[str, Any]) -> str | None:
    for link in parse_header_links(str(headers.get("link") or "")):
        if link.get("rel") == "next" and link.get("url"):
            return str(link["url"])
    return None


def _commit_info(node: Any) -> CommitInfo | None:
    if not isinstance(node, dict) or not isinstance(node.get("oid"), str):
        return None
    parents = ((node.get("parents") or {}).get("nodes")) or ()
    tree = node.get("tree")
    return CommitInfo(
        oid=node["oid"],
        parents=tuple(str(p["oid"]) for p in parents if isinstance(p, dict)),
        message=str(node.get("message") or ""),
        tree=str(tree.get("oid") or "") if isinstance(tree, dict) else "",
    )


def _same_repo(pull: Any, repo: str) -> bool:
    """A PR from a fork can have a head branch of the same name; it is not ours."""
    if not isinstance(pull, dict):
        return False
    head = pull.get("headRepository")
    return not isinstance(head, dict) or str(head.get("nameWithOwner", "")).lower() == repo.lower()


def _pull_info(node: Json) -> PullInfo:
    merge = node.get("mergeCommit")
    return PullInfo(
        number=int(node["number"]),
        url=str(node["url"]),
        state=str(node["state"]).lower(),
        head_ref=str(node["headRefName"]),
        head_oid=str(node["headRefOid"]),
        base_ref=str(node["baseRefName"]),
        body=str(node.get("body") or ""),
        merge_commit_oid=merge.get("oid") if isinstance(merge, dict) else None,
        labels=tuple(str(n["name"]) for n in _nodes(node.get("labels")) if isinstance(n.get("name"), str)),
        reviewers=_requested(node, "User", "login"),
        team_reviewers=_requested(node, "Team", "slug"),
        mergeable=node.get("mergeable") if isinstance(node.get("mergeable"), str) else None,
    )


def _nodes(connection: Any) -> list[Json]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _requested(node: Json, kind: str, key: str) -> tuple[str, ...]:
    found = []
    for request in _nodes(node.get("reviewRequests")):
        reviewer = request.get("requestedReviewer")
        if isinstance(reviewer, dict) and reviewer.get("__typename") == kind and isinstance(reviewer.get(key), str):
            found.append(reviewer[key])
    return tuple(found)


def _rest_pull(data: Any) -> PullInfo:
    state = "merged" if data.get("merged") else str(data["state"])
    return PullInfo(
        number=int(data["number"]),
        url=str(data["html_url"]),
        state=state,
        head_ref=str(data["head"]["ref"]),
        head_oid=str(data["head"]["sha"]),
        base_ref=str(data["base"]["ref"]),
        body=str(data.get("body") or ""),
        merge_commit_oid=data.get("merge_commit_sha") if data.get("merged") else None,
    )
