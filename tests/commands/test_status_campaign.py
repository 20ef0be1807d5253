"""`status` for the campaign: a summary of counts per state, `--state` and `--repo` filters, a URL column, and
stable JSON; against the sandbox, and the state rules on their own."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply import pacing
from migrator.apply.journal import RepoJournal
from migrator.apply.ports import CheckState, PullStatus
from migrator.cli import main
from migrator.commands.status import campaign_rows, pull_state, summarise, summary_line
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

TOKEN = "tok-admin-5a4b3c2d1e0f"
REPOS = ("alpha", "beta", "gamma", "delta")


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    root = tmp_path_factory.mktemp("status")
    seed = write_seed(
        root / "seed",
        {"acme": {name: golden_tree("reference") for name in REPOS}},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
    )
    with pytest.MonkeyPatch.context() as patch, running_sandbox(seed) as sandbox:
        patch.setenv("GITHUB_TOKEN", TOKEN)
        patch.setenv("MIGRATOR_STATE_DIR", str(root / "state"))
        patch.setattr(pacing, "_sleep", lambda _seconds: None)
        plan = root / "plan.json"
        assert main(["plan", "--org", "acme", "--api-url", sandbox.url, "--out", str(plan)]) == 0
        assert main(["-q", "apply", str(plan), "--api-url", sandbox.url, "--min-interval", "0"]) == 0
        pulls = {name: _gh(sandbox, "GET", f"/repos/acme/{name}/pulls?state=open")[0] for name in REPOS}
        _gh(sandbox, "PUT", f"/repos/acme/alpha/pulls/{pulls['alpha']['number']}/merge", {})
        _gh(sandbox, "PATCH", f"/repos/acme/beta/pulls/{pulls['beta']['number']}", {"state": "closed"})
        head = pulls["gamma"]["head"]["sha"]
        _gh(sandbox, "POST", f"/repos/acme/gamma/statuses/{head}", {"state": "failure", "context": "ci/test"})
        yield sandbox, plan


def _gh(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        sandbox.url + path, data=data, method=method, headers={"Authorization": f"token {TOKEN}"}
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def _status(applied: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    sandbox, plan = applied
    capsys.readouterr()
    assert main(["status", str(plan), "--api-url", sandbox.url, *extra]) == 0
    return capsys.readouterr().out


def test_the_table_has_a_url_column_and_ends_with_the_summary(
    applied: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _status(applied, capsys).splitlines()
    assert lines[0].split()[:7] == ["repository", "PR", "state", "review", "mergeable", "release", "url"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert {name: row[2] for name, row in rows.items()} == {
        "acme/alpha": "merged",
        "acme/beta": "closed",
        "acme/gamma": "checks-failing",
        "acme/delta": "open",
    }
    assert all(row[6].startswith("http") and row[6].endswith(f"/pull/{row[1][1:]}") for row in rows.values())
    assert lines[-1] == "campaign: 2 open, 0 touched, 1 checks failing, 0 approved, 1 merged, 1 closed, 0 obsolete"


def test_state_and_repo_filters(applied: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str]) -> None:
    lines = _status(applied, capsys, "--state", "checks-failing").splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["acme/gamma"]
    assert lines[-1].endswith("; 1 of 4 rows shown")
    lines = _status(applied, capsys, "--state", "open").splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["acme/delta", "acme/gamma"]
    lines = _status(applied, capsys, "--repo", "beta", "--state", "merged", "--state", "closed").splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["acme/beta"]


def test_json_is_sorted_and_stable(applied: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str]) -> None:
    first = _status(applied, capsys, "--format", "json", "--jobs", "1")
    again = _status(applied, capsys, "--format", "json", "--jobs", "4")
    assert first == again
    data = json.loads(first)
    assert list(data) == sorted(data)
    assert data["summary"] == {
        "approved": 0,
        "checks-failing": 1,
        "closed": 1,
        "merged": 1,
        "obsolete": 0,
        "open": 2,
        "touched": 0,
    }
    assert [r["repo"] for r in data["repos"]] == ["acme/alpha", "acme/beta", "acme/delta", "acme/gamma"]
    gamma = data["repos"][3]
    assert gamma["state"] == "checks-failing" and gamma["url"].endswith(f"/pull/{gamma['number']}")
    assert {"name": "ci/test", "state": "failure"} in gamma["checks"]["runs"]
    assert [p["repo"] for p in data["pulls"]] == ["acme/alpha", "acme/beta", "acme/delta", "acme/gamma"]


def _pull(
    state: str = "open", *, rollup: str | None = None, review: str | None = None, checks: tuple = ()
) -> PullStatus:
    return PullStatus("o/r", 1, "https://x/o/r/pull/1", state, review, "MERGEABLE", rollup, checks)


def test_the_state_of_a_pull_request() -> None:
    journal = RepoJournal(pr_number=1)
    assert pull_state(_pull(review="APPROVED"), journal) == "approved"
    assert pull_state(_pull(review="APPROVED", rollup="failure"), journal) == "checks-failing"
    assert pull_state(_pull(checks=(CheckState("test", "timed_out"),)), journal) == "checks-failing"
    assert pull_state(_pull(rollup="pending"), journal) == "open"
    assert pull_state(_pull("merged"), journal) == "merged"
    assert pull_state(_pull("closed"), journal) == "closed"
    assert pull_state(_pull("closed"), RepoJournal(pr_number=1, status="obsolete")) == "obsolete"
    touched = RepoJournal(pr_number=1, status="touched")  # apply's outcome: someone else pushed to our branch
    assert pull_state(_pull(review="APPROVED", rollup="failure"), touched) == "touched"
    assert pull_state(_pull("merged"), touched) == "merged"


def test_a_closed_or_obsolete_pull_request_shows_no_review_decision() -> None:
    repos = {"o/r": RepoJournal(pr_number=1, status="obsolete")}
    (row,) = campaign_rows([_pull("closed", review="REVIEW_REQUIRED")], repos, {})
    assert (row.state, row.review, row.as_json()["review"]) == ("obsolete", None, None)
    (row,) = campaign_rows([_pull(review="REVIEW_REQUIRED")], {"o/r": RepoJournal(pr_number=1)}, {})
    assert row.review == "REVIEW_REQUIRED"


def test_revert_pulls_and_repositories_without_a_pull_request_are_rows_but_not_counted() -> None:
    repos = {"o/r": RepoJournal(pr_number=1, revert_pr_number=2), "o/s": RepoJournal(status="failed")}
    revert = PullStatus("o/r", 2, "https://x/o/r/pull/2", "open", None, None, None)
    rows = campaign_rows([_pull("merged"), revert], repos, {"o/r": "verified"})
    assert [(r.repo, r.number, r.state, r.release) for r in rows] == [
        ("o/r", 1, "merged", "verified"),
        ("o/r", 2, "revert-open", None),
        ("o/s", None, "failed", None),
    ]
    summary = summarise(rows)
    assert summary["merged"] == 1 and summary["open"] == 0
    assert summary_line(summary, shown=3, total=3).startswith("campaign: 0 open, 0 touched, 0 checks failing")
