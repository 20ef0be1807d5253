"""plan → apply → status → rollback through the CLI, with the real adapter against the sandbox."""

from __future__ import annotations

import base64
import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.github.support import ADMIN, api

GOLDEN = Path(__file__).parents[1] / "rules" / "golden" / "reference" / "before"
ORG = "acme"
REPO = f"{ORG}/service"


def _reference() -> dict[str, bytes]:
    return {p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()}


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    seed = write_seed(tmp_path / "seed", {ORG: {"service": _reference()}},
                      org_meta={ORG: {"secrets": ["PAT_TOKEN"], "tokens": {ADMIN: "full"}}})
    with running_sandbox(seed) as running:
        yield running


def _file(box: Sandbox, path: str, ref: str) -> bytes | None:
    try:
        data = api(box, "GET", f"/repos/{REPO}/contents/{quote(path)}?ref={quote(ref, safe='')}")
    except urllib.error.HTTPError as error:
        assert error.code == 404
        return None
    return base64.b64decode(data["content"])


def _branch_head(box: Sandbox, branch: str) -> str | None:
    try:
        return str(api(box, "GET", f"/repos/{REPO}/git/ref/heads/{quote(branch, safe='/')}")["object"]["sha"])
    except urllib.error.HTTPError:
        return None


def _pulls(box: Sandbox) -> list[dict[str, Any]]:
    pulls: list[dict[str, Any]] = api(box, "GET", f"/repos/{REPO}/pulls?state=all")
    return pulls


def test_plan_apply_status_rollback(box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    monkeypatch.chdir(tmp_path)
    plan_path = tmp_path / "plan.json"
    main_before = _branch_head(box, "main")
    before = {path: _file(box, path, "main") for path in _reference()}

    assert main(["plan", "--org", ORG, "--api-url", box.url, "--out", str(plan_path)]) == 0
    plan = json.loads(plan_path.read_text())
    (repo,) = [r for r in plan["repos"] if r["name"] == REPO]
    changes = [c for c in repo["changes"] if c["enabled"] and c["disposition"] != "blocked"]
    assert changes, "the reference repository needs fixing"
    capsys.readouterr()

    assert main(["apply", str(plan_path), "--api-url", box.url, "--min-interval", "0"]) == 0, capsys.readouterr()
    branch = repo["branch"]
    for change in changes:
        expected = None if change["action"] == "delete" else change["after"].encode("utf-8", "surrogateescape")
        assert _file(box, change["path"], branch) == expected, change["path"]
    assert _branch_head(box, "main") == main_before
    assert {path: _file(box, path, "main") for path in before} == before
    (pull,) = _pulls(box)
    assert (pull["state"], pull["head"]["ref"], pull["base"]["ref"]) == ("open", branch, repo["base_branch"])

    capsys.readouterr()
    assert main(["apply", str(plan_path), "--api-url", box.url, "--min-interval", "0"]) == 0  # idempotent
    assert "already-applied" in capsys.readouterr().out
    assert len(_pulls(box)) == 1

    assert main(["status", str(plan_path), "--api-url", box.url, "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [(s["repo"], s["number"], s["state"]) for s in status["pulls"]] == [(REPO, pull["number"], "open")]

    assert main(["rollback", str(plan_path), "--api-url", box.url]) == 0, capsys.readouterr()
    (closed,) = _pulls(box)
    assert closed["state"] == "closed"
    assert _branch_head(box, branch) is None
    assert _branch_head(box, "main") == main_before


LOST = {"status": 502, "body": {"message": "Server Error"}}
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def test_lost_and_throttled_answers_are_read_back_not_repeated(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    monkeypatch.chdir(tmp_path)
    plan_path = tmp_path / "plan.json"
    assert main(["plan", "--org", ORG, "--api-url", box.url, "--out", str(plan_path)]) == 0
    branch = json.loads(plan_path.read_text())["repos"][0]["branch"]
    box.add_fault({"match": {"method": "POST", "path_regex": "/pulls$"},  # throttled first: the executor waits 1 s
                   "response": {"status": 403, "headers": {"Retry-After": "1"}, "body": {"message": SECONDARY}}})
    for method, path, body in (("POST", "/git/refs$", None), ("POST", "^/graphql$", "createCommitOnBranch"),
                               ("POST", "/pulls$", None)):
        box.add_fault({"match": {"method": method, "path_regex": path, "body_regex": body}, "response": LOST,
                       "after_apply": True})
    capsys.readouterr()
    assert main(["apply", str(plan_path), "--api-url", box.url, "--min-interval", "0"]) == 0, capsys.readouterr()
    assert box.stats()["faults_fired"] == 4
    (pull,) = _pulls(box)
    commits = api(box, "GET", f"/repos/{REPO}/commits?sha={quote(branch, safe='')}")
    assert len(commits) == 2  # the seed's commit and exactly one of ours

    for method, path in (("PATCH", "/pulls/[0-9]+$"), ("DELETE", "/git/refs/heads/")):
        box.add_fault({"match": {"method": method, "path_regex": path}, "response": LOST, "after_apply": True})
    assert main(["rollback", str(plan_path), "--api-url", box.url]) == 0, capsys.readouterr()
    assert [p["state"] for p in _pulls(box)] == ["closed"]
    assert _branch_head(box, branch) is None
    comments = api(box, "GET", f"/repos/{REPO}/issues/{pull['number']}/comments")
    assert len(comments) == 1
