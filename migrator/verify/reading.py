"""From a plan and its journal to verdicts: which PRs to verify, one bulk read, `judge` on each."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from migrator.apply.journal import Journal
from migrator.plan.model import Plan
from migrator.verify.model import Judgement, RepoFacts
from migrator.verify.verdict import judge

if TYPE_CHECKING:
    from migrator.github import GitHubClient
    from migrator.github.verify import VerifyTarget

RELEASE_RULE = "token-mismatch"
DOCKER_RULE = "redundant-docker"
IMAGE_SOURCES = ("jobs", "packages", "sandbox")


def targets(plan: Plan, journal: Journal, only: Callable[[str], bool] = lambda _: True) -> list[VerifyTarget]:
    """Every repository of the plan with a PR in the journal, with the release workflows its changes fix."""
    from migrator.github.verify import VerifyTarget

    planned = {repo.name: repo for repo in plan.repos}
    out = []
    for name, state in sorted(journal.repos.items()):
        if not state.pr_number or not only(name):
            continue
        repo = planned.get(name)
        if repo is None:
            out.append(VerifyTarget(name, int(state.pr_number)))
            continue
        workflows = tuple(c.path for c in repo.changes if RELEASE_RULE in c.rules and c.after is not None)
        deleted = tuple(c.path for c in repo.changes if DOCKER_RULE in c.rules and c.after is None and c.enabled)
        docker_only = not workflows and bool(deleted)
        keepers = duplicated(repo.findings, deleted) if docker_only else ()
        out.append(VerifyTarget(name, int(state.pr_number), workflows, keepers, docker_only))
    return out


def duplicated(findings: Sequence[Mapping[str, object]], deleted: Sequence[str]) -> tuple[str, ...]:
    """The workflows the deleted duplicates duplicated: a redundant-docker finding on a deleted file names, in its
    evidence, the duplicate's push first and then the kept publisher's (`path:line: … pushes …`)."""
    keepers: set[str] = set()
    for finding in findings:
        if finding.get("rule") != DOCKER_RULE or finding.get("path") not in deleted:
            continue
        evidence = finding.get("evidence")
        lines = [str(line) for line in evidence] if isinstance(evidence, list | tuple) else []
        for line in lines[1:2]:
            path = line.split(":", 1)[0]
            if path.startswith(".github/workflows/") and path not in deleted:
                keepers.add(path)
    return tuple(sorted(keepers))


def read_facts(
    client: GitHubClient,
    wanted: Sequence[VerifyTarget],
    *,
    image_source: str = "jobs",
    progress: Callable[[int, int, str], None] | None = None,
) -> list[RepoFacts]:
    facts = client.verify_facts(wanted, progress=progress)
    if image_source == "sandbox" and any(f.pr_state == "merged" for f in facts):
        return with_registry(facts, client.sandbox_image_pushes())
    return with_packages(client, facts, every_image=image_source == "packages")


def with_packages(client: GitHubClient, facts: Sequence[RepoFacts], *, every_image: bool) -> list[RepoFacts]:
    """GHCR's package versions, one request a repository, only where they are evidence (`expected.suspects`)."""
    from migrator.verify.expected import suspects

    return [
        replace(fact, registry=client.package_versions(fact.repo)) if suspects(fact, every_image=every_image) else fact
        for fact in facts
    ]


def with_registry(facts: Sequence[RepoFacts], pushes: Mapping[str, Sequence[object]]) -> list[RepoFacts]:
    """The sandbox's registry instead of the inference from job names: only pushes by runs `facts` saw."""
    from migrator.verify.model import ImagePush

    out = []
    for fact in facts:
        seen = {run.id for run in fact.runs}
        mine = tuple(p for p in pushes.get(fact.repo.lower(), ()) if isinstance(p, ImagePush) and p.run_id in seen)
        out.append(replace(fact, images=mine))
    return out


def verdicts(facts: Sequence[RepoFacts], now: datetime | None = None) -> list[Judgement]:
    moment = now or datetime.now(UTC)
    return [judge(f, moment) for f in facts]


def release_column(client: GitHubClient, plan: Plan, journal: Journal, merged: set[str]) -> dict[str, str]:
    """`status`'s release column: the verdict of each merged fix (image pushes inferred from jobs)."""
    wanted = targets(plan, journal, lambda name: name in merged)
    if not wanted:
        return {}
    return {j.repo: j.verdict.value for j in verdicts(client.verify_facts(wanted))}


def broken_by_change(client: GitHubClient, plan: Plan, journal: Journal, names: set[str]) -> set[str]:
    """The repositories among `names` whose release the change broke (`Judgement.caused_by_fix`), for
    `rollback --broken`: one bulk read, as `verify` makes."""
    from migrator.verify.model import Verdict

    wanted = targets(plan, journal, lambda name: name in names)
    judged = verdicts(read_facts(client, wanted)) if wanted else []
    return {j.repo for j in judged if j.verdict is Verdict.BROKEN and j.caused_by_fix}
