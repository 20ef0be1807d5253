"""The plan: a versioned, reviewable JSON value that `apply` executes exactly.

The digest covers everything except the `enabled` switches. Reviewers may turn
repositories and changes off (or turn `review` changes on) by editing those
switches; the edit stays visible because every item also records the
`default_enabled` the planner chose, which the digest does cover. Any other
edit breaks the digest, and `apply` refuses the plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from migrator.refnames import BRANCH_PREFIX
from migrator.workflow.edit import unified_diff

FORMAT_VERSION = 1


class CampaignState(StrEnum):
    """What the campaign already did in a repository, as `plan` read it (see migrator/campaign.py)."""

    NEW = "new"  # no branch or PR yet
    UP_TO_DATE = "up-to-date"  # the PR already carries exactly the planned bytes
    UPDATE = "update"  # the base moved under a planned file, or the fix changed
    OBSOLETE = "obsolete"  # no change is needed any more: fixed by hand, or the rule no longer applies
    TOUCHED = "touched"  # someone else pushed to our branch
    MERGED = "merged"  # the PR is merged
    CLOSED = "closed"  # a person closed the PR


@dataclass(frozen=True, kw_only=True)
class Found:
    """The campaign's branch and PR in one repository when the plan was made, and the state they are in."""

    state: CampaignState = CampaignState.NEW
    why: str = ""
    pr_number: int | None = None
    pr_url: str | None = None
    branch_head: str | None = None  # the oid our branch pointed at (apply refuses to rewrite one that moved)
    base_moved: bool = False  # the default branch moved since our commit (in unplanned files only, when up-to-date)


class Disposition(StrEnum):
    SAFE = "safe"  # applied by default
    REVIEW = "review"  # kept, applied only when enabled (or with --include-review)
    BLOCKED = "blocked"  # never applied; the reason says what would unblock it


@dataclass(frozen=True, kw_only=True)
class Change:
    path: str
    action: str  # "modify" | "delete"
    blob_before: str  # the file's git blob oid when planned: apply refuses a repo where it changed
    before: str  # full text before, so rollback can restore it
    after: str | None  # full text after; None when the file is deleted
    diff: str
    disposition: Disposition
    reasons: tuple[str, ...]  # why review/blocked; what is lost
    rules: tuple[str, ...]
    # For a safe change whose file review fixes would change further: the text with those too.
    after_with_review: str | None = None
    default_enabled: bool = True
    enabled: bool = True

    def edited(self) -> bool:
        return self.enabled != self.default_enabled

    def review_diff(self) -> str:
        """What `--include-review` writes on top of `after`; shown to reviewers, since it is never stored."""
        if self.after_with_review is None:
            return ""
        return unified_diff(self.path, self.after, self.after_with_review)


@dataclass(frozen=True, kw_only=True)
class RepoPlan:
    name: str  # "org/repo"
    base_branch: str
    base_oid: str
    branch: str
    title: str
    body: str
    commit_message: str
    findings: tuple[dict[str, Any], ...]
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()  # protection, scopes: what may still stop the release
    evidence: Mapping[str, Any] | None = None  # the release workflow's latest run on the default branch
    found: Found = field(default_factory=Found)  # what the campaign already has here
    default_enabled: bool = True
    enabled: bool = True

    def edited(self) -> bool:
        return self.enabled != self.default_enabled or any(c.edited() for c in self.changes)


@dataclass(frozen=True, kw_only=True)
class Retired:
    """A repository where the campaign has a branch or PR but no change is planned any more."""

    name: str
    base_branch: str
    branch: str
    found: Found


@dataclass(frozen=True, kw_only=True)
class Plan:
    org: str
    api_url: str
    created_at: str  # ISO 8601 UTC
    plan_id: str
    tool_version: str
    rules: Mapping[str, Any]  # rule ids -> summary, plus the settings they ran with
    selection: Mapping[str, Any]  # which repos were considered and why others were skipped
    token: Mapping[str, Any]  # what the planning token could do (scopes, workflow push)
    repos: tuple[RepoPlan, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (repo, why) for repos left out by selection
    notices: tuple[tuple[str, str], ...] = ()  # (repo, what): findings with no change (unreadable files, notes)
    usage: Mapping[str, int] = field(default_factory=dict)
    # The campaign this plan belongs to (None in plans written before campaigns: their branch is the plan id's).
    campaign: str | None = None
    retired: tuple[Retired, ...] = ()  # repositories of the campaign that need no change now
    format_version: int = FORMAT_VERSION

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + (self.campaign or self.plan_id)

    @property
    def campaign_name(self) -> str:
        """The campaign, or for a plan older than campaigns the plan id (a campaign of one plan)."""
        return self.campaign or self.plan_id

    def blocked_reasons(self) -> tuple[str, ...] | None:
        """When every change of the plan is blocked (it can do nothing), why; else None."""
        changes = [c for r in self.repos for c in r.changes]
        if not changes or any(c.disposition is not Disposition.BLOCKED for c in changes):
            return None
        return tuple(sorted({reason for c in changes for reason in c.reasons}))

    def marker(self, repo: str) -> str:
        """A hidden line in PR bodies naming the campaign and plan, so PRs can be found and adopted."""
        if self.campaign is None:
            return f"<!-- migrator:plan={self.plan_id} repo={repo} -->"
        return campaign_marker(self.campaign, self.plan_id, repo)

    def marks(self, body: str, repo: str) -> bool:
        """Whether a PR body carries this campaign's marker for `repo` (whichever plan of it opened the PR)."""
        if self.campaign is None:
            return self.marker(repo) in body
        return marks(body, self.campaign, repo)

    def state_of(self, repo: str) -> Found | None:
        for planned in self.repos:
            if planned.name == repo:
                return planned.found
        for retired in self.retired:
            if retired.name == repo:
                return retired.found
        return None


def campaign_marker(campaign: str, plan_id: str, repo: str) -> str:
    return f"<!-- migrator:campaign={campaign} plan={plan_id} repo={repo} -->"


def marks(body: str, campaign: str, repo: str) -> bool:
    prefix, suffix = f"<!-- migrator:campaign={campaign} plan=", f" repo={repo} -->"
    return any(line.startswith(prefix) and line.endswith(suffix) for line in body.splitlines())


# --- JSON ----------------------------------------------------------------------------------------


def to_dict(plan: Plan) -> dict[str, Any]:
    body = _body(plan)
    body["digest"] = digest_of(body)
    return body


def _body(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": plan.format_version,
        "tool_version": plan.tool_version,
        "plan_id": plan.plan_id,
        "org": plan.org,
        "api_url": plan.api_url,
        "created_at": plan.created_at,
        "rules": dict(plan.rules),
        "selection": dict(plan.selection),
        "token": dict(plan.token),
        "usage": dict(plan.usage),
        "skipped": [{"repo": name, "reason": why} for name, why in plan.skipped],
        "notices": [{"repo": name, "message": what} for name, what in plan.notices],
        "repos": [_repo_dict(repo) for repo in plan.repos],
        **({"campaign": plan.campaign} if plan.campaign is not None else {}),
        **({"retired": [_retired_dict(r) for r in plan.retired]} if plan.campaign is not None else {}),
    }


def _found_dict(found: Found) -> dict[str, Any]:
    return {
        "state": found.state.value,
        "why": found.why,
        "pr_number": found.pr_number,
        "pr_url": found.pr_url,
        "branch_head": found.branch_head,
        "base_moved": found.base_moved,
    }


def _found_from(data: Mapping[str, Any] | None) -> Found:
    if data is None:
        return Found()
    return Found(
        state=CampaignState(data["state"]),
        why=data.get("why", ""),
        pr_number=data.get("pr_number"),
        pr_url=data.get("pr_url"),
        branch_head=data.get("branch_head"),
        base_moved=bool(data.get("base_moved")),
    )


def _retired_dict(retired: Retired) -> dict[str, Any]:
    return {
        "name": retired.name,
        "base_branch": retired.base_branch,
        "branch": retired.branch,
        "found": _found_dict(retired.found),
    }


def _repo_dict(repo: RepoPlan) -> dict[str, Any]:
    return {
        "name": repo.name,
        "enabled": repo.enabled,
        "default_enabled": repo.default_enabled,
        "base_branch": repo.base_branch,
        "base_oid": repo.base_oid,
        "branch": repo.branch,
        "title": repo.title,
        "body": repo.body,
        "commit_message": repo.commit_message,
        "warnings": list(repo.warnings),
        **({"evidence": dict(repo.evidence)} if repo.evidence is not None else {}),
        **({"found": _found_dict(repo.found)} if repo.found != Found() else {}),
        "findings": list(repo.findings),
        "changes": [_change_dict(c) for c in repo.changes],
    }


def _change_dict(change: Change) -> dict[str, Any]:
    return {
        "path": change.path,
        "action": change.action,
        "enabled": change.enabled,
        "default_enabled": change.default_enabled,
        "disposition": change.disposition.value,
        "reasons": list(change.reasons),
        "rules": list(change.rules),
        "blob_before": change.blob_before,
        "before": change.before,
        "after": change.after,
        "after_with_review": change.after_with_review,
        "diff": change.diff,
    }


def digest_of(body: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the plan, leaving out the digest and the `enabled` switches.

    Iterative, so no nesting depth can exhaust the stack: the text is what
    `json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes, a piece at a time."""
    digest = hashlib.sha256()
    for piece in _canonical_pieces(body):
        digest.update(piece.encode("utf-8"))
    return "sha256:" + digest.hexdigest()


_SWITCHES = frozenset({"enabled", "digest"})


@dataclass(frozen=True)
class _Raw:
    """Text written as it is (punctuation, an encoded key) on the digest's work stack."""

    text: str


def _canonical_pieces(value: Any) -> Iterator[str]:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            yield item.text
        elif isinstance(item, Mapping):
            pieces: list[Any] = [_Raw("{")]
            for index, key in enumerate(sorted(k for k in item if k not in _SWITCHES)):
                if index:
                    pieces.append(_Raw(","))
                pieces += [_Raw(json.dumps(key, ensure_ascii=False) + ":"), item[key]]
            pieces.append(_Raw("}"))
            stack.extend(reversed(pieces))
        elif isinstance(item, list | tuple):
            pieces = [_Raw("[")]
            for index, element in enumerate(item):
                if index:
                    pieces.append(_Raw(","))
                pieces.append(element)
            pieces.append(_Raw("]"))
            stack.extend(reversed(pieces))
        else:
            yield json.dumps(item, ensure_ascii=False)


def from_dict(data: Mapping[str, Any]) -> Plan:
    """Build a Plan from JSON that already passed schema validation and the digest check."""
    return Plan(
        org=data["org"],
        api_url=data["api_url"],
        created_at=data["created_at"],
        plan_id=data["plan_id"],
        tool_version=data["tool_version"],
        rules=data["rules"],
        selection=data["selection"],
        token=data["token"],
        usage=data.get("usage", {}),
        skipped=tuple((s["repo"], s["reason"]) for s in data.get("skipped", [])),
        notices=tuple((n["repo"], n["message"]) for n in data.get("notices", [])),
        repos=tuple(_repo_from(r) for r in data["repos"]),
        campaign=data.get("campaign"),
        retired=tuple(
            Retired(name=r["name"], base_branch=r["base_branch"], branch=r["branch"], found=_found_from(r["found"]))
            for r in data.get("retired", ())
        ),
        format_version=data["format_version"],
    )


def _repo_from(data: Mapping[str, Any]) -> RepoPlan:
    return RepoPlan(
        name=data["name"],
        base_branch=data["base_branch"],
        base_oid=data["base_oid"],
        branch=data["branch"],
        title=data["title"],
        body=data["body"],
        commit_message=data["commit_message"],
        findings=tuple(data["findings"]),
        changes=tuple(_change_from(c) for c in data["changes"]),
        warnings=tuple(data.get("warnings", ())),
        evidence=data.get("evidence"),
        found=_found_from(data.get("found")),
        default_enabled=data["default_enabled"],
        enabled=data["enabled"],
    )


def _change_from(data: Mapping[str, Any]) -> Change:
    return Change(
        path=data["path"],
        action=data["action"],
        blob_before=data["blob_before"],
        before=data["before"],
        after=data["after"],
        after_with_review=data.get("after_with_review"),
        diff=data["diff"],
        disposition=Disposition(data["disposition"]),
        reasons=tuple(data["reasons"]),
        rules=tuple(data["rules"]),
        default_enabled=data["default_enabled"],
        enabled=data["enabled"],
    )
