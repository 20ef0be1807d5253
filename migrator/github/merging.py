"""What `migrator merge` asks of GitHub: where many pull requests stand for merging (one GraphQL query per 20),
and the three writes (one request each, never repeated here; the merge executor reads back first):

- merge: REST `PUT /repos/{o}/{r}/pulls/{n}/merge` with `merge_method` and `sha`, so a head that moved since the
  read is refused (409) rather than merged blindly; GitHub's 405 says which requirement is unmet;
- auto-merge: GraphQL `enablePullRequestAutoMerge` (with `expectedHeadOid`);
- a merge queue: GraphQL `enqueuePullRequest` (with `expectedHeadOid`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from migrator.apply.ports import Ambiguous, WriteError
from migrator.github.refusals import WIRE_ERRORS, graphql_refusal, http_refusal
from migrator.github.retry import RetryPolicy, classify
from migrator.github.transport import GraphQLAnswer, Transport
from migrator.log import get_logger

Json = dict[str, Any]
BATCH = 20  # pull requests per query: each has a connection of 50 check contexts and one of 20 reviews
METHOD_ORDER = ("squash", "merge", "rebase")  # the default method: the first of these the repository allows


class NotMergeable(WriteError):
    """405: GitHub refused the merge (a requirement is unmet, the method is not allowed, a merge queue is
    required). Its message is GitHub's."""


class HeadMoved(WriteError):
    """409: the pull request's head is no longer the commit that was read."""


class AutoMergeRefused(WriteError):
    """GitHub refused auto-merge or the merge queue (UNPROCESSABLE): e.g. "Pull request is in clean status"."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    state: str  # success | failure | pending
    url: str | None
    required: bool


@dataclass(frozen=True)
class MergeFacts:
    """One pull request, as `merge` decides about it."""

    repo: str
    number: int
    state: str  # open | closed | merged | unknown
    url: str = ""
    node_id: str = ""
    draft: bool = False
    head_oid: str = ""
    base_ref: str = ""
    mergeable: str | None = None  # MERGEABLE | CONFLICTING | UNKNOWN
    merge_state: str | None = None  # mergeStateStatus: CLEAN, BLOCKED, BEHIND, DIRTY, UNSTABLE, ...
    review_decision: str | None = None
    approvals: int = 0
    required_reviews: int = 0
    required_checks: tuple[str, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    auto_merge: str | None = None  # the method of an enabled auto-merge request
    in_queue: bool = False
    queue: bool = False  # the base branch merges through a merge queue
    methods: tuple[str, ...] = ()  # allowed, in METHOD_ORDER
    auto_merge_allowed: bool = False
    viewer_admin: bool = False  # viewerCanMergeAsAdmin


CONTEXTS = """contexts(first: 50) { nodes { __typename
        ... on CheckRun { name status conclusion detailsUrl isRequired(pullRequestNumber: $k{i}) }
        ... on StatusContext { context state targetUrl isRequired(pullRequestNumber: $k{i}) } } }"""
PULL_FIELDS = f"""id number url state isDraft mergeable mergeStateStatus reviewDecision headRefOid baseRefName
      viewerCanMergeAsAdmin isInMergeQueue autoMergeRequest {{ mergeMethod }}
      latestOpinionatedReviews(first: 20) {{ nodes {{ state }} }}
      baseRef {{ branchProtectionRule {{ requiredStatusCheckContexts requiredApprovingReviewCount }} }}
      commits(last: 1) {{ nodes {{ commit {{ oid statusCheckRollup {{ state {CONTEXTS} }} }} }} }}"""


def merge_facts_query(count: int) -> str:
    """`count` pull requests: `r0`, `r1`, ... from `$o0`, `$n0`, `$k0` (the number) and `$b0` (the base branch)."""
    declared = ", ".join(f"$o{i}: String!, $n{i}: String!, $k{i}: Int!, $b{i}: String!" for i in range(count))
    blocks = "".join(
        f"""
  r{i}: repository(owner: $o{i}, name: $n{i}) {{
    mergeCommitAllowed squashMergeAllowed rebaseMergeAllowed autoMergeAllowed
    mergeQueue(branch: $b{i}) {{ id }}
    pull: pullRequest(number: $k{i}) {{ {PULL_FIELDS.replace("{i}", str(i))} }}
  }}"""
        for i in range(count)
    )
    return f"\nquery MigratorMergeFacts({declared}) {{{blocks}\n  rateLimit {{ cost remaining resetAt }}\n}}\n"


ENABLE_AUTO_MERGE = """
mutation MigratorEnableAutoMerge($input: EnablePullRequestAutoMergeInput!) {
  enablePullRequestAutoMerge(input: $input) { pullRequest { number autoMergeRequest { mergeMethod } } }
}
"""
ENQUEUE = """
mutation MigratorEnqueue($input: EnqueuePullRequestInput!) {
  enqueuePullRequest(input: $input) { mergeQueueEntry { id position } }
}
"""


class MergeClient:
    """The merge reads and writes over one `Transport` (the connected client's)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._writes = _Writes(transport)

    def merge_facts(
        self,
        pulls: Sequence[tuple[str, int, str]],
        *,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[MergeFacts]:
        """(repository, PR number, base branch) in, facts out in the same order; a PR GitHub does not show
        comes back with state "unknown"."""
        found: list[MergeFacts] = []
        for start in range(0, len(pulls), BATCH):
            batch = pulls[start : start + BATCH]
            if progress:
                progress(start, len(pulls), batch[0][0])
            variables: Json = {}
            for i, (repo, number, base) in enumerate(batch):
                owner, _, name = repo.partition("/")
                variables.update({f"o{i}": owner, f"n{i}": name, f"k{i}": int(number), f"b{i}": base})
            answer = self.transport.graphql(
                merge_facts_query(len(batch)), variables, step="merge", what=f"reading {len(batch)} pull requests"
            )
            found.extend(
                parse_merge_facts(repo, number, answer.data.get(f"r{i}")) for i, (repo, number, _) in enumerate(batch)
            )
        return found

    def merge(self, repo: str, number: int, *, method: str, sha: str) -> None:
        what = f"merging #{number} of {repo}"
        url = f"/repos/{quote(repo, safe='/')}/pulls/{number}/merge"
        try:
            _, data = self.transport.send("PUT", url, {"merge_method": method, "sha": sha})
        except WIRE_ERRORS as error:
            raise self._writes.refusal(error, what) from error
        if not isinstance(data, dict) or not data.get("merged"):
            raise Ambiguous(f"GitHub's answer to {what} did not say it merged; read back first")
        get_logger(repo=repo, step="merge").debug("github.write", what=what)

    def enable_auto_merge(self, facts: MergeFacts, *, method: str) -> None:
        payload = {
            "input": {"pullRequestId": facts.node_id, "mergeMethod": method.upper(), "expectedHeadOid": facts.head_oid}
        }
        what = f"enabling auto-merge on #{facts.number} of {facts.repo}"
        self._writes.mutate(ENABLE_AUTO_MERGE, payload, "enablePullRequestAutoMerge", repo=facts.repo, what=what)

    def enqueue(self, facts: MergeFacts) -> None:
        payload = {"input": {"pullRequestId": facts.node_id, "expectedHeadOid": facts.head_oid}}
        what = f"adding #{facts.number} of {facts.repo} to the merge queue"
        self._writes.mutate(ENQUEUE, payload, "enqueuePullRequest", repo=facts.repo, what=what)


class _Writes:
    """One request each, and GitHub's refusals as the writer words them, with merge's own: 405, 409,
    UNPROCESSABLE."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def _policy(self) -> RetryPolicy:
        return self.transport.policy

    def refusal(self, error: BaseException, what: str) -> BaseException:
        failure = classify(error, now=self._policy.clock())
        if failure.status == 405:
            return NotMergeable(failure.message or "Pull Request is not mergeable")
        if failure.status == 409:
            return HeadMoved(f"{what}: {failure.message or 'the head branch was modified'}")
        return http_refusal(error, what=what, policy=self._policy, credential_source=self.transport.credential_source)

    def mutate(self, query: str, variables: Json, field: str, *, repo: str, what: str) -> None:
        try:
            answer: GraphQLAnswer = self.transport.post_graphql(query, variables)
        except WIRE_ERRORS as error:
            raise self.refusal(error, what) from error
        if isinstance(answer.data.get(field), dict):
            get_logger(repo=repo, step="merge").debug("github.write", what=what)
            return
        unprocessable = next((e for e in answer.errors if e.type == "UNPROCESSABLE"), None)
        if unprocessable is not None:
            raise AutoMergeRefused(unprocessable.message)
        if answer.errors:
            raise graphql_refusal(answer.errors, answer.headers, what=what, policy=self._policy)
        raise Ambiguous(f"GitHub's answer to {what} had no result; read back first")


def parse_merge_facts(repo: str, number: int, node: Any) -> MergeFacts:
    pull = node.get("pull") if isinstance(node, dict) else None
    if not isinstance(pull, dict):
        return MergeFacts(repo, number, "unknown")
    rule = ((pull.get("baseRef") or {}).get("branchProtectionRule")) or {}
    reviews = _nodes(pull.get("latestOpinionatedReviews"))
    allowed = {
        "merge": node.get("mergeCommitAllowed"),
        "squash": node.get("squashMergeAllowed"),
        "rebase": node.get("rebaseMergeAllowed"),
    }
    commit = next(iter(c.get("commit") for c in _nodes(pull.get("commits"))[-1:]), None) or {}
    rollup = commit.get("statusCheckRollup") or {}
    auto = pull.get("autoMergeRequest")
    return MergeFacts(
        repo=repo,
        number=number,
        state=str(pull.get("state") or "unknown").lower(),
        url=str(pull.get("url") or ""),
        node_id=str(pull.get("id") or ""),
        draft=bool(pull.get("isDraft")),
        head_oid=str(pull.get("headRefOid") or ""),
        base_ref=str(pull.get("baseRefName") or ""),
        mergeable=_text(pull.get("mergeable")),
        merge_state=_text(pull.get("mergeStateStatus")),
        review_decision=_text(pull.get("reviewDecision")),
        approvals=sum(1 for r in reviews if r.get("state") == "APPROVED"),
        required_reviews=int(rule.get("requiredApprovingReviewCount") or 0),
        required_checks=tuple(str(c) for c in rule.get("requiredStatusCheckContexts") or ()),
        checks=tuple(c for c in (_check(n) for n in _nodes(rollup.get("contexts"))) if c),
        auto_merge=str(auto["mergeMethod"]).lower() if isinstance(auto, dict) and auto.get("mergeMethod") else None,
        in_queue=bool(pull.get("isInMergeQueue")),
        queue=isinstance(node.get("mergeQueue"), dict),
        methods=tuple(m for m in METHOD_ORDER if allowed.get(m)),
        auto_merge_allowed=bool(node.get("autoMergeAllowed")),
        viewer_admin=bool(pull.get("viewerCanMergeAsAdmin")),
    )


def _check(node: Json) -> CheckResult | None:
    if node.get("__typename") == "CheckRun":
        done = str(node.get("status") or "").upper() == "COMPLETED"
        conclusion = str(node.get("conclusion") or "").upper()
        state = "pending" if not done else "success" if conclusion in ("SUCCESS", "NEUTRAL", "SKIPPED") else "failure"
        return CheckResult(
            str(node.get("name") or ""), state, _text(node.get("detailsUrl")), bool(node.get("isRequired"))
        )
    if node.get("__typename") == "StatusContext":
        raw = str(node.get("state") or "").upper()
        state = {"SUCCESS": "success", "PENDING": "pending", "EXPECTED": "pending"}.get(raw, "failure")
        return CheckResult(
            str(node.get("context") or ""), state, _text(node.get("targetUrl")), bool(node.get("isRequired"))
        )
    return None


def _nodes(connection: Any) -> list[Json]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
