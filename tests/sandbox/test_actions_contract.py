"""The Actions model's answers against GitHub's: every key of octokit's recorded workflow runs, jobs, workflows
and releases is in ours, and every answer validates against the response schema of GitHub's OpenAPI description
(`../shared/github-reference/openapi/api.github.com.json`). GraphQL documents are validated against the vendored
schema. The recordings are read at test time only."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from migrator.sandbox.graphql import validate_document
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox
from tests.sandbox.actions_support import FIXED_MAIN, pipeline_seed, push
from tests.sandbox.support import call, graphql
from tests.sandbox.test_recordings import CASSETTES, REFERENCE, _cassette, _pick, missing_keys

OPENAPI = REFERENCE / "openapi" / "api.github.com.json"
pytestmark = pytest.mark.skipif(not OPENAPI.is_file(), reason="github-reference recordings are not available")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A repository after one release that raced: runs of three workflows, jobs, a tag and a release."""
    with running_sandbox(pipeline_seed(tmp_path_factory.mktemp("seed"), main=FIXED_MAIN), clock=FakeClock()) as sb:
        push(sb, "fix: handle empty input")
        yield sb
        assert sb.actions_errors() == []


def _get(sandbox: Sandbox, path: str) -> Any:
    status, _headers, body = call(sandbox, "GET", path)
    assert status == 200, body
    return body


def _first_run(sandbox: Sandbox) -> dict[str, Any]:
    return dict(_get(sandbox, "/repos/acme/app/actions/runs")["workflow_runs"][-1])


# ------------------------------------------------------------ recordings


def test_workflow_runs_have_every_recorded_key(released: Sandbox) -> None:
    recorded = _pick(_cassette("Octokit_Client_ActionsWorkflowRuns/_workflow_runs/paginates_the_results.json"),
                     "GET", "/runs")
    ours = _get(released, "/repos/acme/app/actions/runs")
    assert missing_keys(recorded.body, ours) == []


def test_jobs_have_every_recorded_key(released: Sandbox) -> None:
    recorded = _pick(_cassette("Octokit_Client_ActionsWorkflowJobs/_workflow_run_jobs/paginates_the_results.json"),
                     "GET", "/jobs")
    ours = _get(released, f"/repos/acme/app/actions/runs/{_first_run(released)['id']}/jobs")
    assert missing_keys(recorded.body, ours) == []
    assert [s["name"] for s in ours["jobs"][0]["steps"]][::len(ours["jobs"][0]["steps"]) - 1] == [
        "Set up job", "Complete job"]  # as GitHub frames every job's steps


def test_workflows_have_every_recorded_key(released: Sandbox) -> None:
    recorded = _pick(_cassette("Octokit_Client_ActionsWorkflows/_workflows/paginates_the_results.json"),
                     "GET", "/workflows")
    assert missing_keys(recorded.body, _get(released, "/repos/acme/app/actions/workflows")) == []


def test_releases_have_every_recorded_key(released: Sandbox) -> None:
    listed = _pick(_cassette("Octokit_Client_Releases/_releases/lists_releases_for_a_repo.json"), "GET", "/releases")
    latest = _pick(_cassette("Octokit_Client_Releases/_latest_release/returns_the_latest_release.json"),
                   "GET", "/releases/latest")
    obsolete = {"body_html", "body_text"}  # only with the html/text media types
    for recorded, path in ((listed, "/releases"), (latest, "/releases/latest")):
        gaps = missing_keys(recorded.body, _get(released, f"/repos/acme/app{path}"))
        assert [g for g in gaps if g.rsplit(".", 1)[-1] not in obsolete] == []


def test_single_releases_and_repository_runs_have_every_recorded_key(released: Sandbox) -> None:
    release = _get(released, "/repos/acme/app/releases/latest")["id"]
    pairs = [
        ("Octokit_Client_Releases/_release/gets_a_single_release.json", "/releases/", f"/releases/{release}"),
        ("Octokit_Client_Releases/_release_for_tag/returns_the_release_for_a_tag.json", "/releases/tags/",
         "/releases/tags/v1.0.0"),
        ("Octokit_Client_ActionsWorkflowRuns/_repository_workflow_runs/paginates_the_results.json", "/runs",
         "/actions/runs"),
    ]
    for cassette, recorded_path, ours in pairs:
        recorded = next(r for r in _cassette(cassette) if recorded_path in r.path and r.status == 200)
        gaps = missing_keys(recorded.body, _get(released, f"/repos/acme/app{ours}"))
        assert [g for g in gaps if g.rsplit(".", 1)[-1] not in {"body_html", "body_text"}] == [], cassette


def test_the_job_id_is_its_check_runs(released: Sandbox) -> None:
    """As recorded: a job's `check_run_url` ends with the job's own id."""
    for job in _get(released, f"/repos/acme/app/actions/runs/{_first_run(released)['id']}/jobs")["jobs"]:
        assert job["check_run_url"].endswith(f"/check-runs/{job['id']}")
        check = _get(released, f"/repos/acme/app/check-runs/{job['id']}")
        assert (check["name"], check["conclusion"]) == (job["name"], job["conclusion"])


# ------------------------------------------------------------ OpenAPI


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema's null type."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


@functools.cache
def _openapi() -> dict[str, Any]:
    return dict(json.loads(OPENAPI.read_text()))


def _response_schema(path: str) -> dict[str, Any]:
    document = _openapi()
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**_nullable(schema), "components": _nullable({"schemas": document["components"]["schemas"]})}


ENDPOINTS = [
    ("/repos/{owner}/{repo}/actions/workflows", "/actions/workflows"),
    ("/repos/{owner}/{repo}/actions/runs", "/actions/runs"),
    ("/repos/{owner}/{repo}/actions/runs/{run_id}", "/actions/runs/{run}"),
    ("/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", "/actions/runs/{run}/jobs"),
    ("/repos/{owner}/{repo}/releases", "/releases"),
    ("/repos/{owner}/{repo}/releases/latest", "/releases/latest"),
    ("/repos/{owner}/{repo}/tags", "/tags"),
    ("/repos/{owner}/{repo}/actions/workflows/{workflow_id}", "/actions/workflows/main.yml"),
    ("/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", "/actions/workflows/main.yml/runs"),
    ("/repos/{owner}/{repo}/actions/jobs/{job_id}", "/actions/jobs/{job}"),
    ("/repos/{owner}/{repo}/releases/{release_id}", "/releases/{release}"),
    ("/repos/{owner}/{repo}/releases/tags/{tag}", "/releases/tags/v1.0.0"),
    ("/repos/{owner}/{repo}/commits/{ref}/check-suites", "/commits/main/check-suites"),
    ("/repos/{owner}/{repo}/check-suites/{check_suite_id}", "/check-suites/{suite}"),
]


@pytest.mark.parametrize(("spec", "ours"), ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_answers_validate_against_githubs_openapi(released: Sandbox, spec: str, ours: str) -> None:
    run = _first_run(released)
    job = _get(released, f"/repos/acme/app/actions/runs/{run['id']}/jobs")["jobs"][0]["id"]
    release = _get(released, "/repos/acme/app/releases/latest")["id"]
    body = _get(released, "/repos/acme/app" + ours.format(run=run["id"], job=job, release=release,
                                                          suite=run["check_suite_id"]))
    jsonschema.Draft7Validator(_response_schema(spec)).validate(body)


def test_the_recordings_are_where_the_tests_expect_them() -> None:
    assert (CASSETTES / "Octokit_Client_ActionsWorkflowRuns").is_dir()


# ------------------------------------------------------------ GraphQL


EVIDENCE = """query Evidence($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    latestRelease { tagName name isLatest createdAt author { login } tagCommit { oid } }
    releases(first: 5, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount nodes { tagName } }
    refs(refPrefix: "refs/tags/", first: 10) { nodes { name target { oid } } }
    defaultBranchRef {
      target {
        ... on Commit {
          history(first: 5) {
            nodes {
              oid
              messageHeadline
              checkSuites(first: 10) {
                nodes {
                  status conclusion app { slug }
                  workflowRun { databaseId runNumber event url createdAt workflow { name } file { path } }
                  checkRuns(first: 10) { nodes { name conclusion title } }
                }
              }
              statusCheckRollup { state }
            }
          }
        }
      }
    }
  }
}"""


def test_the_evidence_query_is_valid_against_githubs_schema() -> None:
    assert validate_document(EVIDENCE) == []


def test_check_suites_carry_their_workflow_runs(released: Sandbox) -> None:
    body = graphql(released, EVIDENCE, {"owner": "acme", "name": "app"})
    assert "errors" not in body, body
    repository = body["data"]["repository"]
    assert repository["latestRelease"]["tagName"] == "v1.0.0"
    assert repository["latestRelease"]["author"] == {"login": "release-bot"}
    assert [n["tagName"] for n in repository["releases"]["nodes"]] == ["v1.0.0"]
    assert [n["name"] for n in repository["refs"]["nodes"]] == ["v1.0.0"]
    head = repository["defaultBranchRef"]["target"]["history"]["nodes"][0]
    suites = head["checkSuites"]["nodes"]
    by_workflow = {s["workflowRun"]["workflow"]["name"]: s for s in suites}
    assert sorted(by_workflow) == ["Build Multi-Arch Image", "CI/CD", "Docker"]
    main = by_workflow["CI/CD"]
    assert (main["conclusion"], main["app"]["slug"], main["workflowRun"]["event"]) == (
        "SUCCESS", "github-actions", "push")
    assert [r["name"] for r in main["checkRuns"]["nodes"]] == ["test", "release", "docker"]
    assert head["statusCheckRollup"]["state"] == "SUCCESS"


def test_the_schema_check_refuses_an_answer_missing_a_required_key(released: Sandbox) -> None:
    run = _first_run(released)
    del run["head_commit"]
    with pytest.raises(jsonschema.ValidationError, match="head_commit"):
        jsonschema.Draft7Validator(_response_schema("/repos/{owner}/{repo}/actions/runs/{run_id}")).validate(run)
