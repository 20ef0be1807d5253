"""Rulesets and Actions permissions in the sandbox: GitHub's REST and GraphQL shapes, and every kind of push
(contents API, git refs, createCommitOnBranch, merges, the Actions model's release and tag pushes) judged by
them: active rules refuse with GitHub's text, evaluate-mode rules do not, bypass actors get through."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.sandbox.rulesets import ROLE_ADMIN
from migrator.sandbox.seed import META_SUFFIX
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox, write_seed
from tests.sandbox.actions_support import FIXED_MAIN, job_log, jobs, pipeline_seed, push, runs
from tests.sandbox.support import call, graphql

ADMIN, WRITER = "tok-admin", "tok-write"
TAGS = {"name": "release tags", "target": "tag", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
        "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}]}
MAIN_RULES = {"name": "main", "target": "branch", "enforcement": "active",
              "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
              "rules": [{"type": "pull_request", "parameters": {"required_approving_review_count": 0}},
                        {"type": "non_fast_forward"}, {"type": "deletion"}],
              "bypass_actors": [{"actor_type": "RepositoryRole", "actor_id": ROLE_ADMIN, "bypass_mode": "always"}]}
ORG_CHECKS = {"name": "org checks", "target": "branch", "enforcement": "active",
              "conditions": {"ref_name": {"include": ["refs/heads/release/*"], "exclude": []},
                             "repository_name": {"include": ["~ALL"], "exclude": ["other"]}},
              "rules": [{"type": "required_status_checks",
                         "parameters": {"required_status_checks": [{"context": "test"}],
                                        "do_not_enforce_on_create": True}}]}
EVALUATE = {"name": "trial", "target": "branch", "enforcement": "evaluate",
            "conditions": {"ref_name": {"include": ["~ALL"], "exclude": []}}, "rules": [{"type": "update"}]}
ACTIONS = {"allowed_actions": "selected", "sha_pinning_required": True,
           "selected_actions": {"github_owned_allowed": True, "verified_allowed": False,
                                "patterns_allowed": ["actions/create-github-app-token@*"]}}


def _seed(root: Path) -> Path:
    return write_seed(
        root,
        {"acme": {"app": {"README.md": "# app\n"}, "other": {"README.md": "# other\n"}}},
        repo_meta={"acme/app": {"rulesets": [TAGS, MAIN_RULES, EVALUATE]}},
        org_meta={"acme": {"tokens": {ADMIN: "full", WRITER: "write"}, "rulesets": [ORG_CHECKS],
                           "actions": ACTIONS}},
    )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(_seed(tmp_path / "seed"), clock=FakeClock()) as sb:
        yield sb


def _get(sandbox: Sandbox, path: str, token: str = ADMIN) -> Any:
    status, _headers, body = call(sandbox, "GET", path, token=token)
    assert status == 200, body
    return body


def _head(sandbox: Sandbox, branch: str = "main") -> str:
    return str(_get(sandbox, f"/repos/acme/app/git/ref/heads/{branch}")["object"]["sha"])


def _put_file(sandbox: Sandbox, token: str, branch: str = "main") -> tuple[int, Any]:
    body = {"message": "docs", "content": base64.b64encode(b"hello\n").decode(), "branch": branch}
    status, _headers, answer = call(sandbox, "PUT", "/repos/acme/app/contents/notes.txt", token=token, body=body)
    return status, answer


# ------------------------------------------------------------ reads


def test_repository_rulesets_list_the_orgs_first_and_filter_by_target(sandbox: Sandbox) -> None:
    listed = _get(sandbox, "/repos/acme/app/rulesets")
    assert [(r["name"], r["source_type"], r["source"]) for r in listed] == [
        ("org checks", "Organization", "acme"), ("release tags", "Repository", "acme/app"),
        ("main", "Repository", "acme/app"), ("trial", "Repository", "acme/app")]
    assert {r["current_user_can_bypass"] for r in listed if r["name"] == "main"} == {"always"}
    assert "rules" not in listed[0]
    assert [r["name"] for r in _get(sandbox, "/repos/acme/app/rulesets?targets=tag")] == ["release tags"]
    assert [r["name"] for r in _get(sandbox, "/repos/acme/app/rulesets?includes_parents=false")] == [
        "release tags", "main", "trial"]
    assert [r["name"] for r in _get(sandbox, "/repos/acme/other/rulesets")] == []
    one = _get(sandbox, f"/repos/acme/app/rulesets/{listed[2]['id']}", token=WRITER)
    assert one["current_user_can_bypass"] == "never"
    assert one["bypass_actors"] == [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    assert one["conditions"] == {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}}
    assert [r["type"] for r in one["rules"]] == ["pull_request", "non_fast_forward", "deletion"]
    assert call(sandbox, "GET", "/repos/acme/app/rulesets/999999")[0] == 404


def test_rules_for_a_branch_are_the_active_ones_with_their_ruleset(sandbox: Sandbox) -> None:
    rules = _get(sandbox, "/repos/acme/app/rules/branches/main")
    assert [(r["type"], r["ruleset_source"]) for r in rules] == [
        ("pull_request", "acme/app"), ("non_fast_forward", "acme/app"), ("deletion", "acme/app")]
    assert [r["type"] for r in _get(sandbox, "/repos/acme/app/rules/branches/release/1.x")] == [
        "required_status_checks"]
    assert _get(sandbox, "/repos/acme/app/rules/branches/feature") == []


def test_org_rulesets_and_actions_permissions(sandbox: Sandbox) -> None:
    assert [r["name"] for r in _get(sandbox, "/orgs/acme/rulesets")] == ["org checks"]
    assert call(sandbox, "GET", "/orgs/acme/rulesets", token=WRITER)[0] == 404
    assert _get(sandbox, "/orgs/acme/actions/permissions") == {
        "enabled_repositories": "all", "allowed_actions": "selected", "sha_pinning_required": True,
        "selected_actions_url": f"{sandbox.url}/orgs/acme/actions/permissions/selected-actions"}
    assert _get(sandbox, "/orgs/acme/actions/permissions/selected-actions")["patterns_allowed"] == [
        "actions/create-github-app-token@*"]
    assert _get(sandbox, "/repos/acme/app/actions/permissions")["sha_pinning_required"] is True
    assert call(sandbox, "GET", "/orgs/acme/actions/permissions", token=WRITER)[0] == 403


def test_graphql_lists_rulesets_with_rules_and_bypass_actors(sandbox: Sandbox) -> None:
    body = graphql(sandbox, """query { repository(owner: "acme", name: "app") {
      rulesets(first: 10, includeParents: true) { nodes {
        name enforcement target databaseId
        source { __typename ... on Repository { nameWithOwner } ... on Organization { login } }
        conditions { refName { include exclude } }
        rules(first: 10) { nodes { type parameters { __typename
          ... on RequiredStatusChecksParameters { requiredStatusChecks { context } } } } }
        bypassActors(first: 10) { nodes { bypassMode organizationAdmin deployKey repositoryRoleDatabaseId } }
      } } } }""")
    assert "errors" not in body, body
    nodes = body["data"]["repository"]["rulesets"]["nodes"]
    assert [(n["name"], n["enforcement"], n["target"], n["source"]["__typename"]) for n in nodes] == [
        ("org checks", "ACTIVE", "BRANCH", "Organization"), ("release tags", "ACTIVE", "TAG", "Repository"),
        ("main", "ACTIVE", "BRANCH", "Repository"), ("trial", "EVALUATE", "BRANCH", "Repository")]
    assert nodes[0]["rules"]["nodes"][0]["parameters"]["requiredStatusChecks"] == [{"context": "test"}]
    assert nodes[2]["bypassActors"]["nodes"] == [
        {"bypassMode": "ALWAYS", "organizationAdmin": False, "deployKey": False, "repositoryRoleDatabaseId": 5}]


# ------------------------------------------------------------ pushes


def test_a_pull_request_rule_refuses_direct_pushes_unless_the_role_bypasses(sandbox: Sandbox) -> None:
    status, answer = _put_file(sandbox, WRITER)
    assert status == 422
    assert answer["message"] == (
        "Repository rule violations found for refs/heads/main.\n\nChanges must be made through a pull request.\n")
    status, _answer = _put_file(sandbox, ADMIN)  # RepositoryRole admin is on the bypass list
    assert status in (200, 201)


def test_a_role_bypass_covers_the_roles_above_it() -> None:
    from migrator.sandbox.rulesets import ROLE_WRITE, Actor, BypassActor, Ruleset, bypass_mode

    def ruleset(role: int) -> Ruleset:
        return Ruleset(1, "r", "branch", "active", "Repository", "acme/app",
                       bypass_actors=(BypassActor("RepositoryRole", role),))

    admin, writer = Actor("a", role=ROLE_ADMIN), Actor("w", role=ROLE_WRITE)
    assert [bypass_mode(ruleset(r), admin) for r in (ROLE_WRITE, 2, ROLE_ADMIN)] == ["always"] * 3
    assert [bypass_mode(ruleset(r), writer) for r in (ROLE_WRITE, 2, ROLE_ADMIN)] == ["always", None, None]
    assert bypass_mode(ruleset(ROLE_WRITE), Actor("bot", app_id=15368)) is None


def test_evaluate_mode_does_not_block(sandbox: Sandbox) -> None:
    head = _head(sandbox)
    status, _h, body = call(sandbox, "POST", "/repos/acme/app/git/refs", token=WRITER,
                            body={"ref": "refs/heads/feature", "sha": head})
    assert status == 201, body
    status, answer = _put_file(sandbox, WRITER, "feature")  # only the evaluate-mode `update` rule applies
    assert status in (200, 201), answer


def test_a_tag_ruleset_refuses_creating_a_release_tag_by_git_refs_and_graphql(sandbox: Sandbox) -> None:
    head = _head(sandbox)
    status, _h, body = call(sandbox, "POST", "/repos/acme/app/git/refs", token=ADMIN,
                            body={"ref": "refs/tags/v1.0.0", "sha": head})
    assert status == 422
    assert body["message"].startswith("Repository rule violations found for refs/tags/v1.0.0.")
    assert "Cannot create ref due to creations being restricted." in body["message"]
    status, _h, body = call(sandbox, "POST", "/repos/acme/app/git/refs", token=ADMIN,
                            body={"ref": "refs/tags/other", "sha": head})
    assert status == 201, body
    repo_id = graphql(sandbox, 'query { repository(owner: "acme", name: "app") { id } }')["data"]["repository"]["id"]
    answer = graphql(sandbox, "mutation($r: ID!, $o: GitObjectID!) { createRef(input: {repositoryId: $r, "
                     'name: "refs/tags/v2.0.0", oid: $o}) { ref { name } } }', {"r": repo_id, "o": head})
    assert answer["errors"][0]["message"].startswith("Repository rule violations found for refs/tags/v2.0.0.")
    assert "refs/tags/v1.0.0" not in _get(sandbox, "/repos/acme/app/git/refs/tags")[0]["ref"]


def test_create_commit_on_branch_is_refused_and_force_pushes_and_deletions_too(sandbox: Sandbox) -> None:
    head = _head(sandbox)
    answer = graphql(sandbox, """mutation($h: GitObjectID!) { createCommitOnBranch(input: {
        branch: {repositoryNameWithOwner: "acme/app", branchName: "main"}, expectedHeadOid: $h,
        message: {headline: "docs"}, fileChanges: {additions: [{path: "a.txt", contents: "YQo="}]}}) {
        commit { oid } } }""", {"h": head}, token=WRITER)
    assert "Changes must be made through a pull request." in answer["errors"][0]["message"]
    assert _head(sandbox) == head
    status, _h, body = call(sandbox, "DELETE", "/repos/acme/app/git/refs/heads/main", token=WRITER)
    assert status == 422 and "Cannot delete this protected ref." in body["message"]


def test_a_merge_satisfies_the_pull_request_rule_but_not_missing_required_checks(sandbox: Sandbox) -> None:
    head = _head(sandbox)
    for branch in ("release/1.x", "topic"):
        assert call(sandbox, "POST", "/repos/acme/app/git/refs", token=ADMIN,
                    body={"ref": f"refs/heads/{branch}", "sha": head})[0] == 201
    assert _put_file(sandbox, WRITER, "topic")[0] in (200, 201)
    status, _h, pull = call(sandbox, "POST", "/repos/acme/app/pulls", token=WRITER,
                            body={"title": "t", "head": "topic", "base": "release/1.x"})
    assert status == 201, pull
    status, _h, body = call(sandbox, "PUT", f"/repos/acme/app/pulls/{pull['number']}/merge", token=WRITER, body={})
    assert status != 200 and 'Required status check "test" is expected.' in body["message"]
    status, _h, pull = call(sandbox, "POST", "/repos/acme/app/pulls", token=WRITER,
                            body={"title": "t", "head": "topic", "base": "main"})
    status, _h, body = call(sandbox, "PUT", f"/repos/acme/app/pulls/{pull['number']}/merge", token=WRITER, body={})
    assert status == 200, body


def test_seed_errors_are_one_line(tmp_path: Path) -> None:
    from migrator.errors import InputError
    from migrator.sandbox.seed import load_seed
    from migrator.sandbox.store import Store

    seed = write_seed(tmp_path, {"acme": {"app": {"README.md": "x"}}},
                      repo_meta={"acme/app": {"rulesets": [{"name": "x", "rules": [{"type": "nope"}]}]}})
    with pytest.raises(InputError, match=r"acme/app\.meta\.json: ruleset 'x': unknown rule 'nope'"):
        load_seed(seed, Store())


# ------------------------------------------------------------ the Actions model


def _with_rulesets(seed: Path, rulesets: list[dict[str, Any]]) -> Path:
    meta_path = seed / "acme" / ("app" + META_SUFFIX)
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "rulesets": rulesets}))
    return seed


def _release(tmp_path: Path, rulesets: list[dict[str, Any]]) -> tuple[str, str, list[Any]]:
    seed = _with_rulesets(pipeline_seed(tmp_path / "seed", main=FIXED_MAIN), rulesets)
    with running_sandbox(seed, clock=FakeClock()) as sb:
        push(sb, "fix: handle empty input")
        run = next(r for r in runs(sb) if r["path"].endswith("main.yml"))
        job = jobs(sb, run["id"])["release"]
        releases = _get(sb, "/repos/acme/app/releases")
        assert sb.actions_errors() == []
        return str(job["conclusion"]), job_log(sb, job["id"]), releases


def test_the_release_tag_push_is_refused_by_a_tag_ruleset_without_a_bypass_for_the_pat(tmp_path: Path) -> None:
    conclusion, log, releases = _release(tmp_path, [TAGS])
    assert conclusion == "failure"
    assert "GH013: Repository rule violations found for refs/tags/v1.0.0." in log
    assert releases == []


def test_the_release_passes_when_the_pats_role_bypasses_or_the_ruleset_only_evaluates(tmp_path: Path) -> None:
    bypass = {**TAGS, "bypass_actors": [{"actor_type": "OrganizationAdmin", "actor_id": 1}]}
    conclusion, _log, releases = _release(tmp_path / "a", [bypass])
    assert conclusion == "success" and [r["tag_name"] for r in releases] == ["v1.0.0"]
    conclusion, _log, releases = _release(tmp_path / "b", [{**TAGS, "enforcement": "evaluate"}])
    assert conclusion == "success" and [r["tag_name"] for r in releases] == ["v1.0.0"]


# ------------------------------------------------------------ GitHub's OpenAPI description

CONTRACT = [
    ("/repos/{owner}/{repo}/rulesets", "/repos/acme/app/rulesets"),
    ("/repos/{owner}/{repo}/rulesets/{ruleset_id}", "/repos/acme/app/rulesets/{main}"),
    ("/repos/{owner}/{repo}/rulesets/{ruleset_id}", "/repos/acme/app/rulesets/{org}"),
    ("/repos/{owner}/{repo}/rules/branches/{branch}", "/repos/acme/app/rules/branches/main"),
    ("/repos/{owner}/{repo}/rules/branches/{branch}", "/repos/acme/app/rules/branches/release/1.x"),
    ("/orgs/{org}/rulesets", "/orgs/acme/rulesets"),
    ("/orgs/{org}/rulesets/{ruleset_id}", "/orgs/acme/rulesets/{org}"),
    ("/orgs/{org}/actions/permissions", "/orgs/acme/actions/permissions"),
    ("/orgs/{org}/actions/permissions/selected-actions", "/orgs/acme/actions/permissions/selected-actions"),
    ("/repos/{owner}/{repo}/actions/permissions", "/repos/acme/app/actions/permissions"),
    ("/repos/{owner}/{repo}/actions/permissions/selected-actions",
     "/repos/acme/app/actions/permissions/selected-actions"),
]


@pytest.mark.parametrize(("spec", "path"), CONTRACT)
def test_every_answer_validates_against_githubs_openapi_schema(sandbox: Sandbox, spec: str, path: str) -> None:
    import jsonschema

    from tests.sandbox.test_actions_contract import OPENAPI, _response_schema

    if not OPENAPI.is_file():
        pytest.skip("github-reference is not available")
    ids = {r["name"]: r["id"] for r in _get(sandbox, "/repos/acme/app/rulesets")}
    body = _get(sandbox, path.format(main=ids["main"], org=ids["org checks"]))
    jsonschema.Draft7Validator(_response_schema(spec)).validate(body)
