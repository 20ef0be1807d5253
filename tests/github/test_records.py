"""GraphQL nodes into records, including shapes the sandbox cannot produce (disabled repos, re-encoded text)."""

from __future__ import annotations

from typing import Any

from migrator.github.paging import PageSize
from migrator.github.records import SKIP_SYMLINK, BlobRef, parse_repository, with_fetched
from migrator.github.types import Protection
from migrator.model import git_blob_sha


def _blob(text: str | None, *, binary: bool = False, truncated: bool = False, oid: str | None = None) -> dict[str, Any]:
    data = (text or "").encode()
    return {"oid": oid or git_blob_sha(data), "byteSize": len(data), "isBinary": binary, "isTruncated": truncated,
            "text": text}


def _node(**overrides: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "nameWithOwner": "acme/x", "isArchived": False, "isDisabled": True, "isFork": False, "isEmpty": False,
        "visibility": "INTERNAL", "repositoryTopics": {"nodes": [{"topic": {"name": "t"}}]},
        "defaultBranchRef": {"name": "trunk", "target": {"oid": "a" * 40}, "branchProtectionRule": {
            "isAdminEnforced": False, "requiredStatusCheckContexts": ["build"], "requiresApprovingReviews": False,
            "requiredApprovingReviewCount": 3}},
        "workflows": {"entries": []}, "readme": None, "githubReadme": None, "packageJson": None,
    }
    node.update(overrides)
    return node


def _entry(name: str, blob: dict[str, Any] | None, *, mode: int = 0o100644, kind: str = "blob") -> dict[str, Any]:
    return {"name": name, "type": kind, "mode": mode, "oid": (blob or {}).get("oid", "0" * 40), "object": blob}


def test_metadata() -> None:
    record = parse_repository(_node(), max_bytes=1000).record
    assert (record.full_name, record.default_branch, record.head_oid) == ("acme/x", "trunk", "a" * 40)
    assert record.disabled and record.visibility == "internal" and record.topics == ("t",)
    assert record.protection == Protection(required_checks=("build",), required_reviews=0)


def test_fields_graphql_could_not_read_are_unknown_not_empty() -> None:
    errors = {"defaultBranchRef/branchProtectionRule": "Resource not accessible by integration",
              "workflows": "timeout", "readme": "timeout", "isArchived": "odd"}
    record = parse_repository(_node(), max_bytes=1000, field_errors=errors).record
    assert record.protection == Protection(readable=False)
    assert record.skipped == {".github/workflows/": "GitHub could not read it: timeout",
                              "README.md": "GitHub could not read it: timeout"}


def test_only_yaml_blobs_directly_in_the_folder() -> None:
    entries = [
        _entry("ci.yml", _blob("on: push\n")),
        _entry("docs", None, kind="tree"),
        _entry("vendored.yml", None, kind="commit"),
        _entry("readme.md", _blob("# x\n")),
        _entry("link.yaml", _blob("ci.yml"), mode=0o120000),
        _entry("exec.yml", _blob("on: push\n"), mode=0o100755),
    ]
    parsed = parse_repository(_node(workflows={"entries": entries}), max_bytes=1000)
    assert list(parsed.record.files) == [".github/workflows/ci.yml", ".github/workflows/exec.yml"]
    assert parsed.record.skipped == {".github/workflows/link.yaml": SKIP_SYMLINK}
    assert parsed.fetch == []


def test_re_encoded_text_is_fetched_as_bytes() -> None:
    latin1 = "caf\xe9: 1\n".encode("latin-1")
    blob = _blob("café: 1\n", oid=git_blob_sha(latin1))  # GitHub sent the text transcoded to UTF-8
    parsed = parse_repository(_node(readme=blob), max_bytes=1000)
    assert parsed.fetch == [BlobRef("README.md", git_blob_sha(latin1), blob["byteSize"])]
    record = with_fetched(parsed, {"README.md": latin1})
    assert record.files["README.md"].content == latin1


def test_fetch_failures_become_skips() -> None:
    parsed = parse_repository(_node(packageJson=_blob("{}", truncated=True)), max_bytes=1000)
    record = with_fetched(parsed, {"package.json": "content did not match its blob id"})
    assert record.skipped == {"package.json": "content did not match its blob id"} and not record.files


def test_a_tree_where_a_file_was_expected_is_ignored() -> None:
    assert not parse_repository(_node(readme={}), max_bytes=1000).record.files


def test_page_size_halves_and_grows_back() -> None:
    page = PageSize(8, 8, grow_after=2)
    page.shrink()
    page.shrink()
    assert page.size == 2
    page.succeeded()
    assert page.size == 2
    page.succeeded()
    assert page.size == 4
    for _ in range(10):
        page.succeeded()
    assert page.size == 8
    for _ in range(5):
        page.shrink()
    assert page.size == 1 and not page.can_shrink


def test_the_campaigns_branch_and_prs_are_read_and_a_forks_pr_is_not_ours() -> None:
    from migrator.github.types import CampaignCommit, CampaignPull, CampaignRead

    def pr(number: int, state: str, origin: str) -> dict[str, Any]:
        return {"number": number, "url": f"u/{number}", "state": state, "mergeable": "CONFLICTING",
                "headRefOid": "c" * 40, "baseRefName": "trunk", "headRepository": {"nameWithOwner": origin}}

    node = _node(
        campaignBranch={"target": {"oid": "c" * 40, "message": "m", "parents": {"nodes": [{"oid": "a" * 40}]}}},
        campaignPulls={"nodes": [pr(3, "OPEN", "someone/x"), pr(2, "CLOSED", "acme/x")]},
    )
    read = parse_repository(node, max_bytes=1000).record.campaign
    assert read == CampaignRead(
        CampaignCommit("c" * 40, ("a" * 40,), "m"),
        (CampaignPull(2, "u/2", "closed", "c" * 40, "trunk", "CONFLICTING"),),
    )
    assert parse_repository(_node(campaignBranch=None), max_bytes=1000).record.campaign == CampaignRead()
