"""The release workflow's latest run, read in the same bulk query, is the plan's evidence: show and the PR body lead
with it, and a release that already works makes the token fix `review` (something else lets it push)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from migrator.cli import main
from migrator.github.types import RunEvidence
from migrator.plan.model import Disposition
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree
from tests.plan.fakes import FakeReader, record
from tests.plan.test_scan import plan_of

MAIN = ".github/workflows/main.yml"


def run(conclusion: str | None, *, number: int = 65, job: str | None = "release") -> RunEvidence:
    return RunEvidence(
        workflow=MAIN,
        run_number=number,
        url=f"https://github.com/acme/service/actions/runs/{number}",
        created_at="2025-07-12T10:00:00Z",
        status="completed" if conclusion else "in_progress",
        conclusion=conclusion,
        failed_job=job if conclusion == "failure" else None,
    )


def planned(*runs: RunEvidence, released_at: str | None = None) -> Any:
    repo = replace(record("acme/service", golden_tree("reference")), runs=runs, latest_release_at=released_at)
    (planned_repo,) = plan_of(FakeReader([repo], org_wide=frozenset({"PAT_TOKEN"}))).repos
    return planned_repo


def token_fix(repo: Any) -> Any:
    return next(c for c in repo.changes if c.path == MAIN)


def test_a_failed_release_run_is_the_evidence_and_the_fix_stays_safe() -> None:
    repo = planned(run("success", number=64, job=None), run("failure"))
    assert repo.evidence["run_number"] == 65 and repo.evidence["failed_job"] == "release"
    assert token_fix(repo).disposition is Disposition.SAFE
    assert "**Evidence:** [run #65 of main.yml failed at job release on 2025-07-12]" in repo.body
    assert repo.body.index("**Evidence:**") < repo.body.index("### What is wrong")


def test_a_release_that_already_works_makes_the_token_fix_review() -> None:
    repo = planned(run("success"), released_at="2025-07-12T10:03:00Z")
    fix = token_fix(repo)
    assert fix.disposition is Disposition.REVIEW
    assert any("made the latest release: something else already lets the release push" in r for r in fix.reasons)


def test_a_green_run_that_released_nothing_proves_nothing() -> None:
    repo = planned(run("success"), released_at="2025-01-01T00:00:00Z")  # the release is older than the run
    assert token_fix(repo).disposition is Disposition.SAFE
    assert "released nothing (no releasable commit)" in repo.body


def test_no_run_of_the_release_workflow_means_no_evidence() -> None:
    other = replace(run("failure"), workflow=".github/workflows/ci.yml")
    assert planned(other).evidence is None


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path / "seed",
        {"acme": {"service": golden_tree("reference"), "open": golden_tree("reference")}},
        repo_meta={"acme/service": {"protection": {"contexts": ["test"]}}},
        org_meta={
            "acme": {
                "secrets": {"PAT_TOKEN": "tok-release"},
                "tokens": {"tok-admin": "full", "tok-release": {"power": "full", "login": "release-bot"}},
            }
        },
    )
    with running_sandbox(seed) as sandbox:
        yield sandbox


def push(sandbox: Sandbox, repo: str, message: str) -> None:
    body = {"branch": "main", "message": message, "files": {"src.txt": message}}
    request = urllib.request.Request(
        f"{sandbox.url}/_sandbox/repos/{repo}/commit", method="POST", data=json.dumps(body).encode()
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201


def test_plan_reads_the_evidence_in_its_bulk_query_against_the_actions_model(
    pipeline: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """acme/service is protected: GITHUB_TOKEN's release push fails. acme/open is not: the same workflow releases."""
    push(pipeline, "acme/service", "fix: handle empty input")
    push(pipeline, "acme/open", "fix: handle empty input")
    monkeypatch.setenv("GITHUB_TOKEN", "tok-admin")
    out = tmp_path / "plan.json"
    pipeline.clear_requests()
    assert main(["-q", "plan", "--org", "acme", "--api-url", pipeline.url, "-o", str(out)]) == 0
    graphql = [r for r in pipeline.requests() if r.path == "/graphql"]
    assert len(graphql) == 2  # the count and one page: the evidence cost no request of its own
    capsys.readouterr()
    assert main(["show", str(out), "--no-pager", "--no-diff"]) == 0
    text = capsys.readouterr().out
    assert "evidence: run #1 of main.yml failed at job release on " in text
    assert "evidence: run #1 of main.yml succeeded on " in text and "made the latest release" in text
    repos = {r["name"]: r for r in json.loads(out.read_text())["repos"]}
    opened = next(c for c in repos["acme/open"]["changes"] if c["path"] == MAIN)
    assert opened["disposition"] == "review"  # its release works today: the fix is not needed
    guarded = next(c for c in repos["acme/service"]["changes"] if c["path"] == MAIN)
    assert guarded["disposition"] == "safe"


def test_each_findings_evidence_chain_reaches_show_and_the_pr_body() -> None:
    repo = planned()
    token_findings = [f for f in repo.findings if f["rule"] == "token-mismatch"]
    assert token_findings and all(f["evidence"] for f in token_findings)
    first = token_findings[0]["evidence"][0]
    assert f"  - {first}" in repo.body  # under its finding, in the PR body
    from migrator.plan.render import change_reasons

    assert any(first in reason for reason in change_reasons(repo, token_fix(repo)))  # and in show's why lines
