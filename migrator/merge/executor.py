"""Merging one pull request: decide from the bulk read, then one ensure step (read back, decide, write), journaled.

A merge creates content, so it goes through the `Ensurer` like every write of apply: paced, an `intent` line
before the request and a `done` line after it, and after a 5xx, a timeout or a lost answer the pull request is
read again before anything else is sent (merged by then: done). The merge carries the head commit that was read
(`sha`, `expectedHeadOid`), so a head that moved since is refused by GitHub, never merged blindly. Re-running
after a kill reads GitHub again and ends where an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from migrator.apply.ensure import Ensurer, WouldWrite
from migrator.apply.executor import throttled_detail
from migrator.apply.journal import Journal, read_events
from migrator.apply.pacing import Pacer
from migrator.apply.ports import Ambiguous, Forbidden, Gone, ReadFailed, Rejected, Throttled
from migrator.errors import RemoteError
from migrator.github.merging import AutoMergeRefused, HeadMoved, MergeFacts, NotMergeable
from migrator.merge.decide import OK_STATUSES, Action, Decision, MergeOptions, Status, decide

OP = "merge"
CLEAN_STATUS = "clean status"  # GitHub's refusal of auto-merge on a PR that can be merged right now
UNKNOWN_WAIT = 2.0  # seconds before reading a pull request with UNKNOWN mergeability again (then 4, 6)


class MergePort(Protocol):
    def merge_facts(self, pulls: list[tuple[str, int, str]]) -> list[MergeFacts]: ...

    def merge(self, repo: str, number: int, *, method: str, sha: str) -> None: ...

    def enable_auto_merge(self, facts: MergeFacts, *, method: str) -> None: ...

    def enqueue(self, facts: MergeFacts) -> None: ...


@dataclass(frozen=True)
class MergeOutcome:
    repo: str
    number: int
    status: str
    detail: str
    url: str = ""
    method: str | None = None
    writes: int = 0

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES


def read_for_merge(
    port: MergePort, pulls: list[tuple[str, int, str]], *, sleep: Callable[[float], None], rounds: int = 3
) -> list[MergeFacts]:
    """The bulk read, with the pull requests whose mergeability GitHub had not computed yet (`UNKNOWN`: it starts
    computing when asked) read again a few times, a little later, before anything is decided about them."""
    facts = port.merge_facts(pulls)
    for attempt in range(rounds):
        unknown = [i for i, f in enumerate(facts) if f.state == "open" and f.mergeable == "UNKNOWN"]
        if not unknown:
            break
        sleep(UNKNOWN_WAIT * (attempt + 1))
        again = port.merge_facts([pulls[i] for i in unknown])
        for index, fresh in zip(unknown, again, strict=True):
            facts[index] = fresh
    return facts


def merge_history(journals: Iterable[Path]) -> dict[str, set[str]]:
    """Per repository, the merge steps this campaign's journals show begun (an intent) or done."""
    begun: dict[str, set[str]] = {}
    for path in journals:
        for event in read_events(path):
            if event.get("op") == OP and event.get("step") != "repo":
                begun.setdefault(str(event["repo"]), set()).add(str(event.get("step")))
    return begun


@dataclass
class PullMerge:
    facts: MergeFacts
    port: MergePort
    journal: Journal
    pacer: Pacer
    options: MergeOptions
    history: Mapping[str, set[str]]
    dry_run: bool = False

    def __post_init__(self) -> None:
        self.ensure = Ensurer(self.journal, self.pacer, OP, self.facts.repo, dry_run=self.dry_run)
        self.decision = decide(self.facts, self.options)

    def run(self) -> MergeOutcome:
        try:
            self.pacer.check_blocked()
            status, detail = self._act()
        except WouldWrite as would:
            return self._finish(Status.DRY_RUN.value, self._would(would.step))
        except (NotMergeable, AutoMergeRefused) as refused:
            return self._finish(Status.BLOCKED.value, f"GitHub refused: {refused}")
        except HeadMoved as moved:
            return self._finish(Status.BLOCKED.value, f"{moved}; the head moved since it was read: run merge again")
        except Gone as gone:
            return self._finish(Status.GONE.value, str(gone))
        except Throttled as throttled:
            self.pacer.block(throttled.wait)
            return self._finish(Status.THROTTLED.value, throttled_detail(throttled))
        except Ambiguous as unsure:
            return self._finish(Status.FAILED.value, f"gave up: {unsure}; re-run `migrator merge` to resume")
        except (Forbidden, Rejected, ReadFailed, RemoteError) as error:
            return self._finish(Status.FAILED.value, str(error))
        return self._finish(status, detail)

    def _act(self) -> tuple[str, str]:
        decision = self.decision
        if decision.status is Status.ALREADY_MERGED and self._ours("merge", "enqueue", "auto-merge"):
            return Status.MERGED.value, "merged (by an earlier run of merge)"
        if decision.action is Action.MERGE:
            return self._merge(decision)
        if decision.action is Action.AUTO:
            return self._auto(decision)
        if decision.action is Action.ENQUEUE:
            return self._enqueue(decision)
        return decision.status.value, decision.reason

    def _merge(self, decision: Decision) -> tuple[str, str]:
        method = decision.method or "merge"
        self.ensure(
            "merge",
            self._settled(lambda fresh: fresh.state == "merged"),
            lambda: self.port.merge(self.facts.repo, self.facts.number, method=method, sha=self.facts.head_oid),
            result=lambda: {"number": self.facts.number, "method": method, "admin": decision.admin},
        )
        how = " as an admin" if decision.admin else ""
        return Status.MERGED.value, f"merged ({method}){how}"

    def _auto(self, decision: Decision) -> tuple[str, str]:
        method = decision.method or "merge"
        try:
            self.ensure(
                "auto-merge",
                self._settled(lambda fresh: fresh.state == "merged" or fresh.auto_merge is not None),
                lambda: self.port.enable_auto_merge(self.facts, method=method),
                result=lambda: {"number": self.facts.number, "method": method},
            )
        except AutoMergeRefused as refused:
            if CLEAN_STATUS not in str(refused).lower():
                raise
            return self._merge(decision)  # ready by now: merge it, as auto-merge would
        return Status.AUTO_MERGE.value, f"auto-merge ({method}) enabled: {decision.reason.partition('; ')[2]}"

    def _enqueue(self, decision: Decision) -> tuple[str, str]:
        merged: list[bool] = []

        def settled(fresh: MergeFacts) -> bool:
            merged[:] = [fresh.state == "merged"]
            return fresh.state == "merged" or fresh.in_queue

        self.ensure(
            "enqueue",
            self._settled(settled),
            lambda: self.port.enqueue(self.facts),
            result=lambda: {"number": self.facts.number},
        )
        if merged and merged[0]:
            return Status.MERGED.value, "merged through the merge queue"
        return Status.QUEUED.value, "in the merge queue"

    def _settled(self, wanted: Callable[[MergeFacts], bool]) -> Callable[[], bool]:
        """The ensure step's read: the bulk read first, then a fresh read of this pull request each time."""
        first = [True]

        def done() -> bool:
            if first[0]:
                first[0] = False
                return wanted(self.facts)
            fresh = self.port.merge_facts([(self.facts.repo, self.facts.number, self.facts.base_ref)])[0]
            if wanted(fresh):
                return True
            if fresh.state != "open":
                raise Rejected(f"the pull request is {fresh.state} now; not merged")
            if fresh.head_oid != self.facts.head_oid:
                raise HeadMoved(f"#{self.facts.number} moved to {fresh.head_oid[:10]}")
            return False

        return done

    def _ours(self, *steps: str) -> bool:
        return bool(self.history.get(self.facts.repo, set()) & set(steps))

    def _would(self, step: str) -> str:
        """What the real run would write from `step` on: the reads before it decided as for real."""
        return f"would {self.decision.reason}"

    def _finish(self, status: str, detail: str) -> MergeOutcome:
        if not self.dry_run:
            self.journal.record(
                op=OP,
                repo=self.facts.repo,
                step="repo",
                phase="done",
                status=status,
                detail=detail,
                number=self.facts.number,
            )
        method = self.decision.method if status in (Status.MERGED, Status.AUTO_MERGE, Status.DRY_RUN) else None
        return MergeOutcome(
            self.facts.repo, self.facts.number, status, detail, self.facts.url, method, self.ensure.writes
        )
