"""`pull_statuses`: many pull requests per query, in input order; and how GitHub's answer is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.apply.ports import CheckState, PullRequestSpec, PullStatus
from migrator.github import queries
from migrator.github.client import GitHubClient
from migrator.github.status import BATCH, parse_status
from migrator.sandbox.graphql import validate_document
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.github.support import ADMIN, Waits, api, make_client

ORG = "acme"
REPO = f"{ORG}/app"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    seed = write_seed(tmp_path, {ORG: {"app": {"README.md": "# app\n"}}},
                      org_meta={ORG: {"tokens": {ADMIN: "full"}}})
    with running_sandbox(seed) as running:
        yield running


def _pull(client: GitHubClient, branch: str, text: bytes) -> int:
    base = client.repo_state(REPO, branch=branch, paths=[]).default_head
    client.create_branch(REPO, branch=branch, oid=base)
    client.commit_files(REPO, branch=branch, expected_head=base, headline=branch, body="",
                        additions={f"{branch}.txt": text}, deletions=[])
    return client.create_pull(REPO, PullRequestSpec(base="main", head=branch, title=branch, body="")).number


def test_open_closed_and_merged_in_input_order(box: Sandbox) -> None:
    client = make_client(box.url, waits=Waits())
    opened, closed, merged = (_pull(client, name, name.encode()) for name in ("a", "b", "c"))
    head = client.repo_state(REPO, branch="a", paths=[]).branch_head
    assert head is not None
    api(box, "POST", f"/repos/{REPO}/statuses/{head.oid}", {"state": "success", "context": "ci/build"})
    api(box, "POST", f"/repos/{REPO}/check-runs", {"name": "test", "head_sha": head.oid, "status": "completed",
                                                   "conclusion": "failure"})
    client.close_pull(REPO, closed)
    api(box, "PUT", f"/repos/{REPO}/pulls/{merged}/merge", {})
    asked = [(REPO, merged), (f"{ORG}/missing", 1), (REPO, opened), (REPO, 99), (REPO, closed)]
    client.usage.graphql_requests = 0
    statuses = client.pull_statuses(asked)
    assert client.usage.graphql_requests == 1
    assert [(s.repo, s.number, s.state) for s in statuses] == [
        (REPO, merged, "merged"), (f"{ORG}/missing", 1, "unknown"), (REPO, opened, "open"), (REPO, 99, "unknown"),
        (REPO, closed, "closed")]
    mine = statuses[2]
    assert mine.url.endswith(f"/{REPO}/pull/{opened}") and mine.mergeable == "MERGEABLE"
    # The failing check run makes the rollup fail; check runs come before commit statuses, as on GitHub.
    assert (mine.review_decision, mine.rollup, mine.checks) == (
        None, "failure", (CheckState("test", "failure"), CheckState("ci/build", "success")))


def test_batches_of_twenty_five(box: Sandbox) -> None:
    client = make_client(box.url, waits=Waits())
    number = _pull(client, "a", b"a")
    client.usage.graphql_requests = 0
    statuses = client.pull_statuses([(REPO, number)] * (BATCH + 2))
    assert client.usage.graphql_requests == 2
    assert len(statuses) == BATCH + 2 and {s.state for s in statuses} == {"open"}


@pytest.mark.parametrize("count", [1, 2, BATCH])
def test_the_status_query_is_valid(count: int) -> None:
    assert validate_document(queries.pull_statuses(count)) == []


# GitHub's answer for one alias, as documented for PullRequest/Commit/StatusCheckRollup.
GITHUB_NODE: dict[str, Any] = {
    "pull": {"number": 7, "url": "https://github.com/acme/app/pull/7", "state": "OPEN",
             "reviewDecision": "REVIEW_REQUIRED", "mergeable": "CONFLICTING"},
    "checks": {"commits": {"nodes": [{"commit": {"statusCheckRollup": {"state": "PENDING", "contexts": {"nodes": [
        {"__typename": "CheckRun", "name": "build", "conclusion": "SUCCESS", "status": "COMPLETED"},
        {"__typename": "CheckRun", "name": "test", "conclusion": None, "status": "IN_PROGRESS"},
        {"__typename": "StatusContext", "context": "ci/lint", "state": "ERROR"},
    ]}}}}]}},
}


def test_reads_githubs_rollup_and_checks() -> None:
    assert parse_status("acme/app", 7, GITHUB_NODE) == PullStatus(
        repo="acme/app", number=7, url="https://github.com/acme/app/pull/7", state="open",
        review_decision="REVIEW_REQUIRED", mergeable="CONFLICTING", rollup="pending",
        checks=(CheckState("build", "success"), CheckState("test", "in_progress"), CheckState("ci/lint", "error")),
    )


def test_a_rollup_that_could_not_be_read_leaves_the_state() -> None:
    status = parse_status("acme/app", 7, {**GITHUB_NODE, "checks": None})
    assert (status.state, status.rollup, status.checks) == ("open", None, ())
    assert parse_status("acme/app", 7, None).state == "unknown"
