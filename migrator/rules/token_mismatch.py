"""token-mismatch: a release job pushes with GITHUB_TOKEN although the repository has a PAT for it.

GITHUB_TOKEN cannot push past branch protection, so semantic-release fails to
push its version commit and tag. Each site is fixed by swapping only the
identifier inside the expression (or, for a checkout that silently persists
GITHUB_TOKEN, by adding a `token:` input).
"""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode, ScalarNode

from migrator.analysis.context import RepoContext
from migrator.analysis.events import Event, fires
from migrator.analysis.tokens import PatChoice, ReleaseJob, Site, SiteKind, Tier, analyse, live_access_token_sources
from migrator.model import Finding, Fix, Location, Safety, Severity, TextEdit
from migrator.rules.base import Rule
from migrator.workflow import expressions as ex
from migrator.workflow.edit import expression_style, insert_entry, insert_nested_entry, scalar_span

RULE_ID = "token-mismatch"


def check(ctx: RepoContext) -> list[Finding]:
    findings: list[Finding] = []
    # Jobs that share a site (an aliased job, a workflow-level env) get one finding naming every job.
    shared: dict[tuple[Location, tuple[TextEdit, ...]], tuple[PatChoice, Site, list[ReleaseJob]]] = {}
    for job in analyse(ctx):
        if job.pat is None:
            findings.extend(_no_pat_note(job))
            continue
        if job.app_token or job.pushes_otherwise:
            findings.append(_guard_note(job))
        for site in job.sites:
            edits = _edits(job, job.pat, site)
            if edits is not None:
                key = (_location(job, site, edits), tuple(edits))
                shared.setdefault(key, (job.pat, site, []))[2].append(job)
    default = ctx.snapshot.default_branch
    findings.extend(_finding(jobs, pat, site, *key, default=default) for key, (pat, site, jobs) in shared.items())
    return findings


def _guard_note(job: ReleaseJob) -> Finding:
    why = job.app_token or job.pushes_otherwise or ""
    first = job.steps[0]
    what = "mints a GitHub App token" if job.app_token else "pushes another way"
    return Finding(
        RULE_ID,
        Severity.NOTE,
        job.workflow.location(first.node),
        f"release job `{job.job.job_id}` {what}, so its git pushes do not depend on GITHUB_TOKEN: "
        f"nothing to change ({why.split(': ', 1)[-1]})",
        evidence=(why, *job.evidence),
    )


def _finding(
    jobs: list[ReleaseJob],
    pat: PatChoice,
    site: Site,
    where: Location,
    edits: tuple[TextEdit, ...],
    *,
    default: str,
) -> Finding:
    reasons = _review_reasons(pat, site) + _branch_reasons(jobs[0], default)
    names = ", ".join(f"`{job.job.job_id}`" for job in jobs)
    one = len(jobs) == 1
    subject = f"release job {names}" if one else f"release jobs {names}" + (" (one YAML anchor)" if site.shared else "")
    what = (
        f"{'persists' if one else 'persist'} GITHUB_TOKEN for git pushes (no `token:`)"
        if site.kind is SiteKind.IMPLICIT_CHECKOUT
        else f"{'uses' if one else 'use'} GITHUB_TOKEN ({site.kind.value})"
    )
    message = (
        f"{subject} {what}, which cannot push past branch protection; the repository's release PAT is {pat.describe()}"
    )
    fix = Fix(
        description=f"use secrets.{pat.secret} for the {site.kind.value} of {subject}",
        safety=Safety.REVIEW if reasons else Safety.SAFE,
        edits=edits,
        notes=tuple(reasons),
        requires_secret=pat.secret,
    )
    return Finding(RULE_ID, Severity.ERROR, where, message, (fix,), evidence=_evidence(jobs[0], pat, site))


def _evidence(job: ReleaseJob, pat: PatChoice, site: Site) -> tuple[str, ...]:
    """Where the PAT is seen, which step releases, and how it pushes."""
    seen = (
        [f"{e.location.path}:{e.location.line}: secrets.{e.secret} is seen ({e.kind})" for e in pat.evidence[:2]]
        if pat.evidence
        else [f"secrets.{pat.secret} comes from {pat.tier.value}"]
    )
    how = f"{site.location.path}:{site.location.line}: it pushes with GITHUB_TOKEN ({site.kind.value})"
    return (*seen, *job.evidence, how)


def _branch_reasons(job: ReleaseJob, default: str) -> list[str]:
    """A release that runs only on pushes to other branches: their protection is not the default branch's."""
    triggers = job.workflow.triggers
    if "push" not in triggers.names() or fires(triggers, Event("push", "branch", default)):
        return []
    branches = ", ".join(triggers.filters("push", "branches") or []) or "other branches"
    return [f"the release runs on pushes to {branches}, not to the default branch {default}"]


def _review_reasons(pat: PatChoice, site: Site) -> list[str]:
    reasons = []
    if pat.rivals:
        names = ", ".join(f"secrets.{name}" for name in pat.rivals)
        reasons.append(f"several PATs are candidates ({names} too); secrets.{pat.secret} is used most")
    if site.shared:
        reasons.append("the value sits under a YAML anchor, so its aliases change too")
    if site.kind is SiteKind.WORKFLOW_ENV:
        reasons.append("the value is set for the whole workflow, so every job gets the PAT")
    if pat.tier in {Tier.SAME_FILE, Tier.SAME_REPO} and pat.evidence and all(e.purpose for e in pat.evidence):
        e = pat.evidence[0]
        reasons.append(
            f"secrets.{pat.secret} is seen only in an unrelated use ({e.purpose} at {e.location}); "
            "make sure it may push to this repository"
        )
    return reasons


def _edits(job: ReleaseJob, pat: PatChoice, site: Site) -> list[TextEdit] | None:
    doc = job.workflow.doc
    replacement = f"secrets.{pat.secret}"
    if site.kind is SiteKind.IMPLICIT_CHECKOUT:
        edit = _token_input(job, pat, site)
        return [edit] if edit is not None else None
    node = site.node
    assert isinstance(node, ScalarNode)
    start, end = scalar_span(doc.text, node)
    raw = doc.text[start:end]
    quote = node.style if node.style in {"'", '"'} else None
    if site.kind is SiteKind.REMOTE_URL:
        spans = [
            (source.start(1) + span.start, source.start(1) + span.end)
            for source, _ in live_access_token_sources(raw, node.value)
            for span in ex.github_token_refs(source.group(1), quote)
        ]
    else:
        spans = [(span.start, span.end) for span in ex.github_token_refs(raw, quote)]
    if not spans:
        return None
    return [TextEdit(doc.path, start + a, start + b, replacement) for a, b in spans]


def _token_input(job: ReleaseJob, pat: PatChoice, site: Site) -> TextEdit | None:
    doc = job.workflow.doc
    value = expression_style(doc.text) % f"secrets.{pat.secret}"
    step = next(s for s in job.job.steps if s.node is site.node)
    if isinstance(step.with_, MappingNode):
        return insert_entry(doc, step.with_, "token", value)
    if step.with_ is None:
        return insert_nested_entry(doc, step.node, after_key="uses", key="with", child_key="token", value=value)
    return None


def _location(job: ReleaseJob, site: Site, edits: list[TextEdit]) -> Location:
    if site.kind is SiteKind.REMOTE_URL:
        line, column = job.workflow.doc.line_col(edits[0].start)
        return Location(job.workflow.path, line, column)
    return site.location


def _no_pat_note(job: ReleaseJob) -> list[Finding]:
    if not job.sites:
        return []
    first = min(job.sites, key=lambda s: s.location)
    return [
        Finding(
            RULE_ID,
            Severity.NOTE,
            first.location,
            f"release job `{job.job.job_id}` pushes with GITHUB_TOKEN and no workflow shows a release PAT; "
            "if the default branch is protected the release will fail (name one with --pat-secret)",
        )
    ]


RULE = Rule(RULE_ID, "release jobs must push with the repository's PAT, not GITHUB_TOKEN", check)
