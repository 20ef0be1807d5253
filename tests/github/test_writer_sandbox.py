"""The Writer against the sandbox: every write, read back, and every way GitHub refuses one."""

from __future__ import annotations

import base64
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from migrator.apply.ports import (
    AlreadyExists,
    Ambiguous,
    Forbidden,
    Gone,
    PullRequestSpec,
    ReadFailed,
    StaleHead,
    StatusReader,
    Throttled,
    WriteError,
    Writer,
)
from migrator.errors import AuthError
from migrator.github.client import GitHubClient
from migrator.model import git_blob_sha
from migrator.sandbox.graphql import validate_document
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.github.support import ADMIN, NO_WORKFLOW, READER, TOKENS, UNKNOWN, Waits, add_symlink, api, make_client

ORG = "acme"
REPO = f"{ORG}/app"
GUARDED = f"{ORG}/guarded"
BRANCH = "migrator/fix-release"
CI = ".github/workflows/ci.yml"
README = "README.md"
FILES = {README: "# app\n", CI: "on: push\r\njobs: {}\r\n", "docs/notes.txt": "notes\n"}
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
NOW = 1_750_000_000.0


@pytest.fixture(scope="module")
def writer_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_seed(
        tmp_path_factory.mktemp("writer-seed"),
        {ORG: {"app": FILES, "guarded": {README: "# guarded\n"}}},
        repo_meta={GUARDED: {"protection": {"enforce_admins": True, "required_reviews": 1}}},
        org_meta={ORG: {"tokens": {ADMIN: "full", NO_WORKFLOW: "no-workflow", READER: "read"}}},
    )


@pytest.fixture
def box(writer_seed: Path) -> Iterator[Sandbox]:
    with running_sandbox(writer_seed, clock=FakeClock(NOW)) as running:
        yield running


@pytest.fixture
def client(box: Sandbox) -> GitHubClient:
    return make_client(box.url, waits=Waits(now=NOW))


def _base(client: GitHubClient, repo: str = REPO) -> str:
    return client.repo_state(repo, branch=BRANCH, paths=[]).default_head


def _commit(client: GitHubClient, *, expected: str, repo: str = REPO, branch: str = BRANCH,
            additions: dict[str, bytes] | None = None, deletions: tuple[str, ...] = ()) -> str:
    return client.commit_files(repo, branch=branch, expected_head=expected, headline="ci: fix the release",
                               body="Why.\n\nMigrator-Plan: p1\n",
                               additions={README: b"# app, fixed\n"} if additions is None else additions,
                               deletions=deletions)


def _branch_with_commit(client: GitHubClient) -> str:
    base = _base(client)
    client.create_branch(REPO, branch=BRANCH, oid=base)
    return _commit(client, expected=base)


def _spec(**overrides: Any) -> PullRequestSpec:
    return PullRequestSpec(**{"base": "main", "head": BRANCH, "title": "Fix the release", "body": "plan p1",
                              **overrides})


def _file(box: Sandbox, path: str, ref: str) -> bytes | None:
    try:
        data = api(box, "GET", f"/repos/{REPO}/contents/{quote(path)}?ref={quote(ref, safe='')}")
    except urllib.error.HTTPError:  # 404
        return None
    return base64.b64decode(data["content"])


# ---------------------------------------------------------------- the ports


def test_the_client_is_the_writer_and_the_status_reader(client: GitHubClient) -> None:
    writer: Writer = client  # mypy checks the protocols; at run time, the methods are there
    reader: StatusReader = client
    assert callable(writer.commit_files) and callable(reader.pull_statuses)


# ---------------------------------------------------------------- reads


def test_repo_state_of_an_untouched_repository(client: GitHubClient) -> None:
    state = client.repo_state(REPO, branch=BRANCH, paths=[README, CI, "missing.yml", "docs"])
    assert state.default_branch == "main" and len(state.default_head) == 40
    assert state.blobs == {README: git_blob_sha(FILES[README].encode()), CI: git_blob_sha(FILES[CI].encode()),
                           "missing.yml": None, "docs": None}  # a tree is not a blob
    assert state.branch_head is None and state.pulls == ()
    assert client.usage.graphql_requests == 1


def test_repo_state_follows_branch_commit_and_pull_through_open_closed_merged(box: Sandbox,
                                                                              client: GitHubClient) -> None:
    base = _base(client)
    client.create_branch(REPO, branch=BRANCH, oid=base)
    assert client.repo_state(REPO, branch=BRANCH, paths=[]).branch_head == client.commit(REPO, base)
    oid = _commit(client, expected=base)
    head = client.repo_state(REPO, branch=BRANCH, paths=[README]).branch_head
    assert head is not None and (head.oid, head.parents) == (oid, (base,))
    assert head.message == "ci: fix the release\n\nWhy.\n\nMigrator-Plan: p1\n"
    pull = client.create_pull(REPO, _spec())
    (seen,) = client.repo_state(REPO, branch=BRANCH, paths=[]).pulls
    assert replace(seen, mergeable=None) == pull and seen.mergeable == "MERGEABLE"
    assert (seen.state, seen.head_oid, seen.base_ref) == ("open", oid, "main")
    client.close_pull(REPO, pull.number)
    assert [p.state for p in client.repo_state(REPO, branch=BRANCH, paths=[]).pulls] == ["closed"]
    reopened = client.create_pull(REPO, _spec(title="again"))
    merged = api(box, "PUT", f"/repos/{REPO}/pulls/{reopened.number}/merge", {"merge_method": "merge"})
    state = client.repo_state(REPO, branch=BRANCH, paths=[README])
    assert [(p.number, p.state) for p in state.pulls] == [(reopened.number, "merged"), (pull.number, "closed")]
    assert state.pulls[0].merge_commit_oid == merged["sha"] == state.default_head
    assert state.blobs[README] == git_blob_sha(b"# app, fixed\n")


def test_a_deleted_or_invisible_repository_is_gone(client: GitHubClient) -> None:
    with pytest.raises(Gone, match="acme/nope is gone: deleted, or no longer visible"):
        client.repo_state(f"{ORG}/nope", branch=BRANCH, paths=[README])


# ---------------------------------------------------------------- writes


def test_create_branch_twice_is_already_exists(client: GitHubClient) -> None:
    base = _base(client)
    client.create_branch(REPO, branch=BRANCH, oid=base)
    with pytest.raises(AlreadyExists, match="Reference already exists"):
        client.create_branch(REPO, branch=BRANCH, oid=base)


def test_commit_files_writes_exactly_the_additions_and_deletions(box: Sandbox, client: GitHubClient) -> None:
    base = _base(client)
    client.create_branch(REPO, branch=BRANCH, oid=base)
    crlf = b"on: push\r\njobs:\r\n  a: {}\r\n"
    _commit(client, expected=base, additions={CI: crlf, "new/\u00e9t\u00e9.yml": "caf\u00e9 \u2713\n".encode()},
            deletions=("docs/notes.txt",))
    assert _file(box, CI, BRANCH) == crlf
    assert _file(box, "new/\u00e9t\u00e9.yml", BRANCH) == "caf\u00e9 \u2713\n".encode()
    assert _file(box, "docs/notes.txt", BRANCH) is None
    assert _file(box, README, BRANCH) == FILES[README].encode()
    assert _file(box, CI, "main") == FILES[CI].encode()  # the default branch is untouched


def test_commit_files_on_a_moved_branch_is_stale(client: GitHubClient) -> None:
    base = _branch_with_commit(client)
    with pytest.raises(StaleHead, match="Expected branch to point to"):
        _commit(client, expected=client.commit(REPO, base).parents[0])


def test_create_pull_twice_is_already_exists_and_draft_is_kept(box: Sandbox, client: GitHubClient) -> None:
    _branch_with_commit(client)
    pull = client.create_pull(REPO, _spec(draft=True))
    assert (pull.state, pull.head_ref, pull.base_ref, pull.body) == ("open", BRANCH, "main", "plan p1")
    assert pull.url.endswith(f"/{REPO}/pull/{pull.number}")
    assert api(box, "GET", f"/repos/{REPO}/pulls/{pull.number}")["draft"] is True
    with pytest.raises(AlreadyExists, match="A pull request already exists"):
        client.create_pull(REPO, _spec())


def test_labels_comment_close_and_delete(box: Sandbox, client: GitHubClient) -> None:
    _branch_with_commit(client)
    pull = client.create_pull(REPO, _spec())
    client.add_labels(REPO, pull.number, ["release", "migrator"])
    labels = api(box, "GET", f"/repos/{REPO}/issues/{pull.number}/labels")
    assert sorted(label["name"] for label in labels) == ["migrator", "release"]
    client.comment(REPO, pull.number, "Closed by `migrator rollback`.")
    comments = api(box, "GET", f"/repos/{REPO}/issues/{pull.number}/comments")
    assert [c["body"] for c in comments] == ["Closed by `migrator rollback`."]
    client.close_pull(REPO, pull.number)
    client.delete_branch(REPO, BRANCH)
    state = client.repo_state(REPO, branch=BRANCH, paths=[])
    assert state.branch_head is None and [p.state for p in state.pulls] == ["closed"]
    with pytest.raises(Ambiguous, match="Reference does not exist"):  # already gone: the executor reads back
        client.delete_branch(REPO, BRANCH)


def test_request_reviewers_sends_one_post(box: Sandbox, client: GitHubClient) -> None:
    # The sandbox has no requested_reviewers route (a 404, so Forbidden); a fault stands in for GitHub's 201.
    with pytest.raises(Forbidden, match="404"):
        client.request_reviewers(REPO, 1, users=["octocat"], teams=[])
    box.add_fault({"match": {"method": "POST", "path_regex": "/pulls/1/requested_reviewers",
                             "body_regex": '"team_reviewers": \\["core"\\]'},
                   "response": {"status": 201, "body": {"number": 1}}})
    client.request_reviewers(REPO, 1, users=["octocat"], teams=["core"])
    assert box.stats()["faults_fired"] == 1


# ---------------------------------------------------------------- refusals


def test_a_token_without_workflow_scope_may_not_commit_a_workflow(box: Sandbox, client: GitHubClient) -> None:
    base = _base(client)
    client.create_branch(REPO, branch=BRANCH, oid=base)
    limited = make_client(box.url, NO_WORKFLOW, waits=Waits(now=NOW))
    with pytest.raises(Forbidden, match="without `workflow` scope"):
        _commit(limited, expected=base, additions={CI: b"on: push\n"})
    assert _commit(limited, expected=base) != base  # other files are fine


@pytest.mark.parametrize("write", ["branch", "commit", "pull", "label", "comment", "close", "delete"])
def test_a_read_only_token_is_forbidden_everywhere(box: Sandbox, client: GitHubClient, write: str) -> None:
    base, number = _prepared(box, client)
    reader = make_client(box.url, READER, waits=Waits(now=NOW))
    with pytest.raises(Forbidden, match="not accessible"):
        _WRITES[write](reader, base, number)


def test_a_protected_branch_refuses_a_direct_commit(client: GitHubClient) -> None:
    base = _base(client, GUARDED)
    with pytest.raises(Forbidden, match="Protected branch update failed"):
        _commit(client, repo=GUARDED, branch="main", expected=base)


def test_a_bad_token_is_an_auth_error_without_the_token(box: Sandbox) -> None:
    stranger = make_client(box.url, UNKNOWN, waits=Waits(now=NOW))
    with pytest.raises(AuthError, match="401 Bad credentials") as caught:
        stranger.create_branch(REPO, branch=BRANCH, oid="0" * 40)
    assert not any(token in caught.value.message for token in TOKENS)


# ---------------------------------------------------------------- faults: one request, never retried

WriteCall = Callable[[GitHubClient, str, int], object]
_WRITES: dict[str, WriteCall] = {
    "branch": lambda c, base, n: c.create_branch(REPO, branch="fresh", oid=base),
    "commit": lambda c, base, n: _commit(c, expected=base, additions={README: b"second\n"}),
    "pull": lambda c, base, n: c.create_pull(REPO, _spec(head="other", title="other")),
    "label": lambda c, base, n: c.add_labels(REPO, n, ["x"]),
    "comment": lambda c, base, n: c.comment(REPO, n, "hi"),
    "close": lambda c, base, n: c.close_pull(REPO, n),
    "delete": lambda c, base, n: c.delete_branch(REPO, BRANCH),
}
# (method, path regex, body regex) each write sends
_MATCH = {
    "branch": ("POST", "/git/refs$", None),
    "commit": ("POST", "^/graphql$", "createCommitOnBranch"),
    "pull": ("POST", "/pulls$", None),
    "label": ("POST", "/labels$", None),
    "comment": ("POST", "/comments$", None),
    "close": ("PATCH", "/pulls/[0-9]+$", None),
    "delete": ("DELETE", "/git/refs/heads/", None),
}


def _prepared(box: Sandbox, client: GitHubClient) -> tuple[str, int]:
    """A branch `BRANCH` with our commit, its open PR, and a branch `other` one commit ahead of main."""
    head = _branch_with_commit(client)
    client.create_branch(REPO, branch="other", oid=head)
    number = client.create_pull(REPO, _spec()).number
    box.clear_requests()
    return head, number


def _fault(box: Sandbox, write: str, response: dict[str, Any], *, after_apply: bool = False) -> None:
    method, path, body = _MATCH[write]
    box.add_fault({"match": {"method": method, "path_regex": path, "body_regex": body}, "response": response,
                   "after_apply": after_apply})


def _run_write(box: Sandbox, client: GitHubClient, write: str, head: str, number: int) -> None:
    box.clear_requests()
    try:
        _WRITES[write](client, head, number)
    finally:
        assert len(box.requests()) == 1, "a write is one request, never repeated by the adapter"


@pytest.mark.parametrize("write", sorted(_WRITES))
@pytest.mark.parametrize(
    ("response", "expected", "wait"),
    [
        ({"status": 502, "body": {"message": "Server Error"}}, Ambiguous, None),
        ({"status": 503, "body": "<html>unavailable</html>"}, Ambiguous, None),
        ({"status": 200, "body": "{not json"}, Ambiguous, None),
        ({"status": 403, "headers": {"Retry-After": "17"}, "body": {"message": SECONDARY}}, Throttled, 17.0),
        ({"status": 403, "body": {"message": SECONDARY}}, Throttled, 60.0),
        ({"status": 429, "body": {"message": "Too Many Requests"}}, Throttled, 60.0),
        ({"status": 429, "headers": {"Retry-After": "5"}, "body": {"message": "slow"}}, Throttled, 5.0),
        ({"status": 403, "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)},
          "body": {"message": "API rate limit exceeded for user ID 1."}}, Throttled, 31.0),
        ({"status": 404, "body": {"message": "Not Found"}}, Forbidden, None),
    ],
    ids=["502", "503-html", "unparseable", "secondary-retry-after", "secondary-bare", "429", "429-retry-after",
         "primary", "404"],
)
def test_faults_map_to_write_errors(box: Sandbox, client: GitHubClient, write: str, response: dict[str, Any],
                                    expected: type[WriteError], wait: float | None) -> None:
    head, number = _prepared(box, client)
    _fault(box, write, response)
    with pytest.raises(expected) as caught:
        _run_write(box, client, write, head, number)
    if wait is not None:
        assert isinstance(caught.value, Throttled) and caught.value.wait == wait
    assert "\n" not in str(caught.value) and not any(token in str(caught.value) for token in TOKENS)


@pytest.mark.parametrize("write", sorted(_WRITES))
def test_a_lost_answer_is_ambiguous_but_the_write_happened(box: Sandbox, client: GitHubClient, write: str) -> None:
    head, number = _prepared(box, client)
    _fault(box, write, {"status": 502, "body": {"message": "Server Error"}}, after_apply=True)
    with pytest.raises(Ambiguous):
        _run_write(box, client, write, head, number)
    _HAPPENED[write](box, client, head, number)


def _pull_states(client: GitHubClient, branch: str) -> list[str]:
    return [p.state for p in client.repo_state(REPO, branch=branch, paths=[]).pulls]


_HAPPENED: dict[str, Callable[[Sandbox, GitHubClient, str, int], None]] = {
    "branch": lambda b, c, head, n: _assert(c.repo_state(REPO, branch="fresh", paths=[]).branch_head is not None),
    "commit": lambda b, c, head, n: _assert(
        c.repo_state(REPO, branch=BRANCH, paths=[]).branch_head.parents == (head,)),  # type: ignore[union-attr]
    "pull": lambda b, c, head, n: _assert(_pull_states(c, "other") == ["open"]),
    "label": lambda b, c, head, n: _assert(
        [x["name"] for x in api(b, "GET", f"/repos/{REPO}/issues/{n}/labels")] == ["x"]),
    "comment": lambda b, c, head, n: _assert(len(api(b, "GET", f"/repos/{REPO}/issues/{n}/comments")) == 1),
    "close": lambda b, c, head, n: _assert(_pull_states(c, BRANCH) == ["closed"]),
    "delete": lambda b, c, head, n: _assert(c.repo_state(REPO, branch=BRANCH, paths=[]).branch_head is None),
}


def _assert(condition: bool) -> None:
    assert condition


def test_graphql_errors_inside_a_200_are_inspected(box: Sandbox, client: GitHubClient) -> None:
    head, number = _prepared(box, client)
    cases: list[tuple[dict[str, Any], type[WriteError]]] = [
        ({"data": None, "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}, Throttled),
        ({"data": None, "errors": [{"message": "Something went wrong while executing your query."}]}, Ambiguous),
        ({"data": {"createCommitOnBranch": None},
          "errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]}, Forbidden),
        ({"data": {"createCommitOnBranch": None}}, Ambiguous),
        ({"data": "not an object"}, Ambiguous),
    ]
    for body, expected in cases:
        _fault(box, "commit", {"status": 200, "body": body})
        with pytest.raises(expected):
            _run_write(box, client, "commit", head, number)


def test_reads_are_retried_and_then_mapped(box: Sandbox) -> None:
    waits = Waits(now=NOW)
    client = make_client(box.url, waits=waits)
    box.add_fault({"match": {"path_regex": "^/graphql$"}, "response": {"status": 502}, "times": 2})
    assert client.repo_state(REPO, branch=BRANCH, paths=[README]).default_branch == "main"
    assert waits.seconds == [1.0, 2.0]
    box.add_fault({"match": {"path_regex": "^/graphql$"}, "response": {"status": 502}, "times": None})
    with pytest.raises(ReadFailed, match=r"502.*nothing was written"):
        client.repo_state(REPO, branch=BRANCH, paths=[README])


def test_a_transient_graphql_error_on_a_read_is_retried(box: Sandbox) -> None:
    """GitHub under load: HTTP 200, no `type`, "Something went wrong". Once retried, twice, then a read error
    that says nothing was written (never "may or may not have happened")."""
    waits = Waits(now=NOW)
    client = make_client(box.url, waits=waits)
    broken = {"status": 200, "body": {"data": None, "errors": [{"message": SOMETHING_WENT_WRONG}]}}
    box.add_fault({"match": {"path_regex": "^/graphql$"}, "response": broken, "times": 2})
    assert client.repo_state(REPO, branch=BRANCH, paths=[README]).default_branch == "main"
    assert waits.seconds == [1.0, 2.0]
    box.add_fault({"match": {"path_regex": "^/graphql$"}, "response": broken, "times": None})
    with pytest.raises(ReadFailed) as failed:
        client.repo_state(REPO, branch=BRANCH, paths=[README])
    assert "may or may not" not in str(failed.value) and "nothing was written" in str(failed.value)


def test_repo_state_reads_modes_labels_and_review_requests(box: Sandbox, client: GitHubClient) -> None:
    add_symlink(box, REPO, ".github/workflows/linked.yml", "ci.yml")
    _, number = _prepared(box, client)
    pull = client.repo_state(REPO, branch=BRANCH, paths=[]).pulls[0]
    assert pull.number == number and pull.labels == pull.reviewers == ()
    client.add_labels(REPO, pull.number, ["ci", "migrator"])
    client.request_reviewers(REPO, pull.number, users=["octocat"], teams=["platform"])
    client.comment(REPO, pull.number, "first")
    client.comment(REPO, pull.number, "second")
    state = client.repo_state(REPO, branch=BRANCH, paths=[README, CI, ".github/workflows/linked.yml"])
    assert state.modes == {README: "100644", CI: "100644", ".github/workflows/linked.yml": "120000"}
    assert state.is_link(".github/workflows/linked.yml") and not state.is_link(CI)
    (found,) = state.pulls
    assert (found.labels, found.reviewers, found.team_reviewers) == (("ci", "migrator"), ("octocat",), ("platform",))
    assert client.comment_bodies(REPO, pull.number) == ["first", "second"]


SOMETHING_WENT_WRONG = (
    "Something went wrong while executing your query. This may be the result of a timeout, or it could be a "
    "GitHub bug. Please include `0A1B:2C3D` when reporting this issue."
)


def test_every_document_a_write_flow_sends_is_valid(box: Sandbox, client: GitHubClient) -> None:
    requester = client.transport._requester
    real = requester.requestJsonAndCheck
    sent: list[str] = []

    def spy(verb: str, url: str, **kwargs: Any) -> Any:
        if url == client.urls.graphql:
            sent.append(kwargs["input"]["query"])
        return real(verb, url, **kwargs)

    requester.requestJsonAndCheck = spy
    head, number = _prepared(box, client)
    client.commit(REPO, head)
    client.repo_state(REPO, branch=BRANCH, paths=[README, CI])
    client.pull_statuses([(REPO, number)])
    assert len(set(sent)) == 5  # two sizes of the state query, the commit mutation, the commit query, statuses
    for document in set(sent):
        assert validate_document(document) == []
