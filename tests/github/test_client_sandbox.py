"""The adapter against the sandbox: what it reads, how few requests it spends, and how it fails."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
import requests

from migrator.errors import AuthError, InputError, RemoteError
from migrator.github.records import SKIP_BINARY, SKIP_SYMLINK
from migrator.github.types import GitHubReader, Protection, RepoRecord
from migrator.model import git_blob_sha
from migrator.sandbox.testing import Sandbox
from tests.github.support import (
    ADMIN,
    BIG,
    CI_CRLF,
    LIBS,
    NO_WORKFLOW,
    ORG,
    READER,
    RELEASE,
    UNKNOWN,
    Waits,
    add_symlink,
    make_client,
)

ALL_REPOS = sorted(["app", "huge", "old", "forked", "void", *LIBS])
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def _listing(sandbox: Sandbox, **kwargs: Any) -> dict[str, RepoRecord]:
    client = make_client(sandbox.url, **kwargs)
    return {r.full_name.split("/", 1)[1]: r for r in client.repositories(ORG)}


def test_the_client_is_a_github_reader(sandbox: Sandbox) -> None:
    reader: GitHubReader = make_client(sandbox.url)
    assert reader.usage.requests == 0


def test_lists_every_repository_in_name_order_across_pages(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, page_size=4)
    names = [r.full_name for r in client.repositories(ORG)]
    assert names == [f"{ORG}/{n}" for n in ALL_REPOS]
    assert client.count_repositories(ORG) == len(ALL_REPOS)
    pages = -(-len(ALL_REPOS) // 4)
    assert client.usage.graphql_requests == pages + 1  # the pages, and the count
    assert client.usage.graphql_points == pages + 1
    assert client.usage.rest_requests == 1  # the one workflow GraphQL truncated
    assert client.usage.retries == 0
    assert sandbox.stats()["requests"] == client.usage.requests


def test_flags_topics_visibility_and_protection(sandbox: Sandbox) -> None:
    repos = _listing(sandbox)
    app = repos["app"]
    assert (app.default_branch, app.topics, app.visibility) == ("main", ("release", "npm"), "public")
    assert app.protection == Protection(enforce_admins=True, required_checks=("ci/build", "ci/test"),
                                        required_reviews=2)
    assert app.head_oid is not None and len(app.head_oid) == 40
    assert repos["old"].archived and not repos["old"].fork
    assert repos["forked"].fork and repos["forked"].visibility == "private"
    assert repos["lib-00"].protection == Protection()
    void = repos["void"]
    assert void.empty and void.default_branch is None and void.head_oid is None and not void.files


def test_reads_workflows_and_companions_byte_for_byte(sandbox: Sandbox) -> None:
    app = _listing(sandbox)["app"]
    assert sorted(app.files) == [".github/README.md", ".github/workflows/big.yml", ".github/workflows/ci.yml",
                                 ".github/workflows/release.yaml", "README.md", "package.json"]
    expected = {".github/workflows/ci.yml": CI_CRLF.encode(), ".github/workflows/release.yaml": RELEASE.encode(),
                ".github/workflows/big.yml": BIG.encode(), "README.md": "# app ✓\n".encode()}
    for path, content in expected.items():
        assert app.files[path].content == content, path
        assert app.files[path].blob_sha == git_blob_sha(content)
    assert b"\r\n" in app.files[".github/workflows/ci.yml"].content
    assert app.skipped == {".github/workflows/bin.yml": SKIP_BINARY}


def test_truncated_workflow_is_read_over_rest(sandbox: Sandbox) -> None:
    make_client(sandbox.url).repositories(ORG).__next__()  # "app" comes first
    blob_reads = [r for r in sandbox.requests() if "/git/blobs/" in r.path]
    assert [(r.method, r.status) for r in blob_reads] == [("GET", 200)]
    assert blob_reads[0].path.endswith(git_blob_sha(BIG.encode()))


def test_workflow_over_the_cap_is_skipped_without_reading_it(sandbox: Sandbox) -> None:
    huge = _listing(sandbox)["huge"]
    assert not huge.files
    assert huge.skipped[".github/workflows/huge.yml"].startswith("too large (1100007 bytes")
    assert not [r for r in sandbox.requests() if "/git/blobs/" in r.path and "huge" in r.path]


def test_symbolic_link_is_skipped(sandbox: Sandbox) -> None:
    add_symlink(sandbox, f"{ORG}/lib-00", ".github/workflows/link.yml", "ci.yml")
    lib = _listing(sandbox)["lib-00"]
    assert lib.skipped == {".github/workflows/link.yml": SKIP_SYMLINK}
    assert list(lib.files) == [".github/workflows/ci.yml"]


def test_secret_names_at_repo_and_org_level(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    app = client.secret_names(f"{ORG}/app")
    assert app.repo == frozenset({"DEPLOY_KEY"}) and app.org == frozenset({"RELEASE_PAT", "NPM_TOKEN"})
    assert app.has("release_pat") is True and app.has("MISSING") is False
    lib = client.secret_names(f"{ORG}/lib-01")
    assert lib.repo == frozenset() and lib.has("DEPLOY_KEY") is False
    assert client.usage.rest_requests == 4


def test_secret_names_paginate(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, per_page=1)
    assert client.secret_names(f"{ORG}/app").org == frozenset({"RELEASE_PAT", "NPM_TOKEN"})
    assert client.usage.rest_requests == 3  # repo list (1 page), org list (2 pages)


@pytest.mark.parametrize("status", [403, 404])
def test_secret_lists_the_token_may_not_read_are_unknown(sandbox: Sandbox, status: int) -> None:
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "/actions/organization-secrets"},
                       "response": {"status": status, "body": {"message": "Resource not accessible by integration"
                                                               if status == 403 else "Not Found"}}})
    names = make_client(sandbox.url).secret_names(f"{ORG}/app")
    assert names.repo == frozenset({"DEPLOY_KEY"}) and names.org is None
    assert names.has("DEPLOY_KEY") is True and names.has("RELEASE_PAT") is None


def test_token_info_reads_scopes(sandbox: Sandbox) -> None:
    full = make_client(sandbox.url, ADMIN).token_info()
    assert full.scopes == ("admin:org", "repo", "workflow") and full.can_push_workflows
    assert full.login == "sandbox-user" and full.kind == "token" and full.workflow_permission_known
    limited = make_client(sandbox.url, NO_WORKFLOW).token_info()
    assert limited.scopes == ("repo",) and not limited.can_push_workflows
    assert not make_client(sandbox.url, READER).token_info().can_push_workflows


def test_token_info_without_scopes_header_is_fine_grained(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "^/user$"},
                       "response": {"status": 200, "headers": {"X-OAuth-Scopes": ""}, "body": {"login": "fg"}}})
    info = make_client(sandbox.url).token_info()
    # An empty header is a classic token with no scopes; GitHub omits the header for fine-grained tokens,
    # which the real-recording test covers. Here the empty header means "no workflow scope".
    assert info.scopes == () and not info.can_push_workflows


def test_bad_token_is_an_auth_error(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, UNKNOWN)
    with pytest.raises(AuthError, match=r"^GitHub rejected the token \(401 Bad credentials\); check GITHUB_TOKEN$"):
        client.token_info()
    with pytest.raises(AuthError, match="401 Bad credentials"):
        next(client.repositories(ORG))
    assert client.usage.retries == 0


def test_unknown_org_is_an_input_error(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    with pytest.raises(InputError, match="no organization 'nope'"):
        next(client.repositories("nope"))
    with pytest.raises(InputError, match="no organization 'nope'"):
        client.count_repositories("nope")


def test_forbidden_read_names_what_is_missing(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "/git/blobs/"},
                       "response": {"status": 403, "body": {"message": "Resource not accessible by integration"}}})
    with pytest.raises(AuthError, match=r"refused reading blob .* \(403 Resource not accessible by integration\); "
                                        r"the token needs read access"):
        next(make_client(sandbox.url).repositories(ORG))


def test_bad_gateway_on_a_page_halves_the_page_and_the_listing_completes(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "^/graphql$"},
                       "response": {"status": 502, "body": {"message": "Server Error"}}, "times": 2})
    waits = Waits()
    client = make_client(sandbox.url, waits=waits, page_size=8)
    names = [r.full_name.split("/")[1] for r in client.repositories(ORG)]
    assert names == ALL_REPOS
    sizes = [r for r in sandbox.requests() if r.path == "/graphql"]
    assert [r.status for r in sizes[:3]] == [502, 502, 200]
    assert client.usage.retries == 2 and waits.seconds == []  # a smaller page is retried at once
    assert client.usage.graphql_requests == len(sizes)


def test_page_size_shrinks_to_one_then_retries_with_backoff(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "^/graphql$"},
                       "response": {"status": 504, "body": {"message": "timeout"}}, "times": 4})
    waits = Waits()
    client = make_client(sandbox.url, waits=waits, page_size=4)  # 4 -> 2 -> 1, then retries at size 1
    assert len(list(client.repositories(ORG))) == len(ALL_REPOS)
    assert waits.seconds == [1.0, 2.0]
    assert client.usage.retries == 4


def test_timeouts_shrink_the_page(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, page_size=8)
    requester = client.transport._requester
    real = requester.requestJsonAndCheck
    firsts: list[int] = []

    def flaky(verb: str, url: str, **kwargs: Any) -> Any:
        if url.endswith("/graphql"):
            firsts.append(kwargs["input"]["variables"]["first"])
            if len(firsts) == 1:
                raise requests.exceptions.ReadTimeout("read timed out")
        return real(verb, url, **kwargs)

    requester.requestJsonAndCheck = flaky
    assert len(list(client.repositories(ORG))) == len(ALL_REPOS)
    assert firsts[:2] == [8, 4]
    assert max(firsts) == 8  # grown back after good pages


def test_server_errors_on_reads_are_retried_then_reported(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "/actions/secrets"},
                       "response": {"status": 500, "body": {"message": "Server Error"}}, "times": None})
    waits = Waits()
    client = make_client(sandbox.url, waits=waits)
    with pytest.raises(RemoteError, match=r"^GitHub kept failing while listing the secrets of acme/app "
                                          r"\(500 Server Error\); try again later$"):
        client.secret_names(f"{ORG}/app")
    assert waits.seconds == [1.0, 2.0, 4.0, 8.0]
    assert client.usage.retries == 4 and client.usage.rest_requests == 5


@pytest.mark.parametrize(("headers", "expected"), [({"Retry-After": "7"}, [7.0]), ({}, [60.0])])
def test_secondary_limit_on_a_read_is_waited_out(sandbox: Sandbox, headers: dict[str, str],
                                                  expected: list[float]) -> None:
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "/actions/secrets"},
                       "response": {"status": 403, "headers": headers, "body": {"message": SECONDARY}}})
    waits = Waits()
    client = make_client(sandbox.url, waits=waits)
    assert client.secret_names(f"{ORG}/app").repo == frozenset({"DEPLOY_KEY"})
    assert waits.seconds == expected and client.usage.retries == 1


def test_primary_limit_waits_until_the_reset(sandbox: Sandbox, waits: Waits) -> None:
    reset = int(waits.now) + 120
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "^/user$"},
                       "response": {"status": 403, "headers": {"X-RateLimit-Remaining": "0",
                                                               "X-RateLimit-Reset": str(reset)},
                                    "body": {"message": "API rate limit exceeded for user ID 1."}}})
    client = make_client(sandbox.url, waits=waits)
    assert client.token_info().login == "sandbox-user"
    assert waits.seconds == [121.0]


def test_graphql_rate_limit_waits_for_the_budget(seed_dir: Any, clock: Any, waits: Waits) -> None:
    from migrator.sandbox.testing import running_sandbox

    with running_sandbox(seed_dir, clock=clock, graphql_limit=2) as small:
        client = make_client(small.url, waits=waits)
        assert len(list(client.repositories(ORG))) == len(ALL_REPOS)
    assert len(waits.seconds) >= 1 and all(w > 1 for w in waits.seconds)
    assert client.usage.retries == len(waits.seconds)


def test_a_wait_longer_than_allowed_fails_at_once(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "/actions/secrets"},
                       "response": {"status": 403, "headers": {"Retry-After": "7200"}, "body": {"message": SECONDARY}}})
    waits = Waits()
    client = make_client(sandbox.url, waits=waits)
    with pytest.raises(RemoteError, match="secondary rate limit stopped listing the secrets of acme/app"):
        client.secret_names(f"{ORG}/app")
    assert waits.seconds == []


def test_graphql_field_errors_mark_what_they_hit_as_unknown(sandbox: Sandbox) -> None:
    node = {"nameWithOwner": "acme/app", "isArchived": False, "isDisabled": False, "isFork": False,
            "isEmpty": False, "visibility": "PUBLIC", "repositoryTopics": {"nodes": []},
            "defaultBranchRef": {"name": "main", "target": {"oid": "a" * 40}, "branchProtectionRule": None},
            "workflows": None, "readme": None, "githubReadme": None, "packageJson": None}
    page = {"totalCount": 1, "pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [node]}
    where = ["organization", "repositories", "nodes", 0]
    body = {"data": {"organization": {"repositories": page}, "rateLimit": {"cost": 1}},
            "errors": [{"type": "FORBIDDEN", "path": [*where, "defaultBranchRef", "branchProtectionRule"],
                        "message": "Resource not accessible by integration"},
                       {"type": "SERVICE_UNAVAILABLE", "path": [*where, "workflows"], "message": "timedout"}]}
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "^/graphql$"},
                       "response": {"status": 200, "body": body}})
    [record] = list(make_client(sandbox.url).repositories(ORG))
    assert record.protection == Protection(readable=False)
    assert record.skipped == {".github/workflows/": "GitHub could not read it: timedout"}


def test_listing_streams(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, page_size=2)
    stream = client.repositories(ORG)
    next(stream)
    assert client.usage.graphql_requests == 1  # later pages are fetched only when the caller gets there


def test_listing_keeps_nothing_it_has_yielded(sandbox: Sandbox) -> None:
    alive: list[weakref.ref[RepoRecord]] = []
    for record in make_client(sandbox.url, page_size=2).repositories(ORG):
        alive.append(weakref.ref(record))
        del record
        gc.collect()
        assert all(ref() is None for ref in alive)
