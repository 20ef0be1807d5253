"""Evidence beyond the runs themselves: which workflows a release should have started (from the workflow files'
`on:`, read in the same bulk query), and what GHCR's package versions say about an image tag."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from migrator.analysis.events import PUBLISHED_RELEASE, Event, fires, paths_filtered
from migrator.verify.model import ImagePush, RegistryFact, ReleaseFact, RepoFacts, RunFact, WorkflowFile
from migrator.workflow.document import UnreadableFile, parse
from migrator.workflow.model import build
from migrator.workflow.release import publishes_releases

STARTED_BY = ("release", "push", "create")  # the events a release and its tag send


def release_events(tag: str) -> tuple[Event, ...]:
    return (*(Event("release", action=action) for action in PUBLISHED_RELEASE), Event("push", "tag", tag))


def expected_workflows(workflows: Iterable[WorkflowFile], tag: str) -> tuple[str, ...]:
    """The workflows GitHub starts for release `tag` (published or created) or for the push of the tag (GitHub
    evaluates no `paths` filter for a tag push). One that cannot be read is left out."""
    expected = []
    for workflow in workflows:
        try:
            triggers = build(parse(workflow.path, workflow.text)).triggers
        except (UnreadableFile, ValueError, TypeError, AttributeError):
            continue
        if any(fires(triggers, e) and not paths_filtered(triggers, e) for e in release_events(tag)):
            expected.append(workflow.path)
    return tuple(sorted(expected))


def releasing_workflows(workflows: Iterable[WorkflowFile]) -> tuple[str, ...]:
    """The workflows with a job that makes releases or tags (semantic-release, a release action, `gh release
    create`): what a repository releases with. One that cannot be read is left out."""
    found = []
    for workflow in workflows:
        try:
            jobs = build(parse(workflow.path, workflow.text)).jobs
        except (UnreadableFile, ValueError, TypeError, AttributeError):
            continue
        if any(publishes_releases(job, None) for job in jobs):
            found.append(workflow.path)
    return tuple(sorted(found))


def missing_workflows(facts: RepoFacts, release: ReleaseFact, release_runs: Sequence[RunFact]) -> tuple[str, ...]:
    """Workflows the release or its tag should have started that have no run on the release's commit (the release
    run itself, a push to the default branch, does not count as its tag's run)."""
    if facts.workflows is None or release.commit is None:
        return ()
    own = {r.id for r in release_runs}
    ran = {r.workflow for r in facts.runs if r.commit == release.commit and r.id not in own and r.event in STARTED_BY}
    return tuple(w for w in expected_workflows(facts.workflows, release.tag) if w not in ran)


def registry_lines(registry: RegistryFact | None, release: ReleaseFact) -> tuple[str, ...]:
    if registry is None:
        return ()
    if registry.unreadable:
        return (f"registry {registry.package}: cannot tell ({registry.unreadable})",)
    version = release.tag.removeprefix("v")
    since = [v for v in registry.versions if v.created_at >= release.created_at]
    holding = [v for v in registry.versions if version in v.tags or release.tag in v.tags]
    lines = [
        f"registry {registry.package}: {len(since)} version(s) pushed since {release.tag}"
        + "".join(
            f"; {v.digest[:19]} at {v.created_at} tags {', '.join(v.tags) or '(none: overwritten)'}" for v in since[:4]
        )
    ]
    if not holding:
        lines.append(f"registry {registry.package}: no version is tagged {version}")
    return tuple(lines)


def registry_race(registry: RegistryFact | None, release: ReleaseFact, images: Sequence[ImagePush]) -> str | None:
    """The image reference two runs pushed, by the registry: the runs' jobs say two runs built the release's image,
    and GHCR holds, beside the version tagged with it, an untagged version pushed since the release (the tag moved
    on from it). A second version that keeps other tags (`latest` from main) is a second publisher, not a race."""
    if registry is None or registry.unreadable:
        return None
    version = release.tag.removeprefix("v")
    reference = f"{registry.package}:{version}"
    builders = {p.run_id for p in images if p.reference.lower() == reference.lower()}
    since = [v for v in registry.versions if v.created_at >= release.created_at]
    tagged = [v for v in since if version in v.tags or release.tag in v.tags]
    overwritten = [v for v in since if not v.tags]  # pushed since the release, and every tag it had moved on
    return reference if len(builders) > 1 and tagged and overwritten else None


def registry_missing(registry: RegistryFact | None, release: ReleaseFact, images: Sequence[ImagePush]) -> str | None:
    """The image reference a run built (by its jobs) that the registry does not hold."""
    if registry is None or registry.unreadable:
        return None
    version = release.tag.removeprefix("v")
    reference = f"{registry.package}:{version}"
    built = any(p.reference.lower() == reference.lower() for p in images)
    held = any(version in v.tags or release.tag in v.tags for v in registry.versions)
    return reference if built and not held else None


def suspects(facts: RepoFacts, *, every_image: bool = False) -> bool:
    """Whether GHCR is worth a request: by default only for a release whose image two runs built by their jobs (a
    race?), so that verify stays at one query a page; with `every_image`, for every release a run built an image
    of (is it there?)."""
    if not facts.releases:
        return False
    inferred = [p for p in facts.images if p.inferred]
    if every_image:
        return bool(inferred)
    runs: dict[str, set[int]] = {}
    for push in inferred:
        runs.setdefault(push.reference, set()).add(push.run_id)
    return any(len(found) > 1 for found in runs.values())
