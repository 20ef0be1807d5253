"""The campaign's repositories that need no change any more (`Plan.retired`).

An obsolete one (fixed by hand, or the rules no longer apply) gets its open PR closed with a comment that says
why, and our branch deleted, only while the branch still holds our commit. Merged, closed and touched ones are
reported as the plan found them, with no request at all. Journaled, paced and resumable like every apply step;
the comment carries a marker and is looked for before it is posted, so it is posted once.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.apply.ensure import Ensurer, WouldWrite
from migrator.apply.executor import Outcome, Status, finish_repo, throttled_detail
from migrator.apply.journal import Journal
from migrator.apply.pacing import Pacer
from migrator.apply.ports import (
    Ambiguous,
    Forbidden,
    Gone,
    PullInfo,
    ReadFailed,
    Rejected,
    RepoState,
    Throttled,
    Vanished,
    Writer,
)
from migrator.campaign import is_campaign_commit
from migrator.log import get_logger
from migrator.plan.model import CampaignState, Plan, Retired

_REPORTED = {
    CampaignState.MERGED: Status.MERGED,
    CampaignState.CLOSED: Status.CLOSED,
    CampaignState.TOUCHED: Status.TOUCHED,
}


class _Touched(Exception):
    pass


def obsolete_marker(campaign: str) -> str:
    return f"<!-- migrator:obsolete={campaign} -->"


@dataclass
class RepoRetire:
    plan: Plan
    retired: Retired
    writer: Writer
    journal: Journal
    pacer: Pacer
    dry_run: bool = False

    def __post_init__(self) -> None:
        self.name = self.retired.name
        self.branch = self.retired.branch
        self.log = get_logger(repo=self.name, step="apply")
        self._ensure = Ensurer(self.journal, self.pacer, "apply", self.name, dry_run=self.dry_run)

    def run(self) -> Outcome:
        found = self.retired.found
        if found.state in _REPORTED:
            return self._finish(_REPORTED[found.state], found.why, None, number=found.pr_number, url=found.pr_url)
        try:
            self.pacer.check_blocked()
            return self._retire()
        except WouldWrite as would:
            return self._finish(Status.DRY_RUN, self._would_do(would.step), None, record=False)
        except _Touched as touched:
            return self._finish(Status.TOUCHED, str(touched), None)
        except (Gone, Vanished) as gone:
            return self._finish(Status.GONE, f"{gone}; nothing to do here", None)
        except Forbidden as denied:
            return self._finish(Status.SKIPPED_BY_PERMISSION, str(denied), None)
        except Throttled as throttled:
            self.pacer.block(throttled.wait)
            return self._finish(Status.THROTTLED, throttled_detail(throttled), None)
        except Ambiguous as error:
            return self._finish(Status.FAILED, f"gave up: {error}; re-run `migrator apply` to resume", None)
        except (ReadFailed, Rejected) as error:
            return self._finish(Status.FAILED, str(error), None)

    def _retire(self) -> Outcome:
        state = self._read()
        pull = self._open_pull(state)
        self._check_head(state)
        if pull is not None:
            self._close(pull)
        if state.branch_head is not None:
            self._delete_branch()
        if self.dry_run:
            return self._finish(Status.DRY_RUN, "would write nothing: already retired", pull, record=False)
        done = [f"closed PR #{pull.number}"] if pull else []
        done += [f"deleted {self.branch}"] if state.branch_head is not None else []
        what = ", ".join(done) if done else "nothing of ours is left open"
        return self._finish(Status.OBSOLETE, f"{self.retired.found.why}: {what}", pull)

    def _read(self) -> RepoState:
        return self.writer.repo_state(self.name, branch=self.branch, paths=[])

    def _open_pull(self, state: RepoState) -> PullInfo | None:
        known = self.journal.repo(self.name).pr_numbers
        for pull in state.pulls:
            ours = pull.number in known or self.plan.marks(pull.body, self.name)
            if pull.head_ref == self.branch and pull.state == "open" and ours:
                return pull
        return None

    def _check_head(self, state: RepoState) -> None:
        head = state.branch_head
        if head is not None and not is_campaign_commit(head.message, head.parents, self.plan.campaign_name):
            raise _Touched(f"someone else pushed {head.oid[:10]} to {self.branch}: left alone")

    def _close(self, pull: PullInfo) -> None:
        marker = obsolete_marker(self.plan.campaign_name)

        def commented() -> bool:
            return any(marker in body for body in self.writer.comment_bodies(self.name, pull.number))

        body = (
            f"Closed by `migrator apply` (campaign {self.plan.campaign_name}, plan {self.plan.plan_id}): "
            f"{self.retired.found.why}.\n\n{marker}\n"
        )
        self._ensure("obsolete-comment", commented, lambda: self.writer.comment(self.name, pull.number, body))

        def closed() -> bool:
            state = self._read()
            self._check_head(state)
            return self._open_pull(state) is None

        self._ensure(
            "obsolete-close",
            closed,
            lambda: self.writer.close_pull(self.name, pull.number),
            result=lambda: {"number": pull.number},
        )

    def _delete_branch(self) -> None:
        def gone() -> bool:
            state = self._read()
            self._check_head(state)
            return state.branch_head is None

        self._ensure("obsolete-branch", gone, lambda: self.writer.delete_branch(self.name, self.branch))

    def _would_do(self, step: str) -> str:
        return {
            "obsolete-comment": f"would comment on our PR, close it and delete {self.branch}: no change is needed",
            "obsolete-close": f"would close our PR (already commented) and delete {self.branch}",
            "obsolete-branch": f"would delete {self.branch}: no change is needed any more",
        }.get(step, f"would {step}")

    def _finish(
        self,
        status: Status,
        detail: str,
        pull: PullInfo | None,
        *,
        record: bool = True,
        number: int | None = None,
        url: str | None = None,
    ) -> Outcome:
        outcome = Outcome(
            self.name,
            status,
            detail,
            pull.number if pull else number,
            pull.url if pull else url,
            self._ensure.writes,
        )
        return finish_repo(self.journal, self.log, outcome, record=record and not self.dry_run)
