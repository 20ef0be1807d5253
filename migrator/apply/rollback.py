"""Undo an apply, from its journal.

- an open PR of ours: comment, close it, delete its branch (only if the branch head is still our commit);
- a merged PR: open a revert PR restoring the planned before-content, after a drift check of its own;
- a branch of ours without a PR: delete it;
- anything someone else changed: left alone and reported.

Rollback is journaled and idempotent like apply: re-running it finishes what is half-done.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.apply.ensure import Ensurer, WouldWrite
from migrator.apply.executor import Status, is_ours, selected_changes, throttled_detail
from migrator.apply.journal import Journal, RepoJournal
from migrator.apply.pacing import Pacer
from migrator.apply.ports import (
    Ambiguous,
    Forbidden,
    Gone,
    PullInfo,
    PullRequestSpec,
    ReadFailed,
    Rejected,
    RepoState,
    Throttled,
    Vanished,
    Writer,
)
from migrator.model import git_blob_sha
from migrator.plan.model import Change, Plan, RepoPlan

REVERT_SUFFIX = "-revert"
ROLLBACK_TRAILER = "Migrator-Rollback"


class RollbackStatus:
    CLOSED = "closed"
    REVERT_OPENED = "revert-opened"
    NOTHING = "nothing-to-undo"
    LEFT_ALONE = "left-alone"  # someone else changed it: reported, and the run exits non-zero
    DRY_RUN = "dry-run"  # --dry-run: what rollback would do, decided by the same reads; nothing written


@dataclass(frozen=True)
class RollbackOutcome:
    repo: str
    status: str
    detail: str
    pr_number: int | None = None
    pr_url: str | None = None
    writes: int = 0

    @property
    def ok(self) -> bool:
        return self.status in {
            RollbackStatus.CLOSED,
            RollbackStatus.REVERT_OPENED,
            RollbackStatus.NOTHING,
            RollbackStatus.DRY_RUN,
        }


@dataclass
class RepoRollback:
    plan: Plan
    repo: RepoPlan
    writer: Writer
    journal: Journal
    pacer: Pacer
    include_review: bool = False
    dry_run: bool = False

    def __post_init__(self) -> None:
        self.record: RepoJournal = self.journal.repo(self.repo.name)
        self.ensure = Ensurer(self.journal, self.pacer, "rollback", self.repo.name, dry_run=self.dry_run)
        self.changes = self._applied_changes()
        self.revert_branch = self.repo.branch + REVERT_SUFFIX

    def run(self) -> RollbackOutcome:
        try:
            self.pacer.check_blocked()
            status, detail, pull = self._undo()
        except WouldWrite as would:
            return self._finish(RollbackStatus.DRY_RUN, self._would_do(would.step))
        except Forbidden as denied:
            return self._finish(Status.SKIPPED_BY_PERMISSION.value, str(denied))
        except Gone as gone:
            return self._finish(Status.GONE.value, f"{gone}; nothing to undo there")
        except Vanished as gone:
            return self._finish(RollbackStatus.LEFT_ALONE, f"{gone}; nothing was changed")
        except Throttled as throttled:
            self.pacer.block(throttled.wait)
            return self._finish(Status.THROTTLED.value, throttled_detail(throttled))
        except Ambiguous as error:
            return self._finish(Status.FAILED.value, f"gave up: {error}; re-run `migrator rollback` to resume")
        except (ReadFailed, Rejected) as error:
            return self._finish(Status.FAILED.value, str(error))
        return self._finish(status, detail, pull)

    def _undo(self) -> tuple[str, str, PullInfo | None]:
        if not self.record.touched:
            return RollbackStatus.NOTHING, "the journal shows nothing created here", None
        # An `intent` without its `done` (a kill between the request and the journal line) may or may not
        # have happened: what GitHub shows, and is ours, is undone.
        state = self._read(self.repo.branch)
        pull = self._our_pull(state)
        if pull is not None and pull.state == "merged":
            return self._revert_merged(pull)
        head = state.branch_head if self.record.branch_ours else None  # never a branch we cannot show we made
        if head is not None and not is_ours(head, self.plan, self.repo.base_oid) and head.oid != self.repo.base_oid:
            number = f"PR #{pull.number}" if pull else "its PR"
            return (
                RollbackStatus.LEFT_ALONE,
                f"someone else pushed {head.oid[:10]} to our {self.repo.branch}: left alone, with {number}; "
                "close it and delete the branch by hand once its owner agrees",
                pull,
            )
        # A PR closed without our rollback's `close` step (or apply's, as obsolete) was closed by a person: say so,
        # never reopen it.
        ours_closed = {"close"} & self.record.rollback_done or "obsolete-close" in self.record.apply_done
        by_someone = pull is not None and pull.state == "closed" and not ours_closed
        closed_note = f"PR #{pull.number} was already closed by someone else" if pull and by_someone else ""
        if (pull is None or pull.state != "open") and head is None:
            if state.branch_head is not None and not self.record.branch_ours:
                detail = f"{self.repo.branch} exists, but our journal shows no creation of it: left alone"
                return RollbackStatus.NOTHING, detail, pull
            if closed_note:
                return RollbackStatus.NOTHING, f"{closed_note}, and no branch of ours is left", pull
            return RollbackStatus.NOTHING, "already rolled back: no open PR and no branch of ours", pull
        if pull is not None and pull.state == "open":
            self._close(pull)
        if head is not None:
            self._delete_branch()
        if closed_note:
            return RollbackStatus.CLOSED, f"{closed_note}; deleted our branch", pull
        return RollbackStatus.CLOSED, "closed our PR and deleted our branch", pull

    def _would_do(self, step: str) -> str:
        """What rollback would write from `step` on; the reads before it decided as for real."""
        number = f"#{self.record.pr_number}" if self.record.pr_number else "our PR"
        return {
            "comment": f"would comment on {number}, close it and delete {self.repo.branch}",
            "close": f"would close {number} (already commented) and delete {self.repo.branch}",
            "delete-branch": f"would delete {self.repo.branch}",
            "revert-branch": f"would open a revert PR for merged {number} (branch {self.revert_branch})",
            "revert-commit": f"would commit the revert to {self.revert_branch} and open its PR",
            "revert-pull": f"would open the revert PR from {self.revert_branch}",
        }.get(step, f"would {step}")

    # --- an open PR --------------------------------------------------------------------------

    def _close(self, pull: PullInfo) -> None:
        marker = f"<!-- migrator:rollback={self.plan.campaign_name} -->"

        def commented() -> bool:
            if "comment" in self.record.rollback_done:
                return True
            # a lost answer or a kill after the comment was posted: GitHub has it, so do not post it again
            return any(marker in body for body in self.writer.comment_bodies(self.repo.name, pull.number))

        self.ensure(
            "comment",
            commented,
            lambda: self.writer.comment(
                self.repo.name, pull.number, f"Closed by `migrator rollback` ({self._what}).\n\n{marker}\n"
            ),
        )

        def closed() -> bool:
            current = self._our_pull(self._read(self.repo.branch))
            return current is None or current.state != "open"

        self.ensure("close", closed, lambda: self.writer.close_pull(self.repo.name, pull.number))

    def _delete_branch(self) -> None:
        def gone() -> bool:
            head = self._read(self.repo.branch).branch_head
            if head is not None and not is_ours(head, self.plan, self.repo.base_oid) and head.oid != self.repo.base_oid:
                raise Forbidden(f"{self.repo.branch} moved to a commit that is not ours; not deleting it")
            return head is None

        self.ensure("delete-branch", gone, lambda: self.writer.delete_branch(self.repo.name, self.repo.branch))

    # --- a merged PR -------------------------------------------------------------------------

    def _revert_merged(self, merged: PullInfo) -> tuple[str, str, PullInfo | None]:
        state = self._read(self.revert_branch)
        existing = self._pull_on(state, self.revert_branch)
        if existing is not None and not self.dry_run:
            self.journal.record(
                op="rollback",
                repo=self.repo.name,
                step="revert-pull",
                phase="done",
                number=existing.number,
                url=existing.url,
            )
        if existing is not None:
            return RollbackStatus.REVERT_OPENED, f"revert PR #{existing.number} is open", existing
        moved = [c.path for c in self.changes if state.blobs.get(c.path) != _after_oid(c, self.include_review)]
        if moved and state.branch_head is None:
            return RollbackStatus.LEFT_ALONE, f"{', '.join(sorted(moved))} changed since the merge; not reverting", None
        head = state.branch_head
        if head is None:
            revert_base = state.default_head
        elif f"{ROLLBACK_TRAILER}: {self.plan.campaign_name}" in head.message:
            revert_base = head.parents[0]  # a resumed rollback: our revert commit is already there
        else:
            revert_base = head.oid
        self._ensure_revert_branch(revert_base)
        self._ensure_revert_commit(revert_base)
        return RollbackStatus.REVERT_OPENED, "opened a revert PR", self._ensure_revert_pull(merged)

    def _ensure_revert_branch(self, base: str) -> None:
        def done() -> bool:
            if self._read(self.revert_branch).branch_head is None:
                return False
            if "revert-branch" in self.record.rollback_begun:  # ours: we set out to create it
                return True
            raise Forbidden(f"{self.revert_branch} exists, and our journal shows no creation of it; not using it")

        self.ensure(
            "revert-branch",
            done,
            lambda: self.writer.create_branch(self.repo.name, branch=self.revert_branch, oid=base),
            result=lambda: {"branch": self.revert_branch},
        )

    def _ensure_revert_commit(self, base: str) -> None:
        marker = f"{ROLLBACK_TRAILER}: {self.plan.campaign_name}"
        oid: list[str] = []

        def done() -> bool:
            head = self._read(self.revert_branch).branch_head
            if head is not None and marker in head.message:
                oid[:] = [head.oid]
                return True
            if head is None or head.oid != base:
                raise Forbidden(f"{self.revert_branch} moved to a commit that is not ours")
            return False

        def write() -> None:
            oid[:] = [
                self.writer.commit_files(
                    self.repo.name,
                    branch=self.revert_branch,
                    expected_head=base,
                    headline=f"revert: {self.repo.title}",
                    body=f"Restores the files migrator changed.\n\n{marker}\n",
                    additions={c.path: c.before.encode("utf-8", "surrogateescape") for c in self.changes},
                    deletions=[],
                )
            ]

        self.ensure("revert-commit", done, write, result=lambda: {"oid": oid[0] if oid else None})

    def _ensure_revert_pull(self, merged: PullInfo) -> PullInfo:
        found: list[PullInfo] = []
        spec = PullRequestSpec(
            base=self.repo.base_branch,
            head=self.revert_branch,
            title=f"Revert: {self.repo.title}",
            body=(
                f"Reverts #{merged.number}, opened by `migrator rollback`.\n\n"
                f"<!-- migrator:rollback={self.plan.campaign_name} repo={self.repo.name} -->\n"
            ),
        )

        def done() -> bool:
            pull = self._pull_on(self._read(self.revert_branch), self.revert_branch)
            found[:] = [pull] if pull else []
            return pull is not None

        self.ensure(
            "revert-pull",
            done,
            lambda: found.__setitem__(slice(None), [self.writer.create_pull(self.repo.name, spec)]),
            result=lambda: {"number": found[0].number, "url": found[0].url} if found else {},
        )
        return found[0]

    # --- helpers -------------------------------------------------------------------------------

    def _applied_changes(self) -> list[Change]:
        return selected_changes(self.repo, include_review=self.include_review)

    def _read(self, branch: str) -> RepoState:
        return self.writer.repo_state(self.repo.name, branch=branch, paths=[c.path for c in self.changes])

    @property
    def _what(self) -> str:
        if self.plan.campaign is None:
            return f"plan {self.plan.plan_id}"
        return f"campaign {self.plan.campaign}"

    def _our_pull(self, state: RepoState) -> PullInfo | None:
        """Our PR: one the journals (every plan of the campaign) show opened, else, when a kill may have lost the
        `done` line, one carrying our marker. An open one first, then a merged one, then the newest closed."""
        pulls = [p for p in state.pulls if p.head_ref == self.repo.branch]
        if self.record.pr_numbers:
            pulls = [p for p in pulls if p.number in self.record.pr_numbers]
        elif "pull" in self.record.apply_begun:  # opened, maybe, before a kill: ours if it carries our marker
            pulls = [p for p in pulls if self.plan.marks(p.body, self.repo.name)]
        else:
            return None
        for wanted in ("open", "merged", "closed"):
            for pull in pulls:
                if pull.state == wanted:
                    return pull
        return None

    @staticmethod
    def _pull_on(state: RepoState, branch: str) -> PullInfo | None:
        pulls = [p for p in state.pulls if p.head_ref == branch and p.state in {"open", "merged"}]
        return pulls[0] if pulls else None

    def _finish(self, status: str, detail: str, pull: PullInfo | None = None) -> RollbackOutcome:
        if not self.dry_run:
            self.journal.record(
                op="rollback", repo=self.repo.name, step="repo", phase="done", status=status, detail=detail
            )
        return RollbackOutcome(
            self.repo.name,
            status,
            detail,
            pull.number if pull else self.record.pr_number,
            pull.url if pull else self.record.pr_url,
            self.ensure.writes,
        )


def _after_oid(change: Change, include_review: bool) -> str | None:
    after = change.after_with_review if include_review and change.after_with_review else change.after
    return None if after is None else git_blob_sha(after.encode("utf-8", "surrogateescape"))
