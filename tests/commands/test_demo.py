"""`migrator demo` is the first thing a new user runs: it must go through every step and end well."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.apply import pacing
from migrator.cli import main


def test_demo_runs_every_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    assert main(["demo", "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for step in range(1, 12):
        assert f"[{step}/11]" in out
    assert "applied" in out and "revert-opened" in out and "blocked" in out
    assert "enforces protection for admins" in out
    before, after = out.split("[6/11]", 1)
    assert "release failure" in before and "EGITNOPERMISSION" in before and "tags: none; no release" in before
    assert "release success" in after and "release v1.0.0 by release-bot" in after  # the outcome, not the merge
    assert "image ghcr.io/demo-org/api:latest pushed by 1 run(s)" in after  # once: the duplicates are gone
    assert "success (test: success)" in after  # status shows real checks
    assert (tmp_path / "plan.json.journal.jsonl").exists()
    verified = out.split("[10/11]", 1)[1].split("[11/11]", 1)[0]
    assert "demo-org/api" in verified and "verified" in verified and "released v1.0.0 as release-bot" in verified
    page = (tmp_path / "report.html").read_text()
    assert '<svg class="burndown"' in page and 'data-state="release verified"' in page
