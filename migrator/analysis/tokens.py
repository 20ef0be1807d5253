"""Which token each release job pushes with, and which PAT the repository means to use.

Shared by the `token-mismatch` rule (which fixes the sites) and the
`redundant-docker` rule (which must know whether releases will start
triggering `on: release` workflows).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from enum import StrEnum

from ruamel.yaml.nodes import Node, ScalarNode

from migrator.analysis.context import RepoContext
from migrator.model import Location
from migrator.workflow import document as d
from migrator.workflow import expressions as ex
from migrator.workflow.edit import scalar_span
from migrator.workflow.model import Job, Step, Workflow
from migrator.workflow.release import release_steps

TOKEN_ENV_NAMES = ("GH_TOKEN", "GITHUB_TOKEN")  # semantic-release reads GH_TOKEN first
TOKEN_INPUTS = ("github_token", "github-token", "gh_token", "gh-token")
CHECKOUT = "actions/checkout"
# An env var with such a name holding a secret declares a GitHub token: GH_PAT, RELEASE_PAT, GH_RELEASE_TOKEN.
_ALIAS_NAME = re.compile(r"^(?:GH|GITHUB)_\w*(?:TOKEN|PAT)$|(?:^|_)PAT(?:_|$)", re.IGNORECASE)
# Secrets that are certainly not GitHub tokens, whatever they are plugged into.
_NOT_GITHUB = re.compile(
    r"(?:^|_)(?:NPM|PYPI|TWINE|DOCKER|DOCKERHUB|QUAY|CODECOV|SONAR|SLACK|AWS|AZURE|GCP|GOOGLE|NETLIFY"
    r"|VERCEL|HEROKU|CARGO|CRATES|NUGET|GPG|SSH|SNYK|SENTRY|DISCORD|TELEGRAM)(?:_|$)",
    re.IGNORECASE,
)
_ACCESS_TOKEN_URL = re.compile(r"x-access-token:(\$\{\{.*?\}\}|\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?)")
EVIDENCE_MARKER = re.compile(r"secrets", re.IGNORECASE)


class Tier(StrEnum):
    """Where a PAT candidate was found, strongest first."""

    SAME_JOB = "the release job itself"
    SAME_FILE = "the same workflow"
    SAME_REPO = "another workflow of the repository"
    POLICY = "--pat-secret / org policy"


@dataclass(frozen=True, order=True)
class Evidence:
    secret: str
    location: Location
    kind: str
    purpose: str = ""  # an unrelated use of the PAT (a Homebrew tap, dependabot, auto-merge), when it is one


@dataclass(frozen=True)
class PatChoice:
    secret: str
    tier: Tier
    evidence: tuple[Evidence, ...]
    rivals: tuple[str, ...]  # other candidates in the same tier: the choice needs review

    def describe(self) -> str:
        where = self.evidence[0] if self.evidence else None
        if where is None:
            return f"secrets.{self.secret} (from {self.tier.value})"
        return f"secrets.{self.secret} ({where.kind} at {where.location})"


class SiteKind(StrEnum):
    CHECKOUT_TOKEN = "checkout token"
    REMOTE_URL = "x-access-token URL in a run script"
    RELEASE_ENV = "release step env"
    RELEASE_INPUT = "release step input"
    JOB_ENV = "job env"
    WORKFLOW_ENV = "workflow env"
    PUSH_ENV = "env feeding an x-access-token URL"
    IMPLICIT_CHECKOUT = "checkout persisting GITHUB_TOKEN (no token:)"


@dataclass(frozen=True, eq=False)
class Site:
    kind: SiteKind
    workflow: Workflow
    node: Node  # the scalar to edit, or the checkout step to extend
    location: Location
    shared: bool  # the node sits under a YAML anchor: editing it changes its aliases too
    env_name: str = ""  # GITHUB_TOKEN or GH_TOKEN, for env sites


@dataclass(frozen=True, eq=False)
class ReleaseJob:
    workflow: Workflow
    job: Job
    steps: tuple[Step, ...]
    sites: tuple[Site, ...]
    release_token: str | None  # the PAT secret the release step already uses, if any
    pat: PatChoice | None
    app_token: str | None = None  # the step that mints a GitHub App token in the job, if any
    pushes_otherwise: str | None = None  # why git pushes do not use GITHUB_TOKEN (ssh key, PAT remote...)
    evidence: tuple[str, ...] = ()  # `path:line: what` lines: which step releases and how it pushes


def analyse(ctx: RepoContext) -> list[ReleaseJob]:
    return ctx.memo("release-jobs", lambda: _analyse(ctx))


def _analyse(ctx: RepoContext) -> list[ReleaseJob]:
    scripts = ctx.scripts()
    found: list[tuple[Workflow, Job, list[Step]]] = []
    for workflow in ctx.workflows_matching(ctx.release_marker()):
        for job in workflow.jobs:
            steps = release_steps(job, scripts)
            if steps:
                found.append((workflow, job, steps))
    if not found:
        return []
    evidence = collect_evidence(ctx)
    return [_release_job(ctx, workflow, job, steps, evidence) for workflow, job, steps in found]


def _release_job(
    ctx: RepoContext, workflow: Workflow, job: Job, steps: list[Step], evidence: list[Evidence]
) -> ReleaseJob:
    release_token = _release_token(workflow, job, steps)
    # A node may be a site twice (the job's GH_TOKEN feeds both an x-access-token URL and the release):
    # whether the release reads a fixed token is decided before duplicates go, or a second run would differ.
    explicit = _explicit_sites(workflow, job, steps)
    in_job = _job_pats(workflow, job)
    pat = choose_pat(ctx, workflow, in_job, evidence)
    sites = _unique(explicit)
    pushes_with_pat = release_token is not None or (
        pat is not None
        and any(
            s.kind in {SiteKind.RELEASE_ENV, SiteKind.RELEASE_INPUT, SiteKind.JOB_ENV, SiteKind.WORKFLOW_ENV}
            for s in explicit
        )
    )
    if pushes_with_pat:
        sites.extend(_implicit_checkout_sites(workflow, job, before=max(step.index for step in steps)))
    before = max(step.index for step in steps)
    app = _app_token_step(workflow, job, before)
    otherwise = _pushes_otherwise(workflow, job, before)
    if app is not None or otherwise is not None:
        sites = [s for s in sites if s.kind in {SiteKind.REMOTE_URL, SiteKind.PUSH_ENV}] if app is None else []
    elif _git_token_is_pat(workflow, job, steps):
        # semantic-release takes GIT_CREDENTIALS, then GH_TOKEN, then GITHUB_TOKEN: a PAT in GH_TOKEN wins.
        sites = [s for s in sites if s.env_name != "GITHUB_TOKEN"]
    chain = _release_evidence(workflow, steps)
    return ReleaseJob(workflow, job, tuple(steps), tuple(sites), release_token, pat, app, otherwise, chain)


_APP_TOKEN_ACTIONS = frozenset(
    {"actions/create-github-app-token", "tibdex/github-app-token", "getsentry/action-github-app-token",
     "peter-murray/workflow-application-token-action", "navikt/github-app-token-generator",
     "jnwng/github-app-installation-token-action", "cloudposse/github-action-github-app-token"}
)  # fmt: skip


def _app_token_step(workflow: Workflow, job: Job, before: int) -> str | None:
    """`path:line` of a step minting a GitHub App installation token before the release, if any."""
    for step in job.steps[:before]:
        if step.action() in _APP_TOKEN_ACTIONS:
            where = workflow.location(step.node)
            return f"{where.path}:{where.line}: step `{step.label()}` mints a GitHub App token ({step.action()})"
    return None


_SSH_OR_PAT_REMOTE = re.compile(
    r"git\s+remote\s+(?:set-url|add)\b[^\n]*(?:git@github\.com:|ssh://|x-access-token:\$\{\{\s*secrets\.(?!github_token\b)\w+)"
    r"|insteadOf[^\n]*(?:git@github\.com:|x-access-token:\$\{\{\s*secrets\.(?!github_token\b))",
    re.IGNORECASE,
)


def _pushes_otherwise(workflow: Workflow, job: Job, before: int) -> str | None:
    """Why git pushes of the release do not use GITHUB_TOKEN: an SSH deploy key, or no persisted
    credentials and a remote that carries SSH or a PAT."""
    persisted_off = None
    for step in job.steps[:before]:
        where = workflow.location(step.node)
        if step.action() == CHECKOUT and _same_repo_checkout(step):
            if step.input("ssh-key") is not None:
                return f"{where.path}:{where.line}: checkout has an SSH deploy key (`ssh-key:`): git pushes use SSH"
            persist = (step.input_str("persist-credentials") or "true").strip().strip("'\"").lower()
            persisted_off = where if persist == "false" else None
        elif persisted_off is not None and step.run is not None and _SSH_OR_PAT_REMOTE.search(step.run.value):
            return (
                f"{where.path}:{where.line}: with persist-credentials: false at line {persisted_off.line}, "
                "the remote is set to SSH or a PAT, so git pushes do not use GITHUB_TOKEN"
            )
    return None


def _git_token_is_pat(workflow: Workflow, job: Job, steps: list[Step]) -> bool:
    """GIT_CREDENTIALS or GH_TOKEN holds a PAT for every release step (semantic-release prefers them)."""

    def pat_in(step: Step) -> bool:
        for name in ("GIT_CREDENTIALS", "GH_TOKEN"):
            for env in (step.env, job.env, workflow.env):
                value = d.get(env, name)
                if value is not None:
                    if _is_pat(ex.single_secret(d.scalar(value) or "")):
                        return True
                    break
        return False

    return all(pat_in(step) for step in steps)


def _release_evidence(workflow: Workflow, steps: list[Step]) -> tuple[str, ...]:
    out = []
    for step in steps:
        where = workflow.location(step.node)
        how = step.uses if step.uses else (step.run.value.strip().splitlines() or [""])[0] if step.run else ""
        out.append(f"{where.path}:{where.line}: step `{step.label()}` releases (`{how.strip()[:80]}`)")
    return tuple(out)


# --- evidence of a PAT ---------------------------------------------------------------


def collect_evidence(ctx: RepoContext) -> list[Evidence]:
    def compute() -> list[Evidence]:
        found: set[Evidence] = set()
        for workflow in ctx.workflows_matching(EVIDENCE_MARKER):
            found.update(_evidence_in(workflow))
        return sorted(found)

    return ctx.memo("pat-evidence", compute)


def _evidence_in(workflow: Workflow) -> list[Evidence]:
    out = _env_evidence(workflow, workflow.env)
    for job in workflow.jobs:
        out.extend(_evidence_in_job(workflow, job))
    return out


def _is_pat(secret: str | None) -> bool:
    return secret is not None and ex.is_pat_name(secret) and not _NOT_GITHUB.search(secret)


def _env_evidence(workflow: Workflow, env: Node | None) -> list[Evidence]:
    out = []
    for key, value in d.items(env):
        secret = ex.single_secret(d.scalar(value) or "")
        name = key.value
        if _is_pat(secret) and (name.upper() in TOKEN_ENV_NAMES or _ALIAS_NAME.search(name)):
            assert secret is not None
            out.append(Evidence(secret, workflow.location(value), f"env {name}"))
    return out


def _input_evidence(workflow: Workflow, step: Step) -> list[Evidence]:
    out = []
    keys = [*TOKEN_INPUTS, *TOKEN_ENV_NAMES]
    if step.action() == CHECKOUT and _same_repo_checkout(step):
        keys.append("token")
    for key in keys:
        node = step.input(key)
        secret = ex.single_secret(d.scalar(node) or "")
        if node is not None and _is_pat(secret):
            assert secret is not None
            out.append(Evidence(secret, workflow.location(node), f"{step.action() or 'step'} input {key}"))
    return out


def _url_evidence(workflow: Workflow, run: ScalarNode) -> list[Evidence]:
    out = []
    raw_start, raw_end = scalar_span(workflow.doc.text, run)
    raw = workflow.doc.text[raw_start:raw_end]
    for source, match in live_access_token_sources(raw, run.value):
        secret = ex.single_secret(match.group(1))
        if _is_pat(secret):
            assert secret is not None
            line, column = workflow.doc.line_col(raw_start + source.start())
            out.append(Evidence(secret, Location(workflow.path, line, column), "x-access-token URL"))
    return out


def live_access_token_urls(script: str) -> list[re.Match[str]]:
    """x-access-token URLs in a shell script, except on commented-out lines (they never run)."""
    return [m for m in _ACCESS_TOKEN_URL.finditer(script) if not _commented(script, m.start())]


def live_access_token_sources(raw: str, script: str) -> list[tuple[re.Match[str], re.Match[str]]]:
    """The live x-access-token URLs of a script, each as (its match in the YAML source raw, in the script).

    Whether a line is commented out is judged on the script: a quoted scalar writes its line breaks
    as `\\n`, so a source line is not a script line. The k-th URL of the source is the k-th of the script;
    should the two disagree (a URL folded over lines), the source is read as the script.
    """
    in_source = list(_ACCESS_TOKEN_URL.finditer(raw))
    in_script = list(_ACCESS_TOKEN_URL.finditer(script))
    if len(in_source) != len(in_script):
        return [(m, m) for m in live_access_token_urls(raw)]
    return [(s, m) for s, m in zip(in_source, in_script, strict=True) if not _commented(script, m.start())]


def _commented(script: str, index: int) -> bool:
    line_start = script.rfind("\n", 0, index) + 1
    return script[line_start:index].lstrip().startswith("#")


def _same_repo_checkout(step: Step) -> bool:
    repository = step.input_str("repository")
    return repository is None or repository.replace(" ", "") in {"${{github.repository}}", ""}


# --- choosing the PAT ------------------------------------------------------------------


def _job_pats(workflow: Workflow, job: Job) -> list[Evidence]:
    """PATs the release job already uses (workflow-level env included): a half-fixed job names its PAT itself."""
    return [*_env_evidence(workflow, workflow.env), *_evidence_in_job(workflow, job)]


def _evidence_in_job(workflow: Workflow, job: Job) -> list[Evidence]:
    out = list(_env_evidence(workflow, job.env))
    for step in job.steps:
        out.extend(_env_evidence(workflow, step.env))
        out.extend(_input_evidence(workflow, step))
        if step.run is not None:
            out.extend(_url_evidence(workflow, step.run))
    purpose = _unrelated_purpose(job)
    return [replace(e, purpose=purpose) for e in out] if purpose else out


_UNRELATED_USES = re.compile(
    r"homebrew|\btap\b|dependabot|auto-?merge|gh\s+pr\s+merge|winget|scoop|repository-dispatch|repository_dispatch"
    r"|create-pull-request|label|stale|project",
    re.IGNORECASE,
)


def _unrelated_purpose(job: Job) -> str:
    """What a job that is not about releasing this repository does with a token, if it says so."""
    if release_steps(job, None):
        return ""
    text = " ".join([job.job_id, *(f"{s.uses or ''} {s.name or ''} {s.run.value if s.run else ''}" for s in job.steps)])
    found = _UNRELATED_USES.search(text)
    return f"{found.group(0).lower()} job `{job.job_id}`" if found else ""


def choose_pat(
    ctx: RepoContext, workflow: Workflow, in_job: list[Evidence], evidence: list[Evidence]
) -> PatChoice | None:
    same_file = [e for e in evidence if e.location.path == workflow.path]
    tiers = [(Tier.SAME_JOB, in_job), (Tier.SAME_FILE, same_file), (Tier.SAME_REPO, evidence)]
    for tier, candidates in tiers:
        if candidates:
            return _pick(tier, candidates)
    if ctx.pat_secret:
        return PatChoice(ctx.pat_secret, Tier.POLICY, (), ())
    return None


def _pick(tier: Tier, candidates: list[Evidence]) -> PatChoice:
    counts = Counter(e.secret for e in candidates)
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    chosen = ranked[0]
    support = tuple(sorted(e for e in candidates if e.secret == chosen))
    return PatChoice(chosen, tier, support, tuple(ranked[1:]))


# --- the release token and the sites to fix ---------------------------------------------


def _release_token(workflow: Workflow, job: Job, steps: list[Step]) -> str | None:
    """The PAT a release step already pushes with (env or input), if any."""
    for step in steps:
        for env in (step.env, job.env, workflow.env):
            for name in TOKEN_ENV_NAMES:
                secret = ex.single_secret(d.scalar(d.get(env, name)) or "")
                if _is_pat(secret):
                    return secret
        for key in TOKEN_INPUTS:
            secret = ex.single_secret(step.input_str(key) or "")
            if _is_pat(secret):
                return secret
    return None


def _explicit_sites(workflow: Workflow, job: Job, steps: list[Step]) -> list[Site]:
    sites: list[Site] = []
    ancestors: list[Node] = [job.node]
    for step in job.steps:
        if step.action() == CHECKOUT and _same_repo_checkout(step):
            token = step.input("token")
            if _is_github_token_scalar(token):
                assert token is not None
                sites.append(_site(SiteKind.CHECKOUT_TOKEN, workflow, token, [*ancestors, step.node, step.with_]))
        if step.run is not None:
            sites.extend(_url_sites(workflow, job, step, [*ancestors, step.node]))
    for step in steps:
        for name in TOKEN_ENV_NAMES:
            value = d.get(step.env, name)
            if _is_github_token_scalar(value):
                assert value is not None
                sites.append(_site(SiteKind.RELEASE_ENV, workflow, value, [*ancestors, step.node, step.env], name))
        for key in TOKEN_INPUTS:
            value = step.input(key)
            if _is_github_token_scalar(value):
                assert value is not None
                sites.append(_site(SiteKind.RELEASE_INPUT, workflow, value, [*ancestors, step.node, step.with_]))
    sites.extend(_inherited_env_sites(workflow, job, steps))
    return sites


def _inherited_env_sites(workflow: Workflow, job: Job, steps: list[Step]) -> list[Site]:
    """GITHUB_TOKEN/GH_TOKEN set on the job or workflow and not overridden by a release step."""
    sites = []
    for name in TOKEN_ENV_NAMES:
        if all(d.get(step.env, name) is not None for step in steps):
            continue
        job_value = d.get(job.env, name)
        if job_value is not None:
            if _is_github_token_scalar(job_value):
                sites.append(_site(SiteKind.JOB_ENV, workflow, job_value, [job.node, job.env], name))
            continue
        workflow_value = d.get(workflow.env, name)
        if _is_github_token_scalar(workflow_value):
            assert workflow_value is not None
            sites.append(_site(SiteKind.WORKFLOW_ENV, workflow, workflow_value, [workflow.env], name))
    return sites


def _url_sites(workflow: Workflow, job: Job, step: Step, ancestors: list[Node | None]) -> list[Site]:
    assert step.run is not None
    sites = []
    for match in live_access_token_urls(step.run.value):
        if ex.is_github_token(match.group(1)):
            sites.append(_site(SiteKind.REMOTE_URL, workflow, step.run, [*ancestors, step.run]))
        elif match.group(2):
            value = _resolve_env(workflow, job, step, match.group(2))
            if value is not None and _is_github_token_scalar(value[0]):
                sites.append(_site(SiteKind.PUSH_ENV, workflow, value[0], [*ancestors, *value[1]]))
    return sites


def _resolve_env(workflow: Workflow, job: Job, step: Step, name: str) -> tuple[Node, list[Node | None]] | None:
    for env, owners in (
        (step.env, [step.node, step.env]),
        (job.env, [job.node, job.env]),
        (workflow.env, [workflow.env]),
    ):
        value = d.get(env, name)
        if value is not None:
            return value, owners
    return None


def _implicit_checkout_sites(workflow: Workflow, job: Job, *, before: int) -> list[Site]:
    """Checkouts that run before the release and leave GITHUB_TOKEN in git's config."""
    sites = []
    for step in job.steps[:before]:
        if step.action() != CHECKOUT or not _same_repo_checkout(step) or step.input("token") is not None:
            continue
        persist = (step.input_str("persist-credentials") or "true").strip().strip("'\"").lower()
        if persist != "false":
            sites.append(_site(SiteKind.IMPLICIT_CHECKOUT, workflow, step.node, [job.node, step.node]))
    return sites


def _is_github_token_scalar(node: Node | None) -> bool:
    return isinstance(node, ScalarNode) and ex.is_github_token(node.value)


def _site(kind: SiteKind, workflow: Workflow, node: Node, owners: list[Node | None], env_name: str = "") -> Site:
    shared = any(getattr(owner, "anchor", None) for owner in owners if owner is not None)
    return Site(kind, workflow, node, workflow.location(node), shared, env_name)


def _unique(sites: list[Site]) -> list[Site]:
    seen: set[int] = set()
    out = []
    for site in sites:
        key = id(site.node)
        if key not in seen:
            seen.add(key)
            out.append(site)
    return out
