"""GraphQL against the vendored schema: queries, mutations, GitHub-shaped errors and cost."""

from __future__ import annotations

import base64
from typing import Any

from migrator.sandbox.graphql_api import validate_document
from migrator.sandbox.testing import Sandbox
from tests.sandbox.support import CI_YML, NO_WORKFLOW, call, graphql

ORG_REPOS = """
query OrgRepos($login: String!, $after: String) {
  organization(login: $login) {
    repositories(first: 2, after: $after, isFork: false) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { name nameWithOwner isArchived isEmpty defaultBranchRef { name } }
    }
  }
  rateLimit { cost remaining resetAt limit used nodeCount }
}
"""

WORKFLOWS = """
query Workflows($owner: String!, $name: String!, $expr: String!) {
  repository(owner: $owner, name: $name) {
    id
    defaultBranchRef { name target { oid } branchProtectionRule { isAdminEnforced requiredStatusCheckContexts } }
    object(expression: $expr) {
      ... on Tree { entries { name type oid object { ... on Blob { text oid byteSize isBinary isTruncated } } } }
    }
  }
}
"""

COMMIT = """
mutation Commit($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid message parents(first: 1) { nodes { oid } } } ref { name } }
}
"""


def _repo_info(sandbox: Sandbox, name: str = "lib") -> dict[str, Any]:
    body = graphql(sandbox, WORKFLOWS, {"owner": "acme", "name": name, "expr": "HEAD:"})
    return dict(body["data"]["repository"])


def _commit_input(head: str, path: str, text: str, *, branch: str = "main", repo: str = "acme/lib") -> dict[str, Any]:
    return {"input": {
        "branch": {"repositoryNameWithOwner": repo, "branchName": branch},
        "message": {"headline": "Update", "body": "Details"},
        "fileChanges": {"additions": [{"path": path, "contents": base64.b64encode(text.encode()).decode()}]},
        "expectedHeadOid": head,
    }}


def test_org_repositories_paginate_with_filters_and_cost(sandbox: Sandbox) -> None:
    first = graphql(sandbox, ORG_REPOS, {"login": "acme"})["data"]
    connection = first["organization"]["repositories"]
    assert connection["totalCount"] == 5  # fork-x is filtered out
    assert [n["name"] for n in connection["nodes"]] == ["app", "empty"]
    assert connection["pageInfo"]["hasNextPage"]
    assert first["rateLimit"]["cost"] == 1
    assert first["rateLimit"]["nodeCount"] == 2
    names = [n["name"] for n in connection["nodes"]]
    cursor = connection["pageInfo"]["endCursor"]
    while cursor:
        page = graphql(sandbox, ORG_REPOS, {"login": "acme", "after": cursor})["data"]["organization"]["repositories"]
        names += [n["name"] for n in page["nodes"]]
        cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert names == ["app", "empty", "lib", "old", "trunk"]


def test_cost_follows_githubs_rule(sandbox: Sandbox) -> None:
    query = """{ organization(login: "acme") { repositories(first: 100) { nodes {
        pullRequests(first: 50) { nodes { labels(first: 60) { nodes { name } } } } } } }
        rateLimit { cost nodeCount } }"""
    rate = graphql(sandbox, query)["data"]["rateLimit"]
    assert rate == {"cost": 51, "nodeCount": 100 + 100 * 50 + 100 * 50 * 60}
    assert sandbox.stats()["graphql_points"] == 51


def test_workflow_tree_and_blobs(sandbox: Sandbox) -> None:
    repo = graphql(sandbox, WORKFLOWS, {"owner": "acme", "name": "app", "expr": "HEAD:.github/workflows"})
    data = repo["data"]["repository"]
    assert data["defaultBranchRef"]["branchProtectionRule"] == {
        "isAdminEnforced": False, "requiredStatusCheckContexts": ["ci/build"]}
    entries = {e["name"]: e for e in data["object"]["entries"]}
    assert set(entries) == {"ci.yml", "release.yml"}
    blob = entries["ci.yml"]["object"]
    assert blob["text"] == CI_YML and blob["byteSize"] == len(CI_YML) and not blob["isBinary"]


def test_binary_and_truncated_blobs(sandbox: Sandbox) -> None:
    query = """{ repository(owner: "acme", name: "app") {
        png: object(expression: "main:logo.png") { ... on Blob { text isBinary } }
        big: object(expression: "HEAD:big.txt") { ... on Blob { byteSize isTruncated text } }
        none: object(expression: "HEAD:missing.txt") { oid } } }"""
    data = graphql(sandbox, query)["data"]["repository"]
    assert data["png"] == {"text": None, "isBinary": True}
    assert data["big"]["byteSize"] == 600_000 and data["big"]["isTruncated"]
    assert len(data["big"]["text"]) == 512_000
    assert data["none"] is None


def test_unknown_field_fails_as_on_github(sandbox: Sandbox) -> None:
    body = graphql(sandbox, '{ repository(owner: "acme", name: "lib") { nope } }')
    assert "data" not in body
    assert body["errors"][0]["message"] == "Field 'nope' doesn't exist on type 'Repository'"
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"


def test_not_found_is_a_typed_error_with_a_path(sandbox: Sandbox) -> None:
    body = graphql(sandbox, '{ repository(owner: "acme", name: "nope") { name } }')
    assert body["data"] == {"repository": None}
    assert body["errors"][0]["type"] == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["repository"]
    assert body["errors"][0]["message"] == "Could not resolve to a Repository with the name 'acme/nope'."


def test_missing_pagination_boundaries(sandbox: Sandbox) -> None:
    body = graphql(sandbox, '{ organization(login: "acme") { repositories { totalCount } } }')
    assert body["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"


def test_create_commit_on_branch_and_stale_data(sandbox: Sandbox) -> None:
    head = _repo_info(sandbox)["defaultBranchRef"]["target"]["oid"]
    done = graphql(sandbox, COMMIT, _commit_input(head, "docs/new.md", "new\n"))["data"]["createCommitOnBranch"]
    assert done["commit"]["parents"]["nodes"][0]["oid"] == head
    assert done["commit"]["message"] == "Update\n\nDetails"
    assert done["ref"]["name"] == "main"
    stale = graphql(sandbox, COMMIT, _commit_input(head, "docs/other.md", "x\n"))
    assert stale["data"] == {"createCommitOnBranch": None}
    assert stale["errors"][0]["type"] == "STALE_DATA"
    assert stale["errors"][0]["message"] == (
        f'Expected branch to point to "{head}" but it did not. Pull and try again.')


def test_someone_elses_push_makes_expected_head_stale(sandbox: Sandbox) -> None:
    head = _repo_info(sandbox)["defaultBranchRef"]["target"]["oid"]
    status, _, pushed = call(sandbox, "POST", "/_sandbox/repos/acme/lib/commit", token=None,
                             body={"branch": "main", "files": {"other.txt": "theirs"}})
    assert status == 201 and pushed["sha"] != head
    stale = graphql(sandbox, COMMIT, _commit_input(head, "mine.txt", "mine"))
    assert stale["errors"][0]["type"] == "STALE_DATA"


def test_workflow_scope_is_required_for_workflow_files(sandbox: Sandbox) -> None:
    head = _repo_info(sandbox)["defaultBranchRef"]["target"]["oid"]
    body = graphql(sandbox, COMMIT, _commit_input(head, ".github/workflows/x.yml", CI_YML), token=NO_WORKFLOW)
    assert body["errors"][0]["type"] == "FORBIDDEN"
    assert "without `workflow` scope" in body["errors"][0]["message"]


def test_ref_and_pull_request_mutations(sandbox: Sandbox) -> None:
    info = _repo_info(sandbox)
    repo_id, head = info["id"], info["defaultBranchRef"]["target"]["oid"]
    create_ref = """mutation($r: ID!, $oid: GitObjectID!) {
        createRef(input: {repositoryId: $r, name: "refs/heads/gql", oid: $oid}) { ref { id name } } }"""
    ref = graphql(sandbox, create_ref, {"r": repo_id, "oid": head})["data"]["createRef"]["ref"]
    again = graphql(sandbox, create_ref, {"r": repo_id, "oid": head})
    assert again["errors"][0]["message"] == 'A ref named "refs/heads/gql" already exists in the repository.'
    graphql(sandbox, COMMIT, _commit_input(head, "gql.txt", "gql\n", branch="gql"))
    create_pr = """mutation($r: ID!) { createPullRequest(input: {repositoryId: $r, baseRefName: "main",
        headRefName: "gql", title: "GQL", body: "b"}) { pullRequest { id number state headRefName } } }"""
    pull = graphql(sandbox, create_pr, {"r": repo_id})["data"]["createPullRequest"]["pullRequest"]
    assert (pull["number"], pull["state"], pull["headRefName"]) == (1, "OPEN", "gql")
    duplicate = graphql(sandbox, create_pr, {"r": repo_id})
    assert duplicate["errors"][0]["message"] == "A pull request already exists for acme:gql."
    comment = graphql(sandbox, """mutation($s: ID!) { addComment(input: {subjectId: $s, body: "hi"}) {
        commentEdge { node { body } } } }""", {"s": pull["id"]})
    assert comment["data"]["addComment"]["commentEdge"]["node"]["body"] == "hi"
    closed = graphql(sandbox, """mutation($p: ID!) { closePullRequest(input: {pullRequestId: $p}) {
        pullRequest { state closed } } }""", {"p": pull["id"]})
    assert closed["data"]["closePullRequest"]["pullRequest"] == {"state": "CLOSED", "closed": True}
    deleted = graphql(sandbox, "mutation($id: ID!) { deleteRef(input: {refId: $id}) { clientMutationId } }",
                      {"id": ref["id"]})
    assert "errors" not in deleted
    refs = graphql(sandbox, '{ repository(owner: "acme", name: "lib") { ref(qualifiedName: "gql") { name } } }')
    assert refs["data"]["repository"]["ref"] is None


def test_revert_pull_request(sandbox: Sandbox) -> None:
    info = _repo_info(sandbox)
    head = info["defaultBranchRef"]["target"]["oid"]
    call(sandbox, "POST", "/repos/acme/lib/git/refs", body={"ref": "refs/heads/feat", "sha": head})
    graphql(sandbox, COMMIT, _commit_input(head, "feat.txt", "feat\n", branch="feat"))
    _, _, pull = call(sandbox, "POST", "/repos/acme/lib/pulls", body={"head": "feat", "base": "main", "title": "Feat"})
    call(sandbox, "PUT", "/repos/acme/lib/pulls/1/merge", body={})
    revert = graphql(sandbox, """mutation($p: ID!) { revertPullRequest(input: {pullRequestId: $p}) {
        revertPullRequest { number title headRefName baseRefName } } }""", {"p": pull["node_id"]})
    made = revert["data"]["revertPullRequest"]["revertPullRequest"]
    assert made == {"number": 2, "title": 'Revert "Feat"', "headRefName": "revert-1-feat", "baseRefName": "main"}
    _, _, files = call(sandbox, "GET", "/repos/acme/lib/pulls/2/files")
    assert [(f["filename"], f["status"]) for f in files] == [("feat.txt", "removed")]


def test_node_and_nodes(sandbox: Sandbox) -> None:
    repo_id = _repo_info(sandbox)["id"]
    body = graphql(sandbox, "query($id: ID!) { node(id: $id) { ... on Repository { nameWithOwner } } "
                            "nodes(ids: [$id]) { id } }", {"id": repo_id})
    assert body["data"]["node"] == {"nameWithOwner": "acme/lib"}
    assert body["data"]["nodes"] == [{"id": repo_id}]


def test_validate_document() -> None:
    assert validate_document(ORG_REPOS) == []
    assert validate_document(WORKFLOWS) == []
    assert validate_document("{ viewer { nope } }") == ["Field 'nope' doesn't exist on type 'User'"]
    assert validate_document("{ viewer {") != []
