"""`merge --verify` against the sandbox's Actions model: a canary wave first, the next wave only once verify says
the last one's releases work; a canary that verifies broken stops the campaign there, saying why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migrator.cli import main
from migrator.commands import merge as merge_command
from migrator.sandbox.testing import FakeClock, Sandbox
from tests.verify.campaign import ORG, clock, gh, push_fix, sandbox, settle

__all__ = ["clock", "sandbox"]  # the fixtures


@pytest.fixture(autouse=True)
def fake_time(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    monkeypatch.setattr(merge_command, "_sleep", clock.advance)
    monkeypatch.setattr(merge_command, "_clock", clock)


def applied(sandbox: Sandbox, clock: FakeClock, tmp_path: Path) -> Path:
    for repo in ("good", "guarded", "weak"):
        push_fix(sandbox, repo)
    settle(sandbox, clock)
    plan = tmp_path / "plan.json"
    api = ["--api-url", sandbox.url]
    assert main(["plan", "--org", ORG, "--out", str(plan), *api]) == 0
    assert main(["apply", str(plan), "--min-interval", "0", *api]) == 0
    settle(sandbox, clock)  # the PRs' required checks finish
    return plan


def merge_verify(sandbox: Sandbox, plan: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any, str]:
    capsys.readouterr()
    argv = [
        "merge",
        str(plan),
        "--api-url",
        sandbox.url,
        "--min-interval",
        "0",
        "--format",
        "json",
        "--verify",
        "--image-source",
        "sandbox",
        "--poll-interval",
        "30",
        *extra,
    ]
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out), captured.err


def merged(sandbox: Sandbox, repo: str) -> bool:
    return bool(gh(sandbox, "GET", f"/repos/{ORG}/{repo}/pulls?state=all")[0]["merged"])


def test_a_canary_that_verifies_lets_the_next_wave_go_and_a_broken_one_stops_it(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = applied(sandbox, clock, tmp_path)
    repos = ["--repo", "good", "--repo", "guarded", "--repo", "weak"]
    code, answer, err = merge_verify(sandbox, plan, capsys, *repos, "--canary", "1", "--wave-size", "1")
    assert code == 1
    assert [row["repo"] for row in answer["repos"]] == ["acme/good", "acme/guarded"]  # weak's wave never came
    assert {row["status"] for row in answer["repos"]} == {"merged"}
    assert "wave 1: 1 verified" in err
    stopped = answer["stopped"]
    assert stopped.startswith("wave 2: acme/guarded verifies broken: main.yml failed in release"), stopped
    assert "GH006: Protected branch update failed for refs/heads/main." in stopped
    assert "next: main enforces protection for admins" in stopped
    assert merged(sandbox, "good") and merged(sandbox, "guarded") and not merged(sandbox, "weak")


def test_a_wave_still_pending_after_wait_stops_and_says_how_to_go_on(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = applied(sandbox, clock, tmp_path)
    code, answer, _ = merge_verify(sandbox, plan, capsys, "--repo", "good", "--repo", "weak", "--wait", "10s")
    assert code == 1
    assert [row["repo"] for row in answer["repos"]] == ["acme/good"]
    assert "still pending after --wait" in answer["stopped"]
    assert not merged(sandbox, "weak")
    # run again: the canary is merged (and verifies now), so the next wave goes, and is verified in turn
    code, answer, err = merge_verify(sandbox, plan, capsys, "--repo", "good", "--repo", "weak")
    assert "wave 1: 1 verified" in err
    assert merged(sandbox, "weak")
    assert code == 1 and answer["stopped"].startswith("wave 2: acme/weak verifies broken")


def test_every_wave_verified_exits_0(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = applied(sandbox, clock, tmp_path)
    code, answer, err = merge_verify(sandbox, plan, capsys, "--repo", "good")
    assert code == 0, answer
    assert answer["stopped"] is None and "wave 1: 1 verified" in err
