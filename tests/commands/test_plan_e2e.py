"""`migrator plan` and `migrator show` end to end against the sandbox, for every case the rules and plan issues name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

ADMIN, NO_WORKFLOW, READ = "tok-admin-0123456789", "tok-noworkflow-0123456789", "tok-read-0123456789"


def huge_reference() -> dict[str, bytes]:
    files = golden_tree("reference")
    padding = b"".join(
        b"# padding line %06d to push the file past GitHub's 512,000-byte blob limit\n" % i for i in range(8_000)
    )
    files[".github/workflows/main.yml"] = padding + files[".github/workflows/main.yml"]
    return files


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path_factory.mktemp("seed"),
        {
            "acme": {
                "service": golden_tree("reference"),
                "repopat": golden_tree("cross-file"),
                "nopat": golden_tree("cross-file"),
                "huge": huge_reference(),
                "archived": golden_tree("reference"),
                "forked": golden_tree("reference"),
                "ignored": golden_tree("reference"),
                "clean": golden_tree("never-touched"),
                "broken": golden_tree("robustness"),
            }
        },
        repo_meta={
            "acme/service": {"protection": {"enforce_admins": True, "contexts": ["ci/build"]}},
            "acme/repopat": {"secrets": ["GH_PAT"]},
            "acme/archived": {"archived": True},
            "acme/forked": {"fork": True},
            "acme/ignored": {"topics": ["migrator-ignore"]},
            "acme/empty": {"empty": True},
        },
        org_meta={
            "acme": {"secrets": ["PAT_TOKEN"], "tokens": {ADMIN: "full", NO_WORKFLOW: "no-workflow", READ: "read"}}
        },
    )
    with running_sandbox(seed) as running:
        yield running


def plan(
    sandbox: Sandbox, tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch, *extra: str, code: int = 0
) -> dict:
    monkeypatch.setenv("GITHUB_TOKEN", token)
    out = tmp_path / "plan.json"
    assert main(["plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(out), *extra]) == code
    data: dict = json.loads(out.read_text())
    return data


def by_repo(data: dict) -> dict[str, dict[str, str]]:
    return {r["name"]: {c["path"]: c["disposition"] for c in r["changes"]} for r in data["repos"]}


def test_plan_covers_every_case(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = plan(sandbox, tmp_path, ADMIN, monkeypatch)
    repos = by_repo(data)
    assert sorted(repos) == ["acme/broken", "acme/huge", "acme/nopat", "acme/repopat", "acme/service"]
    assert repos["acme/broken"] == {".github/workflows/anchors.yml": "blocked"}  # its secret PAT exists nowhere
    # PAT_TOKEN is an org secret; enforce_admins keeps any PAT's release commit out: the token fix is review
    assert repos["acme/service"].pop(".github/workflows/main.yml") == "review"
    assert set(repos["acme/service"].values()) == {"safe"}
    assert repos["acme/repopat"] == {".github/workflows/release.yml": "safe"}  # GH_PAT is a repo secret
    assert repos["acme/nopat"] == {".github/workflows/release.yml": "blocked"}  # GH_PAT exists nowhere
    assert repos["acme/huge"][".github/workflows/main.yml"] == "safe"  # truncated in GraphQL, read through REST
    skipped = {s["repo"]: s["reason"] for s in data["skipped"]}
    assert set(skipped) == {"acme/archived", "acme/forked", "acme/ignored", "acme/empty"}
    service = next(r for r in data["repos"] if r["name"] == "acme/service")
    assert any("enforces protection for admins" in w for w in service["warnings"])
    notices = "\n".join(n["message"] for n in data["notices"] if n["repo"] == "acme/broken")
    assert "broken.yml" in notices and "binary.yml" in notices
    assert data["token"]["can_push_workflows"] is True


def test_token_without_workflow_scope_blocks_workflow_changes(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = plan(sandbox, tmp_path, NO_WORKFLOW, monkeypatch, "--repo", "service", code=1)  # all blocked: exit 1
    assert data["token"]["can_push_workflows"] is False
    (service,) = data["repos"]
    assert {c["disposition"] for c in service["changes"] if c["path"].startswith(".github/")} == {"blocked"}
    assert all("lacks the `workflow` scope" in " ".join(c["reasons"]) for c in service["changes"])


def test_a_read_only_token_is_blocked_for_what_it_is(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = plan(sandbox, tmp_path, READ, monkeypatch, "--repo", "service", code=1)
    (service,) = data["repos"]
    reasons = {r for c in service["changes"] for r in c["reasons"]}
    assert all("read-only" in r and "workflow" not in r.split(":")[0] for r in reasons), reasons
    assert "every change of this plan is blocked: the token is read-only" in capsys.readouterr().out


def test_a_misspelt_repo_is_refused_before_anything_is_read(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    out = tmp_path / "plan.json"
    names = ["--repo", "servce", "--repo", "Service"]
    code = main(["plan", "--org", "acme", "--api-url", sandbox.url, "-o", str(out), *names])
    assert code == 2 and not out.exists()
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--repo servce: no such repository in acme" in error and "Service" not in error


def test_show_summarises_the_plan(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan(sandbox, tmp_path, ADMIN, monkeypatch)
    capsys.readouterr()
    assert main(["show", str(tmp_path / "plan.json"), "--color", "never"]) == 0
    text = capsys.readouterr().out
    assert "token-mismatch" in text and "redundant-docker" in text and "GH_PAT exists neither" in text
    assert main(["show", str(tmp_path / "plan.json"), "--format", "markdown"]) == 0
    assert "| rule | safe | review | blocked |" in capsys.readouterr().out
    assert main(["show", str(tmp_path / "plan.json"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["repos_with_changes"] == 5


@pytest.mark.parametrize(
    ("token", "argv", "message"),
    [
        ("wrong-token", ["--org", "acme"], "token"),
        (ADMIN, ["--org", "nope"], "nope"),
    ],
)
def test_bad_token_and_unknown_org_are_one_line_exit_2(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", token)
    assert main(["plan", "--api-url", sandbox.url, "--out", str(tmp_path / "p.json"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert token not in err
    assert not (tmp_path / "p.json").exists()


def test_no_token_value_reaches_the_plan_or_logs(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN)
    out = tmp_path / "plan.json"
    assert main(["--log-json", "plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    for text in (out.read_text(), captured.out, captured.err):
        assert ADMIN not in text
