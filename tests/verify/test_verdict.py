"""`judge`: facts in, a verdict with evidence and a next step out; no I/O, so every branch is cheap to pin."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from migrator.demo.seed import MAIN as MAIN_TEXT
from migrator.verify.model import CheckFact, ImagePush, ReleaseFact, RepoFacts, RunFact, Verdict, WorkflowFile
from migrator.verify.verdict import APP_TOKEN_STEP, NO_POWER_STEP, judge

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
MAIN = ".github/workflows/main.yml"
GH006 = "remote: error: GH006: Protected branch update failed for refs/heads/main."
MERGED = RepoFacts(
    repo="acme/app", pr_number=7, pr_url="https://github.com/acme/app/pull/7", pr_state="merged",
    merged_at="2026-12-02T11:00:00Z", merge_commit="m1", commits=("m1",), release_workflows=(MAIN,),
)


def run(status: str = "completed", conclusion: str | None = "success", *, workflow: str = MAIN, event: str = "push",
        run_id: int = 1, jobs: tuple[CheckFact, ...] = ()) -> RunFact:
    return RunFact(run_id, f"https://github.com/acme/app/actions/runs/{run_id}", workflow, event, "m1",
                   "2026-12-02T11:00:05Z", status, conclusion, jobs)


RELEASE = ReleaseFact("v1.4.2", "https://github.com/acme/app/releases/tag/v1.4.2", "2026-12-02T11:01:00Z",
                      "release-bot", "m1")


def test_a_pr_not_merged_is_not_judged() -> None:
    assert judge(replace(MERGED, pr_state="open", merged_at=None), NOW).verdict is Verdict.NOT_MERGED


def test_no_run_yet_is_pending_with_the_time_since_the_merge() -> None:
    judged = judge(MERGED, NOW)
    assert (judged.verdict, judged.summary) == (Verdict.PENDING, "no release run yet, 60 min after the merge")


def test_a_run_in_progress_is_pending() -> None:
    assert judge(replace(MERGED, runs=(run("in_progress", None),)), NOW).verdict is Verdict.PENDING


def test_a_green_run_without_a_release_is_not_released() -> None:
    judged = judge(replace(MERGED, runs=(run(),)), NOW)
    assert judged.verdict is Verdict.NOT_RELEASED and "fix:" in judged.next_step


def test_a_release_by_the_pat_with_one_push_per_image_tag_is_verified() -> None:
    images = (ImagePush("ghcr.io/acme/app:1.4.2", 1, MAIN),)
    judged = judge(replace(MERGED, runs=(run(),), releases=(RELEASE,), images=images), NOW)
    assert (judged.verdict, judged.summary) == (Verdict.VERIFIED, "released v1.4.2 as release-bot")
    assert ("release", RELEASE.url) in judged.links
    assert "image ghcr.io/acme/app:1.4.2 pushed by 1 run(s): main.yml" in judged.evidence


def test_two_runs_pushing_one_image_tag_is_a_race() -> None:
    images = (ImagePush("ghcr.io/acme/app:1.4.2", 1, MAIN), ImagePush("ghcr.io/acme/app:1.4.2", 2,
                                                                     ".github/workflows/docker-publish.yml"))
    runs = (run(), run(workflow=".github/workflows/docker-publish.yml", event="release", run_id=2))
    judged = judge(replace(MERGED, runs=runs, releases=(RELEASE,), images=images), NOW)
    assert judged.verdict is Verdict.BROKEN
    assert judged.summary == "race: docker-publish.yml and main.yml both pushed ghcr.io/acme/app:1.4.2"


def test_a_run_the_release_started_still_going_is_pending() -> None:
    runs = (run(), run("queued", None, workflow=".github/workflows/docker.yml", event="release", run_id=2))
    assert judge(replace(MERGED, runs=runs, releases=(RELEASE,)), NOW).verdict is Verdict.PENDING


def _refused(**facts: object) -> RepoFacts:
    job = CheckFact("release", "completed", "failure", "Failed at step Release",
                    f"[semantic-release] › ✘  The command failed with the error message {GH006}\n"
                    "[semantic-release] › ✘  EGITNOPERMISSION Cannot push to the Git repository.")
    return replace(MERGED, runs=(run(conclusion="failure", jobs=(job,)),), **facts)  # type: ignore[arg-type]


def test_protection_enforced_for_admins_names_the_app_token_rule() -> None:
    judged = judge(_refused(admin_enforced=True), NOW)
    assert judged.verdict is Verdict.BROKEN
    assert judged.summary == f"main.yml failed in release at step Release: {GH006}"
    assert judged.next_step == APP_TOKEN_STEP.format(branch="main")
    assert any("EGITNOPERMISSION" in line for line in judged.evidence)


def test_a_token_without_the_power_to_pass_protection_says_so() -> None:
    judged = judge(_refused(admin_enforced=False), NOW)
    assert judged.next_step == NO_POWER_STEP.format(branch="main")


def test_a_failure_without_a_refusal_points_at_the_log() -> None:
    job = CheckFact("test", "completed", "failure", "Failed at step npm test", "Error: 3 tests failed")
    judged = judge(replace(MERGED, runs=(run(conclusion="failure", jobs=(job,)),)), NOW)
    assert judged.verdict is Verdict.BROKEN and judged.next_step.startswith("read the failing step's log")


def test_a_later_push_that_releases_wins_over_an_earlier_green_run() -> None:
    later = replace(run(run_id=2), commit="m2")
    release = replace(RELEASE, commit="m2")
    facts = replace(MERGED, commits=("m1", "m2"), runs=(run(), later), releases=(release,))
    assert judge(facts, NOW).verdict is Verdict.VERIFIED


DOCKER_BUILD = ".github/workflows/docker-build.yml"
DOCKER_ONLY = replace(MERGED, release_workflows=(), keepers=(DOCKER_BUILD,), docker_only=True)


def test_a_docker_only_fix_with_no_release_workflow_is_pending_a_moment_then_done() -> None:
    just_merged = judge(DOCKER_ONLY, datetime(2026, 12, 2, 11, 1, tzinfo=UTC))
    assert just_merged.verdict is Verdict.PENDING
    judged = judge(DOCKER_ONLY, NOW)
    assert (judged.verdict, judged.summary) == (
        Verdict.VERIFIED, "the duplicate docker workflow is gone; no release workflow to watch")


def test_a_docker_only_fix_is_verified_by_its_kept_workflow_and_broken_by_a_remaining_race() -> None:
    kept = run(workflow=DOCKER_BUILD, event="release", run_id=2)
    judged = judge(replace(DOCKER_ONLY, runs=(kept,), releases=(RELEASE,)), NOW)
    assert (judged.verdict, judged.summary) == (
        Verdict.VERIFIED, "docker-build.yml ran after the merge; no two runs pushed one image tag")
    pushes = (ImagePush("ghcr.io/acme/app:1.4.2", 2, DOCKER_BUILD), ImagePush("ghcr.io/acme/app:1.4.2", 3, MAIN))
    raced = judge(replace(DOCKER_ONLY, runs=(kept,), releases=(RELEASE,), images=pushes), NOW)
    assert raced.verdict is Verdict.BROKEN and raced.summary.startswith("race: ")
    going = judge(replace(DOCKER_ONLY, runs=(run("in_progress", None, workflow=DOCKER_BUILD, run_id=2),)), NOW)
    assert going.verdict is Verdict.PENDING


def test_a_docker_only_fix_with_a_release_workflow_that_did_not_run_waits_for_the_next_release() -> None:
    files = (WorkflowFile(MAIN, MAIN_TEXT.format(pat="PAT_TOKEN")),)
    judged = judge(replace(DOCKER_ONLY, workflows=files), NOW)
    assert judged.verdict is Verdict.PENDING
    assert judged.summary == "no release since the merge (60 min): the next release by main.yml runs docker-build.yml"
    assert judged.next_step.startswith("release as usual (main.yml)")


def test_a_docker_only_fix_whose_release_released_nothing_is_not_released() -> None:
    release_run = run(jobs=(CheckFact("release", "completed", "success"),))
    judged = judge(replace(DOCKER_ONLY, runs=(release_run,)), NOW)
    assert judged.verdict is Verdict.NOT_RELEASED and "docker-build.yml" in judged.next_step
