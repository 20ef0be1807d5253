"""A sandbox org whose repositories cover every verdict, and the campaign a test runs on it (shared by the
verify and report tests). Runs take 60 simulated seconds (`actions_delay`) on a fake clock the tests move.

- good: a `fix:` commit failed to release; the merged fix releases it with the PAT (verified);
- quiet: merged, but nothing releasable came in (not-released);
- guarded: main enforces protection for admins, so the PAT is refused (broken, GitHub's GH006 text);
- weak: its PAT secret is a token with push but no admin, so protection refuses it too (broken);
- racy: a reviewer kept the duplicate docker workflow (switched its deletion off), so two runs push one tag (broken);
- slow: merged last, its run still going (pending).
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
WRITE_PAT = "write-pat-not-admin"


def write_org(root: Path) -> Path:
    repos = {
        "good": repo_files("good"),
        "quiet": repo_files("quiet"),
        "guarded": repo_files("guarded"),
        "weak": repo_files("weak", pat="WEAK_PAT"),
        "racy": repo_files("racy"),  # a reviewer switches the duplicate's deletion off in the plan
        "slow": repo_files("slow"),
    }
    protection = {"protection": {"contexts": ["test"]}}
    return write_seed(
        root,
        {ORG: repos},
        repo_meta={f"{ORG}/{name}": protection for name in ("good", "quiet", "racy", "slow")}
        | {f"{ORG}/guarded": {"protection": {"enforce_admins": True, "contexts": ["test"]}},
           f"{ORG}/weak": protection | {"secrets": {"WEAK_PAT": WRITE_PAT}}},
        org_meta={
            ORG: {
                "secrets": {"PAT_TOKEN": RELEASE_PAT},
                "tokens": {
                    TOKEN: {"power": "full", "login": "platform-bot"},
                    RELEASE_PAT: {"power": "full", "login": "release-bot"},
                    WRITE_PAT: {"power": "write", "login": "writer-bot"},
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


def keep_the_duplicate(plan: Path, repo: str) -> None:
    """A reviewer's edit of the plan's `enabled` switches: the docker workflow's deletion is not applied."""
    data = json.loads(plan.read_text())
    for planned in data["repos"]:
        if planned["name"] == repo:
            for change in planned["changes"]:
                if change["action"] == "delete":
                    change["enabled"] = False
    plan.write_text(json.dumps(data, indent=2))


def campaign(sandbox: Sandbox, clock: FakeClock, tmp_path: Path) -> Path:
    """A `fix:` commit fails to release, the plan is applied, and every PR is merged (slow's last)."""
    for repo in ("good", "guarded", "weak", "racy", "slow"):
        push_fix(sandbox, repo)
    settle(sandbox, clock)
    plan = tmp_path / "plan.json"
    api = ["--api-url", sandbox.url]
    assert main(["plan", "--org", ORG, "--out", str(plan), *api]) == 0
    keep_the_duplicate(plan, f"{ORG}/racy")
    assert main(["apply", str(plan), "--min-interval", "0", *api]) == 0
    settle(sandbox, clock)  # the PRs' checks finish: they may be merged
    for repo in ("good", "quiet", "guarded", "weak", "racy"):
        merge(sandbox, repo)
    settle(sandbox, clock)
    merge(sandbox, "slow")
    return plan
