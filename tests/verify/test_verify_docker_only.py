"""`verify` of a repository whose only fix deletes a redundant docker workflow (rule redundant-docker)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.commands import verify as verify_command
from migrator.demo.seed import MAIN, RELEASE_PAT, TOKEN, repo_files
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.verify.campaign import DELAY, ORG, gh, merge, push_fix

FIXED_MAIN = (
    MAIN.format(pat="PAT_TOKEN")
    .replace("secrets.GITHUB_TOKEN }}  # cannot", "secrets.PAT_TOKEN }}  # can")
    .replace("x-access-token:${{ secrets.GITHUB_TOKEN }}", "x-access-token:${{ secrets.PAT_TOKEN }}")
    .replace("GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}", "GITHUB_TOKEN: ${{ secrets.PAT_TOKEN }}")
)


def docker_only(name: str) -> dict[str, str]:
    """The release already uses the PAT: the only fix deletes docker.yml, a duplicate of docker-build.yml."""
    return repo_files(name) | {".github/workflows/main.yml": FIXED_MAIN}


def no_release_workflow(name: str) -> dict[str, str]:
    """Releases are made by hand: two docker workflows push on them, and no workflow releases."""
    files = repo_files(name)
    del files[".github/workflows/main.yml"]
    return files


REPOS = {"dup": docker_only("dup"), "bare": no_release_workflow("bare"), "bare2": no_release_workflow("bare2")}


@pytest.fixture
def sandbox(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("MIGRATOR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    monkeypatch.setattr(verify_command, "_sleep", clock.advance)
    seed = write_seed(
        tmp_path / "seed",
        {ORG: REPOS},
        repo_meta={f"{ORG}/{name}": {"protection": {"contexts": ["test"]}} for name in REPOS},
        org_meta={
            ORG: {
                "secrets": {"PAT_TOKEN": RELEASE_PAT},
                "tokens": {
                    TOKEN: {"power": "full", "login": "platform-bot"},
                    RELEASE_PAT: {"power": "full", "login": "release-bot"},
                },
            }
        },
    )
    with running_sandbox(seed, clock=clock, actions_delay=DELAY) as running:
        yield running
        assert running.actions_errors() == []


def settle(sandbox: Sandbox, clock: FakeClock) -> None:
    for _ in range(3):
        clock.advance(DELAY + 1)
        gh(sandbox, "GET", f"/repos/{ORG}/dup/actions/runs")


def applied(sandbox: Sandbox, clock: FakeClock, tmp_path: Path) -> Path:
    plan = tmp_path / "plan.json"
    api = ["--api-url", sandbox.url]
    assert main(["plan", "--org", ORG, "--out", str(plan), *api]) == 0
    assert main(["apply", str(plan), "--min-interval", "0", *api]) == 0
    settle(sandbox, clock)  # the PRs' required checks finish
    return plan


def verify(plan: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(
        ["verify", str(plan), "--api-url", sandbox.url, "--image-source", "sandbox", "--format", "json", *extra]
    )
    rows = {row["repo"].split("/")[1]: row for row in json.loads(capsys.readouterr().out)["repositories"]}
    return code, rows


def test_the_kept_workflow_running_after_the_merge_verifies_a_docker_only_fix(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = applied(sandbox, clock, tmp_path)
    changes = {r["name"]: {c["path"]: c["rules"] for c in r["changes"]} for r in json.loads(plan.read_text())["repos"]}
    assert ".github/workflows/docker.yml" in changes[f"{ORG}/dup"]
    assert all("token-mismatch" not in rules for rules in changes[f"{ORG}/dup"].values())
    merge(sandbox, "dup")
    settle(sandbox, clock)
    code, rows = verify(plan, sandbox, capsys, "--repo", "dup")
    assert code == 1
    assert rows["dup"]["verdict"] == "not-released"  # the merge released nothing, so docker-build.yml has not run
    assert "docker-build.yml" in rows["dup"]["next_step"]
    push_fix(sandbox, "dup")
    settle(sandbox, clock)
    code, rows = verify(plan, sandbox, capsys, "--repo", "dup")
    assert (code, rows["dup"]["verdict"]) == (0, "verified"), rows
    assert rows["dup"]["summary"] == "docker-build.yml ran after the merge; no two runs pushed one image tag"
    assert "image ghcr.io/acme/dup:v1.0.0 pushed by 1 run(s): docker-build.yml" in rows["dup"]["evidence"]


def test_with_no_release_workflow_the_deletion_is_done(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = applied(sandbox, clock, tmp_path)
    merge(sandbox, "bare")
    settle(sandbox, clock)
    code, rows = verify(plan, sandbox, capsys, "--repo", "bare")
    assert (code, rows["bare"]["verdict"]) == (0, "verified")
    assert rows["bare"]["summary"] == "the duplicate docker workflow is gone; no release workflow to watch"
    assert any("docker-build.yml will publish the image" in line for line in rows["bare"]["evidence"])
