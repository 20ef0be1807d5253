"""Where a pull request stands: its commits, their check rollup, its review decision and review requests."""

from __future__ import annotations

from typing import Any

import pytest
from github import Github, GithubException

from migrator.github import queries
from migrator.github.status import parse_status
from migrator.sandbox.graphql_api import validate_document
from migrator.sandbox.testing import Sandbox
from tests.sandbox.support import READER, call, client, graphql

ROLLUP = """
query Rollup($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewDecision
      headRefOid
      commits(last: 1) { totalCount nodes { url commit { oid statusCheckRollup { state
        contexts(first: 10) {
          totalCount checkRunCount statusContextCount
          checkRunCountsByState { state count }
          statusContextCountsByState { state count }
          nodes { __typename
            ... on CheckRun { name conclusion status detailsUrl isRequired(pullRequestNumber: $number) }
            ... on StatusContext { context state description targetUrl isRequired(pullRequestNumber: $number) } } }
      } } } }
    }
  }
}
"""


def _open_pull(gh: Github, repo_name: str, branch: str, files: tuple[str, ...] = ("change.txt",)) -> tuple[int, str]:
    """A branch with one commit per file, and a pull request for it; returns its number and head."""
    repo = gh.get_repo(repo_name)
    repo.create_git_ref(f"refs/heads/{branch}", repo.get_branch(repo.default_branch).commit.sha)
    for path in files:
        repo.create_file(path, f"add {path}", f"{path}\n", branch=branch)
    pull = repo.create_pull(base=repo.default_branch, head=branch, title=branch)
    return pull.number, pull.head.sha


def _status(sandbox: Sandbox, repo: str, sha: str, state: str, context: str) -> None:
    status, _, body = call(sandbox, "POST", f"/repos/{repo}/statuses/{sha}", body={"state": state, "context": context})
    assert status == 201, body


def _check_run(sandbox: Sandbox, repo: str, sha: str, name: str, **fields: Any) -> int:
    status, _, body = call(sandbox, "POST", f"/repos/{repo}/check-runs", body={"name": name, "head_sha": sha, **fields})
    assert status == 201, body
    return int(body["id"])


def _rollup(sandbox: Sandbox, repo: str, number: int) -> dict[str, Any]:
    owner, _, name = repo.partition("/")
    body = graphql(sandbox, ROLLUP, {"owner": owner, "name": name, "number": number})
    assert "errors" not in body, body
    return dict(body["data"]["repository"]["pullRequest"])


def _migrator_status(sandbox: Sandbox, repo: str, number: int) -> Any:
    """The exact document `StatusMethods.pull_statuses` sends, read by its own parser."""
    owner, _, name = repo.partition("/")
    body = graphql(sandbox, queries.pull_statuses(1), {"o0": owner, "n0": name, "k0": number})
    assert "errors" not in body, body
    return parse_status(repo, number, body["data"]["r0"])


def test_no_checks_means_a_null_rollup(sandbox: Sandbox, gh: Github) -> None:
    number, head = _open_pull(gh, "acme/lib", "quiet")
    pull = _rollup(sandbox, "acme/lib", number)
    assert pull["reviewDecision"] is None  # acme/lib's main is not protected
    commit = pull["commits"]["nodes"][0]
    assert commit["commit"] == {"oid": head, "statusCheckRollup": None}
    assert commit["url"] == f"{sandbox.url}/acme/lib/pull/{number}/commits/{head}"
    status = _migrator_status(sandbox, "acme/lib", number)
    assert (status.state, status.review_decision, status.rollup, status.checks) == ("open", None, None, ())


def test_rollup_follows_githubs_rules(sandbox: Sandbox, gh: Github) -> None:
    repo = "acme/app"
    number, head = _open_pull(gh, repo, "checked")

    def state() -> str:
        rollup = _rollup(sandbox, repo, number)["commits"]["nodes"][0]["commit"]["statusCheckRollup"]
        return str(rollup["state"])

    _status(sandbox, repo, head, "pending", "ci/build")
    assert state() == "PENDING"
    _status(sandbox, repo, head, "success", "ci/build")  # the latest status per context counts
    assert state() == "SUCCESS"
    run = _check_run(sandbox, repo, head, "lint", status="in_progress")
    assert state() == "PENDING"
    call(sandbox, "PATCH", f"/repos/{repo}/check-runs/{run}", body={"conclusion": "neutral"})
    assert state() == "SUCCESS"  # neutral (and skipped) pass
    _check_run(sandbox, repo, head, "test", status="completed", conclusion="failure")
    assert state() == "FAILURE"
    _check_run(sandbox, repo, head, "test", status="completed", conclusion="success")  # a re-run replaces it
    assert state() == "SUCCESS"
    _status(sandbox, repo, head, "error", "deploy")
    assert state() == "FAILURE"  # an erroring status fails the rollup too

    pull = _rollup(sandbox, repo, number)
    assert pull["reviewDecision"] == "REVIEW_REQUIRED"  # acme/app requires one review; none approve
    contexts = pull["commits"]["nodes"][0]["commit"]["statusCheckRollup"]["contexts"]
    assert contexts["nodes"] == [
        {"__typename": "CheckRun", "name": "lint", "conclusion": "NEUTRAL", "status": "COMPLETED",
         "detailsUrl": None, "isRequired": False},
        {"__typename": "CheckRun", "name": "test", "conclusion": "SUCCESS", "status": "COMPLETED",
         "detailsUrl": None, "isRequired": False},
        {"__typename": "StatusContext", "context": "ci/build", "state": "SUCCESS", "description": None,
         "targetUrl": None, "isRequired": True},
        {"__typename": "StatusContext", "context": "deploy", "state": "ERROR", "description": None,
         "targetUrl": None, "isRequired": False},
    ]
    assert (contexts["totalCount"], contexts["checkRunCount"], contexts["statusContextCount"]) == (4, 2, 2)
    assert contexts["checkRunCountsByState"] == [{"state": "NEUTRAL", "count": 1}, {"state": "SUCCESS", "count": 1}]
    assert contexts["statusContextCountsByState"] == [{"state": "ERROR", "count": 1}, {"state": "SUCCESS", "count": 1}]

    status = _migrator_status(sandbox, repo, number)
    assert (status.review_decision, status.rollup, status.mergeable) == ("REVIEW_REQUIRED", "failure", "MERGEABLE")
    assert [(c.name, c.state) for c in status.checks] == [
        ("lint", "neutral"), ("test", "success"), ("ci/build", "success"), ("deploy", "error")]


def test_unfinished_check_runs_report_their_status(sandbox: Sandbox, gh: Github) -> None:
    number, head = _open_pull(gh, "acme/lib", "queued")
    _check_run(sandbox, "acme/lib", head, "build")
    status = _migrator_status(sandbox, "acme/lib", number)
    assert status.rollup == "pending"
    assert [(c.name, c.state) for c in status.checks] == [("build", "queued")]


def test_rollup_is_on_the_head_commit_only(sandbox: Sandbox, gh: Github) -> None:
    number, first = _open_pull(gh, "acme/lib", "moving")
    _status(sandbox, "acme/lib", first, "failure", "ci")
    assert _migrator_status(sandbox, "acme/lib", number).rollup == "failure"
    gh.get_repo("acme/lib").create_file("more.txt", "more", "more\n", branch="moving")
    assert _migrator_status(sandbox, "acme/lib", number).rollup is None  # the new head has no checks yet


def test_pull_commits_are_its_own_oldest_first_and_survive_the_merge(sandbox: Sandbox, gh: Github) -> None:
    number, head = _open_pull(gh, "acme/lib", "two", files=("a.txt", "b.txt"))
    repo = gh.get_repo("acme/lib")
    query = """query($n: Int!) { repository(owner: "acme", name: "lib") { pullRequest(number: $n) {
        all: commits(first: 10) { totalCount nodes { commit { oid message } } }
        last: commits(last: 1) { nodes { commit { oid } } } } } }"""
    pull = graphql(sandbox, query, {"n": number})["data"]["repository"]["pullRequest"]
    assert pull["all"]["totalCount"] == 2
    assert [n["commit"]["message"] for n in pull["all"]["nodes"]] == ["add a.txt", "add b.txt"]
    assert pull["all"]["nodes"][-1]["commit"]["oid"] == head
    assert pull["last"]["nodes"] == [{"commit": {"oid": head}}]
    repo.get_pull(number).merge()
    merged = graphql(sandbox, query, {"n": number})["data"]["repository"]["pullRequest"]
    assert merged["all"] == pull["all"]


def test_pull_status_document_is_valid_against_the_schema() -> None:
    assert validate_document(ROLLUP) == []
    assert validate_document(queries.pull_statuses(3)) == []


def test_invalid_check_run_conclusion_is_refused(sandbox: Sandbox, gh: Github) -> None:
    head = gh.get_repo("acme/lib").get_branch("main").commit.sha
    status, _, body = call(sandbox, "POST", "/repos/acme/lib/check-runs",
                           body={"name": "x", "head_sha": head, "conclusion": "great"})
    assert status == 422
    assert body["errors"] == [{"resource": "CheckRun", "code": "invalid", "field": "conclusion"}]


# ---------------------------------------------------------------- review requests


def test_create_review_request_with_pygithub(sandbox: Sandbox, gh: Github) -> None:
    number, _ = _open_pull(gh, "acme/lib", "review-me")
    pull = gh.get_repo("acme/lib").get_pull(number)
    assert pull.requested_reviewers == [] and pull.requested_teams == []
    pull.create_review_request(reviewers=["alice", "bob"], team_reviewers=["platform"])
    pull.create_review_request(reviewers="alice")  # asking again changes nothing
    again = gh.get_repo("acme/lib").get_pull(number)
    assert [u.login for u in again.requested_reviewers] == ["alice", "bob"]
    assert [t.slug for t in again.requested_teams] == ["platform"]
    users, teams = again.get_review_requests()
    assert [u.login for u in users] == ["alice", "bob"] and [t.slug for t in teams] == ["platform"]
    again.delete_review_request(reviewers=["bob"])
    assert [u.login for u in gh.get_repo("acme/lib").get_pull(number).requested_reviewers] == ["alice"]


def test_review_request_rest_shape_and_refusals(sandbox: Sandbox, gh: Github) -> None:
    number, _ = _open_pull(gh, "acme/lib", "rest-review")
    path = f"/repos/acme/lib/pulls/{number}/requested_reviewers"
    status, headers, body = call(sandbox, "POST", path, body={"reviewers": ["carol"], "team_reviewers": ["ops"]})
    assert status == 201
    assert headers["location"] == body["url"] == f"{sandbox.url}/repos/acme/lib/pulls/{number}"
    assert body["number"] == number
    carol = body["requested_reviewers"][0]
    assert (carol["login"], carol["type"], carol["url"]) == ("carol", "User", f"{sandbox.url}/users/carol")
    ops = body["requested_teams"][0]
    assert (ops["slug"], ops["name"], ops["html_url"]) == ("ops", "ops", f"{sandbox.url}/orgs/acme/teams/ops")
    assert call(sandbox, "GET", f"/repos/acme/lib/pulls/{number}")[2]["requested_reviewers"][0]["id"] == carol["id"]

    status, _, body = call(sandbox, "POST", path, body={"reviewers": ["sandbox-user"]})
    assert (status, body["message"]) == (422, "Review cannot be requested from pull request author.")
    status, _, body = call(sandbox, "POST", path, body={})
    assert status == 422 and body["message"].startswith("Invalid request.")
    status, _, _ = call(sandbox, "POST", "/repos/acme/lib/pulls/999/requested_reviewers", body={"reviewers": ["x"]})
    assert status == 404


def test_review_request_needs_write_access(sandbox: Sandbox, gh: Github) -> None:
    number, _ = _open_pull(gh, "acme/lib", "read-only")
    with pytest.raises(GithubException) as caught:
        client(sandbox, READER).get_repo("acme/lib").get_pull(number).create_review_request(reviewers=["x"])
    assert caught.value.status == 403


def test_review_requests_in_graphql(sandbox: Sandbox, gh: Github) -> None:
    number, _ = _open_pull(gh, "acme/app", "gql-review")
    gh.get_repo("acme/app").get_pull(number).create_review_request(reviewers=["dave"], team_reviewers=["core"])
    query = """query($n: Int!) { repository(owner: "acme", name: "app") { pullRequest(number: $n) {
        reviewDecision
        reviewRequests(first: 10) { totalCount nodes { asCodeOwner requestedReviewer {
            __typename ... on User { login } ... on Team { slug combinedSlug } } } } } } }"""
    pull = graphql(sandbox, query, {"n": number})["data"]["repository"]["pullRequest"]
    assert pull["reviewDecision"] == "REVIEW_REQUIRED"  # requesting a review is not approving
    assert pull["reviewRequests"]["totalCount"] == 2
    assert [n["requestedReviewer"] for n in pull["reviewRequests"]["nodes"]] == [
        {"__typename": "User", "login": "dave"},
        {"__typename": "Team", "slug": "core", "combinedSlug": "acme/core"},
    ]
