"""`merge` under faults on its write (502, secondary limits, a lost answer) and killed (in process at every journal
line, and kill -9 of a child): a re-run ends in the state an undisturbed run reaches, each PR merged exactly once."""

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
from migrator.github import retry
from migrator.sandbox.store import HEADS
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.chaos import Kill, in_process
from tests.golden import golden_tree, reference_org_seed

TOKEN = "tok-merge-chaos-012345"
REPOS = ("alpha", "beta", "gamma")
MERGE_WRITE = {"method": "PUT", "path_regex": r"/pulls/\d+/merge$"}
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
FAULTS: dict[str, dict[str, Any]] = {
    "502": {"response": {"status": 502, "body": {"message": "Server Error"}}},
    "secondary limit": {"response": {"status": 403, "headers": {"Retry-After": "2"}, "body": {"message": SECONDARY}}},
    "secondary limit, no Retry-After": {"response": {"status": 403, "body": {"message": SECONDARY}}},
    "429": {"response": {"status": 429, "headers": {"Retry-After": "1"}, "body": {"message": "Too Many Requests"}}},
    "lost answer": {"response": {"status": 502, "body": {"message": "Server Error"}}, "after_apply": True},
    "timeout-like 504 after the merge": {"response": {"status": 504}, "after_apply": True},
}


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    return reference_org_seed(tmp_path / "seed", REPOS, TOKEN)


@pytest.fixture
def sandbox(seed: Path) -> Iterator[Sandbox]:
    with running_sandbox(seed) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    waits: list[float] = []
    monkeypatch.setattr(pacing, "_sleep", waits.append)
    monkeypatch.setattr(retry, "_sleep", waits.append)
    return waits


def applied(sandbox: Sandbox, directory: Path) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / "plan.json"
    assert main(["plan", "--org", "acme", "--out", str(path), "--api-url", sandbox.url]) == 0
    assert main(["apply", str(path), "--min-interval", "0", "--api-url", sandbox.url]) == 0
    return path


def merge_argv(sandbox: Sandbox, path: Path) -> list[str]:
    return ["merge", str(path), "--api-url", sandbox.url, "--min-interval", "0", "--format", "json"]


def end_state(sandbox: Sandbox) -> dict[str, Any]:
    """Per repository: its PR's state, and how many commits on main merged it (exactly one is right)."""
    state = {}
    with sandbox.store.lock:
        for name in REPOS:
            repo = sandbox.store.repo("acme", name)
            assert repo is not None
            pulls = list(repo.pulls.values())
            head = repo.refs[HEADS + "main"]
            merges = [
                sha
                for sha in repo.git.ancestors(head)
                if any(f"(#{p.number})" in repo.commit(sha).message for p in pulls)
            ]
            state[name] = {"pulls": [(p.state, p.merged) for p in pulls], "merge_commits": len(merges)}
    return state


MERGED = {name: {"pulls": [("closed", True)], "merge_commits": 1} for name in REPOS}


def rows(stdout: str) -> dict[str, str]:
    return {row["repo"].split("/", 1)[1]: row["status"] for row in json.loads(stdout)["repos"]}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_on_the_merge_write_ends_in_one_merge(
    fault: str, sandbox: Sandbox, tmp_path: Path, env: list[float]
) -> None:
    path = applied(sandbox, tmp_path / "plans")
    sandbox.add_fault({"match": MERGE_WRITE, **FAULTS[fault], "times": 2})
    code, stdout = in_process(sandbox, merge_argv(sandbox, path), None)
    assert code == 0, stdout
    assert set(rows(stdout).values()) == {"merged"}
    assert end_state(sandbox) == MERGED
    assert sandbox.stats()["faults_fired"] == 2
    if "secondary" in fault or fault == "429":
        assert env, "the wait GitHub asked for was honoured"


def test_a_merge_write_that_keeps_failing_fails_the_repository_and_a_rerun_merges(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = applied(sandbox, tmp_path / "plans")
    sandbox.add_fault({"match": MERGE_WRITE, **FAULTS["502"], "times": None})
    code, stdout = in_process(sandbox, merge_argv(sandbox, path), None)
    assert code == 1 and set(rows(stdout).values()) == {"failed"}
    assert "re-run `migrator merge` to resume" in stdout
    sandbox.app.faults.clear()
    code, stdout = in_process(sandbox, merge_argv(sandbox, path), None)
    assert code == 0 and set(rows(stdout).values()) == {"merged"}
    assert end_state(sandbox) == MERGED


def test_interrupted_at_every_journal_line_then_resumed_ends_the_same(seed: Path, tmp_path: Path) -> None:
    lines = 2 * len(REPOS) + len(REPOS)  # an intent and a done per merge, and one outcome line per repository
    for at in range(1, lines + 1):
        with running_sandbox(seed) as sandbox:
            path = applied(sandbox, tmp_path / f"kill-{at}")
            code, _ = in_process(sandbox, merge_argv(sandbox, path), Kill(at))
            assert code == 130, at
            code, stdout = in_process(sandbox, merge_argv(sandbox, path), None)
            assert code == 0, (at, stdout)
            assert set(rows(stdout).values()) == {"merged"}, (at, stdout)
            assert end_state(sandbox) == MERGED, at


def test_kill_9_during_merge_then_a_rerun_ends_the_same(sandbox: Sandbox, tmp_path: Path) -> None:
    path = applied(sandbox, tmp_path / "plans")
    argv = [sys.executable, "-m", "migrator", *merge_argv(sandbox, path)]
    argv[argv.index("--min-interval") + 1] = "0.5"  # slow enough to be killed between two merges
    child = subprocess.Popen(
        argv, env={**os.environ, "GITHUB_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not _merged_any(sandbox) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert child.poll() is None, "the merge finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert end_state(sandbox) != MERGED  # it stopped part way
    code, stdout = in_process(sandbox, merge_argv(sandbox, path), None)
    assert code == 0, stdout
    assert set(rows(stdout).values()) == {"merged"}
    assert end_state(sandbox) == MERGED


def _merged_any(sandbox: Sandbox) -> bool:
    return any(r.method == "PUT" and r.path.endswith("/merge") and r.status == 200 for r in sandbox.requests())


@pytest.mark.parametrize("fault", ["502", "lost answer", "secondary limit"])
def test_faults_on_enqueue_and_auto_merge_end_in_one_request_each(fault: str, tmp_path: Path) -> None:
    seed = write_seed(
        tmp_path / "seed",
        {"acme": {name: golden_tree("reference") for name in ("queued", "waiting")}},
        repo_meta={
            "acme/queued": {"merge_queue": True},
            "acme/waiting": {"allow_auto_merge": True, "protection": {"contexts": ["ci/test"]}},
        },
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
    )
    with running_sandbox(seed) as sandbox:
        path = applied(sandbox, tmp_path / "plans")
        for mutation in ("MigratorEnqueue", "MigratorEnableAutoMerge"):
            sandbox.add_fault({"match": {"body_regex": mutation}, **FAULTS[fault], "times": 1})
        code, stdout = in_process(sandbox, [*merge_argv(sandbox, path), "--auto"], None)
        assert code == 0, stdout
        assert rows(stdout) in (
            {"queued": "queued", "waiting": "auto-merge"},
            {"queued": "merged", "waiting": "auto-merge"},  # the re-read found the queue had merged it
        ), stdout
        with sandbox.store.lock:
            queued = sandbox.store.repo("acme", "queued")
            waiting = sandbox.store.repo("acme", "waiting")
            assert queued is not None and waiting is not None
            assert [p.merged for p in queued.pulls.values()] == [True]
            assert [p.auto_merge is not None for p in waiting.pulls.values()] == [True]
        assert sandbox.stats()["faults_fired"] == 2
