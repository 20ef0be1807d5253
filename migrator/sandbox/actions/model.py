"""What the Actions model records: workflow runs with their jobs and steps, releases, and image pushes.

All frozen: a run that finishes later (with `--actions-delay`) is replaced by its finished copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepRecord:
    number: int
    name: str
    status: str  # queued, in_progress, completed
    conclusion: str | None  # success, failure, skipped
    started_at: float | None = None
    completed_at: float | None = None
    log: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobRecord:
    id: int
    key: str  # the job's id in the workflow (`jobs.<key>`)
    name: str  # its check run's name
    status: str
    conclusion: str | None
    started_at: float
    completed_at: float | None
    check_run_id: int
    steps: tuple[StepRecord, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def failed_step(self) -> StepRecord | None:
        return next((s for s in self.steps if s.conclusion == "failure"), None)

    @property
    def log(self) -> tuple[str, ...]:
        return tuple(line for step in self.steps for line in step.log)


@dataclass(frozen=True)
class WorkflowRun:
    id: int
    run_number: int
    workflow_id: int
    path: str
    name: str
    event: str
    head_branch: str | None
    head_sha: str
    ref: str
    actor: str
    check_suite_id: int
    created_at: float
    status: str  # queued, in_progress, completed
    conclusion: str | None
    updated_at: float
    display_title: str = ""
    due_at: float = 0.0  # when a delayed run finishes (its effects happen then)
    jobs: tuple[JobRecord, ...] = ()
    depth: int = 0


@dataclass(frozen=True)
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str
    body: str
    author: str  # the login of the token that created it (a bot's is `<slug>[bot]`)
    created_at: float
    published_at: float | None
    draft: bool = False
    prerelease: bool = False
    run_id: int | None = None  # the workflow run whose step created it


@dataclass(frozen=True)
class ImagePush:
    image: str  # ghcr.io/acme/app
    tag: str  # 1.2.0, latest
    repository: str  # acme/app: whose workflow pushed it
    run_id: int
    workflow: str  # .github/workflows/docker.yml
    job: str
    event: str
    ref: str
    sha: str
    pushed_at: float

    def as_json(self) -> dict[str, object]:
        return {
            "image": self.image,
            "tag": self.tag,
            "reference": f"{self.image}:{self.tag}",
            "repository": self.repository,
            "run_id": self.run_id,
            "workflow": self.workflow,
            "job": self.job,
            "event": self.event,
            "ref": self.ref,
            "sha": self.sha,
            "pushed_at": self.pushed_at,
        }
