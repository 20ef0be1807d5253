"""A token that cannot do what the plan needs is refused before the first write: one line, exit 2, no write.

Without this, `apply` at 1,000 repositories with a read-only token walks the whole org and collects a 403
per repository. And the last apply is recorded where `status` and `rollback` find it from any directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.plan.model import digest_of
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from migrator.state import last_apply
from tests.golden import golden_tree

ADMIN, NO_WORKFLOW, READ = "tok-admin-0a1b2c3d4e5f", "tok-noworkflow-0a1b2c3d", "tok-read-0a1b2c3d4e5f"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path_factory.mktemp("seed"),
        {"acme": {"service": golden_tree("reference"), "tool": golden_tree("cross-file")}},
        org_meta={
            "acme": {"secrets": ["PAT_TOKEN"], "tokens": {ADMIN: "full", NO_WORKFLOW: "no-workflow", READ: "read"}}
        },
    )
    with running_sandbox(seed) as running:
        yield running


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)


def planned(sandbox: Sandbox, path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    assert main(["-q", "plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(path)]) == 0
    return path


def mutations(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["graphql_mutations"])


def writes(sandbox: Sandbox, mutations_before: int = 0) -> list[str]:
    """REST writes since the request log was cleared, and GraphQL mutations (POST /graphql, like queries)."""
    rest = [f"{r.method} {r.path}" for r in sandbox.requests() if r.method in WRITES and r.path != "/graphql"]
    return rest + ["mutation"] * (mutations(sandbox) - mutations_before)


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (READ, "the token is read-only: it needs the `repo` scope"),
        (NO_WORKFLOW, "the token lacks the `workflow` scope"),
    ],
)
def test_a_token_that_cannot_write_is_refused_before_any_write(
    token: str,
    said: str,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = planned(sandbox, tmp_path / "plan.json", monkeypatch)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    sandbox.clear_requests()
    capsys.readouterr()
    assert main(["apply", str(plan), "--api-url", sandbox.url]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("migrator: error: apply refused before any write: ") and said in line
    assert writes(sandbox) == [] and len(sandbox.requests()) == 1  # only GET /user
    assert last_apply() is None and not list(tmp_path.glob("*.journal.jsonl"))


def test_another_identity_than_the_plans_is_refused(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = planned(sandbox, tmp_path / "plan.json", monkeypatch)
    data: dict[str, Any] = json.loads(plan.read_text())
    data["token"]["login"] = "release-bot"
    data["digest"] = digest_of(data)
    plan.write_text(json.dumps(data))
    sandbox.clear_requests()
    capsys.readouterr()
    assert main(["apply", str(plan), "--api-url", sandbox.url]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "the plan was made as release-bot, but this token is sandbox-user" in line
    assert writes(sandbox) == []


def test_rollback_with_a_read_only_token_is_refused_before_any_write(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = planned(sandbox, tmp_path / "plan.json", monkeypatch)
    assert main(["-q", "apply", str(plan), "--api-url", sandbox.url, "--min-interval", "0"]) == 0
    monkeypatch.setenv("GITHUB_TOKEN", READ)
    sandbox.clear_requests()
    before = mutations(sandbox)
    capsys.readouterr()
    assert main(["rollback", "--yes", "--api-url", sandbox.url]) == 2
    assert "rollback refused before any write: the token is read-only" in capsys.readouterr().err
    assert writes(sandbox, before) == []


def test_status_and_rollback_find_the_last_apply_from_any_directory(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "elsewhere").mkdir()
    plan = planned(sandbox, tmp_path / "elsewhere" / "plan.json", monkeypatch)
    assert main(["-q", "apply", str(plan), "--api-url", sandbox.url, "--min-interval", "0"]) == 0
    recorded = last_apply()
    assert recorded is not None and recorded.plan == plan.resolve()
    monkeypatch.chdir(tmp_path)  # no plans/ folder here
    capsys.readouterr()
    assert main(["status", "--api-url", sandbox.url]) == 0
    out, err = capsys.readouterr()
    assert f"status: plan {plan.resolve()} (applied {recorded.applied_at}; the last apply)" in err
    assert "acme/service" in out and "open" in out
    assert main(["rollback", "--yes", "--api-url", sandbox.url]) == 0
    out, err = capsys.readouterr()
    assert f"rollback: plan {plan.resolve()} (applied {recorded.applied_at}; the last apply)" in err
    assert out.count("closed") >= 2


def test_a_plan_whose_every_change_is_blocked_says_so_and_exits_1(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", READ)
    path = tmp_path / "plan.json"
    assert main(["-q", "plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(path)]) == 1
    assert "every change of this plan is blocked: the token is read-only" in capsys.readouterr().out
    assert main(["apply", str(path), "--api-url", sandbox.url]) == 1
    assert "every change of this plan is blocked, so nothing can be applied" in capsys.readouterr().out
