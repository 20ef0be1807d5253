"""What `merge` does with one pull request, from what GitHub says of it: pure, so a dry run decides exactly as
the real run does.

The repository's own rules decide: required checks green and required approvals given (with a merge queue, the
queue runs the checks, so a PR whose only gap is pending checks is enqueued). Protection is never bypassed:
`admin=True` merges a blocked PR only where GitHub says this token may merge as an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from migrator.github.merging import METHOD_ORDER, CheckResult, MergeFacts


class Action(StrEnum):
    MERGE = "merge"
    AUTO = "auto-merge"  # enablePullRequestAutoMerge: GitHub merges once the requirements are met
    ENQUEUE = "enqueue"  # the base branch's merge queue
    NONE = "none"  # nothing to write: `status` and `reason` say why


class Status(StrEnum):
    MERGED = "merged"
    ALREADY_MERGED = "already-merged"
    AUTO_MERGE = "auto-merge"  # enabled (now or before): GitHub merges it when ready
    QUEUED = "queued"  # in the merge queue
    DRY_RUN = "dry-run"
    BLOCKED = "blocked"  # a requirement is unmet: failing checks, reviews, conflicts, draft, method
    PENDING = "pending"  # checks still running, or GitHub still computing mergeability
    CLOSED = "closed"  # closed by a person: never reopened here
    GONE = "gone"
    FAILED = "failed"
    THROTTLED = "throttled"


OK_STATUSES = frozenset({Status.MERGED, Status.ALREADY_MERGED, Status.AUTO_MERGE, Status.QUEUED, Status.DRY_RUN})


@dataclass(frozen=True)
class Decision:
    action: Action
    status: Status  # what it ends as when nothing is written (or the write's outcome)
    reason: str
    method: str | None = None
    admin: bool = False  # merged past unmet requirements, as an admin, because --admin said so


@dataclass(frozen=True, kw_only=True)
class MergeOptions:
    method: str | None = None  # squash | merge | rebase; None: the first the repository allows
    auto: bool = False
    admin: bool = False


def decide(facts: MergeFacts, options: MergeOptions) -> Decision:
    if facts.state == "merged":
        return Decision(Action.NONE, Status.ALREADY_MERGED, "already merged")
    if facts.state == "closed":
        return Decision(Action.NONE, Status.CLOSED, "closed by a person; not reopened")
    if facts.state != "open":
        return Decision(Action.NONE, Status.GONE, "GitHub does not show this pull request to this token any more")
    if facts.in_queue:
        return Decision(Action.NONE, Status.QUEUED, "already in the merge queue")
    if facts.auto_merge and (options.auto or not _gaps(facts)):
        return Decision(Action.NONE, Status.AUTO_MERGE, f"auto-merge ({facts.auto_merge}) is already enabled")
    method = _method(facts, options)
    if isinstance(method, Decision):
        return method
    if facts.draft:
        return Decision(Action.NONE, Status.BLOCKED, "a draft; mark it ready for review first")
    if facts.mergeable == "CONFLICTING" or facts.merge_state == "DIRTY":
        return Decision(Action.NONE, Status.BLOCKED, f"conflicts with {facts.base_ref}; run apply to refresh")
    if facts.mergeable not in ("MERGEABLE", None):
        return Decision(Action.NONE, Status.PENDING, "GitHub is still computing mergeability; run merge again")
    gaps = _gaps(facts)
    if not gaps:
        if facts.queue:
            return Decision(Action.ENQUEUE, Status.QUEUED, f"enqueue ({facts.base_ref} merges through a merge queue)")
        return Decision(Action.MERGE, Status.MERGED, f"merge ({method})", method)
    blocking = [gap for gap in gaps if not gap.waits]
    reason = "; ".join(gap.text for gap in gaps)
    if options.admin and facts.viewer_admin:
        return Decision(Action.MERGE, Status.MERGED, f"merge ({method}) as an admin, past: {reason}", method, True)
    if facts.queue and all(gap.kind == "checks" for gap in gaps) and not blocking:
        return Decision(Action.ENQUEUE, Status.QUEUED, f"enqueue; the queue waits for {reason}")
    if options.auto and not blocking:
        if not facts.auto_merge_allowed:
            return Decision(Action.NONE, Status.PENDING, f"{reason}; auto-merge is not allowed in this repository")
        return Decision(
            Action.AUTO, Status.AUTO_MERGE, f"enable auto-merge ({method}); GitHub waits for {reason}", method
        )
    return Decision(Action.NONE, Status.BLOCKED if blocking else Status.PENDING, reason)


@dataclass(frozen=True)
class Gap:
    kind: str  # checks | reviews | rules
    text: str
    waits: bool  # time (or a reviewer) may close it with nothing changed on the branch


def _gaps(facts: MergeFacts) -> list[Gap]:
    """Every requirement of the base branch the pull request does not meet yet, worst first."""
    gaps: list[Gap] = []
    required = _required(facts)
    failing = [c for c in required if c.state == "failure"]
    pending = [c for c in required if c.state == "pending"]
    seen = {c.name for c in facts.checks}
    missing = [name for name in facts.required_checks if name not in seen]
    if failing:
        gaps.append(Gap("checks", "checks failing: " + ", ".join(_named(c) for c in failing), False))
    if pending or missing:
        names = [_named(c) for c in pending] + [f"{name} (not started)" for name in missing]
        gaps.append(Gap("checks", "checks pending: " + ", ".join(names), True))
    if facts.review_decision == "CHANGES_REQUESTED":
        gaps.append(Gap("reviews", "changes requested by a reviewer", False))
    elif facts.review_decision == "REVIEW_REQUIRED":
        needed = max(facts.required_reviews - facts.approvals, 1)
        gaps.append(Gap("reviews", f"needs {needed} approving review{'s' if needed > 1 else ''}", True))
    if not gaps and facts.merge_state == "BEHIND":
        gaps.append(
            Gap(
                "rules",
                f"behind {facts.base_ref}, which requires branches to be up to date; run apply to refresh",
                False,
            )
        )
    if not gaps and facts.merge_state == "BLOCKED":
        gaps.append(
            Gap("rules", f"blocked by the rules of {facts.base_ref} (GitHub's mergeStateStatus BLOCKED)", False)
        )
    return gaps


def _required(facts: MergeFacts) -> list[CheckResult]:
    """The checks that must pass. Where the base branch requires none, every check on the head: nothing forbids
    merging a red PR there, but a campaign merging one would ship a change its own CI rejected."""
    required = [c for c in facts.checks if c.required or c.name in facts.required_checks]
    return required if required or facts.required_checks else list(facts.checks)


def _named(check: CheckResult) -> str:
    return f"{check.name} ({check.url})" if check.url else check.name


def _method(facts: MergeFacts, options: MergeOptions) -> str | Decision:
    allowed = facts.methods or METHOD_ORDER
    if options.method is None:
        return allowed[0]
    if options.method not in allowed:
        return Decision(
            Action.NONE,
            Status.BLOCKED,
            f"the repository does not allow {options.method} merges (it allows {', '.join(allowed)})",
        )
    return options.method
