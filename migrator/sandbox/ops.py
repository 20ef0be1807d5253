"""Writes shared by REST and GraphQL: the rules GitHub enforces and the merges it performs."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from migrator.model import WORKFLOWS_DIR
from migrator.sandbox import rulesets
from migrator.sandbox.git import Commit, FileEntry, three_way_merge
from migrator.sandbox.store import HEADS, MERGING, Power, PullRequest, Repo, Store, note_pull

WORKFLOW_REFUSAL = (
    "refusing to allow a Personal Access Token to create or update workflow `{path}` without `workflow` scope"
)
APP_WORKFLOW_REFUSAL = (
    "refusing to allow a GitHub App to create or update workflow `{path}` without `workflows` permission"
)
# Who is asking, for GitHub's wording of a refusal: a token, or a GitHub App's installation token. The
# server sets it for each request (a context variable: every request thread has its own).
ACTOR_IS_APP: ContextVar[bool] = ContextVar("actor_is_app", default=False)


def not_accessible() -> str:
    return f"Resource not accessible by {'integration' if ACTOR_IS_APP.get() else 'personal access token'}"


class OpError(Exception):
    """A refused write. REST answers `status`; GraphQL answers an error of `gql_type`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        gql_type: str = "UNPROCESSABLE",
        rest_errors: list[dict[str, Any]] | None = None,
        rest_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.gql_type = gql_type
        self.rest_errors = rest_errors
        self.rest_message = rest_message


def _diff(before: dict[str, FileEntry], after: dict[str, FileEntry]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def require_write(repo: Repo, power: Power) -> None:
    if not power.can_write:
        raise OpError(403, not_accessible(), gql_type="FORBIDDEN")
    if repo.meta.archived:
        raise OpError(403, "Repository was archived so is read-only.", gql_type="UNPROCESSABLE")


def require_workflow_power(power: Power, paths: list[str]) -> None:
    if power.can_touch_workflows:
        return
    touched = [p for p in paths if p.startswith(WORKFLOWS_DIR)]
    if touched:
        refusal = APP_WORKFLOW_REFUSAL if ACTOR_IS_APP.get() else WORKFLOW_REFUSAL
        raise OpError(403, refusal.format(path=touched[0]), gql_type="FORBIDDEN")


def new_changes(repo: Repo, new_sha: str) -> list[str]:
    """Paths changed by commits that no ref reaches yet: what a push would upload."""
    known: set[str] = set()
    for sha in repo.refs.values():
        known.update(repo.git.ancestors(sha))
    changed: set[str] = set()
    for sha in repo.git.ancestors(new_sha):
        if sha in known:
            continue
        commit = repo.commit(sha)
        before = repo.files_at(commit.parents[0]) if commit.parents else {}
        changed.update(_diff(before, repo.files_at(sha)))
    return sorted(changed)


def bypasses_protection(repo: Repo, branch: str, power: Power) -> bool:
    rule = repo.protection_for(branch)
    return rule is None or (power.is_admin and not rule.enforce_admins)


def require_direct_push(
    repo: Repo, branch: str, power: Power, *, status: int, message: str, store: Store | None = None
) -> None:
    """Refuse a ref update that is no pull request merge when classic protection refuses the requester (the
    request's actor: its bypass allowances and push restrictions count; `store` resolves team slugs)."""
    from migrator.sandbox import merging

    rule = repo.protection_for(branch)
    if rule is None or not rule.blocks_direct_push:
        return
    requester = merging.REQUESTER.get()
    team_id = store.team_id_in(repo.org) if store is not None else None
    if rule.direct_push_refusal(requester[1] if requester else None, admin=power.is_admin, team_id=team_id):
        raise OpError(status, message)


def ruleset_guard(store: Store, actor: rulesets.Actor) -> Callable[[Repo, str, str | None, str | None], None]:
    """What every ref change of a request by `actor` passes: the active rulesets on that ref (GH013)."""

    def guard(repo: Repo, ref: str, before: str | None, after: str | None) -> None:
        found = push_violations(store, repo, ref, before, after, actor=actor)
        if found:
            raise OpError(422, rulesets.refusal_text(ref, found))

    return guard


def push_violations(
    store: Store, repo: Repo, ref: str, before: str | None, after: str | None, *, actor: rulesets.Actor
) -> list[tuple[rulesets.Ruleset, str]]:
    applicable = store.rules_for(repo, ref)
    if not applicable:
        return []
    merging = MERGING.get()
    push = rulesets.Push(
        ref,
        before,
        after,
        fast_forward=before is None or after is None or repo.git.is_ancestor(before, after),
        via_pull=merging is not None,
        checked_sha=merging,
    )
    return rulesets.violations(applicable, push, actor, lambda sha: successful_contexts(repo, sha))


def merged_files(repo: Repo, base_sha: str, head_sha: str) -> dict[str, FileEntry] | None:
    merge_base = repo.git.merge_base(base_sha, head_sha)
    ancestor = repo.files_at(merge_base) if merge_base else {}
    return three_way_merge(ancestor, repo.files_at(base_sha), repo.files_at(head_sha))


def successful_contexts(repo: Repo, sha: str) -> set[str]:
    latest: dict[str, str] = {}
    for status in repo.statuses:
        if status.sha == sha:
            latest[status.context] = status.state
    done = {c for c, state in latest.items() if state == "success"}
    done.update(
        run.name
        for run in repo.check_runs.values()
        if run.head_sha == sha and run.conclusion in ("success", "neutral", "skipped")
    )
    return done


def create_pull(
    store: Store, repo: Repo, *, head: str, base: str, title: str, body: str | None, draft: bool
) -> PullRequest:
    head_branch = head.split(":", 1)[1] if ":" in head else head
    if not title:
        raise OpError(
            422,
            "Title can't be blank",
            rest_errors=[{"resource": "PullRequest", "code": "missing_field", "field": "title"}],
        )
    if repo.branch_sha(base) is None:
        raise OpError(
            422,
            f"Base ref {base} not found",
            gql_type="NOT_FOUND",
            rest_errors=[{"resource": "PullRequest", "code": "invalid", "field": "base"}],
        )
    head_sha = repo.branch_sha(head_branch)
    if head_sha is None:
        raise OpError(
            422,
            f"Head sha can't be blank, Base sha can't be blank, Head ref {head_branch} not found",
            gql_type="NOT_FOUND",
            rest_errors=[{"resource": "PullRequest", "code": "invalid", "field": "head"}],
        )
    for pull in repo.pulls.values():
        if pull.state == "open" and pull.head_ref == head_branch and pull.base_ref == base:
            message = f"A pull request already exists for {repo.org}:{head_branch}."
            raise OpError(422, message, rest_errors=[{"resource": "PullRequest", "code": "custom", "message": message}])
    base_sha = repo.branch_sha(base) or ""
    if repo.git.is_ancestor(head_sha, base_sha):
        message = f"No commits between {base} and {head_branch}"
        raise OpError(422, message, rest_errors=[{"resource": "PullRequest", "code": "custom", "message": message}])
    return store.add_pull(repo, title=title, body=body, head=head_branch, base=base, draft=draft)


def merge_pull(
    store: Store,
    repo: Repo,
    pull: PullRequest,
    *,
    power: Power,
    method: str = "merge",
    expected_sha: str | None = None,
    title: str | None = None,
    message: str | None = None,
    via_queue: bool = False,
) -> Commit:
    from migrator.sandbox import merging

    head_sha = store.head_sha(repo, pull)
    base_sha = repo.branch_sha(pull.base_ref)
    if pull.state != "open" or base_sha is None:
        raise OpError(405, "Pull Request is not mergeable")
    if expected_sha and expected_sha != head_sha:
        raise OpError(409, "Head branch was modified. Review and try the merge again.", gql_type="STALE_DATA")
    refused = merging.require_method(repo, method)
    if refused:
        raise OpError(405, refused)
    if merging.in_merge_queue(repo, pull) and not via_queue:
        raise OpError(405, merging.MERGE_QUEUE_REFUSAL)
    if pull.draft:
        raise OpError(405, "Pull Request is still a draft")
    _require_merge_protection(store, repo, pull, power, head_sha)
    files = merged_files(repo, base_sha, head_sha)
    if files is None:
        raise OpError(405, "Pull Request is not mergeable")
    require_workflow_power(power, _diff(repo.files_at(base_sha), files))
    if method == "merge":
        parents: tuple[str, ...] = (base_sha, head_sha)
        default_title = f"Merge pull request #{pull.number} from {repo.org}/{pull.head_ref}"
        default_body = pull.title
    else:
        parents = (base_sha,)
        default_title = f"{pull.title} (#{pull.number})"
        default_body = ""
    text = title or default_title
    body = message if message is not None else default_body
    signature = store.signature()
    commit = repo.git.put_commit(
        tree=repo.git.build_tree(files),
        parents=parents,
        author=signature,
        committer=signature,
        message=f"{text}\n\n{body}" if body else text,
    )
    merging_head = MERGING.set(head_sha)
    try:
        repo.refs[HEADS + pull.base_ref] = commit.sha
    finally:
        MERGING.reset(merging_head)
    now = store.clock()
    pull.state, pull.merged, pull.merged_at, pull.closed_at = "closed", True, now, now
    pull.merge_commit_sha, pull.updated_at = commit.sha, now
    repo.pushed_at = now
    merging.cancel_auto_merge(store, repo, pull)
    return commit


def _require_merge_protection(store: Store, repo: Repo, pull: PullRequest, power: Power, head_sha: str) -> None:
    """Protection (which an admin bypasses unless it is enforced for admins) and the rulesets' required approvals
    (which only their bypass list bypasses)."""
    from migrator.sandbox import merging

    requester = merging.REQUESTER.get()
    protected = not bypasses_protection(repo, pull.base_ref, power)
    unmet = merging.unmet(store, repo, pull, head_sha, requester[1] if requester else None, protection=protected)
    if unmet is not None:
        raise OpError(405, unmet.message)


def close_pull(store: Store, pull: PullRequest) -> None:
    if pull.state == "open":
        now = store.clock()
        pull.state, pull.closed_at, pull.updated_at = "closed", now, now
        pull.auto_merge = None  # GitHub disables auto-merge when a pull request is closed


def reopen_pull(store: Store, repo: Repo, pull: PullRequest) -> None:
    if pull.merged:
        raise OpError(
            422,
            "Cannot reopen a merged pull request",
            rest_errors=[
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "state cannot be changed. The pull request cannot be reopened.",
                }
            ],
        )
    if repo.branch_sha(pull.head_ref) is None:
        raise OpError(
            422,
            "Head ref was deleted",
            rest_errors=[
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "state cannot be changed. The head branch was deleted.",
                }
            ],
        )
    pull.state, pull.closed_at, pull.updated_at = "open", None, store.clock()
    note_pull(repo, pull.number, "reopened")


def revert_pull(
    store: Store, repo: Repo, pull: PullRequest, *, title: str | None, body: str | None, draft: bool, power: Power
) -> PullRequest:
    """What GitHub's Revert button does: a branch undoing the merge, and a PR for it."""
    if not pull.merged or not pull.merge_commit_sha:
        raise OpError(422, "Pull request must be merged before it can be reverted.")
    merge_commit = repo.commit(pull.merge_commit_sha)
    base_sha = repo.branch_sha(pull.base_ref)
    if base_sha is None or not merge_commit.parents:
        raise OpError(422, "The base branch no longer exists.")
    files = three_way_merge(
        repo.files_at(merge_commit.sha), repo.files_at(base_sha), repo.files_at(merge_commit.parents[0])
    )
    if files is None:
        raise OpError(
            422,
            "Sorry, this pull request couldn’t be reverted automatically. It may have already "
            "been reverted, or the content may have changed since it was merged.",
        )
    require_workflow_power(power, _diff(repo.files_at(base_sha), files))
    branch = f"revert-{pull.number}-{pull.head_ref}"
    suffix = 1
    while repo.branch_sha(branch) is not None:
        suffix += 1
        branch = f"revert-{pull.number}-{pull.head_ref}-{suffix}"
    signature = store.signature()
    commit = repo.git.put_commit(
        tree=repo.git.build_tree(files),
        parents=(base_sha,),
        author=signature,
        committer=signature,
        message=f'Revert "{pull.title}"\n\nThis reverts commit {merge_commit.sha}.',
    )
    repo.refs[HEADS + branch] = commit.sha
    return store.add_pull(
        repo,
        title=title or f'Revert "{pull.title}"',
        body=body if body is not None else f"Reverts {repo.full_name}#{pull.number}",
        head=branch,
        base=pull.base_ref,
        draft=draft,
    )
