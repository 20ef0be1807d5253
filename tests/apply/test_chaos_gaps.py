"""The gaps a random-fault, kill -9 and concurrency campaign found (issue 11), each reproduced through the CLI
against the sandbox. Every test here failed before its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import journal as journal_module
from migrator.apply import pacing
from migrator.apply.journal import Journal, journal_path
from migrator.apply.lock import Busy, lock_journal
from migrator.cli import main
from migrator.github import retry
from migrator.plan.model import Plan, digest_of
from migrator.plan.planfile import write_plan
from migrator.plan.shard import Shard
from migrator.sandbox.testing import Sandbox, running_sandbox
from tests.apply.test_apply_sandbox import REPOS, TOKEN, _writes, apply, assert_exactly_planned, gh, plan
from tests.golden import reference_org_seed

SOMETHING_WENT_WRONG = {
    "status": 200,
    "body": {
        "data": None,
        "errors": [
            {
                "message": "Something went wrong while executing your query. This may be the result of a timeout, "
                "or it could be a GitHub bug. Please include `A1B2:C3D4` when reporting this issue."
            }
        ],
    },
}
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    seed = reference_org_seed(tmp_path / "seed", REPOS, TOKEN)
    with running_sandbox(seed) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    waits: list[float] = []
    monkeypatch.setattr(pacing, "_sleep", waits.append)  # cool-downs are recorded, not slept
    return waits


@pytest.fixture(autouse=True)
def no_read_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(retry, "_sleep", waits.append)
    return waits


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    """A command with `--format json`: its exit code, its rows by repository, and stderr."""
    capsys.readouterr()
    code = main([*argv, "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    rows = {row["repo"]: row for row in json.loads(captured.out)["repos"]} if captured.out.strip() else {}
    return code, rows, captured.err


def apply_json(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, path: Path, *extra: str) -> tuple[int, Any]:
    code, rows, _ = run(capsys, "apply", str(path), "--api-url", sandbox.url, "--min-interval", "0", *extra)
    return code, rows


def rollback_json(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, path: Path, *extra: str) -> tuple[int, Any]:
    code, rows, _ = run(capsys, "rollback", str(path), "--api-url", sandbox.url, "--min-interval", "0", *extra)
    return code, rows


def pulls(sandbox: Sandbox, repo: str) -> list[dict[str, Any]]:
    return list(gh(sandbox, "GET", f"/repos/acme/{repo}/pulls?state=all"))


def our_refs(sandbox: Sandbox, repo: str) -> list[str]:
    return [r["ref"] for r in gh(sandbox, "GET", f"/repos/acme/{repo}/git/matching-refs/heads/migrator/")]


def forge(path: Path, change: Any) -> Path:
    """Rewrite the plan as an attacker would: edit it, then recompute the digest."""
    data = json.loads(path.read_text())
    change(data)
    data["digest"] = digest_of(data)
    path.write_text(json.dumps(data))
    return path


# ------------------------------------------------------------------ 1. transient GraphQL errors on reads


def test_a_transient_graphql_error_on_the_state_read_is_retried(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    sandbox.add_fault({"match": {"body_regex": "MigratorRepoState"}, "response": SOMETHING_WENT_WRONG, "times": 3})
    code, rows = apply_json(capsys, sandbox, path)
    assert code == 0, rows
    assert {row["status"] for row in rows.values()} == {"applied"}
    assert_exactly_planned(sandbox, path)


def test_a_read_that_keeps_failing_says_nothing_was_written(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    sandbox.add_fault({"match": {"body_regex": "MigratorRepoState"}, "response": SOMETHING_WENT_WRONG, "times": None})
    code, rows = apply_json(capsys, sandbox, path)
    assert code == 1
    for row in rows.values():
        assert row["status"] == "failed"
        assert "nothing was written" in row["detail"]
        assert "may or may not" not in row["detail"] and "gave up after 6" not in row["detail"]
    assert _writes(sandbox) == 0


def test_a_transient_graphql_error_on_a_plan_page_is_retried(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_fault({"match": {"body_regex": "MigratorRepositories"}, "response": SOMETHING_WENT_WRONG, "times": 2})
    path = tmp_path / "plan.json"
    assert main(["plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(path)]) == 0
    assert [r["name"] for r in json.loads(path.read_text())["repos"]] == [f"acme/{name}" for name in REPOS]


# ------------------------------------------------------------------ 2. an intent without its done line


def test_rollback_undoes_a_write_whose_journal_line_a_kill_lost(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = plan(sandbox, tmp_path)
    real = Journal.record

    def killed_after_the_branch(self: Journal, **event: Any) -> None:
        if event["step"] == "branch" and event["phase"] == "done":
            raise KeyboardInterrupt  # stands for kill -9 between the request and its journal line
        real(self, **event)

    monkeypatch.setattr(Journal, "record", killed_after_the_branch)
    assert apply(sandbox, path, "--limit", "1") == 130
    monkeypatch.setattr(Journal, "record", real)
    assert our_refs(sandbox, "alpha") == [f"refs/heads/{json.loads(path.read_text())['repos'][0]['branch']}"]
    code, rows = rollback_json(capsys, sandbox, path)
    assert code == 0, rows
    assert rows["acme/alpha"]["status"] == "closed"
    assert our_refs(sandbox, "alpha") == []  # no orphan


def test_rollback_closes_a_pull_request_whose_journal_line_a_kill_lost(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = plan(sandbox, tmp_path)
    real = Journal.record

    def killed_after_the_pull(self: Journal, **event: Any) -> None:
        if event["step"] == "pull" and event["phase"] == "done":
            raise KeyboardInterrupt
        real(self, **event)

    monkeypatch.setattr(Journal, "record", killed_after_the_pull)
    assert apply(sandbox, path, "--limit", "1") == 130
    monkeypatch.setattr(Journal, "record", real)
    code, _ = rollback_json(capsys, sandbox, path)
    assert code == 0
    assert [p["state"] for p in pulls(sandbox, "alpha")] == ["closed"]
    assert our_refs(sandbox, "alpha") == []


# ------------------------------------------------------------------ 3. the rollback comment, once


def test_the_rollback_comment_is_posted_once_after_lost_answers(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    assert apply(sandbox, path) == 0
    lost = {"status": 502, "body": {"message": "Server Error"}}
    sandbox.add_fault(
        {"match": {"method": "POST", "path_regex": "/comments$"}, "response": lost, "after_apply": True, "times": 9}
    )
    code, rows = rollback_json(capsys, sandbox, path)
    assert code == 0, rows
    for name in REPOS:
        (pull,) = pulls(sandbox, name)
        comments = gh(sandbox, "GET", f"/repos/acme/{name}/issues/{pull['number']}/comments")
        assert len(comments) == 1, f"{name}: {len(comments)} rollback comments"
        assert pull["state"] == "closed"


# ------------------------------------------------------------------ 4. labels and reviewers are ensure steps


def test_labels_and_reviewers_survive_5xx_and_secondary_limits(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], env: list[float]
) -> None:
    path = plan(sandbox, tmp_path)
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "/labels$"}, "response": {"status": 502}, "times": 2})
    limited = {"status": 403, "headers": {"Retry-After": "30"}, "body": {"message": SECONDARY}}
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "/requested_reviewers$"}, "response": limited})
    code, rows = apply_json(capsys, sandbox, path, "--label", "ci", "--reviewer", "octocat")
    assert code == 0, rows
    assert 30 in env  # the Retry-After was waited out
    for name in REPOS:
        (pull,) = pulls(sandbox, name)
        assert [label["name"] for label in pull["labels"]] == ["ci"]
        assert [user["login"] for user in pull["requested_reviewers"]] == ["octocat"]


def test_a_rerun_adds_the_labels_a_failed_run_could_not(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    sandbox.add_fault(
        {"match": {"method": "POST", "path_regex": "/labels$"}, "response": {"status": 502}, "times": None}
    )
    code, rows = apply_json(capsys, sandbox, path, "--label", "ci")
    assert code == 1 and {row["status"] for row in rows.values()} == {"failed"}
    gh(sandbox, "DELETE", "/_sandbox/faults")
    code, rows = apply_json(capsys, sandbox, path, "--label", "ci")
    assert code == 0 and {row["status"] for row in rows.values()} == {"applied"}, rows
    for name in REPOS:
        assert [label["name"] for label in pulls(sandbox, name)[0]["labels"]] == ["ci"]
    writes = _writes(sandbox)
    code, rows = apply_json(capsys, sandbox, path, "--label", "ci")
    assert {row["status"] for row in rows.values()} == {"already-applied"}
    assert _writes(sandbox) == writes


# ------------------------------------------------------------------ 5. one process per plan


def test_a_second_process_on_the_plan_is_refused_naming_the_holder(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    argv = [sys.executable, "-m", "migrator", "apply", str(path), "--api-url", sandbox.url, "--min-interval", "0.4"]
    child = subprocess.Popen(
        argv, env={**os.environ, "GITHUB_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while _writes(sandbox) < 1 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.poll() is None, "the apply finished before the test could race it"
        for command in ("rollback", "apply"):
            capsys.readouterr()
            assert main([command, str(path), "--api-url", sandbox.url]) == 2
            err = capsys.readouterr().err.strip()
            assert f"in use by PID {child.pid} (migrator apply)" in err, err
            assert len(err.splitlines()) == 1
    finally:
        child.wait(timeout=120)
    assert child.returncode == 0
    assert main(["rollback", str(path), "--api-url", sandbox.url]) == 0  # free again once it ended
    for name in REPOS:
        assert [p["state"] for p in pulls(sandbox, name)] == ["closed"]


def test_shards_lock_their_own_journal_and_an_unsharded_run_locks_them_all(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    held = lock_journal(journal_path(path, Shard(1, 2)), what="apply")
    try:
        assert apply(sandbox, path, "--shard", "2/2") == 0  # another shard runs alongside
        capsys.readouterr()
        assert apply(sandbox, path) == 2
        assert f"in use by PID {os.getpid()} (migrator apply)" in capsys.readouterr().err
        assert apply(sandbox, path, "--shard", "1/2") == 2
    finally:
        held.release()
    assert apply(sandbox, path) == 0


def test_plan_merge_does_not_overwrite_a_plan_in_use(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("{}")
    held = lock_journal(journal_path(target), what="rollback")
    try:
        with pytest.raises(Busy, match="in use by PID"):
            write_plan(read_plan_like(), target, lock_for="plan merge")
    finally:
        held.release()
    assert target.read_text() == "{}"


def read_plan_like() -> Plan:
    return Plan(
        org="acme",
        api_url="https://api.github.com",
        created_at="2026-01-01T00:00:00Z",
        plan_id="p",
        tool_version="0",
        rules={},
        selection={},
        token={},
        repos=(),
    )


# ------------------------------------------------------------------ 6. a foreign branch at the base commit


def test_a_foreign_branch_at_the_base_commit_is_a_conflict_and_rollback_keeps_it(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    repo = json.loads(path.read_text())["repos"][0]
    gh(sandbox, "POST", "/repos/acme/alpha/git/refs", {"ref": f"refs/heads/{repo['branch']}", "sha": repo["base_oid"]})
    code, rows = apply_json(capsys, sandbox, path)
    assert code == 1
    assert rows["acme/alpha"]["status"] == "conflict"
    assert "our journal shows no creation" in rows["acme/alpha"]["detail"]
    assert pulls(sandbox, "alpha") == []
    code, rows = rollback_json(capsys, sandbox, path)
    assert our_refs(sandbox, "alpha") == [f"refs/heads/{repo['branch']}"]  # never deleted


# ------------------------------------------------------------------ 7. waits have a cap


def test_a_day_long_retry_after_stops_the_repo_as_throttled(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], env: list[float]
) -> None:
    path = plan(sandbox, tmp_path)
    day = {"status": 403, "headers": {"Retry-After": "86400"}, "body": {"message": SECONDARY}}
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "/git/refs$"}, "response": day})
    code, rows = apply_json(capsys, sandbox, path)
    assert code == 1
    assert {row["status"] for row in rows.values()} == {"throttled"}
    detail = rows["acme/alpha"]["detail"]
    assert "over --max-wait 900 s" in detail and "run the same command again after" in detail
    assert max(env, default=0) <= 900
    assert _writes(sandbox) == 1  # the later repositories were not sent into the same limit
    code, rows = apply_json(capsys, sandbox, path, "--max-wait", "100000")
    assert code == 0, rows  # GitHub's answer was in the past: nothing blocks a new run
    assert_exactly_planned(sandbox, path)


def test_a_rate_limit_reset_far_ahead_on_a_read_is_capped_too(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_read_backoff: list[float]
) -> None:
    path = plan(sandbox, tmp_path)
    reset = str(int(time.time()) + 7200)
    limited = {
        "status": 200,
        "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        "body": {"data": None, "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]},
    }
    sandbox.add_fault({"match": {"body_regex": "MigratorRepoState"}, "response": limited, "times": None})
    code, rows = apply_json(capsys, sandbox, path, "--max-wait", "60")
    assert code == 1
    assert {row["status"] for row in rows.values()} == {"throttled"}
    assert no_read_backoff == []  # not one wait of two hours


# ------------------------------------------------------------------ 8. plan files are checked as `plan` does


@pytest.mark.parametrize("plan_id", ["evil\n", "a..b", "x.lock", "ok/../x", "a b", "-x"])
def test_forged_plan_ids_are_refused(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], plan_id: str
) -> None:
    path = plan(sandbox, tmp_path)

    def rename(data: dict[str, Any]) -> None:
        data["plan_id"] = plan_id
        for repo in data["repos"]:
            repo["branch"] = "migrator/" + plan_id

    forge(path, rename)
    sandbox.clear_requests()
    capsys.readouterr()
    assert apply(sandbox, path) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "refusing" in err or "does not match" in err
    assert sandbox.requests() == []


@pytest.mark.parametrize("base", ["main\n", "dev..x", "refs.lock", "a:b"])
def test_forged_base_branch_names_are_refused(sandbox: Sandbox, tmp_path: Path, base: str) -> None:
    path = forge(plan(sandbox, tmp_path), lambda data: data["repos"][0].update(base_branch=base))
    sandbox.clear_requests()
    assert apply(sandbox, path) == 2
    assert sandbox.requests() == []


def test_a_base_branch_that_is_not_the_default_branch_is_stale(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    head = gh(sandbox, "GET", "/repos/acme/alpha/branches/main")["commit"]["sha"]
    gh(sandbox, "POST", "/repos/acme/alpha/git/refs", {"ref": "refs/heads/dev", "sha": head})
    forge(path, lambda data: data["repos"][0].update(base_branch="dev"))
    _, rows = apply_json(capsys, sandbox, path)
    assert rows["acme/alpha"]["status"] == "stale"
    assert "not the default branch 'main'" in rows["acme/alpha"]["detail"]
    assert our_refs(sandbox, "alpha") == [] and pulls(sandbox, "alpha") == []


def test_a_forged_change_to_a_symbolic_link_is_not_applied(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from migrator.model import git_blob_sha
    from migrator.workflow.edit import unified_diff

    head = gh(sandbox, "GET", "/repos/acme/alpha/git/ref/heads/main")["object"]["sha"]
    base_tree = gh(sandbox, "GET", f"/repos/acme/alpha/git/commits/{head}")["tree"]["sha"]
    link = {"path": ".github/workflows/linked.yml", "mode": "120000", "type": "blob", "content": "../../etc/passwd"}
    tree = gh(sandbox, "POST", "/repos/acme/alpha/git/trees", {"base_tree": base_tree, "tree": [link]})
    body = {"message": "link", "tree": tree["sha"], "parents": [head]}
    commit = gh(sandbox, "POST", "/repos/acme/alpha/git/commits", body)
    gh(sandbox, "PATCH", "/repos/acme/alpha/git/refs/heads/main", {"sha": commit["sha"]})
    path = plan(sandbox, tmp_path)
    target = "../../etc/passwd"

    def link_change(data: dict[str, Any]) -> None:
        change = dict(data["repos"][0]["changes"][0])
        change.update(
            path=".github/workflows/linked.yml",
            action="modify",
            blob_before=git_blob_sha(target.encode()),
            before=target,
            after="evil\n",
            after_with_review=None,
            diff=unified_diff(".github/workflows/linked.yml", target, "evil\n"),
        )
        data["repos"][0]["changes"].append(change)

    forge(path, link_change)
    _, rows, err = run(capsys, "apply", str(path), "--api-url", sandbox.url, "--min-interval", "0")
    assert "acme/alpha" in rows, (err, rows)
    assert rows["acme/alpha"]["status"] == "conflict", err
    assert "symbolic link" in rows["acme/alpha"]["detail"]
    assert our_refs(sandbox, "alpha") == []


# ------------------------------------------------------------------ 9. deep nesting


@pytest.mark.parametrize("depth", [70, 490, 980])
def test_a_deeply_nested_plan_is_one_line_exit_2(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int
) -> None:
    path = plan(sandbox, tmp_path)
    nested: Any = {}
    for _ in range(depth):
        nested = {"x": nested}
    data = json.loads(path.read_text())
    data["rules"]["deep"] = nested
    data["digest"] = digest_of(data)  # iterative: any depth
    data["rules"]["deep"] = "@DEEP@"
    path.write_text(json.dumps(data).replace('"@DEEP@"', '{"x": ' * depth + "{}" + "}" * depth))
    capsys.readouterr()
    assert apply(sandbox, path) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nested more than 64 levels deep" in err


# ------------------------------------------------------------------ 11. journals are never followed through links


def test_a_planted_journal_symlink_is_refused(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    journal_path(path).symlink_to(victim)
    capsys.readouterr()
    assert apply(sandbox, path) == 2
    assert "is a symbolic link; migrator does not follow it" in capsys.readouterr().err
    assert victim.read_text() == "precious\n"
    assert _writes(sandbox) == 0


def test_a_journal_that_is_a_fifo_is_refused_without_hanging(sandbox: Sandbox, tmp_path: Path) -> None:
    path = plan(sandbox, tmp_path)
    os.mkfifo(journal_path(path))
    assert apply(sandbox, path) == 2
    assert main(["status", str(path), "--api-url", sandbox.url]) == 2


def test_a_planted_lock_symlink_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    path = plan(sandbox, tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = journal_path(path).with_name("." + journal_path(path).name + ".lock")
    lock.symlink_to(victim)
    assert apply(sandbox, path) == 2
    assert victim.read_text() == "precious\n"
    assert journal_module.JOURNAL_SUFFIX == ".journal.jsonl"


# ------------------------------------------------------------------ a deleted repository is `gone`


def test_a_repository_deleted_since_the_plan_is_gone(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    assert apply(sandbox, path) == 0
    with sandbox.store.lock:
        del sandbox.store.orgs["acme"].repos["beta"]
    _, rows = rollback_json(capsys, sandbox, path)
    assert rows["acme/beta"]["status"] == "gone"
    with sandbox.store.lock:
        del sandbox.store.orgs["acme"].repos["gamma"]
    _, rows = apply_json(capsys, sandbox, path)
    assert rows["acme/gamma"]["status"] == "gone"
    assert "deleted, or no longer visible" in rows["acme/gamma"]["detail"]
