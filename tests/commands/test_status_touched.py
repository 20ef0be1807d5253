"""`status` agrees with `apply`: a PR whose branch a person pushed to is `touched`, and a PR apply closed as obsolete
shows no review decision (none is wanted any more). Against the sandbox, where main asks for one approval."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.apply.test_apply_sandbox import TOKEN
from tests.apply.test_campaign_e2e import BRANCH, REPOS, apply, plan, pulls, push
from tests.golden import golden_tree


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    seed = write_seed(
        tmp_path / "seed",
        {"acme": {name: golden_tree("reference") for name in REPOS}},
        repo_meta={f"acme/{name}": {"protection": {"required_reviews": 1}} for name in REPOS},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
    )
    with running_sandbox(seed) as running:
        yield running


def status(sandbox: Sandbox, plan_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    capsys.readouterr()
    assert main(["status", str(plan_path), "--api-url", sandbox.url, *extra]) == 0
    return capsys.readouterr().out


def test_a_touched_branch_and_an_obsolete_pr_read_as_apply_says(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = plan(sandbox, tmp_path, 1)
    apply(sandbox, capsys, first)
    push(sandbox, "alpha", {"notes.txt": "my own fix on top\n"}, branch=BRANCH)
    workflows = [str(p) for p in golden_tree("reference") if str(p).startswith(".github/workflows/")]
    push(sandbox, "gamma", dict.fromkeys(workflows))  # fixed by hand: apply closes its PR as obsolete
    second = plan(sandbox, tmp_path, 2)
    rows = apply(sandbox, capsys, second)
    assert (rows["alpha"]["status"], rows["gamma"]["status"]) == ("touched", "obsolete")
    assert [p["state"] for p in pulls(sandbox, "gamma")] == ["closed"]

    data = json.loads(status(sandbox, second, capsys, "--format", "json"))
    by_repo = {row["repo"]: row for row in data["repos"]}
    assert by_repo["acme/alpha"]["state"] == "touched"
    assert by_repo["acme/alpha"]["review"] == "REVIEW_REQUIRED"  # still open: a review is still wanted
    assert (by_repo["acme/gamma"]["state"], by_repo["acme/gamma"]["review"]) == ("obsolete", None)
    assert by_repo["acme/beta"]["state"] == "open"
    assert data["summary"]["touched"] == 1 and data["summary"]["open"] == 2  # touched is open, as a part

    lines = status(sandbox, second, capsys).splitlines()
    table = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert table["acme/alpha"][2:4] == ["touched", "REVIEW_REQUIRED"]
    assert table["acme/gamma"][2:4] == ["obsolete", "-"]
    assert lines[-1] == "campaign: 2 open, 1 touched, 0 checks failing, 0 approved, 0 merged, 0 closed, 1 obsolete"
    only = status(sandbox, second, capsys, "--state", "touched").splitlines()
    assert [line.split()[0] for line in only[1:-1]] == ["acme/alpha"]
