"""The sandbox's merging model through GitHub's REST and GraphQL shapes: reviews and the review decision, heads and
bases that move with mergeability recomputed, merges that honour protection and the repository's merge methods,
auto-merge and the merge queue; every REST answer here validates against GitHub's OpenAPI description."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from migrator.sandbox import server
from migrator.sandbox.http import Request, Response
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.sandbox.test_actions_contract import OPENAPI
from tests.sandbox.test_openapi_contract import _schema, _templates

AUTHOR = "tok-author"  # an admin, whose PRs these are
WRITER = "tok-writer"
REVIEWER = "tok-reviewer"
SECOND = "tok-second"
PUSH_CI = "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n"
FILES = {"README.md": "# app\n", "src/a.txt": "a\n", "src/b.txt": "b\n", ".github/workflows/ci.yml": PUSH_CI}
RULESET = {
    "name": "reviewed main",
    "target": "branch",
    "enforcement": "active",
    "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
    "rules": [{"type": "pull_request", "parameters": {"required_approving_review_count": 1}}],
}
PULL_QUERY = """query($n: String!, $k: Int!) { repository(owner: "acme", name: $n) {
  mergeCommitAllowed squashMergeAllowed rebaseMergeAllowed autoMergeAllowed mergeQueue(branch: "main") { id }
  pullRequest(number: $k) { id state mergeable mergeStateStatus reviewDecision headRefOid isInMergeQueue
    autoMergeRequest { mergeMethod enabledBy { login } }
    reviews(first: 10) { nodes { state author { login } } }
    latestOpinionatedReviews(first: 10) { nodes { state } } } } }"""


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int, Any]]:
    found: list[tuple[str, str, int, Any]] = []
    real = server.App._log

    def capture(self: server.App, request: Request, response: Response, *args: Any) -> None:
        if not request.path.startswith("/_sandbox") and request.path != "/graphql":
            found.append((request.method, request.path, response.status, response.body))
        real(self, request, response, *args)

    monkeypatch.setattr(server.App, "_log", capture)
    return found


@pytest.fixture
def sandbox(tmp_path: Path, answers: list[Any]) -> Iterator[Sandbox]:
    repos = dict.fromkeys(("app", "reviewed", "checked", "queued", "ruled"), FILES)
    seed = write_seed(
        tmp_path / "seed",
        {"acme": repos},
        repo_meta={
            "acme/reviewed": {"protection": {"required_reviews": 1}, "allow_auto_merge": True},
            "acme/checked": {"protection": {"contexts": ["ci/test"]}, "merge_methods": ["merge"]},
            "acme/queued": {"merge_queue": True},
            "acme/ruled": {"rulesets": [RULESET]},
        },
        org_meta={
            "acme": {
                "tokens": {
                    AUTHOR: "full",
                    WRITER: {"power": "write", "login": "writer"},
                    REVIEWER: {"power": "write", "login": "reviewer"},
                    SECOND: {"power": "write", "login": "second"},
                }
            }
        },
    )
    with running_sandbox(seed) as running:
        yield running


def call(sandbox: Sandbox, method: str, path: str, body: Any = None, *, token: str = AUTHOR) -> tuple[int, Any]:
    request = urllib.request.Request(
        sandbox.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def ok(sandbox: Sandbox, method: str, path: str, body: Any = None, *, token: str = AUTHOR) -> Any:
    status, data = call(sandbox, method, path, body, token=token)
    assert 200 <= status < 300, (status, data)
    return data


def graphql(sandbox: Sandbox, query: str, token: str = AUTHOR, **variables: Any) -> Any:
    data = ok(sandbox, "POST", "/graphql", {"query": query, "variables": variables}, token=token)
    assert "errors" not in data, data
    return data["data"]


def push(sandbox: Sandbox, repo: str, branch: str, files: dict[str, str]) -> str:
    return str(ok(sandbox, "POST", f"/_sandbox/repos/acme/{repo}/commit", {"branch": branch, "files": files})["sha"])


def open_pull(sandbox: Sandbox, repo: str, files: dict[str, str] | None = None) -> int:
    main = ok(sandbox, "GET", f"/repos/acme/{repo}/git/ref/heads/main")["object"]["sha"]
    branch = f"feature-{len(ok(sandbox, 'GET', f'/repos/acme/{repo}/pulls?state=all')) + 1}"
    ok(sandbox, "POST", f"/repos/acme/{repo}/git/refs", {"ref": f"refs/heads/{branch}", "sha": main})
    push(sandbox, repo, branch, files or {"src/a.txt": "a, changed\n"})
    pull = ok(sandbox, "POST", f"/repos/acme/{repo}/pulls", {"title": "Change a", "head": branch, "base": "main"})
    return int(pull["number"])


def facts(sandbox: Sandbox, repo: str, number: int, token: str = AUTHOR) -> dict[str, Any]:
    return dict(graphql(sandbox, PULL_QUERY, token, n=repo, k=number)["repository"])


def push_runs_of(sandbox: Sandbox, repo: str, sha: str) -> list[tuple[str, str]]:
    runs = ok(sandbox, "GET", f"/repos/acme/{repo}/actions/runs?head_sha={sha}")["workflow_runs"]
    return [(run["event"], run["actor"]["login"]) for run in runs]


def review(sandbox: Sandbox, repo: str, number: int, event: str, token: str = REVIEWER, body: str = "") -> Any:
    return call(
        sandbox, "POST", f"/repos/acme/{repo}/pulls/{number}/reviews", {"event": event, "body": body}, token=token
    )


def test_reviews_decide_the_review_decision(sandbox: Sandbox) -> None:
    number = open_pull(sandbox, "reviewed")
    assert facts(sandbox, "reviewed", number)["pullRequest"]["reviewDecision"] == "REVIEW_REQUIRED"
    status, refused = review(sandbox, "reviewed", number, "APPROVE", token=AUTHOR)
    assert status == 422 and refused["errors"] == ["Can not approve your own pull request"]
    status, approved = review(sandbox, "reviewed", number, "APPROVE")
    assert status == 200 and approved["state"] == "APPROVED" and approved["user"]["login"] == "reviewer"
    assert facts(sandbox, "reviewed", number)["pullRequest"]["reviewDecision"] == "APPROVED"
    assert review(sandbox, "reviewed", number, "REQUEST_CHANGES", token=SECOND)[0] == 422  # a body is required
    assert review(sandbox, "reviewed", number, "REQUEST_CHANGES", token=SECOND, body="not yet")[0] == 200
    pull = facts(sandbox, "reviewed", number)["pullRequest"]
    assert pull["reviewDecision"] == "CHANGES_REQUESTED"
    assert [r["state"] for r in pull["reviews"]["nodes"]] == ["APPROVED", "CHANGES_REQUESTED"]
    listed = ok(sandbox, "GET", f"/repos/acme/reviewed/pulls/{number}/reviews")
    assert [(r["user"]["login"], r["state"]) for r in listed] == [
        ("reviewer", "APPROVED"),
        ("second", "CHANGES_REQUESTED"),
    ]
    review(sandbox, "reviewed", number, "APPROVE", token=SECOND)  # the latest review of each reviewer counts
    assert facts(sandbox, "reviewed", number)["pullRequest"]["reviewDecision"] == "APPROVED"


def test_mergeability_follows_moving_heads_and_bases(sandbox: Sandbox) -> None:
    number = open_pull(sandbox, "app")
    pull = facts(sandbox, "app", number)["pullRequest"]
    assert (pull["mergeable"], pull["mergeStateStatus"]) == ("MERGEABLE", "CLEAN")
    push(sandbox, "app", "main", {"src/b.txt": "b, elsewhere\n"})  # another file: still mergeable
    assert facts(sandbox, "app", number)["pullRequest"]["mergeable"] == "MERGEABLE"
    push(sandbox, "app", "main", {"src/a.txt": "a, on main\n"})  # the same file on both sides
    pull = facts(sandbox, "app", number)["pullRequest"]
    assert (pull["mergeable"], pull["mergeStateStatus"]) == ("CONFLICTING", "DIRTY")
    assert ok(sandbox, "GET", f"/repos/acme/app/pulls/{number}")["mergeable_state"] == "dirty"
    head = push(sandbox, "app", "feature-1", {"src/a.txt": "a, on main\n"})  # the head moves and resolves it
    pull = facts(sandbox, "app", number)["pullRequest"]
    assert (pull["headRefOid"], pull["mergeable"]) == (head, "MERGEABLE")


def test_a_merge_honours_required_checks_reviews_methods_and_the_head(sandbox: Sandbox) -> None:
    checked = open_pull(sandbox, "checked")
    path = f"/repos/acme/checked/pulls/{checked}/merge"
    assert call(sandbox, "PUT", path, {"merge_method": "merge"}, token=WRITER) == (
        405,
        {"message": 'Required status check "ci/test" is expected.', "documentation_url": _docs(sandbox, path)},
    )
    head = ok(sandbox, "GET", f"/repos/acme/checked/pulls/{checked}")["head"]["sha"]
    ok(sandbox, "POST", f"/repos/acme/checked/statuses/{head}", {"state": "failure", "context": "ci/test"})
    assert call(sandbox, "PUT", path, {}, token=WRITER)[1]["message"] == 'Required status check "ci/test" is failing.'
    ok(sandbox, "POST", f"/repos/acme/checked/statuses/{head}", {"state": "success", "context": "ci/test"})
    status, body = call(sandbox, "PUT", path, {"merge_method": "squash"}, token=WRITER)
    assert (status, body["message"]) == (405, "Squash merges are not allowed on this repository.")
    status, body = call(sandbox, "PUT", path, {"merge_method": "merge", "sha": "0" * 40}, token=WRITER)
    assert (status, body["message"]) == (409, "Head branch was modified. Review and try the merge again.")
    merged = ok(sandbox, "PUT", path, {"merge_method": "merge", "sha": head}, token=WRITER)
    assert merged["merged"] and merged["message"] == "Pull Request successfully merged"
    main = ok(sandbox, "GET", "/repos/acme/checked/git/ref/heads/main")["object"]["sha"]
    assert main == merged["sha"]
    assert push_runs_of(sandbox, "checked", main) == [("push", "writer")]  # the merge is a push by the merger
    assert ok(sandbox, "GET", f"/repos/acme/checked/git/commits/{main}")["parents"][1]["sha"] == head

    reviewed = open_pull(sandbox, "reviewed")
    path = f"/repos/acme/reviewed/pulls/{reviewed}/merge"
    assert call(sandbox, "PUT", path, {}, token=WRITER)[1]["message"] == (
        "At least 1 approving review is required by reviewers with write access."
    )
    review(sandbox, "reviewed", reviewed, "APPROVE")
    assert ok(sandbox, "PUT", path, {}, token=WRITER)["merged"]


def test_a_rulesets_required_approval_holds_even_for_an_admin(sandbox: Sandbox) -> None:
    number = open_pull(sandbox, "ruled")
    assert facts(sandbox, "ruled", number)["pullRequest"]["reviewDecision"] == "REVIEW_REQUIRED"
    status, body = call(sandbox, "PUT", f"/repos/acme/ruled/pulls/{number}/merge", {})  # the admin author
    assert (status, body["message"]) == (405, "At least 1 approving review is required by reviewers with write access.")
    review(sandbox, "ruled", number, "APPROVE")
    assert facts(sandbox, "ruled", number)["pullRequest"]["mergeStateStatus"] == "CLEAN"
    assert ok(sandbox, "PUT", f"/repos/acme/ruled/pulls/{number}/merge", {})["merged"]


def test_merge_methods_are_a_repository_setting(sandbox: Sandbox) -> None:
    assert call(sandbox, "PATCH", "/repos/acme/app", {"allow_squash_merge": False}, token=WRITER)[0] == 403
    repo = ok(sandbox, "PATCH", "/repos/acme/app", {"allow_squash_merge": False, "allow_rebase_merge": False})
    assert (repo["allow_merge_commit"], repo["allow_squash_merge"], repo["allow_rebase_merge"]) == (True, False, False)
    status, body = call(sandbox, "PATCH", "/repos/acme/app", {"allow_merge_commit": False})
    assert (status, body["errors"][0]["message"]) == (422, "Sorry, you need to allow at least one merge strategy.")
    found = graphql(sandbox, PULL_QUERY, n="app", k=1)["repository"]
    assert (found["mergeCommitAllowed"], found["squashMergeAllowed"], found["rebaseMergeAllowed"]) == (
        True,
        False,
        False,
    )


ENABLE = """mutation($id: ID!, $m: PullRequestMergeMethod) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $m}) { pullRequest { number } } }"""
ENQUEUE = """mutation($id: ID!) { enqueuePullRequest(input: {pullRequestId: $id}) { mergeQueueEntry { position } } }"""


def _mutate(sandbox: Sandbox, query: str, token: str = AUTHOR, **variables: Any) -> Any:
    return ok(sandbox, "POST", "/graphql", {"query": query, "variables": variables}, token=token)


def test_auto_merge_waits_for_the_approval_then_merges_as_who_enabled_it(sandbox: Sandbox) -> None:
    number = open_pull(sandbox, "reviewed")
    node = facts(sandbox, "reviewed", number)["pullRequest"]["id"]
    answer = _mutate(sandbox, ENABLE, WRITER, id=node, m="SQUASH")
    assert "errors" not in answer, answer
    pull = facts(sandbox, "reviewed", number)["pullRequest"]
    assert pull["autoMergeRequest"] == {"mergeMethod": "SQUASH", "enabledBy": {"login": "writer"}}
    assert ok(sandbox, "GET", f"/repos/acme/reviewed/pulls/{number}")["auto_merge"]["merge_method"] == "squash"
    review(sandbox, "reviewed", number, "APPROVE")  # the approval lets it through
    rest = ok(sandbox, "GET", f"/repos/acme/reviewed/pulls/{number}")
    assert rest["merged"] and rest["auto_merge"] is None
    main = ok(sandbox, "GET", "/repos/acme/reviewed/git/ref/heads/main")["object"]["sha"]
    assert main == rest["merge_commit_sha"]
    assert push_runs_of(sandbox, "reviewed", main) == [("push", "writer")]  # a push by who enabled auto-merge

    clean = open_pull(sandbox, "app")  # app does not allow auto-merge; a clean PR is merged, not auto-merged
    node = facts(sandbox, "app", clean)["pullRequest"]["id"]
    refused = _mutate(sandbox, ENABLE, id=node)["errors"][0]
    assert (refused["type"], refused["message"]) == (
        "UNPROCESSABLE",
        "Pull request Auto merge is not allowed for this repository",
    )


def test_the_merge_queue_takes_entries_and_refuses_direct_merges(sandbox: Sandbox) -> None:
    number = open_pull(sandbox, "queued")
    assert facts(sandbox, "queued", number)["mergeQueue"] is not None
    status, body = call(sandbox, "PUT", f"/repos/acme/queued/pulls/{number}/merge", {})
    assert (status, body["message"]) == (405, "Changes must be made through the merge queue")
    node = facts(sandbox, "queued", number)["pullRequest"]["id"]
    answer = _mutate(sandbox, ENQUEUE, id=node)
    assert answer["data"]["enqueuePullRequest"]["mergeQueueEntry"]["position"] == 1
    assert ok(sandbox, "GET", f"/repos/acme/queued/pulls/{number}")["merged"]  # the queue merged it at once
    other = open_pull(sandbox, "app")
    refused = _mutate(sandbox, ENQUEUE, id=facts(sandbox, "app", other)["pullRequest"]["id"])["errors"][0]
    assert refused["type"] == "UNPROCESSABLE"


@pytest.mark.skipif(not OPENAPI.is_file(), reason="github-reference is not available")
def test_every_rest_answer_here_matches_githubs_openapi(sandbox: Sandbox, answers: list[Any]) -> None:
    test_reviews_decide_the_review_decision(sandbox)
    test_a_merge_honours_required_checks_reviews_methods_and_the_head(sandbox)
    test_merge_methods_are_a_repository_setting(sandbox)
    templates = _templates()
    checked, problems = set(), []
    for method, path, status, body in answers:
        if body is None or isinstance(body, bytes):
            continue
        template = next((t for pattern, t in templates if pattern.match(path)), None)
        schema = _schema(template, method, status) if template else None  # refs with slashes match no template
        if template is None or schema is None:
            continue
        checked.add((method, template, status))
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(body))
        if error is not None:
            problems.append(f"{method} {template} {status}: {error.message[:200]} at {list(error.absolute_path)}")
    assert problems == []
    for wanted in (
        ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 200),
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 200),
        ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", 200),
        ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", 405),
        ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", 409),
        ("PATCH", "/repos/{owner}/{repo}", 200),
    ):
        assert wanted in checked, wanted


def _docs(sandbox: Sandbox, path: str) -> str:
    return str(call(sandbox, "PUT", path, {}, token=WRITER)[1]["documentation_url"])
