"""`plan --jobs N`: pages read concurrently, and the plan byte for byte what one page at a time makes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

ADMIN = "tok-admin-0123456789"
TREES = ("reference", "cross-file", "never-touched")
REPOS = 130  # three pages of 50: the two chains read 100 and 30


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    repos = {f"svc-{i:03d}": golden_tree(TREES[i % len(TREES)]) for i in range(REPOS)}
    seed = write_seed(
        tmp_path_factory.mktemp("seed"),
        {"acme": repos},
        repo_meta={f"acme/svc-{i:03d}": {"secrets": ["GH_PAT"]} for i in range(0, REPOS, 7)},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {ADMIN: "full"}}},
    )
    with running_sandbox(seed) as running:
        yield running


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _Frozen:  # type: ignore[override]
        return cls(2026, 12, 2, 5, 0, 0, tzinfo=UTC)


def test_jobs_1_and_jobs_4_write_byte_identical_plans(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    monkeypatch.setattr("migrator.plan.scan.datetime", _Frozen)
    plans = {}
    for jobs in ("1", "4"):
        out = tmp_path / f"plan-{jobs}.json"
        argv = ["plan", "--org", "acme", "--api-url", sandbox.url, "--plan-id", "acme-jobs", "--out", str(out)]
        assert main([*argv, "--jobs", jobs]) == 0
        plans[jobs] = out.read_bytes()
    assert plans["1"] == plans["4"]
    assert b"acme/svc-129" in plans["4"]  # the descending chain's first page


@pytest.mark.parametrize("jobs", ["0", "101", "many"])
def test_jobs_out_of_range_is_a_usage_error(jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--org", "acme", "--jobs", jobs])
    assert exited.value.code == 2
    assert "--jobs" in capsys.readouterr().err
