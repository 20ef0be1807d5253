"""`migrator verify` end to end against the sandbox's Actions model: one org whose repositories cover every
verdict. Runs take 60 simulated seconds (`actions_delay`) on a fake clock that the test moves by hand.

- good: a `fix:` commit failed to release; the merged fix releases it with the PAT (verified);
- quiet: merged, but nothing releasable came in (not-released);
- guarded: main enforces protection for admins, so the PAT is refused (broken, GitHub's GH006 text);
- racy: the duplicate docker workflows were kept (their deletion needs review), so two runs push one tag (broken);
- slow: merged last, its run still going (pending), then verified under `--wait`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.commands import verify as verify_command
from migrator.demo.seed import RELEASE_PAT, TOKEN, repo_files
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.sandbox.support import call

ORG = "acme"
DELAY = 60


def write_org(root: Path) -> Path:
    repos = {
        "good": repo_files("good"),
        "quiet": repo_files("quiet"),
        "guarded": repo_files("guarded"),
        "racy": repo_files("racy", platforms="linux/amd64"),  # differs from main.yml: the docker deletions need review
        "slow": repo_files("slow"),
    }
    protection = {"protection": {"contexts": ["test"]}}
    return write_seed(
        root,
        {ORG: repos},
        repo_meta={f"{ORG}/{name}": protection for name in ("good", "quiet", "racy", "slow")}
        | {f"{ORG}/guarded": {"protection": {"enforce_admins": True, "contexts": ["test"]}}},
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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("MIGRATOR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    monkeypatch.setattr(verify_command, "_sleep", clock.advance)
    with running_sandbox(write_org(tmp_path / "seed"), clock=clock, actions_delay=DELAY) as running:
        yield running
        assert running.actions_errors() == []


def gh(sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    status, _headers, answer = call(sandbox, method, path, token=TOKEN, body=body)
    assert status < 300, (method, path, answer)
    return answer


def push_fix(sandbox: Sandbox, repo: str) -> None:
    gh(sandbox, "POST", f"/_sandbox/repos/{ORG}/{repo}/commit",
       {"branch": "main", "message": "fix: handle empty input", "files": {"src/input.js": "// fix\n"}})


def merge(sandbox: Sandbox, repo: str) -> None:
    [pull] = gh(sandbox, "GET", f"/repos/{ORG}/{repo}/pulls?state=open")
    gh(sandbox, "PUT", f"/repos/{ORG}/{repo}/pulls/{pull['number']}/merge", {"merge_method": "squash"})


def settle(sandbox: Sandbox, clock: FakeClock) -> None:
    """Runs finish, then the runs their tags and releases started (the sandbox acts when it is next asked)."""
    for _ in range(3):
        clock.advance(DELAY + 1)
        gh(sandbox, "GET", f"/repos/{ORG}/good/actions/runs")


def campaign(sandbox: Sandbox, clock: FakeClock, tmp_path: Path) -> Path:
    """A `fix:` commit fails to release, the plan is applied, and every PR is merged (slow's last)."""
    for repo in ("good", "guarded", "racy", "slow"):
        push_fix(sandbox, repo)
    settle(sandbox, clock)
    plan = tmp_path / "plan.json"
    api = ["--api-url", sandbox.url]
    assert main(["plan", "--org", ORG, "--out", str(plan), *api]) == 0
    assert main(["apply", str(plan), "--min-interval", "0", *api]) == 0
    settle(sandbox, clock)  # the PRs' checks finish: they may be merged
    for repo in ("good", "quiet", "guarded", "racy"):
        merge(sandbox, repo)
    settle(sandbox, clock)
    merge(sandbox, "slow")
    return plan


def verify(plan: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["verify", str(plan), "--api-url", sandbox.url, "--image-source", "sandbox", "--format", "json",
                 *extra])
    return code, json.loads(capsys.readouterr().out)


def by_repo(answer: Any) -> dict[str, dict[str, Any]]:
    return {row["repo"].split("/")[1]: row for row in answer["repositories"]}


def test_every_verdict_then_pending_turns_verified_under_wait(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    code, answer = verify(plan, sandbox, capsys)
    rows = by_repo(answer)
    assert code == 1
    assert {name: row["verdict"] for name, row in rows.items()} == {
        "good": "verified", "quiet": "not-released", "guarded": "broken", "racy": "broken", "slow": "pending"}
    assert "released v1.0.0 as release-bot" in rows["good"]["summary"]
    assert "push a `fix:` commit" in rows["quiet"]["next_step"]
    assert rows["guarded"]["summary"] == (
        "main.yml failed in release at step Run npx semantic-release: "
        "remote: error: GH006: Protected branch update failed for refs/heads/main.")
    assert any("EGITNOPERMISSION" in line for line in rows["guarded"]["evidence"])
    assert rows["guarded"]["next_step"].startswith("main enforces protection for admins: the PAT is refused")
    assert "race: docker-build.yml and docker.yml both pushed ghcr.io/acme/racy:v1.0.0" in rows["racy"]["summary"]
    assert "redundant-docker" in rows["racy"]["next_step"]

    code, answer = verify(plan, sandbox, capsys, "--wait", "10m", "--poll-interval", "30")
    rows = by_repo(answer)
    assert code == 1  # guarded and racy are still broken
    assert rows["slow"]["verdict"] == "verified"
    assert [row["verdict"] for row in rows.values()].count("pending") == 0


def test_status_shows_the_release_verdict_of_each_merged_fix(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    capsys.readouterr()
    assert main(["status", str(plan), "--api-url", sandbox.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "release" in lines[0].split()
    row = {line.split()[0].split("/")[1]: line.split() for line in lines[1:]}
    assert (row["good"][2], row["good"][5]) == ("merged", "verified")
    assert row["guarded"][5] == "broken"
    assert row["slow"][5] == "pending"
    assert row["quiet"][5] == "not-released"
