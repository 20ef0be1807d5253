"""`decide` and `waves`, pure: what merge does with a pull request GitHub describes so, and how waves are cut."""

from __future__ import annotations

from dataclasses import replace

from migrator.github.merging import CheckResult, MergeFacts
from migrator.merge.decide import Action, MergeOptions, Status, decide
from migrator.merge.waves import judge_wave, waves
from migrator.verify.model import Judgement, Verdict

READY = MergeFacts(
    repo="acme/app",
    number=7,
    state="open",
    head_oid="a" * 40,
    base_ref="main",
    mergeable="MERGEABLE",
    merge_state="CLEAN",
    methods=("squash", "merge", "rebase"),
)
TEST_FAILED = CheckResult("test", "failure", "https://ci/run/1", required=True)
LINT_FAILED = CheckResult("lint", "failure", None, required=False)


def test_a_clean_pr_is_merged_with_the_first_method_the_repository_allows() -> None:
    assert decide(READY, MergeOptions()) == decide(READY, MergeOptions(method="squash"))
    chosen = decide(replace(READY, methods=("merge", "rebase")), MergeOptions())
    assert (chosen.action, chosen.method) == (Action.MERGE, "merge")


def test_only_required_checks_block() -> None:
    passed = CheckResult("test", "success", None, required=True)
    unrequired = decide(replace(READY, checks=(passed, LINT_FAILED), merge_state="UNSTABLE"), MergeOptions())
    assert unrequired.action is Action.MERGE
    failing = decide(replace(READY, checks=(TEST_FAILED, LINT_FAILED), merge_state="BLOCKED"), MergeOptions())
    assert (failing.status, failing.reason) == (Status.BLOCKED, "checks failing: test (https://ci/run/1)")
    missing = decide(replace(READY, required_checks=("build",), merge_state="BLOCKED"), MergeOptions())
    assert (missing.status, missing.reason) == (Status.PENDING, "checks pending: build (not started)")


def test_where_no_check_is_required_every_check_must_pass() -> None:
    red = decide(replace(READY, checks=(LINT_FAILED,), merge_state="UNSTABLE"), MergeOptions())
    assert (red.status, red.reason) == (Status.BLOCKED, "checks failing: lint")
    running = CheckResult("lint", "pending", None, required=False)
    assert decide(replace(READY, checks=(running,)), MergeOptions()).status is Status.PENDING
    assert decide(READY, MergeOptions()).action is Action.MERGE  # no checks at all: nothing to wait for


def test_reviews_count_what_is_still_needed() -> None:
    facts = replace(READY, review_decision="REVIEW_REQUIRED", required_reviews=2, approvals=1, merge_state="BLOCKED")
    assert decide(facts, MergeOptions()).reason == "needs 1 approving review"
    assert decide(replace(facts, approvals=0), MergeOptions()).reason == "needs 2 approving reviews"
    changes = decide(replace(facts, review_decision="CHANGES_REQUESTED"), MergeOptions())
    assert changes.status is Status.BLOCKED


def test_auto_merge_only_for_what_time_or_a_reviewer_can_settle() -> None:
    pending = replace(READY, checks=(replace(TEST_FAILED, state="pending"),), auto_merge_allowed=True)
    assert decide(pending, MergeOptions(auto=True)).action is Action.AUTO
    assert decide(pending, MergeOptions()).status is Status.PENDING
    failing = replace(READY, checks=(TEST_FAILED,), auto_merge_allowed=True)
    assert decide(failing, MergeOptions(auto=True)).action is Action.NONE


def test_admin_is_used_only_when_asked_and_granted() -> None:
    blocked = replace(READY, checks=(TEST_FAILED,), merge_state="BLOCKED")
    assert decide(blocked, MergeOptions(admin=True)).action is Action.NONE  # GitHub does not grant it
    granted = decide(replace(blocked, viewer_admin=True), MergeOptions(admin=True))
    assert (granted.action, granted.admin) == (Action.MERGE, True)
    assert decide(replace(blocked, viewer_admin=True), MergeOptions()).action is Action.NONE


def test_states_that_end_the_decision() -> None:
    assert decide(replace(READY, state="merged"), MergeOptions()).status is Status.ALREADY_MERGED
    assert decide(replace(READY, state="closed"), MergeOptions()).status is Status.CLOSED
    assert decide(replace(READY, draft=True), MergeOptions()).status is Status.BLOCKED
    assert decide(replace(READY, mergeable="UNKNOWN"), MergeOptions()).status is Status.PENDING
    conflict = decide(replace(READY, mergeable="CONFLICTING"), MergeOptions())
    assert conflict.reason == "conflicts with main; run apply to refresh"
    behind = decide(replace(READY, merge_state="BEHIND"), MergeOptions())
    assert behind.reason.startswith("behind main, which requires branches to be up to date")
    assert decide(replace(READY, queue=True), MergeOptions()).action is Action.ENQUEUE
    assert decide(replace(READY, in_queue=True), MergeOptions()).status is Status.QUEUED


def test_waves_start_with_the_canary_then_double_or_keep_a_size() -> None:
    assert waves(list(range(10)), canary=1, wave_size=None) == [[0], [1, 2], [3, 4, 5, 6], [7, 8, 9]]
    assert waves(list(range(5)), canary=2, wave_size=1) == [[0, 1], [2], [3], [4]]


def test_a_wave_goes_on_only_when_every_merged_release_is_verified() -> None:
    def judged(verdict: Verdict) -> Judgement:
        return Judgement("acme/app", verdict, f"{verdict}", evidence=("run 1 failed",), next_step="fix it")

    assert judge_wave([judged(Verdict.VERIFIED)], number=1, timed_out=False).go_on
    broken = judge_wave([judged(Verdict.VERIFIED), judged(Verdict.BROKEN)], number=1, timed_out=False)
    assert not broken.go_on and broken.reason == "wave 1: acme/app verifies broken: broken; run 1 failed; next: fix it"
    assert not judge_wave([judged(Verdict.NOT_RELEASED)], number=1, timed_out=False).go_on
    assert not judge_wave([], number=1, timed_out=False).go_on
