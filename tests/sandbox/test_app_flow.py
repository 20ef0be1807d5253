"""GitHub Apps in the sandbox, through PyGithub and through migrator's adapter: the JWT and GitHub's rules for
it, the App endpoints, minting installation tokens, their expiry on the sandbox's clock, the powers their
permissions give, and the adapter re-minting a token before it expires or after GitHub refuses it."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from github import Auth, BadCredentialsException, Github, GithubException, GithubIntegration

from migrator.errors import AuthError
from migrator.github import auth as auth_module
from migrator.github.client import GitHubClient, connect
from migrator.sandbox import shapes
from migrator.sandbox.testing import AppKey, FakeClock, Sandbox, running_sandbox, write_seed

ADMIN = "tok-admin-app-flow"
FULL = {"contents": "write", "pull_requests": "write", "workflows": "write", "secrets": "read", "metadata": "read"}
NO_WORKFLOWS = {"contents": "write", "pull_requests": "write", "metadata": "read"}
READ_ONLY = {"contents": "read", "metadata": "read"}
APP, INSTALLATION, OTHER_INSTALLATION = 101, 1001, 1002
NO_WF_APP, NO_WF_INSTALLATION = 202, 2002
READ_APP, READ_INSTALLATION = 303, 3003
TTL = 600
WORKFLOW = "name: ci\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n"


@pytest.fixture(scope="module")
def key() -> AppKey:
    return AppKey.generate()


@pytest.fixture(scope="module")
def other() -> AppKey:
    """The key of the two lesser Apps."""
    return AppKey.generate()


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, key: AppKey, other: AppKey) -> Path:
    return write_seed(
        tmp_path_factory.mktemp("app-seed"),
        {
            "acme": {
                "alpha": {"README.md": "# alpha\n", ".github/workflows/ci.yml": WORKFLOW},
                "beta": {"README.md": "# beta\n"},
            },
            "other": {"solo": {"README.md": "# solo\n"}},
        },
        org_meta={
            "acme": {
                "tokens": {ADMIN: "full"},
                "apps": [
                    key.app_entry(APP, INSTALLATION, FULL),
                    other.app_entry(NO_WF_APP, NO_WF_INSTALLATION, NO_WORKFLOWS),
                    other.app_entry(READ_APP, READ_INSTALLATION, READ_ONLY),
                ],
            },
            "other": {"apps": [key.app_entry(APP, OTHER_INSTALLATION, READ_ONLY)]},
        },
    )


@pytest.fixture
def clock() -> FakeClock:
    # PyGithub's own AppAuth signs by the real clock: start the sandbox there (tests that move it sign by it too)
    return FakeClock(now=float(int(time.time())))


@pytest.fixture
def sandbox(seed: Path, clock: FakeClock) -> Iterator[Sandbox]:
    with running_sandbox(seed, clock=clock, installation_token_ttl=TTL) as running:
        yield running


# ---------------------------------------------------------------- helpers


def call(sandbox: Sandbox, method: str, path: str, auth: str = "", body: Any = None) -> tuple[int, Any, Any]:
    request = urllib.request.Request(
        sandbox.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": auth} if auth else {})},
    )
    try:
        with urllib.request.urlopen(request) as response:
            raw, status, headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, headers = error.read(), error.code, error.headers
    return status, (json.loads(raw) if raw else None), headers


def signed(key: AppKey, clock: FakeClock, **claims: Any) -> str:
    now = int(clock())
    payload = {"iat": now - 60, "exp": now + 300, "iss": str(APP), **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key.private_pem, algorithm="RS256")


def mint(
    sandbox: Sandbox, key: AppKey, clock: FakeClock, *, app: int = APP, installation: int = INSTALLATION
) -> str:
    bearer = f"Bearer {signed(key, clock, iss=str(app))}"
    status, data, _ = call(sandbox, "POST", f"/app/installations/{installation}/access_tokens", bearer)
    assert status == 201, data
    token: str = data["token"]
    return token


def graphql(sandbox: Sandbox, token: str, query: str, variables: dict[str, Any] | None = None) -> tuple[int, Any]:
    status, data, _ = call(sandbox, "POST", "/graphql", f"bearer {token}", {"query": query, "variables": variables})
    return status, data


# ---------------------------------------------------------------- PyGithub's App API


def test_github_integration_sees_the_app_and_its_installations(sandbox: Sandbox, key: AppKey) -> None:
    integration = GithubIntegration(auth=Auth.AppAuth(APP, key.private_pem), base_url=sandbox.url)
    app = integration.get_app()
    assert (app.id, app.slug, app.owner.login) == (APP, f"app-{APP}", "acme")
    assert [i.id for i in integration.get_installations()] == [INSTALLATION, OTHER_INSTALLATION]
    assert integration.get_org_installation("acme").id == INSTALLATION
    assert integration.get_org_installation("other").id == OTHER_INSTALLATION
    assert integration.get_repo_installation("acme", "alpha").id == INSTALLATION
    found = integration.get_app_installation(OTHER_INSTALLATION)
    assert (found.id, found.app_id, found.target_type) == (OTHER_INSTALLATION, APP, "Organization")
    with pytest.raises(GithubException) as missing:
        integration.get_app_installation(NO_WF_INSTALLATION)  # another App's installation
    assert missing.value.status == 404


def test_access_token_is_minted_with_githubs_shape(sandbox: Sandbox, key: AppKey, clock: FakeClock) -> None:
    status, data, _ = call(
        sandbox, "POST", f"/app/installations/{INSTALLATION}/access_tokens", f"Bearer {signed(key, clock)}"
    )
    assert status == 201
    assert set(data) == {"token", "expires_at", "permissions", "repository_selection"}
    assert re.fullmatch(r"ghs_[A-Za-z0-9]+", data["token"])
    assert data["expires_at"] == shapes.iso(clock() + TTL)
    assert data["permissions"] == FULL and data["repository_selection"] == "all"
    assert sandbox.minted_tokens() == [data["token"]]
    authorization = GithubIntegration(auth=Auth.AppAuth(APP, key.private_pem), base_url=sandbox.url).get_access_token(
        INSTALLATION
    )
    assert authorization.token.startswith("ghs_") and authorization.token != data["token"]
    assert authorization.expires_at.timestamp() == int(clock()) + TTL
    assert authorization.permissions == FULL
    assert sandbox.minted_tokens() == [data["token"], authorization.token]


def test_tokens_vary_in_length_and_all_of_them_work(sandbox: Sandbox, key: AppKey, clock: FakeClock) -> None:
    tokens = [mint(sandbox, key, clock) for _ in range(25)]
    lengths = {len(t) for t in tokens}
    assert len(set(tokens)) == 25 and len(lengths) > 1 and lengths != {40}  # ghs_ + 36 is not the only length
    for token in sorted(tokens, key=len)[:: len(tokens) - 1]:  # the shortest and the longest
        repo = Github(auth=Auth.Token(token), base_url=sandbox.url, retry=None).get_repo("acme/alpha")
        assert repo.full_name == "acme/alpha"


def test_an_installation_token_works_until_it_expires(sandbox: Sandbox, key: AppKey, clock: FakeClock) -> None:
    token = mint(sandbox, key, clock)
    query = 'query { repository(owner: "acme", name: "alpha") { name } }'
    assert call(sandbox, "GET", "/repos/acme/alpha", f"token {token}")[0] == 200
    assert graphql(sandbox, token, query)[1]["data"]["repository"]["name"] == "alpha"
    status, data, _ = call(sandbox, "GET", "/installation/repositories", f"token {token}")
    assert status == 200 and [r["name"] for r in data["repositories"]] == ["alpha", "beta"]
    clock.advance(TTL - 1)
    assert call(sandbox, "GET", "/repos/acme/alpha", f"token {token}")[0] == 200
    clock.advance(1)
    assert call(sandbox, "GET", "/repos/acme/alpha", f"token {token}")[:2] == (401, {
        "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
    assert graphql(sandbox, token, query)[0] == 401
    with pytest.raises(BadCredentialsException):
        Github(auth=Auth.Token(token), base_url=sandbox.url, retry=None).get_repo("acme/alpha")
    assert call(sandbox, "GET", "/repos/acme/alpha", f"token {mint(sandbox, key, clock)}")[0] == 200


def test_tokens_of_one_installation_share_its_rate_limit_and_report_no_scopes(
    sandbox: Sandbox, key: AppKey, clock: FakeClock
) -> None:
    first, second = mint(sandbox, key, clock), mint(sandbox, key, clock)
    _, _, headers = call(sandbox, "GET", "/repos/acme/alpha", f"token {first}")
    assert "X-OAuth-Scopes" not in headers and headers["X-RateLimit-Used"] == "1"
    _, _, headers = call(sandbox, "GET", "/repos/acme/alpha", f"token {second}")
    assert headers["X-RateLimit-Used"] == "2"  # a fresh token is no fresh budget
    _, _, headers = call(sandbox, "GET", "/repos/acme/alpha", f"token {ADMIN}")
    assert headers["X-OAuth-Scopes"] == "admin:org, repo, workflow" and headers["X-RateLimit-Used"] == "1"


def test_seed_apps_are_validated_in_one_line(tmp_path: Path, key: AppKey) -> None:
    from migrator.errors import InputError
    from migrator.sandbox.seed import load_seed
    from migrator.sandbox.store import Store

    for apps, message in (
        ({"id": 1}, "must be a list"),
        ([{"id": 1, "installation_id": 2}], "needs public_key"),
        ([{"id": "x", "installation_id": 2, "public_key": key.public_pem}], "must be numbers"),
        ([{"id": 1, "installation_id": 2, "public_key": "nope"}], "PEM public key"),
        ([key.app_entry(1, 2, {"contents": "all"})], "read, write or admin"),
        ([key.app_entry(1, 2, FULL), key.app_entry(3, 2, FULL)], "installation 2 is declared twice"),
        ([key.app_entry(1, 2, FULL), AppKey.generate().app_entry(1, 3, FULL)], "different public keys"),
    ):
        seed = write_seed(tmp_path / f"seed-{len(message)}-{message[:4]}", {"acme": {"r": {"a": "b"}}},
                          org_meta={"acme": {"apps": apps}})
        with pytest.raises(InputError) as caught:
            load_seed(seed, Store())
        assert message in caught.value.message and caught.value.message.startswith("acme.meta.json: ")


def test_the_sandbox_command_sets_the_token_lifetime() -> None:
    import argparse

    from migrator.errors import UsageError
    from migrator.sandbox.command import configure, settings_from

    parser = argparse.ArgumentParser()
    configure(parser)
    assert settings_from(parser.parse_args(["--seed", "x"])).installation_token_ttl == 3600
    chosen = settings_from(parser.parse_args(["--seed", "x", "--installation-token-ttl", "5"]))
    assert chosen.installation_token_ttl == 5
    with pytest.raises(UsageError):
        settings_from(parser.parse_args(["--seed", "x", "--installation-token-ttl", "0"]))


def test_a_revoked_token_is_bad_credentials(sandbox: Sandbox, key: AppKey, clock: FakeClock) -> None:
    token = mint(sandbox, key, clock)
    assert call(sandbox, "DELETE", "/installation/token", f"token {token}")[0] == 204
    assert call(sandbox, "GET", "/repos/acme/alpha", f"token {token}")[0] == 401
    never_minted = "ghs_" + "N0tM1nted" * 4
    assert call(sandbox, "GET", "/repos/acme/alpha", f"token {never_minted}")[0] == 401


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": -1}, "'Expiration time' claim ('exp') must be a numeric value"),
        ({"exp": 601}, "'Expiration time' claim ('exp') is too far in the future"),
        ({"iat": 30}, "'Issued at' claim ('iat') must be an Integer"),
        ({"iat": None}, "'Issued at' claim ('iat') must be an Integer"),
        ({"iss": "999"}, "Integration not found"),
    ],
)
def test_jwt_claims_are_checked_by_githubs_rules_on_the_sandbox_clock(
    sandbox: Sandbox, key: AppKey, clock: FakeClock, claims: dict[str, Any], message: str
) -> None:
    now = int(clock())
    shifted = {k: (now + v if k in ("exp", "iat") and v is not None else v) for k, v in claims.items()}
    status, data, _ = call(sandbox, "GET", "/app", f"Bearer {signed(key, clock, **shifted)}")
    assert status == 401 and data["message"].startswith(message)


def test_jwt_edges_and_other_credentials_on_app_endpoints(sandbox: Sandbox, key: AppKey, clock: FakeClock) -> None:
    now = int(clock())
    assert call(sandbox, "GET", "/app", f"Bearer {signed(key, clock, exp=now + 600)}")[0] == 200  # the 10-minute edge
    forged = jwt.encode({"iat": now - 60, "exp": now + 300, "iss": str(APP)}, AppKey.generate().private_pem, "RS256")
    hs256 = jwt.encode({"iat": now - 60, "exp": now + 300, "iss": str(APP)}, "x" * 32, algorithm="HS256")
    token = mint(sandbox, key, clock)
    for credential in (f"Bearer {forged}", f"Bearer {hs256}", f"token {ADMIN}", f"token {token}", ""):
        status, data, _ = call(sandbox, "GET", "/app", credential)
        assert (status, data["message"]) == (401, "A JSON web token could not be decoded"), credential
    status, data, _ = call(sandbox, "POST", f"/app/installations/{INSTALLATION}/access_tokens", f"token {ADMIN}")
    assert status == 401 and sandbox.minted_tokens() == [token]


def test_a_jwt_opens_nothing_but_the_app_endpoints(sandbox: Sandbox, key: AppKey, clock: FakeClock) -> None:
    bearer = f"Bearer {signed(key, clock)}"
    assert call(sandbox, "GET", "/repos/acme/alpha", bearer)[:2] == (403, {
        "message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"})
    assert call(sandbox, "POST", "/graphql", bearer, {"query": "{ viewer { login } }"})[0] == 403
    assert call(sandbox, "DELETE", "/app", bearer)[0] == 404


def test_requested_permissions_narrow_the_token(sandbox: Sandbox, key: AppKey, clock: FakeClock) -> None:
    bearer = f"Bearer {signed(key, clock)}"
    path = f"/app/installations/{INSTALLATION}/access_tokens"
    status, data, _ = call(sandbox, "POST", path, bearer, {"permissions": {"contents": "read"}})
    assert status == 201 and data["permissions"] == {"contents": "read"}
    head = sandbox.store.repo("acme", "alpha").branch_sha("main")  # type: ignore[union-attr]
    refused = call(sandbox, "POST", "/repos/acme/alpha/git/refs", f"token {data['token']}",
                   {"ref": "refs/heads/x", "sha": head})
    assert refused[0] == 403
    status, data, _ = call(sandbox, "POST", path, bearer, {"permissions": {"administration": "write"}})
    assert (status, data["message"]) == (422, "The permissions requested are not granted to this installation.")
    assert call(sandbox, "POST", path, bearer, {"repositories": ["alpha"]})[0] == 422


def test_permissions_decide_what_a_token_may_write(
    sandbox: Sandbox, key: AppKey, other: AppKey, clock: FakeClock
) -> None:
    import base64

    def put(token: str, path: str) -> int:
        body = {"message": "m", "content": base64.b64encode(b"x\n").decode(), "branch": "main"}
        return call(sandbox, "PUT", f"/repos/acme/beta/contents/{path}", f"token {token}", body)[0]

    full = mint(sandbox, key, clock)
    no_workflows = mint(sandbox, other, clock, app=NO_WF_APP, installation=NO_WF_INSTALLATION)
    read_only = mint(sandbox, other, clock, app=READ_APP, installation=READ_INSTALLATION)
    assert put(no_workflows, "docs/a.md") == 201
    assert put(no_workflows, ".github/workflows/new.yml") == 403  # no workflows: write, like no `workflow` scope
    assert sandbox_message(sandbox, no_workflows, ".github/workflows/new.yml") == (
        "refusing to allow a GitHub App to create or update workflow `.github/workflows/new.yml` "
        "without `workflows` permission"
    )
    assert put(read_only, "docs/b.md") == 403
    assert sandbox_message(sandbox, read_only, "docs/b.md") == "Resource not accessible by integration"
    assert put(full, ".github/workflows/new.yml") == 201
    head = sandbox.store.repo("acme", "beta").branch_sha("main")  # type: ignore[union-attr]
    mutation = (
        "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }"
    )
    commit = {
        "branch": {"repositoryNameWithOwner": "acme/beta", "branchName": "main"},
        "expectedHeadOid": head,
        "message": {"headline": "ci: touch"},
        "fileChanges": {"additions": [{"path": ".github/workflows/ci2.yml", "contents": "eDoK"}]},
    }
    _status, answer = graphql(sandbox, no_workflows, mutation, {"input": commit})
    assert answer["errors"][0]["type"] == "FORBIDDEN"
    assert "GitHub App" in answer["errors"][0]["message"] and "`workflows` permission" in answer["errors"][0]["message"]
    _status, answer = graphql(sandbox, full, mutation, {"input": commit})
    assert answer["data"]["createCommitOnBranch"]["commit"]["oid"]


def sandbox_message(sandbox: Sandbox, token: str, path: str) -> str:
    import base64

    body = {"message": "m", "content": base64.b64encode(b"y\n").decode(), "branch": "main"}
    answer = call(sandbox, "PUT", f"/repos/acme/beta/contents/{path}", f"token {token}", body)[1]
    return str(answer["message"])


def test_pygithubs_own_installation_auth_remints_by_expires_at(seed: Path, key: AppKey, clock: FakeClock) -> None:
    """PyGithub replaces a token 20 s before its `expires_at`: with a 15 s lifetime, every request mints one."""
    for ttl, expected in ((3600, 1), (15, 3)):
        with running_sandbox(seed, clock=clock, installation_token_ttl=ttl) as sandbox:
            app_auth = Auth.AppAuth(APP, key.private_pem)
            gh = Github(auth=app_auth.get_installation_auth(INSTALLATION), base_url=sandbox.url, retry=None)
            assert [gh.get_repo(f"acme/{n}").name for n in ("alpha", "beta", "alpha")] == ["alpha", "beta", "alpha"]
            assert len(sandbox.minted_tokens()) == expected


# ---------------------------------------------------------------- migrator's adapter as an App


def app_client(sandbox: Sandbox, key: AppKey, tmp_path: Path, *, installation: int = INSTALLATION) -> GitHubClient:
    pem = tmp_path / "app.pem"
    pem.write_text(key.private_pem)
    return connect(api_url=sandbox.url, app_id=APP, app_key_path=pem, installation_id=installation)


def statuses(sandbox: Sandbox) -> list[tuple[str, str, int]]:
    return [(r.method, r.path.partition("?")[0], r.status) for r in sandbox.requests()]


def test_the_adapter_remints_before_the_token_expires(
    sandbox: Sandbox, key: AppKey, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_module, "_now", clock)  # the adapter and the sandbox agree on the time
    client = app_client(sandbox, key, tmp_path)
    info = client.token_info()
    assert info.can_push_workflows and info.kind == "app"
    assert client.count_repositories("acme") == 2
    clock.advance(TTL - 25)  # 25 s left: more than the 20 s margin, so the token is still used
    assert client.count_repositories("acme") == 2
    assert len(sandbox.minted_tokens()) == 1
    clock.advance(10)  # 15 s left: the next request mints first
    assert client.count_repositories("acme") == 2
    assert len(sandbox.minted_tokens()) == 2
    assert all(status != 401 for *_, status in statuses(sandbox))
    assert sandbox.stats()["requests"] == client.usage.requests  # mints are counted as requests


def lagging(clock: FakeClock, behind: float) -> FakeClock:
    """A client clock `behind` seconds behind the sandbox's: the adapter thinks its token is fresh when it is not."""

    class Lagging(FakeClock):
        def __call__(self) -> float:
            return clock() - behind

    return Lagging()


def test_the_adapter_remints_and_reads_again_when_github_refuses_the_token(
    sandbox: Sandbox, key: AppKey, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_module, "_now", lagging(clock, 60))
    client = app_client(sandbox, key, tmp_path)
    assert client.count_repositories("acme") == 2
    clock.advance(TTL)  # expired for the sandbox; 60 s left for the adapter
    sandbox.clear_requests()
    assert client.secret_names("acme/alpha").repo == frozenset()
    assert client.count_repositories("acme") == 2
    assert len(sandbox.minted_tokens()) == 2
    assert statuses(sandbox)[:3] == [
        ("GET", "/repos/acme/alpha/actions/secrets", 401),
        ("POST", f"/app/installations/{INSTALLATION}/access_tokens", 201),
        ("GET", "/repos/acme/alpha/actions/secrets", 200),
    ]
    assert [s for *_, s in statuses(sandbox)].count(401) == 1
    assert client.usage.retries == 0  # not a retry: the request was never served


def test_a_write_refused_401_is_sent_again_with_a_new_token_and_happens_once(
    sandbox: Sandbox, key: AppKey, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_module, "_now", lagging(clock, 60))
    client = app_client(sandbox, key, tmp_path)
    repo = sandbox.store.repo("acme", "alpha")
    assert repo is not None
    head = repo.branch_sha("main") or ""
    assert client.repo_state("acme/alpha", branch="main", paths=[]).default_head == head
    clock.advance(TTL)
    sandbox.clear_requests()
    client.create_branch("acme/alpha", branch="migrator/x", oid=head)
    assert statuses(sandbox) == [
        ("POST", "/repos/acme/alpha/git/refs", 401),
        ("POST", f"/app/installations/{INSTALLATION}/access_tokens", 201),
        ("POST", "/repos/acme/alpha/git/refs", 201),
    ]
    clock.advance(TTL)
    sandbox.clear_requests()
    oid = client.commit_files(
        "acme/alpha", branch="migrator/x", expected_head=head, headline="ci: x", body="",
        additions={".github/workflows/ci.yml": b"name: ci\n"}, deletions=[],
    )
    assert [s for *_, s in statuses(sandbox)] == [401, 201, 200]
    assert repo.branches() == ["main", "migrator/x"] and repo.branch_sha("migrator/x") == oid
    assert repo.commit(oid).parents == (head,)  # one commit, not two


def test_a_wrong_key_is_a_one_line_auth_error(sandbox: Sandbox, tmp_path: Path) -> None:
    client = app_client(sandbox, AppKey.generate(), tmp_path)
    with pytest.raises(AuthError) as caught:
        client.token_info()
    assert "401" in caught.value.message and "GitHub App" in caught.value.message
    assert "\n" not in caught.value.message
    with pytest.raises(AuthError):
        client.count_repositories("acme")
    assert sandbox.minted_tokens() == []


def test_a_failed_mint_is_retried_like_any_read(sandbox: Sandbox, key: AppKey) -> None:
    from migrator.github.auth import AppCredentials
    from migrator.github.client import ClientSettings
    from migrator.github.retry import RetryPolicy
    from migrator.github.urls import resolve_api_urls

    waits: list[float] = []
    client = GitHubClient(
        credentials=AppCredentials(str(APP), key.private_pem, INSTALLATION),
        urls=resolve_api_urls(sandbox.url),
        settings=ClientSettings(retry=RetryPolicy(sleep=waits.append)),
    )
    sandbox.add_fault({"match": {"path_regex": "/access_tokens$"}, "response": {"status": 502}, "times": 2})
    assert client.count_repositories("acme") == 2
    assert [s for *_, s in statuses(sandbox)] == [502, 502, 201, 200] and waits == [1.0, 2.0]
    assert client.usage.retries == 2 and client.usage.requests == 4 and len(sandbox.minted_tokens()) == 1


def test_an_installation_token_given_as_a_token_reads_like_actions_github_token(
    sandbox: Sandbox, key: AppKey, clock: FakeClock
) -> None:
    """Actions hands workflows an installation token as GITHUB_TOKEN: it has no user and no scopes."""
    token = mint(sandbox, key, clock)
    assert call(sandbox, "GET", "/user", f"token {token}")[:2] == (403, {
        "message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"})
    info = connect(api_url=sandbox.url, token=token).token_info()
    assert (info.login, info.kind, info.scopes, info.workflow_permission_known) == (
        "(installation token)", "app", None, False)
