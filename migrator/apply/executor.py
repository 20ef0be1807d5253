"""Apply a plan: per repository, a drift check, then ensure branch, ensure commit, ensure pull request.

Every step first reads what is there. A write happens only when the read shows
it is still needed, and after any ambiguous answer (5xx, timeout, lost response,
rate limit) the loop reads again before deciding. So re-running, or resuming
after a crash, never duplicates a branch, commit or pull request, and nothing
that someone else made is overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from migrator.apply.ensure import Ensurer, WouldWrite
from migrator.apply.journal import Journal
from migrator.apply.pacing import Pacer, WaitTooLong, resume_hint
from migrator.apply.ports import (
    Ambiguous,
    CommitInfo,
    Forbidden,
    Gone,
    PullInfo,
    PullRequestSpec,
    ReadFailed,
    Rejected,
    RepoState,
    StaleHead,
    Throttled,
    Vanished,
    Writer,
)
from migrator.log import get_logger
from migrator.plan.model import Change, Disposition, Plan, RepoPlan

TRAILER = "Migrator-Plan"


class Status(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already-applied"
    STALE = "stale"
    CONFLICT = "conflict"
    FAILED = "failed"
    THROTTLED = "throttled"  # GitHub asked for a wait over --max-wait: run again later to resume
    GONE = "gone"  # the repository was deleted (or hidden from this token) since the plan
    SKIPPED_BY_PERMISSION = "skipped-by-permission"
    SKIPPED = "skipped"  # nothing enabled for this repo: not a failure
    DRY_RUN = "dry-run"

    @property
    def ok(self) -> bool:
        return self in {Status.APPLIED, Status.ALREADY_APPLIED, Status.SKIPPED, Status.DRY_RUN}


@dataclass(frozen=True)
class Outcome:
    repo: str
    status: Status
    detail: str = ""
    pr_number: int | None = None
    pr_url: str | None = None
    writes: int = 0


@dataclass(frozen=True, kw_only=True)
class ApplyOptions:
    include_review: bool = False
    dry_run: bool = False
    draft: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()


class Conflict(Exception):
    pass


class Stale(Exception):
    pass


def selected_changes(repo: RepoPlan, *, include_review: bool) -> list[Change]:
    """What apply writes: enabled changes, review ones only when asked; blocked never."""
    return [
        c
        for c in repo.changes
        if c.disposition is not Disposition.BLOCKED
        and (c.enabled or (include_review and c.disposition is Disposition.REVIEW))
    ]


def content_after(change: Change, *, include_review: bool) -> str | None:
    if include_review and change.after_with_review is not None:
        return change.after_with_review
    return change.after


def commit_message(plan: Plan, repo: RepoPlan) -> tuple[str, str]:
    headline, _, rest = repo.commit_message.partition("\n")
    return headline, f"{rest.strip()}\n\n{TRAILER}: {plan.plan_id}".strip() + "\n"


def is_ours(commit: CommitInfo | None, plan: Plan, base_oid: str) -> bool:
    return commit is not None and commit.parents == (base_oid,) and f"{TRAILER}: {plan.plan_id}" in commit.message


def throttled_detail(error: Throttled) -> str:
    """A throttled repository's detail: what GitHub said and when to resume."""
    if isinstance(error, WaitTooLong):
        return str(error)
    return f"{error}; stopped here: {resume_hint(error.wait)}"


@dataclass
class RepoApply:
    plan: Plan
    repo: RepoPlan
    writer: Writer
    journal: Journal
    pacer: Pacer
    options: ApplyOptions

    def __post_init__(self) -> None:
        self.log = get_logger(repo=self.repo.name, step="apply")
        self._ensure = Ensurer(self.journal, self.pacer, "apply", self.repo.name, dry_run=self.options.dry_run)
        self._state: RepoState | None = None
        self.changes = selected_changes(self.repo, include_review=self.options.include_review)
        self.paths = [c.path for c in self.changes]

    def run(self) -> Outcome:
        if not self.repo.enabled or not self.changes:
            return self._finish(Status.SKIPPED, "nothing enabled for this repository")
        try:
            self.pacer.check_blocked()  # a long limit already refused: no request at all
            state = self._read()
            self._check_base(state)
            if self._pull_of(state) is None and not is_ours(state.branch_head, self.plan, self.repo.base_oid):
                self._check_drift(state)
            self._check_links(state)
            prior_writes = self._ensure.writes
            self._ensure_branch()
            self._ensure_commit()
            pull = self._ensure_pull()
            self._ensure_labels()
            self._ensure_reviewers()
        except WouldWrite as would:
            return self._finish(Status.DRY_RUN, self._would_do(would.step), record=False)
        except (Stale, Vanished) as stale:
            return self._finish(Status.STALE, f"{stale}; nothing was written: re-run `migrator plan`")
        except Gone as gone:
            return self._finish(Status.GONE, f"{gone}; nothing to do here")
        except Conflict as conflict:
            return self._finish(Status.CONFLICT, f"{conflict}; left untouched")
        except Forbidden as denied:
            return self._finish(Status.SKIPPED_BY_PERMISSION, str(denied))
        except Throttled as throttled:
            self.pacer.block(throttled.wait)
            return self._finish(Status.THROTTLED, throttled_detail(throttled))
        except ReadFailed as unread:
            return self._finish(Status.FAILED, str(unread))
        except Ambiguous as error:
            return self._finish(Status.FAILED, f"gave up: {error}; re-run `migrator apply` to resume")
        except Rejected as rejected:
            return self._finish(Status.FAILED, str(rejected))
        if self.options.dry_run:
            return self._finish(Status.DRY_RUN, "would write nothing: already applied", pull, record=False)
        status = Status.APPLIED if self._ensure.writes > prior_writes else Status.ALREADY_APPLIED
        return self._finish(status, "", pull)

    # --- steps ---------------------------------------------------------------------------------

    def _ensure_branch(self) -> None:
        def done() -> bool:
            head = self._read().branch_head
            if head is None:
                return False
            if not self.journal.repo(self.repo.name).branch_ours:  # only our journal proves a branch is ours
                raise Conflict(f"branch {self.repo.branch} exists, and our journal shows no creation of it")
            if head.oid == self.repo.base_oid or is_ours(head, self.plan, self.repo.base_oid):
                return True
            raise Conflict(f"branch {self.repo.branch} exists and points at {head.oid[:10]}, which is not ours")

        def write() -> None:
            known = self._forget()
            self.writer.create_branch(self.repo.name, branch=self.repo.branch, oid=self.repo.base_oid)
            self._learn(known, branch_head=CommitInfo(self.repo.base_oid, (), ""))

        self._ensure("branch", done, write)

    def _ensure_commit(self) -> None:
        headline, body = commit_message(self.plan, self.repo)
        additions = {
            c.path: (content_after(c, include_review=self.options.include_review) or "").encode(
                "utf-8", "surrogateescape"
            )
            for c in self.changes
            if c.action == "modify"
        }
        deletions = [c.path for c in self.changes if c.action == "delete"]
        oid: list[str] = []

        def done() -> bool:
            head = self._read().branch_head
            if head is not None and is_ours(head, self.plan, self.repo.base_oid):
                oid[:] = [head.oid]
                return True
            if head is None or head.oid != self.repo.base_oid:
                raise Conflict(f"branch {self.repo.branch} moved to a commit that is not ours")
            return False

        def write() -> None:
            known = self._forget()
            try:
                oid[:] = [
                    self.writer.commit_files(
                        self.repo.name,
                        branch=self.repo.branch,
                        expected_head=self.repo.base_oid,
                        headline=headline,
                        body=body,
                        additions=additions,
                        deletions=deletions,
                    )
                ]
            except StaleHead as stale:
                raise Ambiguous(str(stale)) from None  # someone moved the branch: re-read decides
            self._learn(known, branch_head=CommitInfo(oid[0], (self.repo.base_oid,), f"{headline}\n\n{body}"))

        self._ensure("commit", done, write, result=lambda: {"oid": oid[0] if oid else None})

    def _ensure_pull(self) -> PullInfo:
        found: list[PullInfo] = []
        spec = PullRequestSpec(
            base=self.repo.base_branch,
            head=self.repo.branch,
            title=self.repo.title,
            body=self.repo.body,
            draft=self.options.draft,
        )

        def done() -> bool:
            pull = self._pull_of(self._read())
            if pull is not None:
                found[:] = [pull]
            return pull is not None

        def write() -> None:
            known = self._forget()
            found[:] = [self.writer.create_pull(self.repo.name, spec)]
            if known is not None:
                self._learn(known, pulls=(*known.pulls, found[0]))

        self._ensure(
            "pull", done, write, result=lambda: {"number": found[0].number, "url": found[0].url} if found else {}
        )
        return found[0]

    def _ensure_labels(self) -> None:
        """Labels: present on the PR, or added by an earlier run (the journal), else added."""
        wanted = self.options.labels
        if not wanted:
            return

        def done() -> bool:
            if _covers(self.journal.repo(self.repo.name).decorated.get("labels", ()), wanted):
                return True  # added before: if someone removed one since, that was their choice
            pull = self._pull_of(self._read())
            return pull is not None and _covers(pull.labels, wanted)

        def write() -> None:
            pull = self._our_pull()
            self._forget()
            self.writer.add_labels(self.repo.name, pull.number, wanted)

        self._ensure("labels", done, write, result=lambda: {"names": list(wanted)})

    def _ensure_reviewers(self) -> None:
        """Review requests: pending on the PR, or made by an earlier run (a review answers a request, and
        GitHub then no longer lists it), else requested."""
        users, teams = self.options.reviewers, self.options.team_reviewers
        if not users and not teams:
            return

        def done() -> bool:
            decorated = self.journal.repo(self.repo.name).decorated
            if _covers(decorated.get("reviewers", ()), users) and _covers(decorated.get("team_reviewers", ()), teams):
                return True
            pull = self._pull_of(self._read())
            return pull is not None and _covers(pull.reviewers, users) and _covers(pull.team_reviewers, teams)

        def write() -> None:
            pull = self._our_pull()
            self._forget()
            self.writer.request_reviewers(self.repo.name, pull.number, users=users, teams=teams)

        self._ensure("reviewers", done, write, result=lambda: {"users": list(users), "teams": list(teams)})

    def _our_pull(self) -> PullInfo:
        pull = self._pull_of(self._read())
        if pull is None:
            raise Conflict(f"the pull request from {self.repo.branch} is gone (closed or deleted by someone)")
        return pull

    # --- reads ---------------------------------------------------------------------------------

    def _read(self) -> RepoState:
        """The repository as last read, or as our own successful writes have since made it."""
        if self._state is None:
            self._state = self.writer.repo_state(self.repo.name, branch=self.repo.branch, paths=self.paths)
        return self._state

    def _forget(self) -> RepoState | None:
        """Before a write: until it answers clearly, what we knew no longer holds."""
        known, self._state = self._state, None
        return known

    def _learn(self, known: RepoState | None, **changes: Any) -> None:
        """After a clear success, GitHub's answer tells us the new state; no need to read it back."""
        if known is not None:
            self._state = replace(known, **changes)

    def _pull_of(self, state: RepoState) -> PullInfo | None:
        mine = [p for p in state.pulls if p.head_ref == self.repo.branch and p.state in {"open", "merged"}]
        return mine[0] if mine else None

    def _check_base(self, state: RepoState) -> None:
        """The plan's base must be the repository's default branch: checked against GitHub before any write."""
        if state.default_branch != self.repo.base_branch:
            raise Stale(
                f"the plan's base branch {self.repo.base_branch!r} is not the default branch "
                f"{state.default_branch!r} of {self.repo.name}"
            )

    def _check_links(self, state: RepoState) -> None:
        linked = sorted(c.path for c in self.changes if state.is_link(c.path))
        if linked:
            raise Conflict(f"{', '.join(linked)} is a symbolic link or submodule; migrator never writes through one")

    def _check_drift(self, state: RepoState) -> None:
        moved = sorted(c.path for c in self.changes if state.blobs.get(c.path) != c.blob_before)
        if moved:
            raise Stale(f"{', '.join(moved)} changed on {state.default_branch} since the plan")

    def _would_do(self, step: str) -> str:
        """What apply would write from `step` on: every step before it is already done, as apply read it."""
        files = "; ".join(f"{c.action} {c.path}" for c in self.changes)
        return {
            "branch": f"would create {self.repo.branch}, commit ({files}) and open a PR",
            "commit": f"would commit ({files}) to {self.repo.branch}, already ours, and open a PR",
            "pull": f"would open the PR for {self.repo.branch}, whose commit is in place",
            "labels": "would add the labels to our PR",
            "reviewers": "would request the reviewers on our PR",
        }.get(step, f"would {step}")

    def _finish(self, status: Status, detail: str, pull: PullInfo | None = None, *, record: bool = True) -> Outcome:
        outcome = Outcome(
            self.repo.name,
            status,
            detail,
            pull.number if pull else None,
            pull.url if pull else None,
            self._ensure.writes,
        )
        if record and not self.options.dry_run:  # a dry run journals nothing, whatever it decides
            self.journal.record(
                op="apply",
                repo=self.repo.name,
                step="repo",
                phase="done",
                status=status.value,
                detail=detail,
                pr=outcome.pr_number,
                url=outcome.pr_url,
            )
        self.log.info("repo done", status=status.value, detail=detail, writes=self._ensure.writes)
        return outcome


def apply_plan(
    plan: Plan,
    repos: Sequence[RepoPlan],
    writer: Writer,
    *,
    journal: Journal,
    pacer: Pacer,
    options: ApplyOptions,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Outcome]:
    outcomes = []
    for done, repo in enumerate(repos, start=1):
        outcomes.append(RepoApply(plan, repo, writer, journal, pacer, options).run())
        if progress:
            progress(done, len(repos), repo.name)
    return outcomes


def _covers(have: Sequence[str], wanted: Sequence[str]) -> bool:
    """GitHub compares labels and logins without case."""
    present = {name.lower() for name in have}
    return all(name.lower() in present for name in wanted)
