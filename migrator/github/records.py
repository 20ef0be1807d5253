"""GraphQL repository nodes into `RepoRecord`s. Pure: blobs GraphQL could not give whole are returned
as `BlobRef`s for the client to fetch over REST."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from migrator.github.types import (
    RELEASE_TAG_REF,
    Allowances,
    BypassEntry,
    CampaignCommit,
    CampaignPull,
    CampaignRead,
    Protection,
    RepoRecord,
    Ruleset,
    RulesetRule,
    RunEvidence,
)
from migrator.model import WORKFLOWS_DIR, RepoFile, git_blob_sha, is_workflow_path

Json = dict[str, Any]
SYMLINK_MODE = 0o120000
# query alias -> repository path of the companion files the rules read
COMPANIONS = {"readme": "README.md", "githubReadme": ".github/README.md", "packageJson": "package.json"}

UNREADABLE_PATHS = {"workflows": WORKFLOWS_DIR, **COMPANIONS}
PROTECTION_FIELD = "defaultBranchRef/branchProtectionRule"

SKIP_SYMLINK = "a symbolic link; not followed"
SKIP_NOT_A_FOLDER = "a symbolic link (or a file), not a folder; not followed"
SKIP_BINARY = "binary"
SKIP_MISMATCH = "content did not match its blob id"


def skip_too_large(size: int, limit: int) -> str:
    return f"too large ({size} bytes; the limit is {limit})"


@dataclass(frozen=True)
class BlobRef:
    """A file whose bytes must be fetched over REST (GraphQL truncated it or re-encoded its text)."""

    path: str
    oid: str
    size: int


@dataclass
class ParsedRepo:
    record: RepoRecord  # files and skipped still lack the `fetch` ones
    fetch: list[BlobRef] = field(default_factory=list)


@dataclass
class _Files:
    max_bytes: int
    files: dict[str, RepoFile] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    fetch: list[BlobRef] = field(default_factory=list)

    def add(self, path: str, blob: Any) -> None:
        if not isinstance(blob, dict) or not isinstance(blob.get("oid"), str):
            return  # absent, or a tree where a file was expected
        oid, size = blob["oid"], int(blob.get("byteSize") or 0)
        text = blob.get("text")
        if blob.get("isBinary"):
            self.skipped[path] = SKIP_BINARY
        elif size > self.max_bytes:
            self.skipped[path] = skip_too_large(size, self.max_bytes)
        elif blob.get("isTruncated") or not isinstance(text, str):
            self.fetch.append(BlobRef(path, oid, size))
        elif git_blob_sha(content := text.encode("utf-8")) != oid:
            # GitHub re-encodes text that is not UTF-8; the REST blob has the real bytes.
            self.fetch.append(BlobRef(path, oid, size))
        else:
            self.files[path] = RepoFile(path, content, oid)


def parse_repository(node: Json, *, max_bytes: int, field_errors: Mapping[str, str] | None = None) -> ParsedRepo:
    """`field_errors`: GraphQL errors on this node's fields, keyed by path below it ("workflows",
    "defaultBranchRef/branchProtectionRule", ...). What they hit is marked unknown, not empty."""
    errors = field_errors or {}
    found = _Files(max_bytes)
    _add_workflows(found, node.get("workflows"))
    for alias, path in COMPANIONS.items():
        found.add(path, node.get(alias))
    for key, message in errors.items():
        alias = key.split("/", 1)[0]
        if alias in UNREADABLE_PATHS:
            found.skipped[UNREADABLE_PATHS[alias]] = f"GitHub could not read it: {message}"
    protection_readable = not any(key.startswith(PROTECTION_FIELD) for key in errors)
    rulesets_readable = not any(key.split("/", 1)[0] == "rulesets" for key in errors)
    ref = node.get("defaultBranchRef") if isinstance(node.get("defaultBranchRef"), dict) else None
    target = (ref or {}).get("target") or {}
    record = RepoRecord(
        full_name=str(node["nameWithOwner"]),
        default_branch=ref.get("name") if ref else None,
        head_oid=target.get("oid") if isinstance(target, dict) else None,
        archived=bool(node.get("isArchived")),
        disabled=bool(node.get("isDisabled")),
        fork=bool(node.get("isFork")),
        empty=bool(node.get("isEmpty")),
        visibility=str(node.get("visibility") or "public").lower(),
        topics=_topics(node.get("repositoryTopics")),
        protection=_protection(ref, readable=protection_readable),
        files=dict(sorted(found.files.items())),
        skipped=dict(sorted(found.skipped.items())),
        runs=_runs(target),
        latest_release_at=_text((node.get("latestRelease") or {}).get("createdAt")),
        rulesets=_rulesets(node.get("rulesets"), ref.get("name") if ref else None) if rulesets_readable else (),
        rulesets_readable=rulesets_readable,
        campaign=_campaign(node),
    )
    return ParsedRepo(record, found.fetch)


def _campaign(node: Json) -> CampaignRead:
    """The campaign's branch head and its PRs (from this repository only: a fork's branch is not ours)."""
    target = (node.get("campaignBranch") or {}).get("target") if isinstance(node.get("campaignBranch"), dict) else None
    head = None
    if isinstance(target, dict) and isinstance(target.get("oid"), str):
        parents = ((target.get("parents") or {}).get("nodes")) or ()
        head = CampaignCommit(
            oid=target["oid"],
            parents=tuple(str(p["oid"]) for p in parents if isinstance(p, dict) and isinstance(p.get("oid"), str)),
            message=str(target.get("message") or ""),
        )
    pulls = []
    full_name = str(node.get("nameWithOwner") or "").lower()
    for pull in ((node.get("campaignPulls") or {}).get("nodes")) or ():
        if not isinstance(pull, dict) or not isinstance(pull.get("number"), int):
            continue
        origin = pull.get("headRepository")
        if isinstance(origin, dict) and str(origin.get("nameWithOwner") or "").lower() != full_name:
            continue
        pulls.append(
            CampaignPull(
                number=int(pull["number"]),
                url=str(pull.get("url") or ""),
                state=str(pull.get("state") or "").lower(),
                head_oid=str(pull.get("headRefOid") or ""),
                base_ref=str(pull.get("baseRefName") or ""),
                mergeable=_text(pull.get("mergeable")),
            )
        )
    return CampaignRead(head=head, pulls=tuple(pulls))


def _rulesets(raw: Any, default_branch: str | None) -> tuple[Ruleset, ...]:
    """The rulesets that apply to the default branch or to release tags."""
    nodes = raw.get("nodes") if isinstance(raw, dict) else None
    found = []
    for node in nodes or ():
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            continue
        ruleset = _ruleset(node)
        wanted = ["refs/heads/" + default_branch] if default_branch else []
        if any(ruleset.applies_to(ref, default_branch) for ref in [*wanted, RELEASE_TAG_REF]):
            found.append(ruleset)
    return tuple(found)


def _ruleset(node: Json) -> Ruleset:
    source = node.get("source") or {}
    conditions = ((node.get("conditions") or {}).get("refName")) or {}
    actors = node.get("bypassActors") or {}
    listed = [a for a in actors.get("nodes") or () if isinstance(a, dict)]
    return Ruleset(
        name=str(node["name"]),
        id=node.get("databaseId") if isinstance(node.get("databaseId"), int) else None,
        target=str(node.get("target") or "").lower(),
        enforcement=str(node.get("enforcement") or "active").lower(),
        source=str(source.get("nameWithOwner") or source.get("login") or ""),
        source_type=str(source.get("__typename") or "Repository"),
        include=tuple(str(p) for p in conditions.get("include") or ()),
        exclude=tuple(str(p) for p in conditions.get("exclude") or ()),
        rules=tuple(_rule(r) for r in ((node.get("rules") or {}).get("nodes") or ()) if isinstance(r, dict)),
        bypass=tuple(_bypass(a) for a in listed),
        bypass_complete=int(actors.get("totalCount") or 0) <= len(listed),
    )


def _rule(node: Json) -> RulesetRule:
    raw = node.get("parameters")
    parameters: Json = raw if isinstance(raw, dict) else {}
    checks = parameters.get("requiredStatusChecks") or ()
    return RulesetRule(
        type=str(node.get("type") or "").lower(),
        required_checks=tuple(str(c.get("context")) for c in checks if isinstance(c, dict) and c.get("context")),
        required_reviews=int(parameters.get("requiredApprovingReviewCount") or 0),
        checks_skip_creation=bool(parameters.get("doNotEnforceOnCreate")),
    )


def _bypass(node: Json) -> BypassEntry:
    raw = node.get("actor")
    actor: Json = raw if isinstance(raw, dict) else {}
    mode = str(node.get("bypassMode") or "ALWAYS").lower()
    if node.get("organizationAdmin"):
        return BypassEntry(kind="OrganizationAdmin", mode=mode)
    if node.get("deployKey"):
        return BypassEntry(kind="DeployKey", mode=mode)
    if node.get("repositoryRoleName"):
        return BypassEntry(kind="RepositoryRole", mode=mode, role=str(node["repositoryRoleName"]).lower())
    if actor.get("__typename") == "App":
        app_id = actor.get("databaseId")
        return BypassEntry(
            kind="Integration",
            mode=mode,
            app_id=app_id if isinstance(app_id, int) else None,
            app_slug=_text(actor.get("slug")),
        )
    if actor.get("__typename") == "Team":
        return BypassEntry(kind="Team", mode=mode, team=_text(actor.get("slug")))
    return BypassEntry(kind="unknown", mode=mode)


def _runs(commit: Any) -> tuple[RunEvidence, ...]:
    """The head commit's check suites that are workflow runs (other apps' suites have none)."""
    suites = ((commit or {}).get("checkSuites") or {}).get("nodes") if isinstance(commit, dict) else None
    found = []
    for suite in suites or ():
        run = (suite or {}).get("workflowRun")
        if not isinstance(run, dict) or not isinstance((run.get("file") or {}).get("path"), str):
            continue
        failed = ((suite.get("checkRuns") or {}).get("nodes") or [{}])[0] or {}
        found.append(
            RunEvidence(
                workflow=str(run["file"]["path"]),
                run_number=int(run.get("runNumber") or 0),
                url=str(run.get("url") or ""),
                created_at=str(run.get("createdAt") or ""),
                status=str(suite.get("status") or "").lower(),
                conclusion=_text(suite.get("conclusion"), lower=True),
                failed_job=_text(failed.get("name")),
            )
        )
    return tuple(sorted(found, key=lambda r: (r.workflow, r.run_number)))


def _text(value: Any, *, lower: bool = False) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.lower() if lower else value


def _add_workflows(found: _Files, tree: Any) -> None:
    if isinstance(tree, dict) and tree.get("__typename") == "Blob":
        found.skipped[WORKFLOWS_DIR] = SKIP_NOT_A_FOLDER
        return
    entries = tree.get("entries") if isinstance(tree, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        path = WORKFLOWS_DIR + str(entry.get("name", ""))
        if entry.get("type") != "blob" or not is_workflow_path(path):
            continue
        if entry.get("mode") == SYMLINK_MODE:
            found.skipped[path] = SKIP_SYMLINK
        else:
            found.add(path, entry.get("object"))


def _topics(raw: Any) -> tuple[str, ...]:
    nodes = raw.get("nodes") if isinstance(raw, dict) else None
    names = [((n or {}).get("topic") or {}).get("name") for n in nodes or ()]
    return tuple(name for name in names if isinstance(name, str))


def _protection(ref: Mapping[str, Any] | None, *, readable: bool) -> Protection:
    if not readable:
        return Protection(readable=False)
    rule = (ref or {}).get("branchProtectionRule")
    if not isinstance(rule, dict):
        return Protection()
    contexts: Sequence[Any] = rule.get("requiredStatusCheckContexts") or ()
    reviews = int(rule.get("requiredApprovingReviewCount") or 0) if rule.get("requiresApprovingReviews") else 0
    return Protection(
        enforce_admins=bool(rule.get("isAdminEnforced")),
        required_checks=tuple(str(c) for c in contexts if c),
        required_reviews=reviews,
        bypass_pull_requests=_allowances(rule.get("bypassPullRequestAllowances")),
        push_allowances=_allowances(rule.get("pushAllowances")) if rule.get("restrictsPushes") else None,
    )


def _allowances(raw: Any) -> Allowances:
    """A BypassPullRequestAllowance or PushAllowance connection's actors (Users, Teams, Apps)."""
    if not isinstance(raw, dict):
        return Allowances()
    actors = [(node or {}).get("actor") or {} for node in raw.get("nodes") or ()]

    def named(typename: str, key: str) -> tuple[str, ...]:
        return tuple(str(a[key]) for a in actors if a.get("__typename") == typename and a.get(key))

    app_ids = tuple(int(a["databaseId"]) for a in actors if a.get("__typename") == "App" and a.get("databaseId"))
    total = raw.get("totalCount")
    return Allowances(
        users=named("User", "login"),
        teams=named("Team", "slug"),
        apps=named("App", "slug"),
        app_ids=app_ids,
        complete=not isinstance(total, int) or total <= len(actors),
    )


def with_fetched(parsed: ParsedRepo, fetched: Mapping[str, bytes | str]) -> RepoRecord:
    """The record with each fetched blob added as a file (bytes) or a skip reason (str)."""
    if not fetched:
        return parsed.record
    files, skipped = dict(parsed.record.files), dict(parsed.record.skipped)
    oids = {ref.path: ref.oid for ref in parsed.fetch}
    for path, outcome in fetched.items():
        if isinstance(outcome, bytes):
            files[path] = RepoFile(path, outcome, oids[path])
        else:
            skipped[path] = outcome
    return replace(parsed.record, files=dict(sorted(files.items())), skipped=dict(sorted(skipped.items())))
