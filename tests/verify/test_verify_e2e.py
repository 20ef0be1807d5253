"""`migrator verify` end to end against the sandbox's Actions model: one org whose repositories cover every
verdict. Runs take 60 simulated seconds (`actions_delay`) on a fake clock that the test moves by hand.

- good: a `fix:` commit failed to release; the merged fix releases it with the PAT (verified);
- quiet: merged, but nothing releasable came in (not-released);
- guarded: main enforces protection for admins, so the PAT is refused (broken, GitHub's GH006 text);
- weak: the PAT can push but is no admin, so protection refuses it too (broken);
- racy: the duplicate docker workflows were kept (their deletion needs review), so two runs push one tag (broken);
- slow: merged last, its run still going (pending), then verified under `--wait`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migrator.cli import main
from migrator.commands import verify as verify_command
from migrator.sandbox.testing import FakeClock, Sandbox
from tests.verify.campaign import campaign


def verify(plan: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["verify", str(plan), "--api-url", sandbox.url, "--image-source", "sandbox", "--format", "json",
                 *extra])
    captured = capsys.readouterr()
    assert f"migrator rollback {plan} --repo acme/racy" in captured.err  # exactly the one the change broke
    return code, json.loads(captured.out)


def by_repo(answer: Any) -> dict[str, dict[str, Any]]:
    return {row["repo"].split("/")[1]: row for row in answer["repositories"]}


def test_every_verdict_then_pending_turns_verified_under_wait(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    code, answer = verify(plan, sandbox, capsys)
    rows = by_repo(answer)
    assert code == 1
    assert {name: row["verdict"] for name, row in rows.items()} == {
        "good": "verified", "quiet": "not-released", "guarded": "broken", "weak": "broken", "racy": "broken",
        "slow": "pending"}
    assert "released v1.0.0 as release-bot" in rows["good"]["summary"]
    assert "push a `fix:` commit" in rows["quiet"]["next_step"]
    assert rows["guarded"]["summary"] == (
        "main.yml failed in release at step Run npx semantic-release: "
        "remote: error: GH006: Protected branch update failed for refs/heads/main.")
    assert any("EGITNOPERMISSION" in line for line in rows["guarded"]["evidence"])
    assert rows["guarded"]["next_step"].startswith("main enforces protection for admins: the PAT is refused")
    assert rows["weak"]["summary"].endswith("remote: error: GH006: Protected branch update failed for refs/heads/main.")
    assert rows["weak"]["next_step"].startswith("the release token cannot push to main past its protection")
    assert "race: docker-build.yml and docker.yml both pushed ghcr.io/acme/racy:v1.0.0" in rows["racy"]["summary"]
    assert "redundant-docker" in rows["racy"]["next_step"]
    assert [name for name, row in rows.items() if row["caused_by_fix"]] == ["racy"]

    code, answer = verify(plan, sandbox, capsys, "--wait", "10m", "--poll-interval", "30")
    rows = by_repo(answer)
    assert code == 1  # guarded, weak and racy are still broken
    assert rows["slow"]["verdict"] == "verified"
    assert [row["verdict"] for row in rows.values()].count("pending") == 0


def test_status_shows_the_release_verdict_of_each_merged_fix(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    capsys.readouterr()
    assert main(["status", str(plan), "--api-url", sandbox.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "release" in lines[0].split()
    assert lines[-1].startswith("campaign: ")  # the summary line
    row = {line.split()[0].split("/")[1]: line.split() for line in lines[1:-1]}
    assert (row["good"][2], row["good"][5]) == ("merged", "verified")
    assert row["guarded"][5] == "broken"
    assert row["slow"][5] == "pending"
    assert row["quiet"][5] == "not-released"


def test_against_github_the_registry_is_asked_only_where_runs_built_one_image_twice(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    clock.advance(600)  # every run done
    sandbox.clear_requests()
    capsys.readouterr()
    assert main(["verify", str(plan), "--api-url", sandbox.url, "--format", "json"]) == 1
    rows = by_repo(json.loads(capsys.readouterr().out))
    asked = sorted(r.path.split("?")[0] for r in sandbox.requests() if "/packages/" in r.path)
    # by their jobs, two runs built an image in good (a release job named like an image job) and in racy: one
    # request each, and none for the repositories without a release
    assert asked == ["/orgs/acme/packages/container/good/versions", "/orgs/acme/packages/container/racy/versions"]
    assert rows["racy"]["verdict"] == "broken" and rows["racy"]["summary"].startswith("race: ")
    assert any(line.startswith("registry ghcr.io/acme/racy: ") for line in rows["racy"]["evidence"])
    assert rows["good"]["verdict"] == "verified"  # its second version holds `latest`: another tag, no race


def test_a_token_that_cannot_read_packages_leaves_the_registry_out_of_the_verdict(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    clock.advance(600)
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "/packages/container/"},
                       "response": {"status": 403, "body": {"message": "Permission denied: read:packages"}}})
    capsys.readouterr()
    main(["verify", str(plan), "--api-url", sandbox.url, "--format", "json", "--repo", "racy"])
    (row,) = json.loads(capsys.readouterr().out)["repositories"]
    assert any("cannot tell" in line for line in row["evidence"])
    assert not row["summary"].startswith("race: ")


def test_rollback_broken_selects_exactly_what_verify_finds_broken_by_the_change(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = campaign(sandbox, clock, tmp_path)
    clock.advance(600)
    capsys.readouterr()
    assert main(["rollback", str(plan), "--broken", "--dry-run", "--format", "json", "--api-url", sandbox.url]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [o["repo"] for o in answer["repos"]] == ["acme/racy"]  # guarded and weak are broken despite it


def test_a_wait_that_runs_out_says_so_in_one_line_with_the_next_command(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verify_command, "_clock", clock)
    plan = campaign(sandbox, clock, tmp_path)
    capsys.readouterr()
    argv = ["verify", str(plan), "--api-url", sandbox.url, "--image-source", "sandbox", "--format", "json",
            "--repo", "slow", "--repo", "good", "--wait", "20s", "--poll-interval", "10"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert by_repo(json.loads(captured.out))["slow"]["verdict"] == "pending"
    assert captured.err.splitlines()[-1] == (
        f"verify: gave up after 20s with 1 of 2 still pending; next: migrator verify {plan} --wait 40s")


def test_the_duration_in_the_give_up_line_reads_as_wait_takes_it() -> None:
    assert [verify_command.format_duration(s) for s in (20, 90, 600, 1800.0, 7200, 86400)] == [
        "20s", "90s", "10m", "30m", "2h", "1d"]
