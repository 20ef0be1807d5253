"""`parse_facts` on a GitHub-shaped answer: the merge commit and later pushes, runs from check suites, releases
after the merge only, a bot's null author, image pushes inferred from job names."""

from __future__ import annotations

from typing import Any

from migrator.github.verify import VerifyTarget, parse_facts

MAIN = ".github/workflows/main.yml"


def suite(run_id: int, path: str, event: str, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": "COMPLETED", "conclusion": "SUCCESS",
            "workflowRun": {"databaseId": run_id, "url": f"https://github.com/acme/app/actions/runs/{run_id}",
                            "event": event, "createdAt": f"2026-12-02T11:0{run_id}:00Z", "file": {"path": path}},
            "checkRuns": {"nodes": jobs}}


JOB = {"name": "docker", "status": "COMPLETED", "conclusion": "SUCCESS", "title": None, "summary": None}
MERGE = {"oid": "m1", "committedDate": "2026-12-02T11:00:00Z",
         "checkSuites": {"nodes": [suite(1, MAIN, "push", [JOB]),
                                   suite(2, ".github/workflows/docker.yml", "release", [dict(JOB, name="build")])]}}
NODE = {
    "pull": {"url": "https://github.com/acme/app/pull/7", "state": "MERGED", "mergedAt": "2026-12-02T11:00:00Z",
             "mergeCommit": MERGE},
    "defaultBranchRef": {"name": "main", "branchProtectionRule": {"isAdminEnforced": True},
                         "target": {"history": {"nodes": [{"oid": "m2", "committedDate": "2026-12-02T12:00:00Z",
                                                           "checkSuites": {"nodes": []}}, MERGE,
                                                          {"oid": "m0", "committedDate": "2026-12-01T00:00:00Z"}]}}},
    "releases": {"nodes": [
        {"tagName": "v1.4.2", "url": "https://github.com/acme/app/releases/tag/v1.4.2",
         "createdAt": "2026-12-02T11:01:00Z", "author": None, "tagCommit": MERGE},
        {"tagName": "v1.4.1", "url": "u", "createdAt": "2026-11-01T00:00:00Z", "author": {"login": "x"},
         "tagCommit": {"oid": "m0"}},
    ]},
    "tags": {"nodes": [{"name": "v1.4.2", "target": {"oid": "m1"}}, {"name": "v1.4.1", "target": {"oid": "m0"}}]},
}


def test_a_github_answer_becomes_facts() -> None:
    facts = parse_facts(VerifyTarget("acme/app", 7, (MAIN,)), NODE)
    assert (facts.pr_state, facts.merge_commit, facts.commits, facts.admin_enforced) == ("merged", "m1",
                                                                                        ("m1", "m2"), True)
    assert [(r.id, r.workflow, r.event, r.conclusion) for r in facts.runs] == [
        (1, MAIN, "push", "success"), (2, ".github/workflows/docker.yml", "release", "success")]
    assert [(r.tag, r.author) for r in facts.releases] == [("v1.4.2", None)]  # the older release is not ours
    assert facts.tags == ("v1.4.2",)
    assert {(p.reference, p.run_id, p.inferred) for p in facts.images} == {
        ("ghcr.io/acme/app:1.4.2", 1, True), ("ghcr.io/acme/app:1.4.2", 2, True)}


def test_a_repository_github_does_not_show_is_unknown() -> None:
    assert parse_facts(VerifyTarget("acme/gone", 1), None).pr_state == "unknown"


def test_a_query_of_25_repositories_costs_at_most_40_points() -> None:
    """GitHub's cost: connections asked for, over 100; 1,000 repositories take 40 queries of ~31 points."""
    from graphql import parse

    from migrator.github import queries
    from migrator.github.verify import VERIFY_BATCH
    from migrator.sandbox.graphql import query_cost

    parsed = parse(queries.verify_repositories(VERIFY_BATCH))
    cost = query_cost(parsed, parsed.definitions[0], {})  # type: ignore[arg-type]
    assert cost.points <= 40 and cost.nodes < 500_000


def test_the_sent_query_with_the_workflow_files_is_valid_and_costs_the_same() -> None:
    from graphql import parse

    from migrator.github import queries
    from migrator.github.verify import VERIFY_BATCH, verify_query
    from migrator.sandbox.graphql import query_cost, validate_document

    for size in (1, 3, VERIFY_BATCH):
        assert validate_document(verify_query(size)) == []
    ours, theirs = parse(verify_query(VERIFY_BATCH)), parse(queries.verify_repositories(VERIFY_BATCH))
    cost = query_cost(ours, ours.definitions[0], {})  # type: ignore[arg-type]
    assert cost.points == query_cost(theirs, theirs.definitions[0], {}).points  # type: ignore[arg-type]


def test_workflow_files_and_package_versions_are_parsed() -> None:
    from migrator.github.verify import _package_version, _workflow_files

    tree = {"entries": [
        {"name": "release.yml", "type": "blob", "object": {"isTruncated": False, "text": "on: push\n"}},
        {"name": "big.yml", "type": "blob", "object": {"isTruncated": True, "text": "on:"}},
        {"name": "notes.md", "type": "blob", "object": {"isTruncated": False, "text": "x"}},
        {"name": "nested", "type": "tree", "object": {}},
    ]}
    (only,) = _workflow_files(tree) or ()
    assert (only.path, only.text) == (".github/workflows/release.yml", "on: push\n")
    assert _workflow_files(None) == ()
    version = _package_version({"name": "sha256:ab", "created_at": "2026-12-02T11:00:00Z",
                                "metadata": {"package_type": "container", "container": {"tags": ["1.0.0", "latest"]}}})
    assert (version.digest, version.tags) == ("sha256:ab", ("1.0.0", "latest"))
    assert version.created_at == "2026-12-02T11:00:00Z"
