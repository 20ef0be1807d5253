"""A campaign end to end against the sandbox: re-plans and re-applies keep one PR per repository, update it when
the base moves under a planned file, close it when no change is needed, leave alone a branch a person pushed to,
and a rollback of the campaign undoes exactly what all of its plans made."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox
from tests.apply.test_apply_sandbox import TOKEN, contents, gh
from tests.golden import golden_tree, reference_org_seed

REPOS = ("alpha", "beta", "gamma")
CAMPAIGN = "acme-release"
BRANCH = "migrator/" + CAMPAIGN


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    seed = reference_org_seed(tmp_path / "seed", REPOS, TOKEN)
    with running_sandbox(seed) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)


def plan(sandbox: Sandbox, tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"plan-{n}.json"
    argv = ["plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(path)]
    assert main([*argv, "--campaign", CAMPAIGN, "--plan-id", f"acme-run-{n}"]) == 0
    return path


def apply(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    main(["apply", str(path), "--api-url", sandbox.url, "--min-interval", "0", "--format", "json", *extra])
    rows = json.loads(capsys.readouterr().out)["repos"]
    return {row["repo"].split("/", 1)[1]: row for row in rows}


def writes(sandbox: Sandbox) -> int:
    rest = sum(
        1
        for r in sandbox.requests()
        if not r.path.startswith(("/graphql", "/_sandbox")) and r.method in {"POST", "PATCH", "PUT", "DELETE"}
    )
    return rest + int(sandbox.stats()["graphql_mutations"])


def states(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text())
    found = {r["name"].split("/", 1)[1]: r.get("found", {"state": "new"})["state"] for r in data["repos"]}
    found.update({r["name"].split("/", 1)[1]: r["found"]["state"] for r in data.get("retired", ())})
    return found


def pulls(sandbox: Sandbox, repo: str) -> list[dict[str, Any]]:
    return list(gh(sandbox, "GET", f"/repos/acme/{repo}/pulls?state=all"))


def branch_sha(sandbox: Sandbox, repo: str, branch: str = BRANCH) -> str | None:
    refs = gh(sandbox, "GET", f"/repos/acme/{repo}/git/matching-refs/heads/{branch}")
    exact = [r for r in refs if r["ref"] == f"refs/heads/{branch}"]
    return exact[0]["object"]["sha"] if exact else None


def push(sandbox: Sandbox, repo: str, files: dict[str, str | None], *, branch: str = "main") -> None:
    gh(
        sandbox,
        "POST",
        f"/_sandbox/repos/acme/{repo}/commit",
        {"branch": branch, "message": "by a person", "files": files},
    )


def planned_file(path: Path, repo: str) -> dict[str, Any]:
    data = json.loads(path.read_text())
    planned = next(r for r in data["repos"] if r["name"] == f"acme/{repo}")
    return next(c for c in planned["changes"] if c["enabled"] and c["action"] == "modify")


def test_no_duplicates_across_three_plans(sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = plan(sandbox, tmp_path, 1)
    assert set(states(first).values()) == {"new"}
    assert {row["status"] for row in apply(sandbox, capsys, first).values()} == {"applied"}
    after_first = writes(sandbox)
    for n in (2, 3, 4):
        again = plan(sandbox, tmp_path, n)
        assert set(states(again).values()) == {"up-to-date"}
        rows = apply(sandbox, capsys, again)
        assert {row["status"] for row in rows.values()} == {"already-applied"}
        assert writes(sandbox) == after_first  # every run after the first writes nothing
    for repo in REPOS:
        assert [(p["state"], p["head"]["ref"]) for p in pulls(sandbox, repo)] == [("open", BRANCH)]


def test_an_update_under_a_planned_file_rewrites_the_same_pr_onto_the_new_base(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = plan(sandbox, tmp_path, 1)
    numbers = {name: row["pr_number"] for name, row in apply(sandbox, capsys, first).items()}
    change = planned_file(first, "alpha")
    push(sandbox, "alpha", {change["path"]: change["before"] + "# a person's line\n"})
    second = plan(sandbox, tmp_path, 2)
    assert states(second) == {"alpha": "update", "beta": "up-to-date", "gamma": "up-to-date"}
    capsys.readouterr()
    assert main(["show", str(second), "--no-pager", "--no-diff"]) == 0
    shown = capsys.readouterr().out
    assert f"campaign {CAMPAIGN} (branch {BRANCH}):" in shown
    assert f"update (1): acme/alpha #{numbers['alpha']} (the base moved under a planned file)" in shown
    assert "up-to-date (2): acme/beta" in shown
    before = writes(sandbox)
    dry = apply(sandbox, capsys, second, "--dry-run")
    assert dry["alpha"]["status"] == "dry-run" and dry["alpha"]["detail"].startswith("would update " + BRANCH)
    assert dry["beta"]["detail"] == "would write nothing: already applied"
    assert writes(sandbox) == before
    rows = apply(sandbox, capsys, second)
    assert rows["alpha"]["status"] == "updated" and rows["alpha"]["pr_number"] == numbers["alpha"]
    assert rows["beta"]["status"] == rows["gamma"]["status"] == "already-applied"
    assert writes(sandbox) - before == 3  # tree, commit, ref: alpha only
    main_head = gh(sandbox, "GET", "/repos/acme/alpha/branches/main")["commit"]["sha"]
    head = gh(sandbox, "GET", f"/repos/acme/alpha/git/commits/{branch_sha(sandbox, 'alpha')}")
    assert [p["sha"] for p in head["parents"]] == [main_head]  # on top of the new base
    assert contents(sandbox, "alpha", BRANCH)[change["path"]] == planned_file(second, "alpha")["after"]
    assert "# a person's line" in planned_file(second, "alpha")["after"]
    assert [p["state"] for p in pulls(sandbox, "alpha")] == ["open"]
    assert apply(sandbox, capsys, second)["alpha"]["status"] == "already-applied"


def test_an_unrelated_push_changes_nothing_unless_refresh(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apply(sandbox, capsys, plan(sandbox, tmp_path, 1))
    old = branch_sha(sandbox, "beta")
    push(sandbox, "beta", {"notes.txt": "unrelated\n"})
    second = plan(sandbox, tmp_path, 2)
    assert states(second)["beta"] == "up-to-date"
    before = writes(sandbox)
    assert apply(sandbox, capsys, second)["beta"]["status"] == "already-applied"
    assert writes(sandbox) == before and branch_sha(sandbox, "beta") == old
    rows = apply(sandbox, capsys, second, "--refresh")
    assert rows["beta"]["status"] == "updated"
    assert {rows[r]["status"] for r in ("alpha", "gamma")} == {"already-applied"}
    assert writes(sandbox) - before == 3
    assert contents(sandbox, "beta", BRANCH)["notes.txt"] == "unrelated\n"


def test_a_repo_fixed_by_hand_gets_its_pr_closed_with_a_comment_and_its_branch_deleted(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = plan(sandbox, tmp_path, 1)
    number = apply(sandbox, capsys, first)["gamma"]["pr_number"]
    workflows = [str(p) for p in golden_tree("reference") if str(p).startswith(".github/workflows/")]
    push(sandbox, "gamma", dict.fromkeys(workflows))  # fixed by hand: the release moved elsewhere
    second = plan(sandbox, tmp_path, 2)
    assert states(second)["gamma"] == "obsolete"
    rows = apply(sandbox, capsys, second)
    assert rows["gamma"]["status"] == "obsolete" and rows["gamma"]["pr_number"] == number
    assert [p["state"] for p in pulls(sandbox, "gamma")] == ["closed"]
    comments = gh(sandbox, "GET", f"/repos/acme/gamma/issues/{number}/comments")
    assert len(comments) == 1 and "no change is needed any more" in comments[0]["body"]
    assert branch_sha(sandbox, "gamma") is None
    before = writes(sandbox)
    assert apply(sandbox, capsys, second)["gamma"]["status"] == "obsolete"
    assert writes(sandbox) == before  # idempotent


def test_a_branch_a_person_pushed_to_is_touched_and_left_byte_identical(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = plan(sandbox, tmp_path, 1)
    apply(sandbox, capsys, first)
    push(sandbox, "alpha", {"notes.txt": "my own fix on top\n"}, branch=BRANCH)
    change = planned_file(first, "alpha")
    push(sandbox, "alpha", {change["path"]: change["before"] + "# moved\n"})  # it would need an update otherwise
    theirs = branch_sha(sandbox, "alpha")
    second = plan(sandbox, tmp_path, 2)
    assert states(second)["alpha"] == "touched"
    before = writes(sandbox)
    rows = apply(sandbox, capsys, second, "--refresh")
    assert rows["alpha"]["status"] == "touched" and "someone else pushed" in rows["alpha"]["detail"]
    assert branch_sha(sandbox, "alpha") == theirs
    assert writes(sandbox) == before  # beta and gamma are up to date on an unmoved base; alpha is not ours to touch


def test_a_pr_a_person_closed_is_never_reopened_unless_asked(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number = apply(sandbox, capsys, plan(sandbox, tmp_path, 1))["beta"]["pr_number"]
    gh(sandbox, "PATCH", f"/repos/acme/beta/pulls/{number}", {"state": "closed"})
    second = plan(sandbox, tmp_path, 2)
    assert states(second)["beta"] == "closed"
    assert apply(sandbox, capsys, second)["beta"]["status"] == "closed"
    assert [p["state"] for p in pulls(sandbox, "beta")] == ["closed"]
    assert apply(sandbox, capsys, second, "--reopen")["beta"]["status"] == "applied"
    assert sorted(p["state"] for p in pulls(sandbox, "beta")) == ["closed", "open"]


def test_rollback_of_the_campaign_undoes_what_every_plan_made(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = plan(sandbox, tmp_path, 1)
    numbers = {name: row["pr_number"] for name, row in apply(sandbox, capsys, first).items()}
    gh(sandbox, "PUT", f"/repos/acme/alpha/pulls/{numbers['alpha']}/merge", {})
    change = planned_file(first, "beta")
    push(sandbox, "beta", {change["path"]: change["before"] + "# moved\n"})
    second = plan(sandbox, tmp_path, 2)
    assert states(second) == {"alpha": "merged", "beta": "update", "gamma": "up-to-date"}
    rows = apply(sandbox, capsys, second)
    assert (rows["alpha"]["status"], rows["beta"]["status"]) == ("merged", "updated")
    capsys.readouterr()
    assert main(["rollback", "--campaign", CAMPAIGN, "--api-url", sandbox.url, "--format", "json"]) == 0
    out = {r["repo"].split("/", 1)[1]: r for r in json.loads(capsys.readouterr().out)["repos"]}
    assert {name: row["status"] for name, row in out.items()} == {
        "alpha": "revert-opened",
        "beta": "closed",
        "gamma": "closed",
    }
    for name in ("beta", "gamma"):
        assert [p["state"] for p in pulls(sandbox, name)] == ["closed"]  # the one PR, updated or not, closed once
        assert len(gh(sandbox, "GET", f"/repos/acme/{name}/issues/{numbers[name]}/comments")) == 1
        assert branch_sha(sandbox, name) is None
    revert = [p for p in pulls(sandbox, "alpha") if p["state"] == "open"]
    assert len(revert) == 1 and revert[0]["head"]["ref"] == BRANCH + "-revert"
    before = writes(sandbox)
    assert main(["rollback", "--campaign", CAMPAIGN, "--api-url", sandbox.url]) == 0  # idempotent
    assert writes(sandbox) == before


@pytest.mark.parametrize("kill_after_writes", [1, 2, 3, 5, 8])
def test_kill_9_during_a_campaign_update_then_a_rerun_ends_updated(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], kill_after_writes: int
) -> None:
    first = plan(sandbox, tmp_path, 1)
    numbers = {name: row["pr_number"] for name, row in apply(sandbox, capsys, first).items()}
    for repo in REPOS:
        change = planned_file(first, repo)
        push(sandbox, repo, {change["path"]: change["before"] + "# moved\n"})
    second = plan(sandbox, tmp_path, 2)
    assert set(states(second).values()) == {"update"}
    start = writes(sandbox)
    argv = [sys.executable, "-m", "migrator", "apply", str(second), "--api-url", sandbox.url, "--min-interval", "0.3"]
    child = subprocess.Popen(
        argv, env={**os.environ, "GITHUB_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and writes(sandbox) - start < kill_after_writes and child.poll() is None:
        time.sleep(0.01)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert {row["status"] for row in apply(sandbox, capsys, second).values()} <= {"updated", "already-applied"}
    for repo in REPOS:
        main_head = gh(sandbox, "GET", f"/repos/acme/{repo}/branches/main")["commit"]["sha"]
        head = gh(sandbox, "GET", f"/repos/acme/{repo}/git/commits/{branch_sha(sandbox, repo)}")
        assert [p["sha"] for p in head["parents"]] == [main_head]
        change = planned_file(second, repo)
        assert contents(sandbox, repo, BRANCH)[change["path"]] == change["after"]
        assert [(p["number"], p["state"]) for p in pulls(sandbox, repo)] == [(numbers[repo], "open")]
