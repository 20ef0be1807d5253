"""The sandbox against GitHub's real answers, recorded by octokit: same status codes, and every key
the recording has is in the sandbox's answer (GitHub adds keys over time, so ours may have more).

The recordings are read at test time from ../shared/github-reference; runtime code never reads them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from migrator.sandbox.testing import Sandbox
from tests.sandbox.support import call

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "github-reference"
FIXTURES = REFERENCE / "octokit-fixtures" / "api.github.com"
CASSETTES = REFERENCE / "octokit-rb-cassettes"

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="github-reference recordings are not available")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    status: int
    body: Any


def _fixture(scenario: str) -> list[Recorded]:
    raw = json.loads((FIXTURES / scenario / "normalized-fixture.json").read_text())
    return [Recorded(i["method"].upper(), i["path"], i["status"], i.get("response")) for i in raw]


def _cassette(relative: str) -> list[Recorded]:
    raw = json.loads((CASSETTES / relative).read_text())
    found = []
    for item in raw["http_interactions"]:
        body = item["response"]["body"]
        text = body.get("string") or base64.b64decode(body.get("base64_string") or "").decode()
        text = re.sub(r":<[A-Z_]+>", ":0", text)  # cassettes redact some numbers as bare placeholders
        uri = item["request"]["uri"].split("api.github.com", 1)[1]
        found.append(Recorded(item["request"]["method"].upper(), uri, item["response"]["status"]["code"],
                              json.loads(text) if text.strip() else None))
    return found


def _pick(recordings: list[Recorded], method: str, path_end: str, status: int | None = None) -> Recorded:
    for item in recordings:
        path = item.path.split("?", 1)[0]
        if item.method == method and path.endswith(path_end) and (status is None or item.status == status):
            return item
    raise AssertionError(f"no recorded {method} ...{path_end}")


# Keys GitHub has dropped since the 2013-era cassettes were recorded.
OBSOLETE = frozenset({"master_branch"})


def _counterpart(sample: Any, ours: list[Any]) -> Any:
    """Our list item of the same kind (a tree's blobs against blobs), else the first."""
    if isinstance(sample, dict) and "type" in sample:
        return next((o for o in ours if isinstance(o, dict) and o.get("type") == sample["type"]), ours[0])
    return ours[0]


def missing_keys(recorded: Any, ours: Any, where: str = "$") -> list[str]:
    """Paths of keys the recording has and our answer lacks."""
    if isinstance(recorded, dict) and isinstance(ours, dict):
        gaps = [f"{where}.{key}" for key in recorded if key not in ours and key not in OBSOLETE]
        for key, value in recorded.items():
            if key in ours and value is not None and ours[key] is not None:
                gaps += missing_keys(value, ours[key], f"{where}.{key}")
        return gaps
    if isinstance(recorded, list) and isinstance(ours, list) and recorded and ours:
        return missing_keys(recorded[0], _counterpart(recorded[0], ours), f"{where}[]")
    return []


Answer = tuple[int, Any]
Case = Callable[[Sandbox], tuple[Recorded, Answer]]


def _answer(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Answer:
    status, _headers, data = call(sandbox, method, path, body=body)
    return status, data


def _head(sandbox: Sandbox, repo: str = "lib") -> str:
    return str(call(sandbox, "GET", f"/repos/acme/{repo}/git/ref/heads/main")[2]["object"]["sha"])


def _branch_with_change(sandbox: Sandbox, branch: str) -> None:
    call(sandbox, "POST", "/repos/acme/lib/git/refs", body={"ref": f"refs/heads/{branch}", "sha": _head(sandbox)})
    call(sandbox, "PUT", f"/repos/acme/lib/contents/{branch}.txt",
         body={"message": branch, "content": base64.b64encode(b"x").decode(), "branch": branch})


def _open_pull(sandbox: Sandbox) -> Any:
    _branch_with_change(sandbox, "topic")
    return call(sandbox, "POST", "/repos/acme/lib/pulls", body={"title": "T", "head": "topic", "base": "main"})[2]


def case_get_repository(s: Sandbox) -> tuple[Recorded, Answer]:
    return _pick(_fixture("get-repository"), "GET", "/hello-world"), _answer(s, "GET", "/repos/acme/app")


def case_get_organization(s: Sandbox) -> tuple[Recorded, Answer]:
    return _pick(_fixture("get-organization"), "GET", "/orgs/octokit-fixture-org"), _answer(s, "GET", "/orgs/acme")


def case_org_repositories(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Organizations/_organization_repositories/"
                               "returns_all_public_repositories_for_an_organization.json"), "GET", "/repos")
    return recorded, _answer(s, "GET", "/orgs/acme/repos")


def case_create_file(s: Sandbox) -> tuple[Recorded, Answer]:
    body = {"message": "create test.txt", "content": "VGVzdCBjb250ZW50"}
    return (_pick(_fixture("create-file"), "PUT", "/contents/test.txt"),
            _answer(s, "PUT", "/repos/acme/lib/contents/test.txt", body))


def case_list_directory(s: Sandbox) -> tuple[Recorded, Answer]:
    return _pick(_fixture("get-content"), "GET", "/contents/"), _answer(s, "GET", "/repos/acme/app/contents/")


def case_get_file(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Contents/_contents/returns_the_contents_of_a_file.json"),
                     "GET", "/contents/lib/octokit.rb")
    return recorded, _answer(s, "GET", "/repos/acme/app/contents/src/main.py")


def case_update_file(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Contents/_update_contents/updates_repository_contents_at_a_path.json"),
                     "PUT", "/contents/test_update.txt", 200)
    sha = call(s, "GET", "/repos/acme/lib/contents/README.md")[2]["sha"]
    body = {"message": "update", "content": base64.b64encode(b"new").decode(), "sha": sha}
    return recorded, _answer(s, "PUT", "/repos/acme/lib/contents/README.md", body)


def case_delete_file(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Contents/_delete_contents/deletes_repository_contents_at_a_path.json"),
                     "DELETE", "/contents/test_delete.txt")
    sha = call(s, "GET", "/repos/acme/lib/contents/README.md")[2]["sha"]
    return recorded, _answer(s, "DELETE", "/repos/acme/lib/contents/README.md", {"message": "rm", "sha": sha})


def case_list_refs(s: Sandbox) -> tuple[Recorded, Answer]:
    return _pick(_fixture("git-refs"), "GET", "/git/refs/"), _answer(s, "GET", "/repos/acme/lib/git/refs")


def case_create_ref(s: Sandbox) -> tuple[Recorded, Answer]:
    return (_pick(_fixture("git-refs"), "POST", "/git/refs"),
            _answer(s, "POST", "/repos/acme/lib/git/refs", {"ref": "refs/heads/test", "sha": _head(s)}))


def case_update_ref(s: Sandbox) -> tuple[Recorded, Answer]:
    call(s, "POST", "/repos/acme/lib/git/refs", body={"ref": "refs/heads/test", "sha": _head(s)})
    return (_pick(_fixture("git-refs"), "PATCH", "/git/refs/heads/test"),
            _answer(s, "PATCH", "/repos/acme/lib/git/refs/heads/test", {"sha": _head(s)}))


def case_delete_ref(s: Sandbox) -> tuple[Recorded, Answer]:
    call(s, "POST", "/repos/acme/lib/git/refs", body={"ref": "refs/heads/test", "sha": _head(s)})
    return (_pick(_fixture("git-refs"), "DELETE", "/git/refs/heads/test"),
            _answer(s, "DELETE", "/repos/acme/lib/git/refs/heads/test"))


def case_delete_missing_ref(s: Sandbox) -> tuple[Recorded, Answer]:
    recordings = _cassette("Octokit_Client_Refs/with_ref/_delete_ref/deletes_an_existing_ref.json")
    recorded = next(r for r in recordings if r.status == 422 and r.body["message"] == "Reference does not exist")
    return recorded, _answer(s, "DELETE", "/repos/acme/lib/git/refs/heads/testing/test-ref")


def case_get_tag_ref(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Refs/_ref/returns_a_tags_ref.json"), "GET", "/git/refs/tags/v0.0.3")
    return recorded, _answer(s, "GET", "/repos/acme/lib/git/ref/heads/main")


def case_create_blob(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Objects/_create_blob/creates_a_blob.json"), "POST", "/git/blobs")
    return recorded, _answer(s, "POST", "/repos/acme/lib/git/blobs", {"content": "x", "encoding": "utf-8"})


def case_get_blob(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Objects/_blob/returns_a_blob.json"), "GET", "")
    sha = call(s, "GET", "/repos/acme/lib/contents/README.md")[2]["sha"]
    return recorded, _answer(s, "GET", f"/repos/acme/lib/git/blobs/{sha}")


def case_create_tree(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Objects/_create_tree/creates_a_tree.json"), "POST", "/git/trees")
    body = {"tree": [{"path": "a.txt", "mode": "100644", "type": "blob", "content": "a"}]}
    return recorded, _answer(s, "POST", "/repos/acme/lib/git/trees", body)


def case_get_tree_recursive(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Objects/_tree/gets_a_tree_recursively.json"), "GET", "")
    return recorded, _answer(s, "GET", "/repos/acme/app/git/trees/main?recursive=1")


def case_branch(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Repositories/_branches/returns_a_single_branch.json"),
                     "GET", "/branches/master")
    return recorded, _answer(s, "GET", "/repos/acme/lib/branches/main")


def case_unprotected_branch(s: Sandbox) -> tuple[Recorded, Answer]:
    return (_pick(_fixture("branch-protection"), "GET", "/protection"),
            _answer(s, "GET", "/repos/acme/lib/branches/main/protection"))


def case_protect_branch(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _fixture("branch-protection")[1]
    body = {"required_status_checks": None, "required_pull_request_reviews": None, "restrictions": None,
            "enforce_admins": False}
    return recorded, _answer(s, "PUT", "/repos/acme/lib/branches/main/protection", body)


def case_protection_summary(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Repositories/with_repository/_branch_protection/with_protected_branch/"
                               "returns_branch_protection_summary.json"), "GET", "/protection")
    return recorded, _answer(s, "GET", "/repos/acme/app/branches/main/protection")


def case_unprotect_branch(s: Sandbox) -> tuple[Recorded, Answer]:
    return (_pick(_fixture("branch-protection"), "DELETE", "/protection"),
            _answer(s, "DELETE", "/repos/acme/app/branches/main/protection"))


def case_create_pull(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_PullRequests/methods_that_require_a_new_pull/_create_pull_request/"
                               "creates_a_pull_request.json"), "POST", "/pulls", 201)
    _branch_with_change(s, "topic")
    return recorded, _answer(s, "POST", "/repos/acme/lib/pulls", {"title": "T", "head": "topic", "base": "main"})


def case_pull_already_exists(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_PullRequests/methods_that_require_a_new_pull/_merge_pull_request/"
                               "merges_the_pull_request.json"), "POST", "/pulls", 422)
    _open_pull(s)
    return recorded, _answer(s, "POST", "/repos/acme/lib/pulls", {"title": "T", "head": "topic", "base": "main"})


def case_update_pull(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_PullRequests/methods_that_require_a_new_pull/_update_pull_request/"
                               "updates_a_pull_request.json"), "PATCH", "/pulls/3")
    _open_pull(s)
    return recorded, _answer(s, "PATCH", "/repos/acme/lib/pulls/1", {"title": "New"})


def case_list_pulls(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_PullRequests/_pull_requests/lists_all_pull_requests.json"),
                     "GET", "/pulls")
    _open_pull(s)
    return recorded, _answer(s, "GET", "/repos/acme/lib/pulls")


def case_not_merged(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_PullRequests/methods_that_require_a_new_pull/_pull_merged_/"
                               "returns_whether_the_pull_request_has_been_merged.json"), "GET", "/merge", 404)
    _open_pull(s)
    return recorded, _answer(s, "GET", "/repos/acme/lib/pulls/1/merge")


def case_add_labels(s: Sandbox) -> tuple[Recorded, Answer]:
    _open_pull(s)
    return (_pick(_fixture("add-labels-to-issue"), "POST", "/issues/1/labels"),
            _answer(s, "POST", "/repos/acme/lib/issues/1/labels", {"labels": ["Foo", "bAr", "baZ"]}))


def case_create_label(s: Sandbox) -> tuple[Recorded, Answer]:
    return (_pick(_fixture("labels"), "POST", "/labels"),
            _answer(s, "POST", "/repos/acme/lib/labels", {"name": "test-label", "color": "663399"}))


def case_invalid_label(s: Sandbox) -> tuple[Recorded, Answer]:
    return (_pick(_fixture("errors"), "POST", "/labels"),
            _answer(s, "POST", "/repos/acme/lib/labels", {"name": "foo", "color": "invalid"}))


def case_create_status(s: Sandbox) -> tuple[Recorded, Answer]:
    body = {"state": "failure", "target_url": "https://example.com", "description": "d", "context": "example/1"}
    return (_pick(_fixture("create-status"), "POST", "/statuses/0000000000000000000000000000000000000001"),
            _answer(s, "POST", f"/repos/acme/lib/statuses/{_head(s)}", body))


def case_list_statuses(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Statuses/_statuses/lists_commit_statuses.json"), "GET", "")
    head = _head(s)
    call(s, "POST", f"/repos/acme/lib/statuses/{head}", body={"state": "success", "context": "ci"})
    return recorded, _answer(s, "GET", f"/repos/acme/lib/commits/{head}/statuses")


def case_combined_status(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Statuses/_combined_status/gets_a_combined_status.json"), "GET", "")
    head = _head(s)
    call(s, "POST", f"/repos/acme/lib/statuses/{head}", body={"state": "success", "context": "ci"})
    return recorded, _answer(s, "GET", f"/repos/acme/lib/commits/{head}/status")


def case_create_check_run(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Checks/_create_check_run/creates_a_check_run.json"), "POST", "")
    return recorded, _answer(s, "POST", "/repos/acme/lib/check-runs", {"name": "lint", "head_sha": _head(s)})


def case_check_runs_for_ref(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_Checks/_check_runs_for_ref/returns_check_runs_for_a_commit.json"),
                     "GET", "/check-runs")
    head = _head(s)
    call(s, "POST", "/repos/acme/lib/check-runs", body={"name": "lint", "head_sha": head})
    return recorded, _answer(s, "GET", f"/repos/acme/lib/commits/{head}/check-runs")


def case_repo_secrets(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_ActionsSecrets/with_a_repository_with_a_secret/_list_actions_secrets/"
                               "paginates_the_results.json"), "GET", "/actions/secrets")
    return recorded, _answer(s, "GET", "/repos/acme/app/actions/secrets")


def case_org_secrets(s: Sandbox) -> tuple[Recorded, Answer]:
    recorded = _pick(_cassette("Octokit_Client_ActionsSecrets/with_an_org_with_a_secret/_list_org_actions_secrets/"
                               "returns_list_of_two_secrets.json"), "GET", "/actions/secrets")
    return recorded, _answer(s, "GET", "/orgs/acme/actions/secrets")


def case_rate_limit(s: Sandbox) -> tuple[Recorded, Answer]:
    return _pick(_cassette("rate_limit.json"), "GET", "/rate_limit"), _answer(s, "GET", "/rate_limit")


CASES = [value for name, value in sorted(globals().items()) if name.startswith("case_")]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.removeprefix("case_") for c in CASES])
def test_matches_recording(sandbox: Sandbox, case: Case) -> None:
    recorded, (status, body) = case(sandbox)
    assert status == recorded.status
    assert missing_keys(recorded.body, body) == []


def test_error_bodies_match_exactly(sandbox: Sandbox) -> None:
    recorded, (_status, body) = case_invalid_label(sandbox)
    assert body == recorded.body
    recorded, (_status, body) = case_delete_missing_ref(sandbox)
    assert body["message"] == recorded.body["message"]
    recorded, (_status, body) = case_pull_already_exists(sandbox)
    expected = {**recorded.body["errors"][0], "message": "A pull request already exists for acme:topic."}
    assert body["errors"] == [expected]
    recorded, (_status, body) = case_unprotected_branch(sandbox)
    assert body["message"] == recorded.body["message"]


def test_link_header_format_matches_recording(sandbox: Sandbox) -> None:
    recorded = json.loads((FIXTURES / "paginate-issues" / "normalized-fixture.json").read_text())[1]
    link = recorded["headers"]["link"]
    _status, headers, _body = call(sandbox, "GET", "/orgs/acme/repos?per_page=2&page=2")
    normalise = [part.split(";")[1].strip() for part in link.split(", ")]
    assert [part.split(";")[1].strip() for part in headers["link"].split(", ")] == normalise
