"""redundant-docker: two publishers push the same image and tag on the same event (or release chain).

A publisher is any job that pushes an image, whatever its file is called (analysis/publishers.py).
Releases made with GITHUB_TOKEN trigger no workflows, so `on: release` and tag-push image builds lie
dormant; once releases use a PAT (the token-mismatch fix) they fire, and race the release
workflow's own Docker job for the same tags. Channels on disjoint triggers (edge on main, semver on
tags) never race and are left alone.

The fix deletes a duplicate workflow (and its README badge) when all of it is the duplicate, or
removes a duplicate job (always `review`). It is `safe` only when the keeper demonstrably pushes
everything the duplicate pushed, on the same events, and nothing else depends on the duplicate.
A publisher that only a person or a clock starts is at most a note.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from migrator.analysis import conditions, publishers, tokens
from migrator.analysis.context import RepoContext
from migrator.analysis.events import PR_EVENTS, Event, fires
from migrator.analysis.publishers import Analysis, PublisherJob, Race, image_of
from migrator.model import DeleteFile, Edit, Finding, Fix, Location, Safety, Severity, TextEdit
from migrator.rules.base import Rule
from migrator.workflow import document as d
from migrator.workflow.edit import remove_job
from migrator.workflow.model import Workflow
from migrator.workflow.release import publishes_releases

RULE_ID = "redundant-docker"
_README_NAMES = re.compile(r"(?:^|/)readme(?:\.[a-z]+)?$", re.IGNORECASE)
_OTHER_TRIGGERS = {
    "schedule": "a schedule",
    "repository_dispatch": "repository_dispatch",
    "workflow_run": "workflow_run",
}


@dataclass(frozen=True)
class Verdict:
    review: tuple[str, ...]  # why the fix needs a human; empty means safe
    lost: tuple[str, ...]  # what the fix gives up even when safe


def check(ctx: RepoContext) -> list[Finding]:
    analysis = publishers.analyse(ctx)
    if len(analysis.jobs) + len(analysis.remote) < 2:
        return []
    pair_races = _pair_races(analysis)
    findings: list[Finding] = []
    flagged: set[str] = set()
    for component in _components(pair_races):
        findings.extend(_component_findings(ctx, analysis, component, pair_races, flagged))
    findings.extend(_second_publishers(ctx, analysis, pair_races, flagged))
    findings.extend(_manual_notes(ctx, analysis, flagged))
    findings.extend(_remote_notes(ctx, analysis, flagged))
    return findings


# --- races between jobs, grouped by workflow ------------------------------------------------

PairKey = tuple[tuple[str, str], tuple[str, str]]


def _pair_races(analysis: Analysis) -> dict[PairKey, list[Race]]:
    found: dict[PairKey, list[Race]] = {}
    for a, b in itertools.combinations(analysis.jobs, 2):
        if a.key == b.key or _calls(a, b) or _calls(b, a):
            continue
        found_races = publishers.races(analysis, a, b)
        if found_races:
            found[(a.key, b.key)] = found_races
    return found


def _calls(a: PublisherJob, b: PublisherJob) -> bool:
    """a publishes through b's workflow (a local reusable call): one publisher, not two."""
    return a.source is b.workflow or (a.source is b.source and a.source is not a.workflow)


def _components(pair_races: dict[PairKey, list[Race]]) -> list[list[str]]:
    """Workflow paths linked by races, each component sorted."""
    parent: dict[str, str] = {}

    def root(path: str) -> str:
        while parent.setdefault(path, path) != path:
            path = parent[path]
        return path

    for (a, _), (b, _) in ((k[0], k[1]) for k in pair_races):
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for path in sorted(parent):
        groups[root(path)].append(path)
    return sorted(groups.values())


def _rank(ctx: RepoContext, analysis: Analysis, path: str) -> tuple[int, int, str]:
    """Which workflow to keep: the release workflow, then one that creates releases on a branch push,
    then a configured keeper name, then the one that pushes the most; the path breaks ties."""
    workflow = ctx.workflow(path)
    assert workflow is not None
    coverage = -_coverage(analysis, [j for j in analysis.jobs if j.workflow.path == path])
    if any(r.workflow.path == path for r in tokens.analyse(ctx)):
        return (0, coverage, path)
    if _creates_releases_on_branch_push(ctx, workflow):
        return (1, coverage, path)
    if ctx.matches_any(path, ctx.settings.keepers):
        return (2, coverage, path)
    return (3, coverage, path)


def _creates_releases_on_branch_push(ctx: RepoContext, workflow: Workflow) -> bool:
    scripts = ctx.scripts()
    event = Event("push", "branch", ctx.snapshot.default_branch)
    if not fires(workflow.triggers, event):
        return False
    context = event.context(ctx.snapshot.default_branch)
    return any(
        publishes_releases(job, scripts) and conditions.evaluate(d.scalar(d.get(job.node, "if")), context) is not False
        for job in workflow.jobs
    )


def _coverage(analysis: Analysis, jobs: Iterable[PublisherJob]) -> int:
    pushed: set[tuple[Event, str]] = set()
    for job in jobs:
        for event in analysis.automatic_events(job):
            refs = analysis.refs(job, event)
            if refs is not None:
                pushed.update((event, ref) for ref in refs.known)
    return len(pushed)


def _component_findings(
    ctx: RepoContext,
    analysis: Analysis,
    component: list[str],
    pair_races: dict[PairKey, list[Race]],
    flagged: set[str],
) -> list[Finding]:
    ranked = sorted(component, key=lambda p: _rank(ctx, analysis, p))
    keeper = ranked[0]
    findings = []
    if len(component) == 1:
        return _inner_duplicates(ctx, analysis, keeper, pair_races, flagged)
    for path in ranked[1:]:
        if not ctx.matches_any(path, ctx.settings.docker_candidates):
            continue
        against = next((k for k in ranked if k != path and _between(pair_races, path, k)), keeper)
        findings.append(_duplicate(ctx, analysis, path, against, _between(pair_races, path, against)))
        flagged.add(path)
    if _rank(ctx, analysis, keeper)[0] == 3 and ctx.matches_any(keeper, ctx.settings.docker_candidates):
        findings.append(_peer_keeper(ctx, keeper, ranked[1:], pair_races))
        flagged.add(keeper)
    return findings


def _between(pair_races: dict[PairKey, list[Race]], path: str, other: str) -> list[Race]:
    """Races between jobs of `path` and jobs of `other`, each oriented so that `a` is in `path`."""
    out = []
    for (a, b), found in pair_races.items():
        if a[0] == path and b[0] == other:
            out.extend(found)
        elif b[0] == path and a[0] == other:
            out.extend(Race(r.b, r.a, r.event_b, r.event_a, r.ref, r.certain, r.cause) for r in found)
    return sorted(out, key=publishers.race_order)


def _duplicate(ctx: RepoContext, analysis: Analysis, path: str, keeper_path: str, found: list[Race]) -> Finding:
    workflow = ctx.workflow(path)
    keeper = ctx.workflow(keeper_path)
    assert workflow is not None and keeper is not None
    first = found[0]
    dup_jobs = sorted({r.a.job.job_id for r in found})
    whole = {job.job_id for job in workflow.jobs} <= set(dup_jobs)
    verdict = _verdict(ctx, analysis, workflow, keeper, found, whole=whole)
    dormant = _dormant(ctx, first)
    what = f"job `{dup_jobs[0]}` of {workflow.basename}" if not whole else workflow.basename
    message = (
        f"{what} pushes {first.ref} on {first.event_a.describe()}, as {keeper.basename} job "
        f"`{first.b.job.job_id}` does on {first.event_b.describe()}; "
        + (
            "once releases use a PAT both fire and race to push the same tag"
            if dormant
            else "they race to push the same tag"
        )
    )
    if verdict.review:
        message += " (needs review, see notes)"
    evidence = _evidence(found)
    fix = _fix(ctx, workflow, keeper, dup_jobs, whole, verdict)
    notes = tuple(f"deleting it loses {item}" for item in verdict.lost)
    if fix is None:
        notes = ("no automatic fix: another job of the workflow needs the duplicate job", *verdict.review, *notes)
    severity = Severity.ERROR if fix is not None else Severity.WARNING
    location = Location(path, 1, 1) if whole else first.a.location()
    return Finding(RULE_ID, severity, location, message, (fix,) if fix else (), notes, evidence)


def _dormant(ctx: RepoContext, race: Race) -> bool:
    """The race needs a release event that GITHUB_TOKEN releases never send."""
    if race.cause is None:
        return False
    return not any(job.release_token or job.app_token for job in tokens.analyse(ctx))


def _evidence(found: list[Race]) -> tuple[str, ...]:
    race = found[0]
    lines = [
        f"{race.a.location().path}:{race.a.location().line}: {race.a.describe()} pushes {race.ref} "
        f"on {race.event_a.describe()}",
        f"{race.b.location().path}:{race.b.location().line}: {race.b.describe()} pushes {race.ref} "
        f"on {race.event_b.describe()}",
    ]
    if race.cause:
        lines.append(race.cause)
    others = sorted({r.ref for r in found if r.certain} - {race.ref})
    if others:
        lines.append(f"both also push {', '.join(others[:5])}" + (" …" if len(others) > 5 else ""))
    return tuple(lines)


def _fix(  # noqa: PLR0917 - the workflow, its keeper, the jobs and the verdict
    ctx: RepoContext, workflow: Workflow, keeper: Workflow, dup_jobs: list[str], whole: bool, verdict: Verdict
) -> Fix | None:
    if whole:
        edits, mentions = _deletion(ctx, workflow)
        return Fix(
            description=f"delete {workflow.path} (duplicate of {keeper.basename}'s image push)",
            safety=Safety.REVIEW if verdict.review else Safety.SAFE,
            edits=edits,
            notes=(*verdict.review, *(f"deleting it loses {item}" for item in verdict.lost), *mentions),
        )
    removals = []
    for job_id in dup_jobs:
        job = next(j for j in workflow.jobs if j.job_id == job_id)
        needed_by = [j.job_id for j in workflow.jobs if job_id in d.strings(d.get(j.node, "needs"))]
        edit = remove_job(workflow.doc, job) if not needed_by else None
        if edit is None:
            return None
        removals.append(edit)
    return Fix(
        description=f"remove job(s) {', '.join(f'`{j}`' for j in dup_jobs)} from {workflow.path} "
        f"(duplicate of {keeper.basename}'s image push)",
        safety=Safety.REVIEW,
        edits=tuple(removals),
        notes=(f"{workflow.basename} does other work too, so only the duplicate job goes", *verdict.review),
    )


def _peer_keeper(ctx: RepoContext, keeper: str, others: list[str], pair_races: dict[PairKey, list[Race]]) -> Finding:
    names = ", ".join(p.rsplit("/", 1)[-1] for p in others)
    found = next((r for o in others if (r := _between(pair_races, keeper, o))), [])
    race = found[0] if found else None
    detail = f" ({race.ref} on {race.event_a.describe()})" if race else ""
    message = (
        f"{keeper.rsplit('/', 1)[-1]} and {names} push the same tags on the same events{detail}; "
        "no release workflow decides which to keep, so it is a choice: migrator proposes keeping this one (it "
        "pushes the most) and deleting the others; keep another instead if you prefer"
    )
    return Finding(
        RULE_ID, Severity.WARNING, Location(keeper, 1, 1), message, (), (), _evidence(found) if found else ()
    )


def _inner_duplicates(
    ctx: RepoContext, analysis: Analysis, path: str, pair_races: dict[PairKey, list[Race]], flagged: set[str]
) -> list[Finding]:
    """Two jobs of one workflow push the same tag on the same event: the later one is the duplicate."""
    workflow = ctx.workflow(path)
    assert workflow is not None
    order = {job.job_id: index for index, job in enumerate(workflow.jobs)}
    findings = []
    for found in pair_races.values():
        race = found[0]
        if race.a.workflow.path != path or race.b.workflow.path != path:
            continue
        first, second = sorted((race.a, race.b), key=lambda j: order.get(j.job.job_id, 0))
        oriented = [
            r if r.a is second else Race(r.b, r.a, r.event_b, r.event_a, r.ref, r.certain, r.cause) for r in found
        ]
        message = (
            f"job `{second.job.job_id}` pushes {race.ref} on {race.event_a.describe()}, as job "
            f"`{first.job.job_id}` of the same workflow does; they race to push the same tag (needs review)"
        )
        edit = remove_job(workflow.doc, second.job)
        needed = any(second.job.job_id in d.strings(d.get(j.node, "needs")) for j in workflow.jobs)
        fix = (
            Fix(
                f"remove job `{second.job.job_id}` from {path} (duplicate of job `{first.job.job_id}`)",
                Safety.REVIEW,
                (edit,),
            )
            if edit is not None and not needed
            else None
        )
        findings.append(
            Finding(
                RULE_ID,
                Severity.ERROR if fix else Severity.WARNING,
                second.location(),
                message,
                (fix,) if fix else (),
                (),
                _evidence(oriented),
            )
        )
        flagged.add(path)
    return findings


# --- not races: second publishers, manual rebuilds, remote reusable workflows ----------------


def _second_publishers(
    ctx: RepoContext, analysis: Analysis, pair_races: dict[PairKey, list[Race]], flagged: set[str]
) -> list[Finding]:
    """Same image on the same event under other tags: no race, but a second build of one image."""
    findings = []
    racing = {path for key in pair_races for path in (key[0][0], key[1][0])}
    for a, b in itertools.combinations(analysis.jobs, 2):
        if a.workflow is b.workflow:
            continue
        for candidate, other in ((a, b), (b, a)):
            path = candidate.workflow.path
            if path in flagged or path in racing or not ctx.matches_any(path, ctx.settings.docker_candidates):
                continue
            if _rank(ctx, analysis, path) < _rank(ctx, analysis, other.workflow.path):
                continue
            shared = publishers.same_image_same_event(analysis, candidate, other)
            if shared is None:
                continue
            event, image = shared
            tags = sorted(
                r.rsplit(":", 1)[1] for r in (analysis.refs(candidate, event) or _empty()).known if image_of(r) == image
            )
            message = (
                f"{candidate.workflow.basename} pushes {image} on {event.describe()}, as {other.workflow.basename} "
                f"does, under other tags ({', '.join(tags)}): no race, but a second publisher of the image (review)"
            )
            evidence = (
                f"{candidate.location().path}:{candidate.location().line}: {candidate.describe()} pushes {image}:"
                f"{tags[0] if tags else '?'} on {event.describe()}",
                f"{other.location().path}:{other.location().line}: {other.describe()} pushes {image} "
                f"on {event.describe()}",
            )
            findings.append(Finding(RULE_ID, Severity.WARNING, Location(path, 1, 1), message, (), (), evidence))
            flagged.add(path)
    return findings


def _empty() -> publishers.Refs:
    return publishers.Refs(frozenset(), frozenset(), 0)


def _manual_notes(ctx: RepoContext, analysis: Analysis, flagged: set[str]) -> list[Finding]:
    findings = []
    for job in analysis.jobs:
        path = job.workflow.path
        if path in flagged or not publishers.manual_only(job):
            continue
        images = _images(analysis, job)
        others = sorted(
            o.workflow.basename
            for o in analysis.jobs
            if o.workflow is not job.workflow
            and not _calls(o, job)
            and not _calls(job, o)
            and images & _images(analysis, o)
        )
        if not others:
            continue
        events = " and ".join(sorted(job.workflow.triggers.names()))
        findings.append(
            Finding(
                RULE_ID,
                Severity.NOTE,
                job.location(),
                f"{job.workflow.basename} pushes {sorted(images)[0]}, which {others[0]} pushes too, but only on "
                f"{events}: a rebuild a person or a schedule starts, not a race",
            )
        )
        flagged.add(path)
    return findings


def _remote_notes(ctx: RepoContext, analysis: Analysis, flagged: set[str]) -> list[Finding]:
    """A remote reusable workflow may push the same image: unknown, so never a fix, at most a note."""
    findings = []
    for remote in analysis.remote:
        with_text = " ".join(
            f"{k.value} {d.scalar(v) or ''}" for k, v in d.items(d.get(remote.job.node, "with"))
        ).lower()
        for job in analysis.jobs:
            path = job.workflow.path
            if path in flagged or job.workflow is remote.workflow:
                continue
            images = _images(analysis, job)
            mentioned = any(_short(i) in with_text for i in images) or re.search(r"image|docker|registry", with_text)
            if not mentioned or not _co_occur(analysis, job, remote):
                continue
            findings.append(
                Finding(
                    RULE_ID,
                    Severity.NOTE,
                    job.location(),
                    f"{job.workflow.basename} pushes {', '.join(sorted(images)) or 'an image'}; "
                    f"{remote.workflow.basename} job `{remote.job.job_id}` runs on the same events and calls "
                    f"{remote.remote}, whose pushes cannot be read here, so whether they race is unknown (no fix)",
                )
            )
            flagged.add(path)
    return findings


def _images(analysis: Analysis, job: PublisherJob) -> set[str]:
    """The job's image names with the repository's own name filled in."""
    owner, _, name = analysis.scope.repo.partition("/")
    values = ((publishers.REPOSITORY, analysis.scope.repo), (publishers.OWNER, owner), (publishers.NAME, name))
    out = set()
    for push in job.pushes:
        for image in push.images:
            filled = image
            for placeholder, value in values:
                filled = filled.replace(placeholder, value)
            out.add(filled)
    return out


def _short(image: str) -> str:
    return image.removeprefix("docker.io/").split("/", 1)[-1]


def _co_occur(analysis: Analysis, job: PublisherJob, remote: PublisherJob) -> bool:
    for occasion in analysis.occasions:
        if any(fires(job.workflow.triggers, e) for e in occasion.events) and any(
            fires(remote.workflow.triggers, e) for e in occasion.events
        ):
            return True
    return False


# --- the verdict --------------------------------------------------------------------------------


def _verdict(
    ctx: RepoContext, analysis: Analysis, workflow: Workflow, keeper: Workflow, found: list[Race], *, whole: bool
) -> Verdict:
    review: list[str] = []
    lost: list[str] = []
    if any(not r.certain for r in found) and not any(r.certain for r in found):
        review.append("the race depends on conditions migrator cannot evaluate (job `if:`, path filters, inputs)")
    mine = [j for j in analysis.jobs if j.workflow is workflow]
    theirs = [j for j in analysis.jobs if j.workflow is keeper]
    review.extend(_uncovered(analysis, mine, theirs, keeper.basename))
    if any((analysis.refs(j, e) or _empty()).unknown for j in mine for e in analysis.automatic_events(j)):
        review.append("some of its image references cannot be resolved from the files, so what it pushes is not known")
    platforms = _platforms(mine)
    if platforms != _platforms(theirs):
        review.append(f"its platforms ({_fmt(platforms)}) differ from {keeper.basename}'s ({_fmt(_platforms(theirs))})")
    review.extend(_trigger_reasons(workflow, mine, lost))
    review.extend(_references(ctx, workflow))
    if not whole:
        review.append("only some of its jobs are duplicates")
    return Verdict(tuple(dict.fromkeys(review)), tuple(lost))


def _uncovered(analysis: Analysis, mine: list[PublisherJob], theirs: list[PublisherJob], keeper: str) -> list[str]:
    """References the duplicate writes on an event that the keeper does not write on that occasion."""
    covered: dict[Event, set[str]] = defaultdict(set)
    for occasion in analysis.occasions:
        written = _written(analysis, theirs, occasion.events)
        for event in occasion.events:
            covered[event] |= written
    reasons = []
    for job in mine:
        for event in sorted(set(analysis.automatic_events(job))):
            refs = analysis.refs(job, event)
            if refs is None:
                continue
            for ref in sorted(refs.known - covered[event], key=_readable)[:1]:
                reasons.append(f"it also pushes {ref} on {event.describe()}, which {keeper} does not")
    return sorted(set(reasons))[:3]


def _readable(ref: str) -> tuple[bool, str]:
    return (bool(re.search(r"[0-9a-f]{7}", ref.rsplit(":", 1)[-1])), ref)


def _written(analysis: Analysis, jobs: list[PublisherJob], events: tuple[Event, ...]) -> set[str]:
    out: set[str] = set()
    for job in jobs:
        for event in events:
            if fires(job.workflow.triggers, event) and (refs := analysis.refs(job, event)) is not None:
                out |= refs.known | refs.uncertain
    return out


def _trigger_reasons(workflow: Workflow, mine: list[PublisherJob], lost: list[str]) -> list[str]:
    reasons = []
    for event in sorted(workflow.triggers.names()):
        if event == "workflow_dispatch":
            lost.append("the manual rebuild (workflow_dispatch) it offered")
        elif event in PR_EVENTS:
            conditional = all(p.conditional for j in mine for p in j.pushes)
            what = "a build check on pull requests" if conditional else "image pushes from pull requests"
            reasons.append(f"it also runs {what}, which deleting it drops")
        elif event == "workflow_call":
            reasons.append("it is a reusable workflow (on: workflow_call); callers would break")
        elif event in _OTHER_TRIGGERS:
            reasons.append(f"it is also triggered by {_OTHER_TRIGGERS[event]}, which deleting it drops")
    return reasons


def _platforms(jobs: list[PublisherJob]) -> frozenset[str] | None:
    sets = [p.platforms for j in jobs for p in j.pushes]
    if any(s is None for s in sets):
        return None
    return frozenset().union(*(s for s in sets if s is not None))


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


# --- deleting a workflow and its badges --------------------------------------------------------


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


RULE = Rule(RULE_ID, "no two workflows may push the same image and tag on the same event", check)
