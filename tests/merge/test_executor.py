"""The merge executor against a fake GitHub with asserted state: UNKNOWN mergeability read again, a head that moved
while the answer was lost, GitHub refusing what its read allowed, and the journal lines a merge leaves."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from migrator.apply import pacing
from migrator.apply.journal import Journal
from migrator.apply.pacing import Pacer, PaceSettings
from migrator.apply.ports import Ambiguous
from migrator.github.merging import MergeFacts, NotMergeable
from migrator.merge.decide import MergeOptions
from migrator.merge.executor import PullMerge, merge_history, read_for_merge

READY = MergeFacts(
    repo="acme/app",
    number=3,
    state="open",
    url="https://github.example/acme/app/pull/3",
    head_oid="a" * 40,
    base_ref="main",
    mergeable="MERGEABLE",
    merge_state="CLEAN",
    methods=("squash",),
)


@dataclass
class FakeGitHub:
    facts: MergeFacts
    reads: list[MergeFacts] = field(default_factory=list)  # what the next reads answer (else `facts`)
    lose_answer: bool = False  # merged, but the answer is lost (a 502 after the merge)
    fail: bool = False  # a 502 before anything happened
    refuse: str | None = None
    merged_with: list[tuple[str, str]] = field(default_factory=list)

    def merge_facts(self, pulls: list[tuple[str, int, str]]) -> list[MergeFacts]:
        return [self.reads.pop(0) if self.reads else self.facts for _ in pulls]

    def merge(self, repo: str, number: int, *, method: str, sha: str) -> None:
        if self.refuse:
            raise NotMergeable(self.refuse)
        if self.fail:
            raise Ambiguous("merging: 502; it may or may not have happened")
        self.merged_with.append((method, sha))
        self.facts = replace(self.facts, state="merged")
        if self.lose_answer:
            raise Ambiguous("merging: 502; it may or may not have happened")

    def enable_auto_merge(self, facts: MergeFacts, *, method: str) -> None:
        raise AssertionError("not expected")

    def enqueue(self, facts: MergeFacts) -> None:
        raise AssertionError("not expected")


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)


def run(github: FakeGitHub, tmp_path: Path, facts: MergeFacts | None = None) -> tuple[str, str, list[dict[str, str]]]:
    journal = Journal.open(tmp_path / "plan.json.journal.jsonl", "p1")
    pacer = Pacer(PaceSettings(min_interval=0))
    outcome = PullMerge(facts or github.facts, github, journal, pacer, MergeOptions(), {}).run()
    lines = [json.loads(line) for line in journal.path.read_text().splitlines()]
    return outcome.status, outcome.detail, [{"step": e["step"], "phase": e["phase"]} for e in lines]


def test_a_merge_is_journaled_intent_then_done(tmp_path: Path) -> None:
    github = FakeGitHub(READY)
    status, detail, events = run(github, tmp_path)
    assert (status, detail) == ("merged", "merged (squash)")
    assert github.merged_with == [("squash", "a" * 40)]  # the head that was read
    assert events == [
        {"step": "merge", "phase": "intent"},
        {"step": "merge", "phase": "done"},
        {"step": "repo", "phase": "done"},
    ]
    assert merge_history([tmp_path / "plan.json.journal.jsonl"]) == {"acme/app": {"merge"}}


def test_a_lost_answer_is_read_back_and_never_sent_twice(tmp_path: Path) -> None:
    github = FakeGitHub(READY, lose_answer=True)
    status, _, _ = run(github, tmp_path)
    assert status == "merged" and len(github.merged_with) == 1


def test_a_head_that_moved_while_the_answer_was_lost_is_not_merged_again(tmp_path: Path) -> None:
    github = FakeGitHub(READY, fail=True)
    github.reads = [replace(READY, head_oid="b" * 40)]
    status, detail, _ = run(github, tmp_path)
    assert status == "blocked" and "the head moved since it was read" in detail


def test_githubs_refusal_is_the_reason(tmp_path: Path) -> None:
    github = FakeGitHub(READY, refuse="Base branch was modified. Review and try the merge again.")
    status, detail, _ = run(github, tmp_path)
    assert (status, detail) == ("blocked", "GitHub refused: Base branch was modified. Review and try the merge again.")


def test_unknown_mergeability_is_read_again_before_deciding() -> None:
    unknown = replace(READY, mergeable="UNKNOWN", merge_state="UNKNOWN")
    github = FakeGitHub(READY, reads=[unknown, unknown])
    waits: list[float] = []
    facts = read_for_merge(github, [("acme/app", 3, "main")], sleep=waits.append)
    assert facts == [READY] and waits == [2.0, 4.0]
    github = FakeGitHub(unknown)
    assert read_for_merge(github, [("acme/app", 3, "main")], sleep=waits.append)[0].mergeable == "UNKNOWN"
