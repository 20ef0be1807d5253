"""What GitHub decides about merging a pull request: reviews and the review decision, the base branch's
requirements (required checks, required approvals), the merge state, and auto-merge and the merge queue.

Auto-merge (and the sandbox's merge queue, which merges an entry as soon as it could be merged) is settled at
the end of every request that wrote something: each pull request with a request whose requirements are now met
is merged, as the identity that asked for it, and its pushes start workflows as any merge does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from migrator.sandbox.rulesets import Actor, bypass_mode
from migrator.sandbox.store import (
    HEADS,
    PUSH_GUARD,
    REF_LOG,
    AutoMerge,
    Power,
    PullRequest,
    RefChange,
    Repo,
    Store,
)

METHOD_REFUSALS = {
    "merge": "Merge commits are not allowed on this repository.",
    "squash": "Squash merges are not allowed on this repository.",
    "rebase": "Rebase merges are not allowed on this repository.",
}
MERGE_QUEUE_REFUSAL = "Changes must be made through the merge queue"
COUNTED_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
# Who makes the request being served (login and ruleset actor): whom an auto-merge request is credited to.
REQUESTER: ContextVar[tuple[str, Actor] | None] = ContextVar("requester", default=None)


@dataclass(frozen=True)
class Unmet:
    """The first requirement of the base branch a pull request does not meet, in GitHub's words (a 405)."""

    message: str
    kind: str  # checks | reviews


def latest_reviews(pull: PullRequest) -> dict[str, str]:
    """Each reviewer's latest deciding review (comments do not change a decision)."""
    latest: dict[str, str] = {}
    for review in pull.reviews:
        if review.state in COUNTED_STATES:
            latest[review.user.lower()] = review.state
    return latest


def approvals(pull: PullRequest) -> int:
    return sum(1 for state in latest_reviews(pull).values() if state == "APPROVED")


def required_approvals(
    store: Store, repo: Repo, pull: PullRequest, actor: Actor | None = None, *, protection: bool = True
) -> int:
    """Approvals the base branch asks for: its protection's (unless bypassed) and its active rulesets'
    `pull_request` rules' (unless `actor` is on their bypass list)."""
    rule = repo.protection_for(pull.base_ref) if protection else None
    count = rule.required_reviews if rule else 0
    for ruleset in store.rules_for(repo, HEADS + pull.base_ref):
        if ruleset.enforcement != "active":
            continue
        if actor is not None and bypass_mode(ruleset, actor) is not None:
            continue
        for item in ruleset.rules:
            if item.type == "pull_request":
                count = max(count, int(item.parameters.get("required_approving_review_count", 0) or 0))
    return count


def review_decision(store: Store, repo: Repo, pull: PullRequest) -> str | None:
    """GitHub's `reviewDecision`: CHANGES_REQUESTED, APPROVED or REVIEW_REQUIRED, and null when the base branch
    asks for no review and nobody reviewed."""
    states = set(latest_reviews(pull).values())
    required = required_approvals(store, repo, pull)
    if "CHANGES_REQUESTED" in states:
        return "CHANGES_REQUESTED"
    if required and approvals(pull) < required:
        return "REVIEW_REQUIRED"
    return "APPROVED" if required or "APPROVED" in states else None


def check_results(repo: Repo, sha: str) -> dict[str, str]:
    """Every check context on `sha` with its latest result: success, failure or pending."""
    results: dict[str, str] = {}
    for status in repo.statuses:
        if status.sha == sha:
            results[status.context] = {"success": "success", "pending": "pending"}.get(status.state, "failure")
    for run in sorted(repo.check_runs.values(), key=lambda r: r.id):
        if run.head_sha != sha:
            continue
        if run.status != "completed":
            results[run.name] = "pending"
        else:
            results[run.name] = "success" if run.conclusion in ("success", "neutral", "skipped") else "failure"
    return results


def unmet(
    store: Store, repo: Repo, pull: PullRequest, head_sha: str, actor: Actor | None = None, *, protection: bool = True
) -> Unmet | None:
    """What the base branch still asks of this pull request (its protection's required checks unless `protection`
    is bypassed, and the approvals of protection and rulesets); None when it may be merged. The rulesets' required
    checks are judged by the push itself (`ops.ruleset_guard`)."""
    rule = repo.protection_for(pull.base_ref) if protection else None
    results = check_results(repo, head_sha)
    for context in rule.contexts if rule else ():
        state = results.get(context)
        if state != "success":
            verb = "is failing" if state == "failure" else "is expected"
            return Unmet(f'Required status check "{context}" {verb}.', "checks")
    required = required_approvals(store, repo, pull, actor, protection=protection)
    if required and (approvals(pull) < required or "CHANGES_REQUESTED" in latest_reviews(pull).values()):
        noun = "review is" if required == 1 else "reviews are"
        return Unmet(f"At least {required} approving {noun} required by reviewers with write access.", "reviews")
    return None


def bypasses(repo: Repo, pull: PullRequest, power: Power) -> bool:
    rule = repo.protection_for(pull.base_ref)
    return rule is None or (power.is_admin and not rule.enforce_admins)


def merge_state_status(store: Store, repo: Repo, pull: PullRequest) -> str:
    """GitHub's `mergeStateStatus` for the viewer without admin power: DIRTY, BLOCKED, BEHIND, UNSTABLE, CLEAN."""
    from migrator.sandbox import ops

    head = store.head_sha(repo, pull)
    base = repo.branch_sha(pull.base_ref)
    if pull.state != "open" or base is None or head not in repo.git.commits:
        return "UNKNOWN"
    if ops.merged_files(repo, base, head) is None:
        return "DIRTY"
    if pull.draft or unmet(store, repo, pull, head) is not None:
        return "BLOCKED"
    rule = repo.protection_for(pull.base_ref)
    if rule is not None and rule.strict and not repo.git.is_ancestor(base, head):
        return "BEHIND"
    if "failure" in check_results(repo, head).values():
        return "UNSTABLE"
    return "CLEAN"


def in_merge_queue(repo: Repo, pull: PullRequest) -> bool:
    return repo.meta.merge_queue and pull.base_ref == repo.default_branch


def require_method(repo: Repo, method: str) -> str | None:
    """GitHub's refusal when the repository does not allow `method`; None when it does."""
    return None if method in repo.meta.merge_methods else METHOD_REFUSALS.get(method, "Invalid merge method.")


# ---------------------------------------------------------------- auto-merge and the merge queue


def request_auto_merge(store: Store, repo: Repo, pull: PullRequest, request: AutoMerge) -> None:
    pull.auto_merge = request
    store.auto_merging[(repo.full_name, pull.number)] = (repo, pull)


def cancel_auto_merge(store: Store, repo: Repo, pull: PullRequest) -> None:
    pull.auto_merge = None
    store.auto_merging.pop((repo.full_name, pull.number), None)


AfterWrites = Callable[[list[RefChange], str], None]


def settle(store: Store, after: AfterWrites) -> None:
    """Merge every pull request whose auto-merge request (or queue entry) can now be merged; their pushes go
    to `after` (the Actions model), credited to whoever asked. A merge's runs may let another one through."""
    from migrator.sandbox import ops

    for _round in range(5):
        merged_any = False
        for key, (repo, pull) in sorted(store.auto_merging.items()):
            request = pull.auto_merge
            if request is None or pull.state != "open":
                store.auto_merging.pop(key, None)
                continue
            head = store.head_sha(repo, pull)
            if unmet(store, repo, pull, head, request.actor) is not None:  # auto-merge waits, admin or not
                continue
            log, guard = REF_LOG.set([]), PUSH_GUARD.set(ops.ruleset_guard(store, request.actor))
            who = REQUESTER.set((request.enabled_by, request.actor))
            try:
                ops.merge_pull(store, repo, pull, power=request.power, method=request.method, via_queue=True)
            except ops.OpError:
                continue  # a conflict or a ruleset: it stays requested, as on GitHub
            finally:
                changes = REF_LOG.get() or []
                REQUESTER.reset(who)
                PUSH_GUARD.reset(guard)
                REF_LOG.reset(log)
            cancel_auto_merge(store, repo, pull)
            after(changes, request.enabled_by)
            merged_any = True
        if not merged_any:
            return
