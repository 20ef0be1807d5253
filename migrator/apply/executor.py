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
from migrator.campaign import (
    BASE_TRAILER,
    CAMPAIGN_TRAILER,
    FIX_TRAILER,
    PLAN_TRAILER,
    Digests,
    is_campaign_commit,
    selected,
    trailer,
    trailers,
    written,
)
from migrator.log import get_logger
from migrator.plan.model import Change, Plan, RepoPlan

TRAILER = PLAN_TRAILER


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
    # A campaign's repositories, as apply found them (none is a failure):
    UPDATED = "updated"  # our PR now carries the planned change on the plan's base
    MERGED = "merged"  # the PR is merged: nothing to do
    CLOSED = "closed"  # a person closed the PR: left closed (`--reopen` opens a new one)
    TOUCHED = "touched"  # someone else pushed to our branch: left alone, byte for byte
    OBSOLETE = "obsolete"  # no change is needed any more: our PR was closed with a comment, our branch deleted

    @property
    def ok(self) -> bool:
        return self not in {
            Status.STALE,
            Status.CONFLICT,
            Status.FAILED,
            Status.THROTTLED,
            Status.GONE,
            Status.SKIPPED_BY_PERMISSION,
        }


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
    refresh: bool = False  # rewrite our PR onto the plan's base even when only unplanned files moved
    reopen: bool = False  # a PR a person closed gets a new one (never otherwise)


class Conflict(Exception):
    pass


class Touched(Exception):
    """Someone else pushed to our branch: the repository is left alone."""


class Stale(Exception):
    pass


def selected_changes(repo: RepoPlan, *, include_review: bool) -> list[Change]:
    """What apply writes: enabled changes, review ones only when asked; blocked never."""
    return selected(repo.changes, include_review=include_review)


def plan_rules(plan: Plan) -> tuple[str, ...]:
    """The rules the plan ran (`rules.enabled`), for the commit's `Migrator-Rules` trailer."""
    enabled = plan.rules.get("enabled")
    return tuple(sorted(enabled)) if isinstance(enabled, dict) else ()


def commit_message(plan: Plan, repo: RepoPlan, digests: Digests | None = None) -> tuple[str, str]:
    """The planned message, then the trailers that make the commit provably the campaign's: the campaign, the
    plan, and the digests of what it changes (after) and of what it changed (the planned files' blobs before)."""
    headline, _, rest = repo.commit_message.partition("\n")
    chosen = digests or Digests.of(selected_changes(repo, include_review=False))
    return (
        headline,
        f"{rest.strip()}\n\n{trailers(plan.campaign_name, plan.plan_id, chosen, plan_rules(plan))}".strip() + "\n",
    )


def is_ours(commit: CommitInfo | None, plan: Plan, base_oid: str) -> bool:
    """A commit of this campaign (any of its plans, on any base); for a plan older than campaigns, this plan's
    commit on its base."""
    if commit is None:
        return False
    if is_campaign_commit(commit.message, commit.parents, plan.campaign_name):
        return True
    return commit.parents == (base_oid,) and f"{TRAILER}: {plan.plan_id}" in commit.message


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
        self.digests = Digests.of(self.changes, include_review=self.options.include_review)

    def run(self) -> Outcome:
        if not self.repo.enabled or not self.changes:
            return self._finish(Status.SKIPPED, "nothing enabled for this repository")
        rewrite = False
        try:
            self.pacer.check_blocked()  # a long limit already refused: no request at all
            state = self._read()
            self._check_base(state)
            early = self._campaign_state(state)
            if early is not None:
                status, detail, found = early
                return self._finish(status, detail, found, record=not self.options.dry_run)
            head = state.branch_head
            rewrite = head is not None and is_ours(head, self.plan, self.repo.base_oid) and self._stale_commit(state)
            if rewrite or (self._pull_of(state) is None and not is_ours(head, self.plan, self.repo.base_oid)):
                self._check_drift(state)
            self._check_links(state)
            prior_writes = self._ensure.writes
            if rewrite:
                self._ensure_rebuilt()
            else:
                self._ensure_branch()
                self._ensure_commit()
            pull = self._ensure_pull()
            self._ensure_labels()
            self._ensure_reviewers()
        except WouldWrite as would:
            return self._finish(Status.DRY_RUN, self._would_do(would.step), record=False)
        except Touched as touched:
            return self._finish(Status.TOUCHED, str(touched), self._pull_of(self._state) if self._state else None)
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
        if self._ensure.writes == prior_writes:
            return self._finish(Status.ALREADY_APPLIED, "", pull)
        return self._finish(Status.UPDATED if rewrite else Status.APPLIED, "", pull)

    # --- the campaign --------------------------------------------------------------------------

    def _campaign_state(self, state: RepoState) -> tuple[Status, str, PullInfo | None] | None:
        """Merged, closed by a person, or touched: nothing to write. None when apply goes on."""
        pull = self._pull_of(state)
        if pull is not None and pull.state == "merged":
            return Status.MERGED, f"PR #{pull.number} is merged: nothing to do", pull
        closed = self._closed_pull(state)
        if pull is None and closed is not None and not self.options.reopen:
            detail = f"PR #{closed.number} was closed by a person: left closed (`apply --reopen` opens a new one)"
            return Status.CLOSED, detail, closed
        head = state.branch_head
        if head is None or head.oid == self.repo.base_oid or is_ours(head, self.plan, self.repo.base_oid):
            return None
        if self.journal.repo(self.repo.name).branch_ours or self._marked_pull(state) is not None:
            detail = f"someone else pushed {head.oid[:10]} to {self.repo.branch}: left alone"
            return Status.TOUCHED, detail, pull
        return None  # not provably ours: the branch step says why it is a conflict

    def _stale_commit(self, state: RepoState) -> bool:
        """Our commit on the branch no longer carries the plan: the base moved under a planned file, the fix
        changed, or the PR conflicts; with `--refresh`, also when only unplanned files of the base moved."""
        head = state.branch_head
        assert head is not None
        if head.parents == (self.repo.base_oid,) and trailer(head.message, FIX_TRAILER) is None:
            return False  # a commit of this plan made before campaigns: its own, on its own base
        if not self._carries_plan(head):
            return True
        pull = self._pull_of(state)
        if pull is not None and pull.mergeable == "CONFLICTING":
            return True
        return self.options.refresh and head.parents != (self.repo.base_oid,)

    def _carries_plan(self, head: CommitInfo) -> bool:
        return (
            trailer(head.message, FIX_TRAILER) == self.digests.fix
            and trailer(head.message, BASE_TRAILER) == self.digests.base
            and trailer(head.message, CAMPAIGN_TRAILER) == self.plan.campaign_name
        )

    def _settled(self, head: CommitInfo | None) -> bool:
        """The branch holds our commit of this plan's change on this plan's base."""
        return head is not None and head.parents == (self.repo.base_oid,) and self._carries_plan(head)

    def _ensure_rebuilt(self) -> None:
        """The update: a new commit of the planned change on the plan's base, then our branch moved to it.

        Two steps, each read back first: a kill between them leaves a commit nobody points at (harmless), and
        the re-run makes it again. The branch is moved only while it still holds a commit of ours."""
        made: list[str] = []

        def check_head() -> CommitInfo:
            head = self._read().branch_head
            if head is None:
                raise Conflict(f"{self.repo.branch} was deleted while apply ran; re-run `migrator apply`")
            if not is_ours(head, self.plan, self.repo.base_oid):
                raise Touched(f"someone else pushed {head.oid[:10]} to {self.repo.branch}: left alone")
            return head

        def commit_made() -> bool:
            head = check_head()
            if self._settled(head):
                made[:] = [head.oid]
                return True
            return bool(made)

        def make_commit() -> None:
            headline, body = commit_message(self.plan, self.repo, self.digests)
            base_tree = self.writer.commit(self.repo.name, self.repo.base_oid).tree
            tree = self.writer.create_tree(
                self.repo.name, base_tree=base_tree, additions=self._additions(), deletions=self._deletions()
            )
            self.pacer.acquire()  # the commit is a second content-creating request
            self._ensure.writes += 1
            made[:] = [
                self.writer.create_commit(
                    self.repo.name, tree=tree, parents=[self.repo.base_oid], message=f"{headline}\n\n{body}"
                )
            ]

        self._ensure("rebuild", commit_made, make_commit, result=lambda: {"oid": made[0] if made else None})

        def moved() -> bool:
            return self._settled(check_head())

        def move() -> None:
            known = self._forget()
            self.writer.force_branch(self.repo.name, branch=self.repo.branch, oid=made[0])
            headline, body = commit_message(self.plan, self.repo, self.digests)
            head = CommitInfo(made[0], (self.repo.base_oid,), f"{headline}\n\n{body}")
            if known is not None:
                self._learn(known, branch_head=head, pulls=tuple(replace(p, mergeable=None) for p in known.pulls))

        self._ensure("update", moved, move, result=lambda: {"oid": made[0] if made else None})

    def _additions(self) -> dict[str, bytes]:
        return {
            c.path: (written(c, include_review=self.options.include_review) or "").encode("utf-8", "surrogateescape")
            for c in self.changes
            if c.action == "modify"
        }

    def _deletions(self) -> list[str]:
        return [c.path for c in self.changes if c.action == "delete"]

    # --- steps ---------------------------------------------------------------------------------

    def _ensure_branch(self) -> None:
        def done() -> bool:
            state = self._read()
            head = state.branch_head
            if head is None:
                return False
            # Our journals (every plan of the campaign) prove a branch ours; so does GitHub, when our commit is on
            # it and a PR from it carries our marker. A bare branch at the base is ours only by the journal.
            proven = self.journal.repo(self.repo.name).branch_ours or (
                is_ours(head, self.plan, self.repo.base_oid) and self._marked_pull(state) is not None
            )
            if not proven:
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
        headline, body = commit_message(self.plan, self.repo, self.digests)
        additions = self._additions()
        deletions = self._deletions()
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

    def _closed_pull(self, state: RepoState) -> PullInfo | None:
        """The newest closed PR of ours from our branch (by our journal, or by our marker)."""
        known = self.journal.repo(self.repo.name).pr_numbers
        for pull in state.pulls:
            ours = pull.number in known or self.plan.marks(pull.body, self.repo.name)
            if pull.head_ref == self.repo.branch and pull.state == "closed" and ours:
                return pull
        return None

    def _marked_pull(self, state: RepoState) -> PullInfo | None:
        """A PR from our branch (any state) whose body carries the campaign's marker for this repository."""
        marked = [p for p in state.pulls if p.head_ref == self.repo.branch and self.plan.marks(p.body, self.repo.name)]
        return marked[0] if marked else None

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
            "rebuild": f"would update {self.repo.branch}: commit ({files}) on {self.repo.base_oid[:10]}, move it",
            "update": f"would move {self.repo.branch} to our new commit on {self.repo.base_oid[:10]}",
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
        return finish_repo(self.journal, self.log, outcome, record=record and not self.options.dry_run)


def finish_repo(journal: Journal, log: Any, outcome: Outcome, *, record: bool) -> Outcome:
    """A repository's last journal line (unless a dry run: it journals nothing, whatever it decides) and log line."""
    if record:
        journal.record(
            op="apply",
            repo=outcome.repo,
            step="repo",
            phase="done",
            status=outcome.status.value,
            detail=outcome.detail,
            pr=outcome.pr_number,
            url=outcome.pr_url,
        )
    log.info("repo done", status=outcome.status.value, detail=outcome.detail, writes=outcome.writes)
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
