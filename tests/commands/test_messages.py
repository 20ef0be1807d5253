"""Messages that must tell the truth: after Ctrl-C, what was done and how to resume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.apply import executor, pacing
from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

TOKEN = "tok-admin-0a1b2c3d4e5f"


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    seed = write_seed(
        tmp_path_factory.mktemp("seed"),
        {"acme": {"one": golden_tree("reference"), "two": golden_tree("reference")}},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
    )
    with running_sandbox(seed) as running:
        yield running


def test_ctrl_c_during_apply_says_what_was_done_and_how_to_resume(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.json"
    assert main(["-q", "plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(plan)]) == 0
    real_run = executor.RepoApply.run

    def interrupted_on_the_second(self: executor.RepoApply) -> executor.Outcome:
        if self.repo.name == "acme/two":
            raise KeyboardInterrupt
        return real_run(self)

    monkeypatch.setattr(executor.RepoApply, "run", interrupted_on_the_second)
    capsys.readouterr()
    assert main(["apply", str(plan), "--api-url", sandbox.url, "--min-interval", "0"]) == 130
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("migrator: error:")]
    assert "apply interrupted during acme/two: 1 of 2 repositories were done before it" in line
    assert "a branch without its PR" in line and f"re-run `migrator apply {plan}` to resume" in line
    monkeypatch.setattr(executor.RepoApply, "run", real_run)
    assert main(["-q", "apply", str(plan), "--api-url", sandbox.url, "--min-interval", "0"]) == 0
    out = capsys.readouterr().out
    assert "1 already-applied, 1 applied" in out  # resumed: acme/one was not redone


def test_limit_says_how_many_repositories_remain(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.json"
    assert main(["-q", "plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(plan)]) == 0
    capsys.readouterr()
    assert main(["-q", "apply", str(plan), "--api-url", sandbox.url, "--min-interval", "0", "--limit", "1"]) == 0
    assert (
        f"1 more enabled repositories remain beyond --limit 1; run `migrator apply {plan}`" in capsys.readouterr().out
    )


def test_generate_names_its_org_and_how_to_serve_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from migrator.sandbox.generate import main as generate

    assert generate(["--repos", "2", "--out", str(tmp_path / "seed"), "--org", "acme-test"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "seed")
    assert f"wrote org acme-test with 2 repositories to {tmp_path / 'seed'}" in err
    assert f"serve it with `migrator sandbox --seed {tmp_path / 'seed'}`" in err
