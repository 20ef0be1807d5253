"""From facts to verdicts, with no I/O: `judge(facts, now)`.

- **verified**: the release run succeeded; a tag and a release exist that were made after the merge, not by
  `github-actions[bot]`; every run the tag and release started succeeded; no image reference was pushed twice.
- **pending**: no release run yet, or a run still going.
- **not-released**: the release run succeeded but released nothing (no releasable commit came in).
- **broken**: the release failed again (its failing step, GitHub's refusal, a next step), or two runs raced.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from migrator.verify.expected import (
    missing_workflows,
    registry_lines,
    registry_missing,
    registry_race,
    releasing_workflows,
)
from migrator.verify.model import CheckFact, ImagePush, Judgement, ReleaseFact, RepoFacts, RunFact, Verdict

GITHUB_ACTIONS_BOT = "github-actions[bot]"
REFUSAL_MARKERS = ("GH006", "EGITNOPERMISSION", "denied to", "Invalid username or token", "refusing to allow")
APP_TOKEN_STEP = (
    "{branch} enforces protection for admins: the PAT is refused; add the release identity to a bypass list or "
    "move to a GitHub App token (rule release-app-token)"
)
NO_POWER_STEP = (
    "the release token cannot push to {branch} past its protection: give its identity admin rights or a bypass, "
    "or move to a GitHub App token (rule release-app-token)"
)
RACE_STEP = "delete the duplicate workflow (rule redundant-docker: enable its change in the plan) and release again"
NOT_STARTED_STEP = (
    "check that {names} is enabled (Actions tab) and that the release and its tag were made with the PAT or an App "
    "token: a release or tag made with GITHUB_TOKEN starts no workflow"
)
MISSING_GRACE_SECONDS = 300  # GitHub may take minutes to start the runs a release sends


def judge(facts: RepoFacts, now: datetime) -> Judgement:
    base = Judgement(facts.repo, Verdict.NOT_MERGED, f"PR {facts.pr_state}", url=facts.pr_url)
    if facts.pr_state != "merged" or not facts.merged_at:
        return base
    base = Judgement(facts.repo, Verdict.PENDING, "", url=facts.pr_url, merged_at=facts.merged_at)
    if facts.docker_only:
        return _docker_only(base, facts, now)
    release_runs = _release_runs(facts)
    if not release_runs:
        return _pending(base, f"no release run yet, {_since(facts.merged_at, now)} after the merge")
    if facts.releases:
        return _released(base, facts, facts.releases[-1], now)
    last = release_runs[-1]
    if not last.done:
        return _pending(base, f"the release run is {last.status.replace('_', ' ')}", last)
    if last.failed:
        return _failed(base, facts, last)
    return _replace(
        base,
        Verdict.NOT_RELEASED,
        f"the release run succeeded but released nothing ({_since(facts.merged_at, now)} after the merge)",
        evidence=(f"run {last.url}: {last.conclusion}",),
        next_step="push a `fix:` commit or wait for one: no releasable commit came in since the merge",
        decided_at=last.created_at,
        links=(("run", last.url),),
    )


def _docker_only(base: Judgement, facts: RepoFacts, now: datetime) -> Judgement:
    """A fix that only deletes duplicate docker workflows: verified once a workflow it kept ran after the merge and
    no two runs pushed one image tag; with no release workflow to watch, the deletion itself is all there is."""
    kept = _keeper_runs(facts)
    releasing = releasing_workflows(facts.workflows or ())
    release_runs = _release_runs(replace(facts, release_workflows=releasing))
    names = ", ".join(_short(w) for w in facts.keepers) or "the kept docker workflow"
    if kept:
        return _kept_ran(base, facts, kept)
    if release_runs and not release_runs[-1].done:
        return _pending(base, f"the release run is {release_runs[-1].status.replace('_', ' ')}", release_runs[-1])
    if release_runs and release_runs[-1].failed:
        return _failed(base, facts, release_runs[-1])
    since_merge = (now - parse_time(facts.merged_at or "")).total_seconds()
    if release_runs and facts.releases:
        release = facts.releases[-1]
        if (now - parse_time(release.created_at)).total_seconds() < MISSING_GRACE_SECONDS:
            return _pending(base, f"{release.tag} is out; waiting for {names} to start")
        return _replace(base, Verdict.BROKEN, f"{names} did not run for {release.tag}",
                        evidence=(f"tag {release.tag}; release {release.url}",),
                        next_step=NOT_STARTED_STEP.format(names=names), decided_at=release.created_at,
                        links=(("release", release.url),))
    if release_runs:
        last = release_runs[-1]
        return _replace(base, Verdict.NOT_RELEASED,
                        f"the release run succeeded but released nothing, so {names} has not run since the merge",
                        evidence=(f"run {last.url}: {last.conclusion}",),
                        next_step="push a `fix:` commit or wait for one: the next release runs " + names,
                        decided_at=last.created_at, links=(("run", last.url),))
    if since_merge < MISSING_GRACE_SECONDS:
        return _pending(base, f"no run of {names} or of a release workflow yet, {_since(facts.merged_at or '', now)} "
                        "after the merge")
    if releasing:
        release_names = ", ".join(_short(w) for w in releasing)
        waiting = _pending(base, f"no release since the merge ({_since(facts.merged_at or '', now)}): the next "
                           f"release by {release_names} runs {names}")
        return replace(waiting, next_step=f"release as usual ({release_names}), then `migrator verify` again")
    return _replace(
        base,
        Verdict.VERIFIED,
        "the duplicate docker workflow is gone; no release workflow to watch",
        evidence=(
            f"no release run on {facts.default_branch} in {_since(facts.merged_at or '', now)} since the merge",
            f"{names} will publish the image on the next release" if facts.keepers else "no kept workflow is known",
        ),
        decided_at=facts.merged_at,
    )


def _keeper_runs(facts: RepoFacts) -> list[RunFact]:
    """Runs of the kept workflows on the default branch's commits since the merge or on a new release's commit."""
    commits = set(facts.commits) | {r.commit for r in facts.releases if r.commit}
    runs = [r for r in facts.runs if r.workflow in facts.keepers and r.commit in commits]
    return sorted(runs, key=lambda r: (r.created_at, r.id))


def _kept_ran(base: Judgement, facts: RepoFacts, kept: list[RunFact]) -> Judgement:
    last = kept[-1]
    links = (("run", last.url),)
    if not last.done:
        return _pending(base, f"{_short(last.workflow)} is {last.status.replace('_', ' ')}", last)
    if last.failed:
        return _failed(base, facts, last)
    release = facts.releases[-1] if facts.releases else None
    races = _races(facts.images)
    if not races and release and (ref := registry_race(facts.registry, release, facts.images)):
        races = {ref: [p for p in facts.images if p.reference.lower() == ref.lower()]}
    evidence = (
        *(f"run {r.url} ({r.workflow}, {r.event}): {r.conclusion}" for r in kept),
        *((f"tag {release.tag}; release {release.url}",) if release else ()),
        *_image_lines(facts.images),
        *(registry_lines(facts.registry, release) if release else ()),
    )
    if races:
        ref, pushes = next(iter(races.items()))
        names = " and ".join(sorted({_short(p.workflow) for p in pushes}))
        return _replace(base, Verdict.BROKEN, f"race: {names} both pushed {ref}", evidence=evidence,
                        next_step=RACE_STEP, decided_at=last.created_at, links=links)
    return _replace(base, Verdict.VERIFIED,
                    f"{_short(last.workflow)} ran after the merge; no two runs pushed one image tag",
                    evidence=evidence, decided_at=last.created_at, links=links)


def _release_runs(facts: RepoFacts) -> list[RunFact]:
    """Push runs on the default branch's new commits of the release workflow (the plan's, else any push run
    with a job named like a release), oldest first."""
    commits = set(facts.commits)
    pushed = [r for r in facts.runs if r.event == "push" and r.commit in commits and r.workflow]
    planned = [r for r in pushed if r.workflow in facts.release_workflows]
    chosen = planned or [r for r in pushed if any("release" in j.name.lower() for j in r.jobs)]
    return sorted(chosen, key=lambda r: (r.created_at, r.id))


def _released(base: Judgement, facts: RepoFacts, release: ReleaseFact, now: datetime) -> Judgement:
    release_runs = _release_runs(facts)
    runs = _runs_of(facts, release)
    main = next((r for r in reversed(release_runs) if r.commit == release.commit), release_runs[-1])
    runs = [main, *(r for r in runs if r.id != main.id)]  # the release run first
    links = (("run", main.url), ("release", release.url))
    going = [r for r in runs if not r.done]
    if going:
        return _pending(base, f"{release.tag} is out; {len(going)} run(s) it started are still going", going[0])
    races = _races(facts.images)
    by_github_token = release.author == GITHUB_ACTIONS_BOT
    failed = [r for r in runs if r.failed]
    missing = missing_workflows(facts, release, release_runs)
    evidence = (
        *(f"run {r.url} ({r.workflow}, {r.event}): {r.conclusion}" for r in runs),
        f"tag {release.tag}; release {release.url} by {release.author or 'a bot (an App or the PAT of a bot)'}",
        *_image_lines(facts.images),
        *registry_lines(facts.registry, release),
        *(f"{_short(w)} runs on the release or its tag, but did not run for {release.tag}" for w in missing),
    )
    if not races and (ref := registry_race(facts.registry, release, facts.images)):
        races = {ref: [p for p in facts.images if p.reference.lower() == ref.lower()]}
    if races:
        ref, pushes = next(iter(races.items()))
        names = " and ".join(sorted({_short(p.workflow) for p in pushes}))
        raced = _replace(base, Verdict.BROKEN, f"race: {names} both pushed {ref}", evidence=evidence,
                         next_step=RACE_STEP, decided_at=release.created_at, links=links)
        return replace(raced, caused_by_fix=True)  # releases with the PAT are what woke the duplicates
    if by_github_token:
        return _replace(base, Verdict.BROKEN, f"{release.tag} was released by {GITHUB_ACTIONS_BOT}", evidence=evidence,
                        next_step="release with the PAT or an App token, so the release starts its workflows",
                        decided_at=release.created_at, links=links)
    if failed:
        return _failed(base, facts, failed[0], evidence=evidence)
    if absent := registry_missing(facts.registry, release, facts.images):
        return _replace(base, Verdict.BROKEN, f"the image job ran but the registry holds no {absent}",
                        evidence=evidence, next_step="read the image job's log: it built but pushed no such tag",
                        decided_at=release.created_at, links=links)
    if missing:
        names = ", ".join(_short(w) for w in missing)
        if (now - parse_time(release.created_at)).total_seconds() < MISSING_GRACE_SECONDS:
            return _pending(base, f"{release.tag} is out; waiting for {names} to start")
        return _replace(base, Verdict.BROKEN, f"{names} did not run for {release.tag}", evidence=evidence,
                        next_step=NOT_STARTED_STEP.format(names=names), decided_at=release.created_at, links=links)
    return _replace(base, Verdict.VERIFIED, f"released {release.tag}" + _by(release), evidence=evidence,
                    decided_at=release.created_at, links=links)


def _runs_of(facts: RepoFacts, release: ReleaseFact) -> list[RunFact]:
    """The release run and every run on the release's commit (the tag push's and the release's own)."""
    ours = [r for r in facts.runs if r.commit == release.commit or (r.event == "push" and r.commit in facts.commits)]
    if release.commit is not None:
        ours = [r for r in ours if r.commit == release.commit]
    return sorted(ours, key=lambda r: (r.created_at, r.id))


def _image_lines(images: tuple[ImagePush, ...]) -> tuple[str, ...]:
    runs: dict[str, list[ImagePush]] = defaultdict(list)
    for push in images:
        runs[push.reference].append(push)
    return tuple(
        f"image {ref} pushed by {len({p.run_id for p in pushes})} run(s): "
        + ", ".join(sorted({_short(p.workflow) for p in pushes}))
        + (" (inferred from job names)" if any(p.inferred for p in pushes) else "")
        for ref, pushes in sorted(runs.items())
    )


def _races(images: tuple[ImagePush, ...]) -> dict[str, list[ImagePush]]:
    """Two runs that pushed one image tag. Pushes inferred from job names never make a race: their tags are a
    guess, and two image jobs of one release often push different tags (`latest` and the version)."""
    runs: dict[str, dict[int, ImagePush]] = defaultdict(dict)
    for push in images:
        if push.inferred:
            continue
        runs[push.reference].setdefault(push.run_id, push)
    return {ref: list(found.values()) for ref, found in sorted(runs.items()) if len(found) > 1}


def _failed(base: Judgement, facts: RepoFacts, run: RunFact, *, evidence: tuple[str, ...] = ()) -> Judgement:
    job = _failing_job(run)
    step = job.title.removeprefix("Failed at step ").strip() if job and job.title else ""
    refusal = _refusal(job.summary if job else "")
    where = f"{job.name}" + (f" at step {step}" if step else "") if job else "a job"
    next_step = f"read the failing step's log: {run.url}"
    if "GH006" in refusal or "denied to" in refusal or "EGITNOPERMISSION" in refusal:
        next_step = (APP_TOKEN_STEP if facts.admin_enforced else NO_POWER_STEP).format(branch=facts.default_branch)
    return _replace(
        base,
        Verdict.BROKEN,
        f"{_short(run.workflow)} failed in {where}" + (f": {refusal}" if refusal else ""),
        evidence=(*evidence, f"run {run.url}: {run.conclusion}", *_refusal_lines(job.summary if job else "")),
        next_step=next_step,
        decided_at=run.created_at,
        links=(("run", run.url),),
    )


def _failing_job(run: RunFact) -> CheckFact | None:
    return next((j for j in run.jobs if j.conclusion not in (None, "success", "skipped", "neutral")), None)


def _refusal(summary: str) -> str:
    """GitHub's refusal as a log quotes it: the `remote: error: …` text, else the first line naming a refusal."""
    lines = [line.strip() for line in summary.splitlines() if any(m in line for m in REFUSAL_MARKERS)]
    for line in lines:
        if "remote: " in line:
            return "remote: " + line.split("remote: ", 1)[1].strip()
    return re.sub(r"^\[semantic-release\][\s›✘]*", "", lines[0]) if lines else ""


def _refusal_lines(summary: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in summary.splitlines() if any(m in line for m in REFUSAL_MARKERS))[:3]


def _pending(base: Judgement, why: str, run: RunFact | None = None) -> Judgement:
    links = (("run", run.url),) if run else ()
    return _replace(base, Verdict.PENDING, why, evidence=(f"run {run.url}: {run.status}",) if run else (),
                    next_step="wait (`migrator verify --wait 30m`)", links=links)


def _replace(base: Judgement, verdict: Verdict, summary: str, *, evidence: tuple[str, ...] = (), next_step: str = "",
             decided_at: str | None = None, links: tuple[tuple[str, str], ...] = ()) -> Judgement:
    return Judgement(base.repo, verdict, summary, evidence, next_step, base.url, base.merged_at, decided_at, links)


def _by(release: ReleaseFact) -> str:
    return f" as {release.author}" if release.author else " as a bot"


def _short(workflow: str) -> str:
    return workflow.rsplit("/", 1)[-1] or workflow


def _since(stamp: str, now: datetime) -> str:
    seconds = max((now - parse_time(stamp)).total_seconds(), 0)
    if seconds < 120:
        return f"{round(seconds)} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def parse_time(stamp: str) -> datetime:
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
