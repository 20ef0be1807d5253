"""redundant-docker: a docker*.yml workflow pushes the image the main release workflow already pushes.

Releases made with GITHUB_TOKEN trigger no workflows, so `on: release` image
builds lie dormant. Once releases are made with a PAT (the token-mismatch
fix) they fire, and several workflows race to push the same tags. The fix
deletes the duplicate (and its README badge); it is `safe` only when the
keeper demonstrably covers everything the duplicate did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from migrator.analysis import tokens
from migrator.analysis.context import RepoContext
from migrator.analysis.images import NAME, OWNER, PUSH_MARKER, REPOSITORY, Publisher, publisher
from migrator.model import DeleteFile, Edit, Finding, Fix, Location, Safety, Severity, TextEdit
from migrator.rules.base import Rule
from migrator.workflow.model import Triggers, Workflow
from migrator.workflow.release import publishes_releases

RULE_ID = "redundant-docker"
_PR_EVENTS = {"pull_request", "pull_request_target"}
_README_NAMES = re.compile(r"(?:^|/)readme(?:\.[a-z]+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    review: tuple[str, ...]  # why deletion needs a human; empty means safe
    lost: tuple[str, ...]  # what deletion gives up even when safe


def check(ctx: RepoContext) -> list[Finding]:
    release_paths = {job.workflow.path for job in tokens.analyse(ctx)}
    candidates = [
        p for p in ctx.workflow_paths() if ctx.matches_any(p, ctx.settings.docker_candidates) and p not in release_paths
    ]
    pat_releases = _releases_will_use_pat(ctx)
    if not candidates and not pat_releases:
        return []
    publishers = [_resolved(ctx, p) for wf in ctx.workflows_matching(PUSH_MARKER) if (p := publisher(wf)).pushes]
    keeper = _keeper(ctx, [p for p in publishers if p.workflow.path not in candidates])
    if keeper is None:
        return _duplicates_without_keeper(ctx, [p for p in publishers if p.workflow.path in candidates])
    findings = []
    for candidate in publishers:
        path = candidate.workflow.path
        if candidate is keeper or not (candidate.images() & keeper.images()):
            continue
        if path in candidates and _races(ctx, candidate, keeper):
            findings.append(_finding(ctx, candidate, keeper, _verdict(ctx, candidate, keeper)))
        elif pat_releases and "release" in candidate.workflow.triggers.names():
            findings.append(_will_fire(ctx, candidate, keeper))
    return findings


def _releases_will_use_pat(ctx: RepoContext) -> bool:
    return any(job.pat is not None and (job.sites or job.release_token) for job in tokens.analyse(ctx))


def _resolved(ctx: RepoContext, found: Publisher) -> Publisher:
    """Substitute the repository's own name for `${{ github.repository }}`, so literal names compare equal."""
    name = ctx.snapshot.name.lower()
    if "/" not in name:
        return found
    owner, repo = name.split("/", 1)
    values = {REPOSITORY: name, OWNER: owner, NAME: repo}

    def fill(image: str) -> str:
        for placeholder, value in values.items():
            image = image.replace(placeholder, value)
        return image

    pushes = tuple(replace(p, images=frozenset(fill(i) for i in p.images)) for p in found.pushes)
    return Publisher(found.workflow, pushes)


def _keeper(ctx: RepoContext, others: list[Publisher]) -> Publisher | None:
    """The main workflow: it holds the release job (or publishes releases, or is named main.yml)."""
    release_paths = {job.workflow.path for job in tokens.analyse(ctx)}
    scripts = ctx.scripts()

    def rank(p: Publisher) -> tuple[int, str]:
        if p.workflow.path in release_paths:
            return (0, p.workflow.path)
        if any(publishes_releases(job, scripts) for job in p.workflow.jobs):
            return (1, p.workflow.path)
        if ctx.matches_any(p.workflow.path, ctx.settings.keepers):
            return (2, p.workflow.path)
        return (9, p.workflow.path)

    ranked = sorted(others, key=rank)
    return ranked[0] if ranked and rank(ranked[0])[0] < 9 else None


def _races(ctx: RepoContext, candidate: Publisher, keeper: Publisher) -> bool:
    """Some automatic trigger of the candidate fires when the keeper pushes (dispatch-only counts too).

    A workflow that rebuilds only on other events (repository_dispatch, schedule) is no duplicate.
    """
    triggers = candidate.workflow.triggers
    events = triggers.names()
    if events <= {"workflow_dispatch"}:
        return True
    keeper_releases = _releases(ctx, keeper.workflow)
    if keeper_releases and ("release" in events or triggers.filters("push", "tags") is not None):
        return True
    if "push" not in events or "push" not in keeper.workflow.triggers.names():
        return False
    branches = triggers.filters("push", "branches")
    keeper_branches = keeper.workflow.triggers.filters("push", "branches")
    default = ctx.snapshot.default_branch
    return (branches is None or default in branches) and (keeper_branches is None or default in keeper_branches)


def _releases(ctx: RepoContext, workflow: Workflow) -> bool:
    scripts = ctx.scripts()
    return any(publishes_releases(job, scripts) for job in workflow.jobs)


def _verdict(ctx: RepoContext, candidate: Publisher, keeper: Publisher) -> Verdict:
    review: list[str] = []
    lost: list[str] = []
    k_name = keeper.workflow.basename
    extra = sorted(candidate.images() - keeper.images())
    if extra:
        review.append(f"it also pushes {', '.join(extra)}, which {k_name} does not")
    if candidate.platforms() != keeper.platforms():
        review.append(
            f"its platforms ({_fmt(candidate.platforms())}) differ from {k_name}'s ({_fmt(keeper.platforms())})"
        )
    review.extend(_trigger_reasons(ctx, candidate, keeper, lost))
    review.extend(_references(ctx, candidate.workflow))
    return Verdict(tuple(review), tuple(lost))


def _trigger_reasons(ctx: RepoContext, candidate: Publisher, keeper: Publisher, lost: list[str]) -> list[str]:
    triggers = candidate.workflow.triggers
    keeper_releases = _releases(ctx, keeper.workflow)
    default = ctx.snapshot.default_branch
    k_name = keeper.workflow.basename
    reasons: list[str] = []
    events = triggers.names()
    if events <= {"workflow_dispatch"}:
        return ["it runs only when dispatched by hand: a manual rebuild tool"]
    for event in sorted(events):
        if event == "workflow_dispatch":
            lost.append("the manual rebuild (workflow_dispatch) it offered")
        elif event == "release" and not keeper_releases:
            reasons.append(f"it builds on releases, which {k_name} does not create")
        elif event == "push":
            reasons.extend(_push_reasons(triggers, keeper, keeper_releases, default, k_name))
        elif event in _PR_EVENTS:
            what = (
                "a build check on pull requests"
                if candidate.always_conditional()
                else "image pushes from pull requests"
            )
            reasons.append(f"it also runs {what}, which deleting it drops")
        elif event == "workflow_call":
            reasons.append("it is a reusable workflow (on: workflow_call); callers would break")
        elif event != "release":
            reasons.append(f"it is also triggered by `{event}`, which {k_name} does not cover")
    return reasons


def _push_reasons(triggers: Triggers, keeper: Publisher, keeper_releases: bool, default: str, k_name: str) -> list[str]:
    branches = triggers.filters("push", "branches")
    tags = triggers.filters("push", "tags")
    ignored = (triggers.filters("push", "branches-ignore") or []) + (triggers.filters("push", "tags-ignore") or [])
    if ignored or (branches is None and tags is None):
        return ["it builds on pushes to any branch"]
    reasons = []
    if tags is not None and not keeper_releases:
        reasons.append(f"it builds on tag pushes, and {k_name} creates no tags")
    if branches:
        keeper_branches = keeper.workflow.triggers.filters("push", "branches")
        covered = "push" in keeper.workflow.triggers.names() and (keeper_branches is None or default in keeper_branches)
        if set(branches) - {default}:
            reasons.append(f"it builds on pushes to {', '.join(sorted(set(branches) - {default}))}")
        elif not covered:
            reasons.append(f"it builds on pushes to {default}, and {k_name} does not")
    return reasons


def _references(ctx: RepoContext, workflow: Workflow) -> list[str]:
    """Other workflows that call this one or wait for it."""
    reasons = []
    local_call = f"./.github/workflows/{workflow.basename}"
    title = workflow.name or ""
    for path in ctx.workflow_paths():
        text = ctx.text(path)
        if path == workflow.path or text is None:
            continue
        if local_call in text:
            reasons.append(f"{path} calls it with `uses: {local_call}`")
        elif "workflow_run" in text and title and re.search(rf"['\"\s\[,]{re.escape(title)}['\"\],\n]", text):
            reasons.append(f"{path} waits for it (workflow_run on {title!r})")
        elif re.search(rf"(?<![\w.-]){re.escape(workflow.basename)}(?![\w.-])", text):
            reasons.append(f"{path} mentions it (it may dispatch it, e.g. `gh workflow run`)")
    return reasons


def _finding(ctx: RepoContext, candidate: Publisher, keeper: Publisher, verdict: Verdict) -> Finding:
    workflow = candidate.workflow
    images = ", ".join(sorted(candidate.images() & keeper.images()))
    message = (
        f"{workflow.basename} pushes {images}, which {keeper.workflow.basename} already pushes; "
        "once releases use a PAT both fire and race to push the same tags"
    )
    if verdict.review:
        message += " (needs review, see notes)"
    edits, mentions = _deletion(ctx, workflow)
    notes = tuple(f"deleting it loses {item}" for item in verdict.lost) + tuple(mentions)
    fix = Fix(
        description=f"delete {workflow.path} (duplicate of {keeper.workflow.basename}'s Docker job)",
        safety=Safety.REVIEW if verdict.review else Safety.SAFE,
        edits=edits,
        notes=(*verdict.review, *notes),
    )
    return Finding(RULE_ID, Severity.ERROR, Location(workflow.path, 1, 1), message, (fix,), notes)


def _will_fire(ctx: RepoContext, candidate: Publisher, keeper: Publisher) -> Finding:
    workflow = candidate.workflow
    message = (
        f"{workflow.basename} runs on `release` and pushes the image {keeper.workflow.basename} pushes; "
        "it has been dormant while releases used GITHUB_TOKEN and starts firing once they use a PAT"
    )
    edits, mentions = _deletion(ctx, workflow)
    fix = Fix(
        f"delete {workflow.path}",
        Safety.REVIEW,
        edits,
        ("its name is not one of the duplicate-workflow names (--docker-glob)", *mentions),
    )
    return Finding(RULE_ID, Severity.ERROR, Location(workflow.path, 1, 1), message, (fix,), tuple(mentions))


def _duplicates_without_keeper(ctx: RepoContext, candidates: list[Publisher]) -> list[Finding]:
    """No main workflow to keep: still report candidates that push the same image on the same events."""
    findings = []
    for candidate in candidates:
        twins = [
            other.workflow.basename
            for other in candidates
            if other is not candidate
            and candidate.images() & other.images()
            and _overlap(candidate.workflow, other.workflow)
        ]
        if twins:
            broken = sorted(p for p in ctx.problems if p != candidate.workflow.path)
            hint = f"; {', '.join(broken)} could not be parsed, so no keeper was found" if broken else ""
            findings.append(
                Finding(
                    RULE_ID,
                    Severity.WARNING,
                    Location(candidate.workflow.path, 1, 1),
                    f"{candidate.workflow.basename} and {', '.join(sorted(twins))} push the same image on the same "
                    f"events; keep one{hint}",
                )
            )
    return findings


def _overlap(a: Workflow, b: Workflow) -> bool:
    shared = (a.triggers.names() & b.triggers.names()) - {"workflow_dispatch", *_PR_EVENTS}
    return bool(shared)


def _deletion(ctx: RepoContext, workflow: Workflow) -> tuple[tuple[Edit, ...], list[str]]:
    edits: list[Edit] = [DeleteFile(workflow.path)]
    mentions: list[str] = []
    for path in sorted(ctx.snapshot.files):
        if path == workflow.path or path.startswith(".github/workflows/"):
            continue
        text = ctx.text(path)
        if text is None:
            if path in ctx.problems:
                mentions.append(f"{path} could not be read ({ctx.problems[path]}); check it for badges by hand")
            continue
        if workflow.basename not in text and not (workflow.name and _encoded(workflow.name) in text):
            continue
        badge_edits = _badge_edits(path, text, workflow) if _README_NAMES.search(path) else []
        edits.extend(badge_edits)
        badge_lines = {text.count("\n", 0, e.start) + 1 for e in badge_edits}
        lines = [n for n, line in enumerate(text.splitlines(), 1) if workflow.basename in line and n not in badge_lines]
        if lines:
            where = ", ".join(str(n) for n in lines[:5]) + (" …" if len(lines) > 5 else "")
            mentions.append(f"{path} mentions {workflow.basename} (line {where}); update it by hand")
    return tuple(edits), mentions


_BADGE = r"\[!\[[^\]]*\]\([^)]*{name}[^)]*\)\]\([^)]*\)|!\[[^\]]*\]\([^)]*{name}[^)]*\)"


def _encoded(name: str) -> str:
    return name.replace(" ", "%20")


def _badge_edits(path: str, text: str, workflow: Workflow) -> list[TextEdit]:
    """Remove badges that point at the workflow (by file, or by name for old-style badge URLs).

    One separating space goes along; a line left blank is dropped (see TextEdit).
    """
    names = [re.escape(f"workflows/{workflow.basename}")]
    if workflow.name:
        names.append(re.escape(f"workflows/{_encoded(workflow.name)}/badge.svg"))
    pattern = re.compile("|".join(_BADGE.format(name=name) for name in names))
    edits = []
    for match in pattern.finditer(text):
        start, end = match.start(), match.end()
        if text[end : end + 1] == " ":
            end += 1
        elif text[start - 1 : start] == " ":
            start -= 1
        edits.append(TextEdit(path, start, end, "", drop_blank_line=True))
    return edits


def _fmt(platforms: frozenset[str] | None) -> str:
    return "unknown" if platforms is None else ", ".join(sorted(platforms))


RULE = Rule(RULE_ID, "docker*.yml workflows must not duplicate the main workflow's image push", check)
