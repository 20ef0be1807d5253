"""Issue 11, item 12: ref names GitHub refuses are refused (git's check-ref-format rules, answered 422 with no
Location header to break), and deleting a pull request's head branch closes the pull request, as on GitHub."""

from __future__ import annotations

import pytest
from github import Github

from migrator.sandbox.git import valid_ref_name
from migrator.sandbox.testing import Sandbox
from tests.sandbox.support import call, graphql

INVALID = [
    "refs/heads/evil\n", "refs/heads/a..b", "refs/heads/x.lock", "refs/heads/.hidden", "refs/heads/a b",
    "refs/heads/a~1", "refs/heads/a^", "refs/heads/a:b", "refs/heads/a?", "refs/heads/a*", "refs/heads/a[",
    "refs/heads/a\\b", "refs/heads/a//b", "refs/heads/a.", "refs/heads/a@{1}", "refs/heads/a/", "refs/heads/\x7f",
    "refs/heads/migrator/x.lock/y",
]
VALID = ["refs/heads/migrator/plan-2026-12-01", "refs/heads/feature/x-1.2", "refs/tags/v1.0.0", "refs/heads/a@b"]


def _head(sandbox: Sandbox) -> str:
    return str(call(sandbox, "GET", "/repos/acme/lib/git/ref/heads/main")[2]["object"]["sha"])


@pytest.mark.parametrize("name", INVALID, ids=repr)
def test_rest_refuses_what_git_refuses(sandbox: Sandbox, name: str) -> None:
    status, headers, body = call(sandbox, "POST", "/repos/acme/lib/git/refs", body={"ref": name, "sha": _head(sandbox)})
    assert (status, body["message"]) == (422, "Reference name is invalid")
    assert "location" not in headers
    assert name not in sandbox.store.repo("acme", "lib").refs  # type: ignore[union-attr]


@pytest.mark.parametrize("name", VALID)
def test_rest_accepts_ordinary_names(sandbox: Sandbox, name: str) -> None:
    body = {"ref": name, "sha": _head(sandbox)}
    status, headers, _body = call(sandbox, "POST", "/repos/acme/lib/git/refs", body=body)
    assert status == 201 and headers["location"].endswith(name.removeprefix("refs/"))


def test_graphql_refuses_them_too(sandbox: Sandbox) -> None:
    repo_id = graphql(sandbox, '{ repository(owner: "acme", name: "lib") { id } }')["data"]["repository"]["id"]
    mutation = "mutation($i: CreateRefInput!) { createRef(input: $i) { ref { name } } }"
    given = {"repositoryId": repo_id, "name": "refs/heads/a..b", "oid": _head(sandbox)}
    body = graphql(sandbox, mutation, {"i": given})
    assert body["errors"][0]["type"] == "UNPROCESSABLE"
    assert body["data"]["createRef"] is None


def test_the_rules_follow_git_check_ref_format() -> None:
    assert [n for n in INVALID if valid_ref_name(n)] == []
    assert all(valid_ref_name(n) for n in VALID)
    assert not valid_ref_name("@") and not valid_ref_name("")


def _pull_on_branch(sandbox: Sandbox, gh: Github, branch: str) -> int:
    repo = gh.get_repo("acme/lib")
    repo.create_git_ref(f"refs/heads/{branch}", _head(sandbox))
    repo.create_file("topic.txt", "topic", "x", branch=branch)
    return int(repo.create_pull(title="T", body="", head=branch, base="main").number)


def test_deleting_the_head_branch_closes_the_pull_request(sandbox: Sandbox, gh: Github) -> None:
    number = _pull_on_branch(sandbox, gh, "topic")
    assert call(sandbox, "DELETE", "/repos/acme/lib/git/refs/heads/topic")[0] == 204
    pull = call(sandbox, "GET", f"/repos/acme/lib/pulls/{number}")[2]
    assert (pull["state"], pull["merged"]) == ("closed", False)
    reopened = call(sandbox, "PATCH", f"/repos/acme/lib/pulls/{number}", body={"state": "open"})
    assert reopened[0] == 422  # "state cannot be changed. The head branch was deleted."


def test_deleting_it_through_graphql_closes_it_too(sandbox: Sandbox, gh: Github) -> None:
    number = _pull_on_branch(sandbox, gh, "other")
    query = '{ repository(owner: "acme", name: "lib") { ref(qualifiedName: "refs/heads/other") { id } } }'
    ref_id = graphql(sandbox, query)["data"]["repository"]["ref"]["id"]
    body = graphql(sandbox, "mutation($i: DeleteRefInput!) { deleteRef(input: $i) { clientMutationId } }",
                   {"i": {"refId": ref_id}})
    assert "errors" not in body, body
    assert call(sandbox, "GET", f"/repos/acme/lib/pulls/{number}")[2]["state"] == "closed"


def test_a_merged_pull_request_stays_merged_when_its_branch_goes(sandbox: Sandbox, gh: Github) -> None:
    number = _pull_on_branch(sandbox, gh, "merged-topic")
    assert call(sandbox, "PUT", f"/repos/acme/lib/pulls/{number}/merge", body={})[0] == 200
    assert call(sandbox, "DELETE", "/repos/acme/lib/git/refs/heads/merged-topic")[0] == 204
    pull = call(sandbox, "GET", f"/repos/acme/lib/pulls/{number}")[2]
    assert (pull["state"], pull["merged"]) == ("closed", True)
