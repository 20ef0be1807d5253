"""What the executor needs from GitHub to apply and roll back plans.

The adapter (migrator/github/) implements `Writer`. Every write is one request
and is never retried by the adapter: on an ambiguous failure (5xx, timeout,
lost response) it raises `Ambiguous`, and the executor reads the state back
before deciding anything. Rate limits raise `Throttled` with how long to wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"


class WriteError(Exception):
    """A request of the executor failed; the message is one line and safe to show (no tokens)."""


class ReadFailed(WriteError):
    """A read kept failing after the read retry (5xx, timeouts, GitHub's "Something went wrong"). Nothing was
    written by it, so the repository can simply be tried again later."""


class Gone(WriteError):
    """The repository is deleted, or no longer visible to this token (GitHub answers both the same way)."""


class AlreadyExists(WriteError):
    """422: the ref or the pull request already exists."""


class StaleHead(WriteError):
    """createCommitOnBranch's expectedHeadOid no longer matches (GraphQL STALE_DATA)."""


class Vanished(WriteError):
    """The repository's default branch is gone (deleted since the plan): nothing planned applies any more."""


class Forbidden(WriteError):
    """403/404 on a write: the token may not write here (no push access, no `workflow` scope, protection)."""


class Rejected(WriteError):
    """422 or similar: GitHub refused this request for a reason that repeating will not change."""


class Ambiguous(WriteError):
    """5xx, a timeout, or a lost response: the write may or may not have happened. Read back first."""


class Throttled(WriteError):
    """Primary or secondary rate limit. `wait` is what GitHub asked for (Retry-After / x-ratelimit-reset)."""

    def __init__(self, message: str, *, wait: float) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class CommitInfo:
    oid: str
    parents: tuple[str, ...]
    message: str
    tree: str = ""  # the commit's tree oid, where the read asked for it


@dataclass(frozen=True)
class PullInfo:
    number: int
    url: str
    state: str  # "open" | "closed" | "merged"
    head_ref: str
    head_oid: str
    base_ref: str
    body: str = ""
    merge_commit_oid: str | None = None
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()  # logins with a pending review request
    team_reviewers: tuple[str, ...] = ()  # team slugs with a pending review request
    mergeable: str | None = None  # MERGEABLE | CONFLICTING | UNKNOWN


@dataclass(frozen=True)
class RepoState:
    """One read of a repository, enough for the drift check and for adopting earlier work."""

    default_branch: str
    default_head: str
    blobs: Mapping[str, str | None]  # path -> blob oid at the default branch head (None: absent)
    branch_head: CommitInfo | None  # our branch, if it exists
    pulls: Sequence[PullInfo] = field(default_factory=tuple)  # PRs whose head is our branch (any state)
    modes: Mapping[str, str | None] = field(default_factory=dict)  # path -> git file mode ("100644", "120000", ...)

    def is_link(self, path: str) -> bool:
        """A symbolic link (or a submodule): migrator never writes through one."""
        return self.modes.get(path) in {SYMLINK_MODE, SUBMODULE_MODE}


@dataclass(frozen=True)
class PullRequestSpec:
    base: str
    head: str
    title: str
    body: str
    draft: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()


class Writer(Protocol):
    # --- reads (safe to retry; the adapter may retry them itself) ---
    def repo_state(self, repo: str, *, branch: str, paths: Sequence[str]) -> RepoState: ...

    def commit(self, repo: str, oid: str) -> CommitInfo: ...

    def comment_bodies(self, repo: str, number: int) -> list[str]: ...  # every comment on the PR, oldest first

    # --- content-creating writes (one request each, never retried by the adapter) ---
    def create_branch(self, repo: str, *, branch: str, oid: str) -> None: ...

    def commit_files(
        self,
        repo: str,
        *,
        branch: str,
        expected_head: str,
        headline: str,
        body: str,
        additions: Mapping[str, bytes],
        deletions: Sequence[str],
    ) -> str: ...  # the new commit oid

    def create_tree(
        self, repo: str, *, base_tree: str, additions: Mapping[str, bytes], deletions: Sequence[str]
    ) -> str: ...  # the new tree oid (git objects are content-addressed: making it twice makes the same tree)

    def create_commit(self, repo: str, *, tree: str, parents: Sequence[str], message: str) -> str: ...

    def force_branch(self, repo: str, *, branch: str, oid: str) -> None: ...  # move an existing branch anywhere

    def create_pull(self, repo: str, spec: PullRequestSpec) -> PullInfo: ...

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None: ...

    def request_reviewers(self, repo: str, number: int, *, users: Sequence[str], teams: Sequence[str]) -> None: ...

    def comment(self, repo: str, number: int, body: str) -> None: ...

    def close_pull(self, repo: str, number: int) -> None: ...

    def delete_branch(self, repo: str, branch: str) -> None: ...


@dataclass(frozen=True)
class CheckState:
    name: str
    state: str  # GitHub's conclusion or status, lowercased: success, failure, pending, neutral, ...


@dataclass(frozen=True)
class PullStatus:
    repo: str
    number: int
    url: str
    state: str  # open | closed | merged
    review_decision: str | None  # APPROVED | CHANGES_REQUESTED | REVIEW_REQUIRED | None
    mergeable: str | None  # MERGEABLE | CONFLICTING | UNKNOWN
    rollup: str | None  # statusCheckRollup.state of the head commit, lowercased
    checks: tuple[CheckState, ...] = ()


class StatusReader(Protocol):
    def pull_statuses(self, pulls: Sequence[tuple[str, int]]) -> list[PullStatus]:
        """Many PRs per GraphQL query (aliased `repository { pullRequest(number) { ... } }`), in input order."""
        ...
