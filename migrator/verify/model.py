"""The facts `verify` judges and the verdicts it gives: plain frozen values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    VERIFIED = "verified"
    PENDING = "pending"
    NOT_RELEASED = "not-released"
    BROKEN = "broken"
    NOT_MERGED = "not-merged"  # the PR is open or closed: nothing to verify yet


@dataclass(frozen=True)
class CheckFact:
    """One job of a run (a check run): its failing step's title and the log lines GitHub put in its summary."""

    name: str
    status: str  # queued | in_progress | completed (lowercase)
    conclusion: str | None  # success | failure | skipped | ...
    title: str = ""
    summary: str = ""


@dataclass(frozen=True)
class RunFact:
    id: int
    url: str
    workflow: str  # .github/workflows/main.yml
    event: str  # push | release | ...
    commit: str
    created_at: str  # ISO 8601
    status: str  # queued | in_progress | completed
    conclusion: str | None
    jobs: tuple[CheckFact, ...] = ()

    @property
    def done(self) -> bool:
        return self.status == "completed"

    @property
    def failed(self) -> bool:
        return self.done and self.conclusion not in ("success", "skipped", "neutral")


@dataclass(frozen=True)
class ReleaseFact:
    tag: str
    url: str
    created_at: str
    author: str | None  # a User's login; None for a bot (GitHub's GraphQL has no bot authors)
    commit: str | None


@dataclass(frozen=True)
class ImagePush:
    """One image reference pushed by one run (from the registry, or inferred from the run's jobs)."""

    reference: str  # ghcr.io/acme/app:1.0.0
    run_id: int
    workflow: str
    inferred: bool = False  # from job names rather than a registry


@dataclass(frozen=True)
class PackageVersion:
    """One version of a container package in GHCR: a digest, the tags it holds now, when it was pushed."""

    digest: str
    tags: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class RegistryFact:
    """What GHCR says about a repository's image, asked only where it is evidence (a suspected race or a missing
    image). `unreadable` says why the registry cannot tell (403: the token cannot read packages; 404: no such
    package, or no access to it): then it is no evidence either way."""

    package: str  # ghcr.io/acme/app
    versions: tuple[PackageVersion, ...] = ()  # newest first
    unreadable: str = ""


@dataclass(frozen=True)
class WorkflowFile:
    """A workflow file of the default branch, as text: `verify` reads its `on:` to know what a release starts."""

    path: str
    text: str


@dataclass(frozen=True)
class RepoFacts:
    repo: str
    pr_number: int
    pr_url: str
    pr_state: str  # open | closed | merged | unknown
    merged_at: str | None = None
    merge_commit: str | None = None
    default_branch: str = "main"
    admin_enforced: bool = False
    commits: tuple[str, ...] = ()  # the merge commit and the default branch's later commits, oldest first
    runs: tuple[RunFact, ...] = ()  # every run on those commits and on the new tags' commits
    releases: tuple[ReleaseFact, ...] = ()  # made at or after the merge, oldest first
    tags: tuple[str, ...] = ()  # tags on those commits
    images: tuple[ImagePush, ...] = ()
    release_workflows: tuple[str, ...] = ()  # the plan's changed release workflow paths (may be empty)
    # For a fix that only deletes redundant docker workflows: the workflows the deleted ones duplicated (the keepers,
    # from the plan's redundant-docker findings). Their run after the merge, with no image tag pushed twice, verifies.
    keepers: tuple[str, ...] = ()
    docker_only: bool = False
    workflows: tuple[WorkflowFile, ...] | None = None  # None: not read
    registry: RegistryFact | None = None  # None: not asked


@dataclass(frozen=True)
class Judgement:
    repo: str
    verdict: Verdict
    summary: str  # one line
    evidence: tuple[str, ...] = ()
    next_step: str = ""
    url: str = ""  # the PR
    merged_at: str | None = None
    decided_at: str | None = None  # when the deciding run or release happened (for the report's burndown)
    links: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (label, URL): run, tag, release
    caused_by_fix: bool = False  # broken because of the change (a race the PAT set off), not despite it
