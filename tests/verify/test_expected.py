"""Verify's evidence beyond the runs: the workflows a release should start (from their `on:`) and GHCR's package
versions (a race, a missing image, or "cannot tell")."""

from __future__ import annotations

from dataclasses import replace

from migrator.verify.expected import expected_workflows, suspects
from migrator.verify.model import ImagePush, PackageVersion, RegistryFact, Verdict, WorkflowFile
from migrator.verify.verdict import judge
from tests.verify.test_verdict import MAIN, MERGED, NOW, RELEASE, run

DOCKER = ".github/workflows/docker.yml"
WORKFLOWS = (
    WorkflowFile(MAIN, "on:\n  push:\n    branches: [main]\njobs: {}\n"),
    WorkflowFile(DOCKER, "on:\n  release:\n    types: [published]\njobs: {}\n"),
)


def test_the_workflows_a_release_or_its_tag_starts() -> None:
    files = [
        WorkflowFile(".github/workflows/a.yml", "on: release\n"),
        WorkflowFile(".github/workflows/b.yml", "on:\n  push:\n    tags: ['v*']\n"),
        WorkflowFile(".github/workflows/c.yml", "on: push\n"),  # no filters: tag pushes too
        WorkflowFile(".github/workflows/d.yml", "on:\n  push:\n    branches: [main]\n"),
        WorkflowFile(".github/workflows/e.yml", "on:\n  release:\n    types: [prereleased]\n"),
        WorkflowFile(
            ".github/workflows/f.yml", "on:\n  push:\n    tags: ['v*']\n    paths: [src/**]\n"
        ),  # no paths for tags
        WorkflowFile(".github/workflows/g.yml", "on: [pull_request\n"),  # unreadable
        WorkflowFile(".github/workflows/h.yml", "on:\n  push:\n    tags: ['release-*']\n"),
    ]
    assert expected_workflows(files, "v1.4.2") == (
        ".github/workflows/a.yml",
        ".github/workflows/b.yml",
        ".github/workflows/c.yml",
        ".github/workflows/f.yml",
    )


def _released(**facts: object) -> object:
    base = replace(MERGED, runs=(run(),), releases=(RELEASE,), workflows=WORKFLOWS)
    return replace(base, **facts)  # type: ignore[arg-type]


def test_an_on_release_workflow_that_did_not_run_is_broken_with_the_next_step() -> None:
    judged = judge(_released(), NOW)  # type: ignore[arg-type]
    assert (judged.verdict, judged.summary) == (Verdict.BROKEN, "docker.yml did not run for v1.4.2")
    assert "docker.yml runs on the release or its tag, but did not run for v1.4.2" in judged.evidence
    assert "GITHUB_TOKEN starts no workflow" in judged.next_step


def test_one_that_ran_makes_it_verified_and_one_just_released_is_pending() -> None:
    ran = (run(), run(workflow=DOCKER, event="release", run_id=2))
    assert judge(_released(runs=ran), NOW).verdict is Verdict.VERIFIED  # type: ignore[arg-type]
    fresh = replace(RELEASE, created_at="2026-12-02T11:58:00Z")
    judged = judge(_released(releases=(fresh,)), NOW)  # type: ignore[arg-type]
    assert (judged.verdict, judged.summary) == (Verdict.PENDING, "v1.4.2 is out; waiting for docker.yml to start")


def test_workflow_files_not_read_expect_nothing() -> None:
    assert judge(_released(workflows=None), NOW).verdict is Verdict.VERIFIED  # type: ignore[arg-type]


RACY_RUNS = (run(), run(workflow=DOCKER, event="release", run_id=2))
INFERRED = (
    ImagePush("ghcr.io/acme/app:1.4.2", 1, MAIN, inferred=True),
    ImagePush("ghcr.io/acme/app:1.4.2", 2, DOCKER, inferred=True),
)


def _registry(*versions: PackageVersion, unreadable: str = "") -> RegistryFact:
    return RegistryFact("ghcr.io/acme/app", versions, unreadable)


def test_the_registry_confirms_a_race_the_jobs_only_suggest() -> None:
    plain = _released(runs=RACY_RUNS, images=INFERRED)
    assert suspects(plain)  # type: ignore[arg-type]
    assert judge(plain, NOW).verdict is Verdict.VERIFIED  # type: ignore[arg-type]  # inferred pushes never race
    registry = _registry(
        PackageVersion("sha256:" + "b" * 64, ("1.4.2", "latest"), "2026-12-02T11:02:30Z"),
        PackageVersion("sha256:" + "a" * 64, (), "2026-12-02T11:02:10Z"),
    )
    judged = judge(replace(plain, registry=registry), NOW)  # type: ignore[type-var]
    assert judged.verdict is Verdict.BROKEN and judged.caused_by_fix
    assert judged.summary == "race: docker.yml and main.yml both pushed ghcr.io/acme/app:1.4.2"
    assert any(
        line.startswith("registry ghcr.io/acme/app: 2 version(s) pushed since v1.4.2") for line in judged.evidence
    )


def test_a_registry_that_cannot_tell_is_evidence_of_nothing() -> None:
    facts = _released(runs=RACY_RUNS, images=INFERRED, registry=_registry(unreadable="403 Forbidden"))
    judged = judge(facts, NOW)  # type: ignore[arg-type]
    assert judged.verdict is Verdict.VERIFIED
    assert "registry ghcr.io/acme/app: cannot tell (403 Forbidden)" in judged.evidence


def test_an_image_the_job_built_but_the_registry_lacks_is_broken() -> None:
    one = (INFERRED[0],)
    registry = _registry(PackageVersion("sha256:" + "c" * 64, ("1.4.1",), "2026-11-01T00:00:00Z"))
    assert not suspects(_released(images=one)) and suspects(_released(images=one), every_image=True)  # type: ignore[arg-type]
    judged = judge(_released(runs=RACY_RUNS, images=one, registry=registry), NOW)  # type: ignore[arg-type]
    assert judged.verdict is Verdict.BROKEN
    assert judged.summary == "the image job ran but the registry holds no ghcr.io/acme/app:1.4.2"
    assert "registry ghcr.io/acme/app: no version is tagged 1.4.2" in judged.evidence
