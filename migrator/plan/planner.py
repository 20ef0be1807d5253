"""The pure core of planning: one repository's records and findings in, its plan out.

No I/O here. The scan (migrator/plan/scan.py) feeds it and collects the results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from migrator.analysis.context import RuleSettings
from migrator.campaign import classify, selected
from migrator.checker import FileChange, Report, apply_fixes
from migrator.github.types import ActionsPolicy, Protection, RepoRecord, SecretNames, TokenInfo
from migrator.model import Finding, Fix, RepoSnapshot, is_workflow_path
from migrator.permissions import missing
from migrator.plan.app_preflight import with_app_preflight
from migrator.plan.model import Change, Disposition, Found, RepoPlan, Retired, campaign_marker
from migrator.plan.preflight import APP_RULE, AppFacts, Identity, Outcome, Verdict, preflight
from migrator.refnames import BRANCH_PREFIX
from migrator.rules import default_rule_ids
from migrator.serialize import finding_dict

TOKEN_RULE = "token-mismatch"
_TITLES = {
    frozenset({"token-mismatch"}): "ci: release with the repository's PAT instead of GITHUB_TOKEN",
    frozenset({"redundant-docker"}): "ci: remove Docker workflows that duplicate the release pipeline",
    frozenset({"release-app-token"}): "ci: release with a GitHub App installation token",
    frozenset({"token-mismatch", "redundant-docker"}): (
        "ci: release with the PAT and remove duplicate Docker workflows"
    ),
}


@dataclass(frozen=True, kw_only=True)
class PlanInputs:
    plan_id: str
    settings: RuleSettings
    token: TokenInfo
    actions: ActionsPolicy = field(default_factory=ActionsPolicy)  # the org's Actions permissions
    campaign: str | None = None  # None only for callers older than campaigns: the branch is then the plan id's

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + (self.campaign or self.plan_id)

    @property
    def rules_run(self) -> tuple[str, ...]:
        return tuple(self.settings.rules) or default_rule_ids()

    @property
    def marker_name(self) -> str:
        return self.campaign or self.plan_id


def snapshot_of(record: RepoRecord, settings: RuleSettings) -> RepoSnapshot:
    return RepoSnapshot(
        name=record.full_name,
        files=dict(record.files),
        default_branch=record.default_branch or "main",
        pat_secret=settings.pat_secret,
        skipped=dict(record.skipped),
    )


def plan_repo(
    record: RepoRecord,
    report: Report,
    secrets: SecretNames | None,
    inputs: PlanInputs,
    app: AppFacts | None = None,  # release-app-token's facts, when the rule has a fix here
) -> RepoPlan | None:
    """The repo's plan, or None when nothing would change."""
    if record.head_oid is None or record.default_branch is None:
        return None
    texts = {path: f.content.decode("utf-8", "surrogateescape") for path, f in record.files.items()}
    evidence = release_evidence(record, report.findings)
    tiers: dict[Disposition, list[tuple[Fix, tuple[str, ...]]]] = {d: [] for d in Disposition}
    verdict = preflight(record, Identity(kind="pat"))
    for finding in report.findings:
        for fix in finding.fixes:
            disposition, reasons = fix_disposition(fix, secrets, inputs.token, rule=finding.rule)
            if finding.rule == TOKEN_RULE and disposition is Disposition.SAFE and evidence and evidence["released"]:
                disposition, reasons = Disposition.REVIEW, (*reasons, already_releasing(evidence))
            if finding.rule == TOKEN_RULE:
                disposition, reasons = with_verdict(disposition, reasons, verdict)
            if finding.rule == APP_RULE and app is not None:
                disposition, reasons = with_app_preflight(
                    fix, disposition, reasons, record=record, facts=app, policy=inputs.actions, secrets=secrets
                )
            tiers[disposition].append((fix, reasons))
    changes = _changes(record, report.findings, texts, tiers)
    if not changes:
        return None
    title = _TITLES.get(frozenset(r for c in changes for r in c.rules), "ci: repair the release pipeline")
    findings = tuple(finding_dict(f) for f in report.findings)
    found = Found()
    if inputs.campaign is not None:
        wanted = selected(changes, include_review=False)
        found = (
            classify(
                record.campaign,
                campaign=inputs.campaign,
                base_oid=record.head_oid,
                planned=wanted,
                rules=inputs.rules_run,
            )
            or found
        )
    return RepoPlan(
        name=record.full_name,
        base_branch=record.default_branch,
        base_oid=record.head_oid,
        branch=inputs.branch,
        title=title,
        body=pr_body(record.full_name, inputs.plan_id, report.findings, changes, evidence, campaign=inputs.campaign),
        commit_message=_commit_message(title, changes),
        findings=findings,
        changes=changes,
        warnings=protection_warnings(record.default_branch, record.protection, changes),
        evidence=evidence,
        found=found,
        default_enabled=any(c.default_enabled for c in changes),
        enabled=any(c.default_enabled for c in changes),
    )


def retire(record: RepoRecord, inputs: PlanInputs) -> Retired | None:
    """A repository with nothing planned where the campaign has a branch or PR: obsolete, merged, closed or
    touched. None when the campaign has nothing there."""
    if inputs.campaign is None or record.head_oid is None or record.default_branch is None:
        return None
    found = classify(
        record.campaign, campaign=inputs.campaign, base_oid=record.head_oid, planned=None, rules=inputs.rules_run
    )
    if found is None:
        return None
    return Retired(name=record.full_name, base_branch=record.default_branch, branch=inputs.branch, found=found)


def with_verdict(
    disposition: Disposition, reasons: tuple[str, ...], verdict: Verdict
) -> tuple[Disposition, tuple[str, ...]]:
    """A token fix the release identity cannot push past protection or rulesets is blocked; one that works only
    once something changes (or if the PAT's owner may bypass) is review; each says why and the remedy."""
    if verdict.outcome not in (Outcome.BLOCKED, Outcome.CONDITIONAL) or disposition is Disposition.BLOCKED:
        return disposition, reasons
    blocked = verdict.outcome is Outcome.BLOCKED
    obstacles = [o for o in verdict.obstacles if o.outcome is (Outcome.BLOCKED if blocked else Outcome.CONDITIONAL)]
    lead = "the PAT cannot push the release" if blocked else "the PAT alone may not be enough"
    said = tuple(f"{lead}: {o.target}: {o.why}; remedy: {o.remedy}" for o in obstacles)
    return (Disposition.BLOCKED if blocked else Disposition.REVIEW), (*reasons, *said)


def release_evidence(record: RepoRecord, findings: Iterable[Finding]) -> dict[str, Any] | None:
    """The latest run, on the default branch's head, of the workflow a token fix would change; None without one.

    `released` says the run made the latest release: a green run that released nothing proves nothing about
    pushing (semantic-release pushes only when a commit is releasable)."""
    workflows = {f.location.path for f in findings if f.rule == TOKEN_RULE and f.fixes}
    runs = [r for r in record.runs if r.workflow in workflows]
    if not runs:
        return None
    run = max(runs, key=lambda r: r.run_number)
    released = bool(
        run.conclusion == "success" and record.latest_release_at and record.latest_release_at >= run.created_at
    )
    return {
        "workflow": run.workflow,
        "run_number": run.run_number,
        "url": run.url,
        "created_at": run.created_at,
        "status": run.status,
        "conclusion": run.conclusion,
        "failed_job": run.failed_job,
        "released": released,
    }


def describe_run(evidence: Mapping[str, Any]) -> str:
    """`run #65 of main.yml failed at job release on 2025-07-12`: what show and the PR body lead with."""
    day = str(evidence["created_at"])[:10]
    name = str(evidence["workflow"]).rsplit("/", 1)[-1]
    head = f"run #{evidence['run_number']} of {name}"
    if evidence["conclusion"] is None:
        return f"{head} is {evidence['status'].replace('_', ' ')} (started {day})"
    if evidence["conclusion"] == "success":
        outcome = "made the latest release" if evidence["released"] else "released nothing (no releasable commit)"
        return f"{head} succeeded on {day} and {outcome}"
    job = f" at job {evidence['failed_job']}" if evidence["failed_job"] else ""
    verb = {"failure": "failed", "cancelled": "was cancelled", "timed_out": "timed out"}
    return f"{head} {verb.get(evidence['conclusion'], evidence['conclusion'].replace('_', ' '))}{job} on {day}"


def already_releasing(evidence: Mapping[str, Any]) -> str:
    return (
        f"{describe_run(evidence)}: something else already lets the release push (no protection, or a bypass); "
        "check before changing who releases"
    )


SECRET_FLAGS = {APP_RULE: "--app-key-secret or --app-client-id-secret"}


def fix_disposition(
    fix: Fix, secrets: SecretNames | None, token: TokenInfo, *, rule: str = TOKEN_RULE
) -> tuple[Disposition, tuple[str, ...]]:
    """Blocked beats review beats safe; the reasons say what would change the verdict."""
    lack = missing(token, workflows=any(is_workflow_path(p) for p in fix.paths()))
    if lack:
        return Disposition.BLOCKED, (f"{lack}; re-plan with a token that has it",)
    reasons = list(fix.notes)
    review = fix.safety.value == "review"
    if fix.requires_secret:
        present = secrets.has(fix.requires_secret) if secrets is not None else None
        if present is False:
            return Disposition.BLOCKED, (
                f"secret {fix.requires_secret} exists neither in the repository nor in the organisation; "
                f"create it (or name the right one with {SECRET_FLAGS.get(rule, '--pat-secret')}) and re-plan",
            )
        if present is None:
            review = True
            reasons.append(f"could not verify that secret {fix.requires_secret} exists (no permission to list secrets)")
    return (Disposition.REVIEW if review else Disposition.SAFE), tuple(reasons)


def _changes(
    record: RepoRecord,
    findings: Iterable[Finding],
    texts: dict[str, str],
    tiers: dict[Disposition, list[tuple[Fix, tuple[str, ...]]]],
) -> tuple[Change, ...]:
    safe = [fix for fix, _ in tiers[Disposition.SAFE]]
    review = safe + [fix for fix, _ in tiers[Disposition.REVIEW]]
    everything = review + [fix for fix, _ in tiers[Disposition.BLOCKED]]
    by_tier = {
        Disposition.SAFE: _by_path(apply_fixes(texts, safe)[0]),
        Disposition.REVIEW: _by_path(apply_fixes(texts, review)[0]),
        Disposition.BLOCKED: _by_path(apply_fixes(texts, everything)[0]),
    }
    rules_by_path: dict[str, set[str]] = {}
    for finding in findings:
        for fix in finding.fixes:
            for path in fix.paths():
                rules_by_path.setdefault(path, set()).add(finding.rule)
    out = []
    for path in sorted(by_tier[Disposition.BLOCKED]):
        tier = next(t for t in Disposition if path in by_tier[t])
        change = by_tier[tier][path]
        reviewed = by_tier[Disposition.REVIEW].get(path)
        reasons = sorted({r for fix, rs in tiers[tier] if path in fix.paths() for r in rs})
        out.append(
            Change(
                path=path,
                action=change.action,
                blob_before=record.files[path].blob_sha,
                before=texts[path],
                after=change.after,
                after_with_review=reviewed.after
                if tier is Disposition.SAFE and reviewed != change and reviewed
                else None,
                diff=change.diff(),
                disposition=tier,
                reasons=tuple(reasons),
                rules=tuple(sorted(rules_by_path.get(path, ()))),
                default_enabled=tier is Disposition.SAFE,
                enabled=tier is Disposition.SAFE,
            )
        )
    return tuple(out)


def _by_path(changes: list[FileChange]) -> dict[str, FileChange]:
    return {c.path: c for c in changes}


def protection_warnings(branch: str, protection: Protection, changes: Iterable[Change]) -> tuple[str, ...]:
    if not any("token-mismatch" in c.rules for c in changes):
        return ()
    if not protection.readable:
        return (f"could not read the protection of {branch}; check that the PAT may push there",)
    warnings = []
    if protection.enforce_admins:
        warnings.append(
            f"{branch} enforces protection for admins: even an admin's PAT cannot push the release commit "
            "and tag; give the release identity a bypass (a ruleset bypass or a GitHub App) or releases still fail"
        )
    if protection.required_checks:
        warnings.append(f"{branch} requires status checks ({', '.join(protection.required_checks)}) before pushes")
    if protection.required_reviews:
        warnings.append(f"{branch} requires {protection.required_reviews} approving review(s) before pushes")
    return tuple(warnings)


def _commit_message(title: str, changes: Iterable[Change]) -> str:
    lines = [title, ""]
    lines += [f"- {c.action} {c.path} ({', '.join(c.rules)})" for c in changes if c.default_enabled]
    lines += ["", "Planned by migrator; a `ci:` commit, so semantic-release makes no release for it."]
    return "\n".join(lines).rstrip() + "\n"


def pr_body(
    repo: str,
    plan_id: str,
    findings: Iterable[Finding],
    changes: Iterable[Change],
    evidence: Mapping[str, Any] | None = None,
    *,
    campaign: str | None = None,
) -> str:
    changes = list(changes)
    lines = ["This pull request was planned by migrator to repair the release pipeline.", ""]
    if evidence is not None:
        lines += [f"**Evidence:** [{describe_run(evidence)}]({evidence['url']}).", ""]
    lines += ["### What is wrong", ""]
    for finding in findings:
        if finding.fixes:
            lines.append(f"- `{finding.location}` **{finding.rule}**: {finding.message}")
            lines += [f"  - {line}" for line in finding.evidence]
    lines += ["", "### What changes", ""]
    for change in changes:
        state = "" if change.default_enabled else f" — not applied ({change.disposition.value})"
        lines.append(f"- {change.action} `{change.path}`{state}")
        lines += [f"  - {reason}" for reason in change.reasons]
    lines += [
        "",
        "### How to undo",
        "",
        f"Close this pull request, or after merging revert it (or run `migrator rollback --repo {repo}`).",
        "",
        campaign_marker(campaign, plan_id, repo) if campaign else f"<!-- migrator:plan={plan_id} repo={repo} -->",
    ]
    return "\n".join(lines) + "\n"
