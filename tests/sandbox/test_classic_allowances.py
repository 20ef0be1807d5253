"""Classic branch protection's actor lists: `required_pull_request_reviews.bypass_pull_request_allowances` (who may
push past the pull request requirement, even under enforce_admins, never past required status checks) and
`restrictions` (who may push at all). Served by REST and GraphQL, and honoured by every push."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.sandbox.actions import credentials
from migrator.sandbox.rulesets import Actor
from migrator.sandbox.store import Power, Repo
from migrator.sandbox.testing import AppKey, Sandbox, running_sandbox, write_seed
from tests.sandbox.support import call, graphql

ADMIN, ALLOWED, OTHER = "tok-admin", "tok-allowed", "tok-other"
APP_ID, SLUG = 77, "release-app"
REVIEWS = {"enforce_admins": True, "required_reviews": 1,
           "bypass_pull_request_allowances": {"users": ["alice"], "apps": [SLUG]}}  # fmt: skip
RESTRICTED = {"enforce_admins": True, "restrictions": {"users": ["alice"], "teams": ["release"], "apps": [SLUG]}}
CHECKS = REVIEWS | {"contexts": ["test"]}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    app = AppKey.generate().app_entry(APP_ID, 456, {"contents": "write", "metadata": "read"}) | {"slug": SLUG}
    files = {"README.md": "# x\n"}
    seed = write_seed(
        tmp_path,
        {"acme": {"reviews": files, "restricted": files, "checks": files}},
        repo_meta={"acme/reviews": {"protection": REVIEWS}, "acme/restricted": {"protection": RESTRICTED},
                   "acme/checks": {"protection": CHECKS}},
        org_meta={"acme": {"apps": [app], "tokens": {ADMIN: "full", ALLOWED: {"power": "full", "login": "alice"},
                                                     OTHER: {"power": "full", "login": "bob"}}}},
    )  # fmt: skip
    with running_sandbox(seed) as running:
        yield running


def _repo(sandbox: Sandbox, name: str) -> Repo:
    repo = sandbox.store.repo("acme", name)
    assert repo is not None
    return repo


def _app_push(sandbox: Sandbox, name: str) -> str | None:
    app = credentials.Credential("secrets.APP", f"{SLUG}[bot]", Power.WRITE, actor=Actor(f"{SLUG}[bot]", app_id=APP_ID))
    return credentials.refusal(_repo(sandbox, name), app, "refs/heads/main", url="https://github.com/acme/x",
                               store=sandbox.store)  # fmt: skip


def _put_file(sandbox: Sandbox, name: str, token: str) -> tuple[int, Any]:
    body = {"message": "direct", "content": base64.b64encode(b"x").decode(), "branch": "main"}
    path = f"/repos/acme/{name}/contents/new-{token}.txt"
    status, _headers, data = call(sandbox, "PUT", path, body=body, token=token)
    return status, data


def test_rest_serves_the_allowances_and_restrictions_in_github_s_shape(sandbox: Sandbox) -> None:
    data = call(sandbox, "GET", "/repos/acme/reviews/branches/main/protection", token=ADMIN)[2]
    allowed = data["required_pull_request_reviews"]["bypass_pull_request_allowances"]
    assert [u["login"] for u in allowed["users"]] == ["alice"] and allowed["teams"] == []
    assert [(a["id"], a["slug"]) for a in allowed["apps"]] == [(APP_ID, SLUG)]
    assert "restrictions" not in data
    restricted = call(sandbox, "GET", "/repos/acme/restricted/branches/main/protection", token=ADMIN)[2]
    assert [a["slug"] for a in restricted["restrictions"]["apps"]] == [SLUG]
    assert restricted["restrictions"]["users_url"].endswith("/protection/restrictions/users")


def test_graphql_serves_them_as_bypass_and_push_allowances(sandbox: Sandbox) -> None:
    query = """query($name: String!) { repository(owner: "acme", name: $name) { defaultBranchRef {
      branchProtectionRule { restrictsPushes
        bypassPullRequestAllowances(first: 10) { totalCount nodes { actor { __typename
          ... on App { databaseId slug } ... on User { login } } } }
        pushAllowances(first: 10) { totalCount nodes { actor { __typename ... on App { slug } } } } } } } }"""
    rule = graphql(sandbox, query, {"name": "reviews"})["data"]["repository"]["defaultBranchRef"]
    rule = rule["branchProtectionRule"]
    actors = [n["actor"] for n in rule["bypassPullRequestAllowances"]["nodes"]]
    assert actors == [{"__typename": "User", "login": "alice"},
                      {"__typename": "App", "databaseId": APP_ID, "slug": SLUG}]  # fmt: skip
    assert rule["restrictsPushes"] is False and rule["pushAllowances"]["totalCount"] == 0
    restricted = graphql(sandbox, query, {"name": "restricted"})["data"]["repository"]["defaultBranchRef"]
    assert restricted["branchProtectionRule"]["restrictsPushes"] is True
    pushers = [n["actor"] for n in restricted["branchProtectionRule"]["pushAllowances"]["nodes"]]
    assert pushers == [{"__typename": "User"}, {"__typename": "Team"}, {"__typename": "App", "slug": SLUG}]


def test_an_app_on_the_bypass_list_pushes_past_the_pull_request_requirement_even_under_enforce_admins(
    sandbox: Sandbox,
) -> None:
    assert _app_push(sandbox, "reviews") is None
    github_token = credentials.github_token(1, None)
    refused = credentials.refusal(_repo(sandbox, "reviews"), github_token, "refs/heads/main",
                                  url="https://github.com/acme/reviews", store=sandbox.store)  # fmt: skip
    assert refused is not None and "Changes must be made through a pull request." in refused


def test_no_bypass_allowance_passes_required_status_checks(sandbox: Sandbox) -> None:
    refused = _app_push(sandbox, "checks")
    assert refused is not None and 'Required status check "test" is expected.' in refused
    assert _put_file(sandbox, "checks", ALLOWED)[0] == 409


def test_rest_ref_writes_honour_the_user_allowances(sandbox: Sandbox) -> None:
    assert _put_file(sandbox, "reviews", ALLOWED)[0] == 201
    status, refused = _put_file(sandbox, "reviews", OTHER)  # an admin, but enforce_admins
    assert status == 409 and "pull request" in refused["message"]


def test_push_restrictions_must_list_the_pusher(sandbox: Sandbox) -> None:
    assert _app_push(sandbox, "restricted") is None
    assert _put_file(sandbox, "restricted", ALLOWED)[0] == 201
    assert _put_file(sandbox, "restricted", OTHER)[0] == 409
    github_token = credentials.github_token(1, None)
    refused = credentials.refusal(_repo(sandbox, "restricted"), github_token, "refs/heads/main",
                                  url="https://github.com/acme/restricted", store=sandbox.store)  # fmt: skip
    assert refused is not None and "You're not authorized to push to this branch." in refused


def test_the_protection_answers_match_githubs_openapi(sandbox: Sandbox) -> None:
    import jsonschema

    from tests.sandbox.test_actions_contract import OPENAPI
    from tests.sandbox.test_openapi_contract import _schema

    if not OPENAPI.is_file():
        pytest.skip("github-reference is not available")
    schema = _schema("/repos/{owner}/{repo}/branches/{branch}/protection", "GET", 200)
    assert schema is not None
    for name in ("reviews", "restricted", "checks"):
        body = call(sandbox, "GET", f"/repos/acme/{name}/branches/main/protection", token=ADMIN)[2]
        errors = [e.message[:200] for e in jsonschema.Draft7Validator(schema).iter_errors(body)]
        assert errors == [], name
