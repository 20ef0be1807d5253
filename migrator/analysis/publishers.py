"""Docker publishers by what they push, and the races between them.

A publisher is a job that pushes an image: build-push-action with `push:` on, `docker push`,
`docker buildx build --push`, imagetools and manifest pushes; a job calling a local reusable
workflow publishes what that workflow's jobs push (its `inputs.*` taken from the caller's `with:`);
a job calling a remote reusable workflow may push anything (`remote`), so it is unknown.

Two publishers race when, on one occasion (an event, or a release chain), both run and write the
same `image:tag`. Everything is evaluated on concrete sample events (see events.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from migrator.analysis import conditions, tokens
from migrator.analysis.context import RepoContext
from migrator.analysis.events import (
    MANUAL_EVENTS,
    PR_EVENTS,
    RELEASE_TAG,
    RELEASE_VERSION,
    Event,
    fires,
    paths_filtered,
    release_chain,
    samples,
)
from migrator.analysis.images import NAME, OWNER, PUSH_MARKER, REPOSITORY, Push, publisher
from migrator.analysis.tags import Refs, Scope, refs_on, substitute

__all__ = ["NAME", "OWNER", "REPOSITORY", "Refs"]
from migrator.model import Location
from migrator.workflow import document as d
from migrator.workflow.model import Job, Workflow
from migrator.workflow.release import publishes_releases

LOCAL_CALL = re.compile(r"^\./\.github/workflows/([^/@]+\.ya?ml)$")
_VERSION_OUTPUTS = re.compile(r"steps\.([\w-]+)\.outputs\.(new_release_version|new-release-version|version)\b")
_RELEASE_CREATOR = re.compile(
    r"action-gh-release|release-action|create-release|release-please|gh\s+release\s+create|git\s+push"
)
_TAG_OUTPUTS = re.compile(r"steps\.([\w-]+)\.outputs\.(new_release_git_tag|git_tag|tag)\b")


@dataclass(frozen=True, eq=False)
class PublisherJob:
    workflow: Workflow  # whose triggers start it
    job: Job
    pushes: tuple[Push, ...]
    source: Workflow  # where the pushes are written (a called workflow, or the same one)
    inputs: dict[str, str] = field(default_factory=dict)  # inputs.* given by the caller
    remote: str | None = None  # a remote reusable workflow: what it pushes is unknown

    @property
    def key(self) -> tuple[str, str]:
        return (self.workflow.path, self.job.job_id)

    def location(self) -> Location:
        if self.source is self.workflow and self.pushes:
            return self.pushes[0].location
        return self.workflow.location(self.job.key)

    def describe(self) -> str:
        return f"{self.workflow.basename} job `{self.job.job_id}`"


@dataclass(frozen=True)
class Occasion:
    """Events that happen together; `cause` is the release job that links them, if any."""

    events: tuple[Event, ...]
    cause: str | None = None  # "main.yml:47: job `release` runs semantic-release ..."


@dataclass(frozen=True)
class Race:
    a: PublisherJob
    b: PublisherJob
    event_a: Event
    event_b: Event
    ref: str
    certain: bool
    cause: str | None

    def describe(self) -> str:
        when = self.event_a.describe()
        if self.event_b != self.event_a:
            when = f"{self.event_a.describe()} and {self.event_b.describe()}"
        return f"{self.ref} on {when}"


@dataclass
class Analysis:
    jobs: list[PublisherJob]
    remote: list[PublisherJob]
    occasions: list[Occasion]
    scope: Scope
    _refs: dict[tuple[int, Event], Refs | None] = field(default_factory=dict)

    def refs(self, job: PublisherJob, event: Event) -> Refs | None:
        """What the job writes on the event (None: it does not run then)."""
        key = (id(job), event)
        if key not in self._refs:
            self._refs[key] = _job_refs(job, event, self.scope)
        return self._refs[key]

    def automatic_events(self, job: PublisherJob) -> list[Event]:
        return [e for o in self.occasions for e in o.events if fires(job.workflow.triggers, e)]


def analyse(ctx: RepoContext) -> Analysis:
    return ctx.memo("publishers", lambda: _analyse(ctx))


def _analyse(ctx: RepoContext) -> Analysis:
    workflows = ctx.workflows_matching(
        re.compile(PUSH_MARKER.pattern + r"|\.github/workflows/[^\s'\"]+@|\./\.github/workflows/")
    )
    jobs, remote = _publisher_jobs(ctx, workflows)
    if len(jobs) + len(remote) < 2:  # nothing can race: skip the events (most repositories stop here)
        return Analysis(jobs, remote, [], Scope(_repo(ctx), ctx.snapshot.default_branch, {}))
    scope = Scope(_repo(ctx), ctx.snapshot.default_branch, _release_outputs(ctx))
    triggers = [job.workflow.triggers for job in [*jobs, *remote]]
    for release in tokens.analyse(ctx):
        triggers.append(release.workflow.triggers)
    occasions = _occasions(ctx, samples(triggers, ctx.snapshot.default_branch))
    return Analysis(jobs, remote, occasions, scope)


def _repo(ctx: RepoContext) -> str:
    name = ctx.snapshot.name.lower()
    return name if "/" in name else f"{name}/{name}"


def _publisher_jobs(ctx: RepoContext, workflows: list[Workflow]) -> tuple[list[PublisherJob], list[PublisherJob]]:
    jobs: list[PublisherJob] = []
    remote: list[PublisherJob] = []
    for workflow in workflows:
        own = publisher(workflow)
        for job in workflow.jobs:
            pushes = tuple(p for p in own.pushes if p.job is job)
            if pushes and set(workflow.triggers.names()) - {"workflow_call"}:
                jobs.append(PublisherJob(workflow, job, pushes, workflow))
            if job.uses:
                jobs.extend(_called(ctx, workflow, job, remote))
    return jobs, remote


def _called(ctx: RepoContext, workflow: Workflow, job: Job, remote: list[PublisherJob]) -> list[PublisherJob]:
    assert job.uses is not None
    target = LOCAL_CALL.match(job.uses.strip())
    if target is None:
        if "/.github/workflows/" in job.uses:
            remote.append(PublisherJob(workflow, job, (), workflow, remote=job.uses.strip()))
        return []
    called = ctx.workflow(f".github/workflows/{target.group(1)}")
    if called is None or called is workflow:
        return []
    inputs = {
        f"inputs.{key.value.lower()}": value
        for key, node in d.items(d.get(job.node, "with"))
        if (value := d.scalar(node)) is not None
    }
    pushes = tuple(publisher(called).pushes)
    return [PublisherJob(workflow, job, pushes, called, inputs)] if pushes else []


def _release_outputs(ctx: RepoContext) -> dict[str, str]:
    """Expressions that stand for the version semantic-release creates: `needs.release.outputs.version`..."""
    known: dict[str, str] = {}
    for release in tokens.analyse(ctx):
        job = release.job
        ids = {step.step_id for step in release.steps if step.step_id}
        for key, node in d.items(d.get(job.node, "outputs")):
            value = d.scalar(node) or ""
            version = _VERSION_OUTPUTS.search(value)
            tag = _TAG_OUTPUTS.search(value)
            if version and version.group(1) in ids:
                known[f"needs.{job.job_id}.outputs.{key.value}".lower()] = RELEASE_VERSION
            elif tag and tag.group(1) in ids:
                known[f"needs.{job.job_id}.outputs.{key.value}".lower()] = RELEASE_TAG
            if re.search(r"outputs\.(new_release_published|new-release-published|released)\b", value):
                # True on the occasion that matters: the push whose release starts the chain.
                known[f"needs.{job.job_id}.outputs.{key.value}".lower()] = "true"
        for step_id in ids:
            known[f"steps.{step_id}.outputs.new_release_version".lower()] = RELEASE_VERSION
            known[f"steps.{step_id}.outputs.new_release_git_tag".lower()] = RELEASE_TAG
    return known


def _occasions(ctx: RepoContext, events: list[Event]) -> list[Occasion]:
    occasions = [Occasion((event,)) for event in events]
    # Publishing a release of a new tag creates the tag too: its push and the release arrive together.
    tags = sorted({e.ref for e in events if e.name == "push" and e.ref_kind == "tag"})
    occasions += [Occasion(release_chain(tag)) for tag in tags]
    for workflow, job, line, what in _release_creators(ctx):
        for event in events:
            if event.name != "push" or not fires(workflow.triggers, event):
                continue
            if (
                conditions.evaluate(d.scalar(d.get(job.node, "if")), event.context(ctx.snapshot.default_branch))
                is False
            ):
                continue
            if event.ref_kind == "branch" and what == "semantic-release":
                tag = RELEASE_TAG
            elif event.ref_kind == "tag":
                tag = event.ref
            else:
                continue
            cause = (
                f"{workflow.path}:{line}: job `{job.job_id}` runs {what} on {event.describe()}, "
                f"which creates tag {tag} and its release"
            )
            occasions.append(Occasion((event, *[e for e in release_chain(tag) if e != event]), cause))
    return occasions


def _release_creators(ctx: RepoContext) -> Iterator[tuple[Workflow, Job, int, str]]:
    scripts = ctx.scripts()
    seen: set[tuple[str, str]] = set()
    for release in tokens.analyse(ctx):
        seen.add((release.workflow.path, release.job.job_id))
        yield release.workflow, release.job, release.steps[0].node.start_mark.line + 1, "semantic-release"
    for workflow in ctx.workflows_matching(_RELEASE_CREATOR):
        for job in workflow.jobs:
            if (workflow.path, job.job_id) in seen or not publishes_releases(job, scripts):
                continue
            yield workflow, job, job.key.start_mark.line + 1, "a release step"


def _job_refs(job: PublisherJob, event: Event, scope: Scope) -> Refs | None:
    inputs = {key: value for key, raw in job.inputs.items() if (value := substitute(raw, event, scope)) is not None}
    local = Scope(scope.repo, scope.default_branch, {**scope.known, **inputs})
    context = {**event.context(scope.default_branch), **local.known}
    if conditions.evaluate(d.scalar(d.get(job.job.node, "if")), context) is False:
        return None
    known: set[str] = set()
    uncertain: set[str] = set()
    unknown = 0
    ran = False
    for push in job.pushes:
        inner = push.job
        inner_if = d.scalar(d.get(inner.node, "if")) if inner is not None and job.source is not job.workflow else None
        if conditions.evaluate(inner_if, context) is False:
            continue
        refs = refs_on(push, job.source, event, local)
        if refs is None:
            continue
        ran = True
        known |= refs.known
        uncertain |= refs.uncertain
        unknown += refs.unknown
    if not ran:
        return None
    gate = conditions.evaluate(d.scalar(d.get(job.job.node, "if")), context)
    if gate is None or paths_filtered(job.workflow.triggers, event):
        uncertain |= known
        known = set()
    return Refs(frozenset(known), frozenset(uncertain), unknown)


def races(analysis: Analysis, a: PublisherJob, b: PublisherJob) -> list[Race]:
    """Every shared `image:tag` of two publishers on one occasion (for jobs of one workflow: one event)."""
    found: dict[tuple[str, bool], Race] = {}
    same_workflow = a.workflow is b.workflow
    for occasion in analysis.occasions:
        for event_a in occasion.events:
            if not fires(a.workflow.triggers, event_a) or (refs_a := analysis.refs(a, event_a)) is None:
                continue
            for event_b in occasion.events:
                if same_workflow and event_b != event_a:
                    continue
                if not fires(b.workflow.triggers, event_b) or (refs_b := analysis.refs(b, event_b)) is None:
                    continue
                for ref, certain in _shared(refs_a, refs_b):
                    key = (ref, certain)
                    if key not in found:
                        found[key] = Race(a, b, event_a, event_b, ref, certain, occasion.cause)
    return sorted(found.values(), key=race_order)


def race_order(race: Race) -> tuple[bool, bool, bool, str, Event, Event]:
    """Certain races first, then tags a person recognises (not commit ids), direct before chained."""
    tag = race.ref.rsplit(":", 1)[-1]
    return (
        not race.certain,
        bool(re.search(r"[0-9a-f]{7}", tag)),
        race.cause is not None,
        race.ref,
        race.event_a,
        race.event_b,
    )


def _shared(a: Refs, b: Refs) -> list[tuple[str, bool]]:
    certain = a.known & b.known
    maybe = ((a.known | a.uncertain) & (b.known | b.uncertain)) - certain
    return [(ref, True) for ref in sorted(certain)] + [(ref, False) for ref in sorted(maybe)]


def image_of(ref: str) -> str:
    return ref.rsplit(":", 1)[0]


def same_image_same_event(analysis: Analysis, a: PublisherJob, b: PublisherJob) -> tuple[Event, str] | None:
    """An event starting both that pushes one image under different tags (no race, a second publisher)."""
    for occasion in analysis.occasions:
        if len(occasion.events) != 1:
            continue
        event = occasion.events[0]
        if not (fires(a.workflow.triggers, event) and fires(b.workflow.triggers, event)):
            continue
        refs_a, refs_b = analysis.refs(a, event), analysis.refs(b, event)
        if refs_a is None or refs_b is None:
            continue
        shared = {image_of(r) for r in refs_a.known} & {image_of(r) for r in refs_b.known}
        if shared:
            return event, sorted(shared)[0]
    return None


def manual_only(job: PublisherJob) -> bool:
    events = set(job.workflow.triggers.names())
    return bool(events) and events <= MANUAL_EVENTS


def pr_events(job: PublisherJob) -> set[str]:
    return set(job.workflow.triggers.names()) & PR_EVENTS
