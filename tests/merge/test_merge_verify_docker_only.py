"""`merge --verify` goes on past a wave whose fixes only delete redundant docker workflows."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.commands import merge as merge_command
from migrator.sandbox.testing import FakeClock, Sandbox
from tests.merge.test_merge_verify import merge_verify, merged
from tests.verify.campaign import clock
from tests.verify.test_verify_docker_only import applied, sandbox

__all__ = ["clock", "sandbox"]  # the fixtures


@pytest.fixture(autouse=True)
def fake_time(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    monkeypatch.setattr(merge_command, "_sleep", clock.advance)
    monkeypatch.setattr(merge_command, "_clock", clock)


def test_a_wave_of_docker_only_fixes_with_no_release_workflow_lets_the_next_wave_go(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = applied(sandbox, clock, tmp_path)
    repos = ["--repo", "bare", "--repo", "bare2", "--canary", "1", "--wave-size", "1"]
    code, answer, err = merge_verify(sandbox, plan, capsys, *repos, "--wait", "10m")
    assert code == 0, answer
    assert answer["stopped"] is None
    assert "wave 1: 1 verified" in err and "wave 2: 1 verified" in err
    assert merged(sandbox, "bare") and merged(sandbox, "bare2")
