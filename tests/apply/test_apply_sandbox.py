"""apply, status and rollback end to end against the sandbox: faults on every write, kill -9, drift, conflicts.

Each test gets a fresh sandbox. The invariant checked after every scenario: each repository has exactly
one migrator branch holding exactly the planned files, exactly one PR, and an untouched default branch.
"""

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
from tests.golden import golden_tree, reference_org_seed

TOKEN = "tok-admin-5a4b3c2d1e0f"
REPOS = ("alpha", "beta", "gamma")

# Which requests are which write step, whichever endpoint (REST or GraphQL) the adapter uses for it.
WRITE_STEPS: dict[str, dict[str, str]] = {
    "branch": {"method": "POST", "path_regex": r"(/graphql|/git/refs)$", "body_regex": r"createRef|\"sha\""},
    "commit": {"method": "POST", "path_regex": r"/graphql$", "body_regex": r"createCommitOnBranch"},
    "pull": {"method": "POST", "path_regex": r"(/graphql|/pulls)$", "body_regex": r"createPullRequest|\"head\""},
}
FAULTS: dict[str, dict[str, Any]] = {
    "502": {"response": {"status": 502, "body": {"message": "Server Error"}}},
    "secondary-retry-after": {
        "response": {
            "status": 403,
            "headers": {"Retry-After": "1"},
            "body": {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            },
        }
    },
    "secondary-no-retry-after": {
        "response": {
            "status": 403,
            "body": {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            },
        }
    },
    "429": {"response": {"status": 429, "headers": {"Retry-After": "1"}, "body": {"message": "Too Many Requests"}}},
    "lost-response": {"response": {"status": 502, "body": {"message": "Server Error"}}, "after_apply": True},
}


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


def plan(sandbox: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    assert main(["plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(path)]) == 0
    return path


def apply(sandbox: Sandbox, path: Path, *extra: str) -> int:
    return main(["apply", str(path), "--api-url", sandbox.url, "--min-interval", "0", *extra])


def gh(sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    import urllib.request

    request = urllib.request.Request(
        sandbox.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def contents(sandbox: Sandbox, repo: str, ref: str) -> dict[str, str]:
    head = gh(sandbox, "GET", f"/repos/acme/{repo}/git/ref/heads/{ref}")["object"]["sha"]
    tree_sha = gh(sandbox, "GET", f"/repos/acme/{repo}/git/commits/{head}")["tree"]["sha"]
    tree_data = gh(sandbox, "GET", f"/repos/acme/{repo}/git/trees/{tree_sha}?recursive=1")
    files = {}
    for entry in tree_data["tree"]:
        if entry["type"] == "blob":
            blob = gh(sandbox, "GET", f"/repos/acme/{repo}/git/blobs/{entry['sha']}")
            import base64

            files[entry["path"]] = base64.b64decode(blob["content"]).decode()
    return files


def assert_exactly_planned(sandbox: Sandbox, path: Path) -> None:
    data = json.loads(path.read_text())
    for repo in data["repos"]:
        name = repo["name"].split("/", 1)[1]
        refs = [r["ref"] for r in gh(sandbox, "GET", f"/repos/acme/{name}/git/matching-refs/heads/migrator/")]
        assert refs == [f"refs/heads/{repo['branch']}"], f"{name}: {refs}"
        pulls = gh(sandbox, "GET", f"/repos/acme/{name}/pulls?state=all")
        assert [p["head"]["ref"] for p in pulls] == [repo["branch"]], f"{name}: duplicate or missing PR"
        expected = {k.decode() if isinstance(k, bytes) else k: v.decode() for k, v in golden_tree("reference").items()}
        for change in repo["changes"]:
            if change["enabled"]:
                if change["after"] is None:
                    expected.pop(change["path"])
                else:
                    expected[change["path"]] = change["after"]
        assert contents(sandbox, name, repo["branch"]) == expected
        default = gh(sandbox, "GET", f"/repos/acme/{name}/branches/main")["commit"]["sha"]
        assert default == repo["base_oid"], f"{name}: default branch moved"


def test_apply_then_rerun(sandbox: Sandbox, tmp_path: Path) -> None:
    path = plan(sandbox, tmp_path)
    assert apply(sandbox, path) == 0
    assert_exactly_planned(sandbox, path)
    writes = _writes(sandbox)
    assert writes == 3 * len(REPOS)  # branch, commit, pull request
    assert apply(sandbox, path) == 0
    assert _writes(sandbox) == writes  # the re-run only reads
    assert_exactly_planned(sandbox, path)


@pytest.mark.parametrize("step", sorted(WRITE_STEPS))
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_faults_on_every_write_step_end_in_the_same_state(
    sandbox: Sandbox, tmp_path: Path, step: str, fault: str, env: list[float]
) -> None:
    path = plan(sandbox, tmp_path)
    sandbox.add_fault({"match": WRITE_STEPS[step], "times": 2, **FAULTS[fault]})
    assert apply(sandbox, path) == 0
    assert_exactly_planned(sandbox, path)
    if fault.startswith("secondary") or fault == "429":
        assert env, "GitHub's wait was not honoured"


def test_a_repo_changed_after_the_plan_is_stale_and_untouched(sandbox: Sandbox, tmp_path: Path) -> None:
    path = plan(sandbox, tmp_path)
    gh(
        sandbox,
        "POST",
        "/_sandbox/repos/acme/beta/commit",
        {"branch": "main", "message": "someone else", "files": {".github/workflows/main.yml": "name: changed\n"}},
    )
    assert apply(sandbox, path, "--format", "json") == 1
    assert gh(sandbox, "GET", "/repos/acme/beta/git/matching-refs/heads/migrator/") == []
    assert gh(sandbox, "GET", "/repos/acme/beta/pulls?state=all") == []


def test_a_repo_whose_default_branch_was_deleted_since_the_plan_is_stale_and_untouched(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    capsys.readouterr()
    with sandbox.store.lock:
        beta = sandbox.store.repo("acme", "beta")
        assert beta is not None
        del beta.refs["refs/heads/main"]
    assert apply(sandbox, path, "--format", "json") == 1
    rows = {row["repo"]: row for row in json.loads(capsys.readouterr().out)["repos"]}
    assert rows["acme/beta"]["status"] == "stale"
    assert "no default branch any more" in rows["acme/beta"]["detail"]
    assert {rows[f"acme/{name}"]["status"] for name in ("alpha", "gamma")} == {"applied"}
    assert gh(sandbox, "GET", "/repos/acme/beta/git/matching-refs/heads/migrator/") == []
    assert gh(sandbox, "GET", "/repos/acme/beta/pulls?state=all") == []


def test_a_branch_someone_else_made_with_our_name_is_a_conflict(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    branch = json.loads(path.read_text())["repos"][0]["branch"]
    gh(
        sandbox,
        "POST",
        "/_sandbox/repos/acme/alpha/commit",
        {"branch": "main", "message": "x", "files": {"notes.txt": "theirs\n"}},
    )
    head = gh(sandbox, "GET", "/repos/acme/alpha/branches/main")["commit"]["sha"]
    gh(sandbox, "POST", "/repos/acme/alpha/git/refs", {"ref": f"refs/heads/{branch}", "sha": head})
    capsys.readouterr()
    assert apply(sandbox, path) == 1
    assert "conflict" in capsys.readouterr().out
    assert gh(sandbox, "GET", f"/repos/acme/alpha/git/ref/heads/{branch}")["object"]["sha"] == head
    assert gh(sandbox, "GET", "/repos/acme/alpha/pulls?state=all") == []


def test_status_and_rollback_after_a_merge(sandbox: Sandbox, tmp_path: Path) -> None:
    path = plan(sandbox, tmp_path)
    assert apply(sandbox, path) == 0
    merged = gh(sandbox, "GET", "/repos/acme/alpha/pulls?state=open")[0]["number"]
    gh(sandbox, "PUT", f"/repos/acme/alpha/pulls/{merged}/merge", {})
    assert main(["status", str(path), "--api-url", sandbox.url]) == 0
    assert main(["rollback", str(path), "--api-url", sandbox.url]) == 0
    for name in ("beta", "gamma"):
        assert [p["state"] for p in gh(sandbox, "GET", f"/repos/acme/{name}/pulls?state=all")] == ["closed"]
        assert gh(sandbox, "GET", f"/repos/acme/{name}/git/matching-refs/heads/migrator/") == []
    revert = list(gh(sandbox, "GET", "/repos/acme/alpha/pulls?state=open"))
    assert len(revert) == 1 and revert[0]["head"]["ref"].endswith("-revert")
    gh(sandbox, "PUT", f"/repos/acme/alpha/pulls/{revert[0]['number']}/merge", {})
    expected = {k: v.decode() for k, v in golden_tree("reference").items()}
    assert contents(sandbox, "alpha", "main") == expected  # back to the planned base content
    assert main(["rollback", str(path), "--api-url", sandbox.url]) == 0  # idempotent


def test_no_token_in_plan_journal_or_logs(sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plan(sandbox, tmp_path)
    assert main(["--log-json", "apply", str(path), "--api-url", sandbox.url, "--min-interval", "0"]) == 0
    assert main(["--log-json", "rollback", str(path), "--api-url", sandbox.url]) == 0
    captured = capsys.readouterr()
    journal = path.with_name(path.name + ".journal.jsonl").read_text()
    for text in (path.read_text(), journal, captured.out, captured.err):
        assert TOKEN not in text


@pytest.mark.parametrize("kill_after_writes", [1, 2, 4, 5, 7, 8])
def test_kill_9_at_any_point_then_rerun_leaves_no_duplicates(
    sandbox: Sandbox, tmp_path: Path, kill_after_writes: int
) -> None:
    path = plan(sandbox, tmp_path)
    argv = [sys.executable, "-m", "migrator", "apply", str(path), "--api-url", sandbox.url, "--min-interval", "0.3"]
    child = subprocess.Popen(
        argv, env={**os.environ, "GITHUB_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _writes(sandbox) < kill_after_writes and child.poll() is None:
        time.sleep(0.01)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert apply(sandbox, path) == 0
    assert_exactly_planned(sandbox, path)


def _writes(sandbox: Sandbox) -> int:
    """Content-creating requests so far: REST writes plus GraphQL mutations."""
    stats = sandbox.stats()
    rest = sum(
        1
        for r in sandbox.requests()
        if not r.path.startswith("/graphql") and r.method in {"POST", "PATCH", "PUT", "DELETE"}
    )
    return rest + int(stats["graphql_mutations"])
