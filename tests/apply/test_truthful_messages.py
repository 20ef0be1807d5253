"""Messages that tell the truth: `--dry-run` predicts exactly what the real run decides (it runs the same code
up to the first write), rollback tells a PR a person closed apart from one it closed itself, and a write that
never settles says what GitHub answered and how to resume."""

# ruff: noqa: F811  (the chaos tests' fixtures, imported and then requested by name)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrator.sandbox.testing import Sandbox
from tests.apply.test_apply_sandbox import _writes, gh, plan
from tests.apply.test_chaos_gaps import (  # noqa: F401
    apply_json,
    env,
    no_read_backoff,
    our_refs,
    pulls,
    rollback_json,
    sandbox,
)


def test_apply_dry_run_decides_as_apply_does_and_writes_nothing(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    base = gh(sandbox, "GET", "/repos/acme/alpha/git/ref/heads/main")["object"]["sha"]
    branch = "refs/heads/" + json.loads(path.read_text())["repos"][0]["branch"]
    gh(sandbox, "POST", "/repos/acme/alpha/git/refs", {"ref": branch, "sha": base})  # someone else's, at the base
    before = _writes(sandbox)
    code, predicted = apply_json(capsys, sandbox, path, "--dry-run")
    assert _writes(sandbox) == before and not list(tmp_path.glob("*.journal.jsonl"))
    assert code == 1  # a conflict is a failure, in the prediction too
    code, real = apply_json(capsys, sandbox, path)
    assert real["acme/alpha"]["status"] == "conflict"  # the branch is not ours
    assert predicted["acme/alpha"] == {**real["acme/alpha"], "writes": 0}  # the dry run said exactly that
    assert predicted["acme/beta"]["status"] == "dry-run" and real["acme/beta"]["status"] == "applied"
    assert predicted["acme/beta"]["detail"].startswith("would create migrator/")
    code, again = apply_json(capsys, sandbox, path, "--dry-run")
    assert again["acme/beta"]["detail"] == "would write nothing: already applied"


def test_rollback_dry_run_writes_nothing_and_names_each_step(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    assert apply_json(capsys, sandbox, path)[0] == 0
    before = _writes(sandbox)
    code, predicted = rollback_json(capsys, sandbox, path, "--dry-run")
    assert code == 0 and _writes(sandbox) == before
    assert {row["status"] for row in predicted.values()} == {"dry-run"}
    assert predicted["acme/alpha"]["detail"].startswith("would comment on #1, close it and delete migrator/")
    code, real = rollback_json(capsys, sandbox, path, "--yes")
    assert code == 0 and {row["status"] for row in real.values()} == {"closed"}


def test_a_pr_a_person_closed_is_reported_as_such(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    assert apply_json(capsys, sandbox, path)[0] == 0
    gh(sandbox, "PATCH", "/repos/acme/alpha/pulls/1", {"state": "closed"})
    code, rows = rollback_json(capsys, sandbox, path, "--yes")
    assert code == 0
    assert rows["acme/alpha"]["detail"] == "PR #1 was already closed by someone else; deleted our branch"
    assert rows["acme/beta"]["detail"] == "closed our PR and deleted our branch"
    assert our_refs(sandbox, "alpha") == [] and pulls(sandbox, "alpha")[0]["state"] == "closed"


def test_a_write_that_never_settles_says_what_github_answered_and_how_to_resume(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = plan(sandbox, tmp_path)
    broken = {"status": 502, "body": {"message": "Server Error"}}
    sandbox.add_fault(
        {
            "match": {"method": "POST", "path_regex": r"/git/refs$|/graphql$", "body_regex": 'createRef|"sha"'},
            "response": broken,
            "times": None,
        }
    )
    code, rows = apply_json(capsys, sandbox, path)
    assert code == 1
    detail = rows["acme/alpha"]["detail"]
    assert detail.startswith("gave up: branch did not settle after 6 attempts; GitHub's last answer: ")
    assert "502" in detail and detail.endswith("re-run `migrator apply` to resume")
