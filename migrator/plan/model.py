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
    default_enabled: bool = True
    enabled: bool = True

    def edited(self) -> bool:
        return self.enabled != self.default_enabled or any(c.edited() for c in self.changes)


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
    format_version: int = FORMAT_VERSION

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.plan_id

    def blocked_reasons(self) -> tuple[str, ...] | None:
        """When every change of the plan is blocked (it can do nothing), why; else None."""
        changes = [c for r in self.repos for c in r.changes]
        if not changes or any(c.disposition is not Disposition.BLOCKED for c in changes):
            return None
        return tuple(sorted({reason for c in changes for reason in c.reasons}))

    def marker(self, repo: str) -> str:
        """A hidden line in PR bodies naming the plan, so PRs can be found and adopted."""
        return f"<!-- migrator:plan={self.plan_id} repo={repo} -->"


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
