"""What the GitHub adapter hands the planner. Plain frozen values: no PyGithub types leak out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from migrator.model import RepoFile


@dataclass(frozen=True)
class Protection:
    """The default branch's protection, as far as the token can read it."""

    enforce_admins: bool = False
    required_checks: tuple[str, ...] = ()
    required_reviews: int = 0
    readable: bool = True  # False when the token may not read protection (then the rest is unknown)
    rulesets: tuple[str, ...] = ()  # names of rulesets targeting the default branch, where readable


@dataclass(frozen=True)
class RepoRecord:
    """One repository as read in bulk: metadata, default branch head, and the files the rules need."""

    full_name: str  # "org/repo"
    default_branch: str | None  # None for an empty repository
    head_oid: str | None  # the default branch's head commit
    archived: bool = False
    disabled: bool = False
    fork: bool = False
    empty: bool = False
    visibility: str = "public"
    topics: tuple[str, ...] = ()
    protection: Protection = field(default_factory=Protection)
    # .github/workflows/* plus companions (README.md, .github/README.md, package.json), with blob oids.
    files: Mapping[str, RepoFile] = field(default_factory=dict)
    # Files that could not be read (binary, too large, a symlink, vanished): path -> why.
    skipped: Mapping[str, str] = field(default_factory=dict)
    # Why the repository itself could not be read, when it changed under the reader (deleted, or its
    # default branch deleted, between listing and reading); None for a repository read whole.
    vanished: str | None = None
    # The workflow runs on the default branch's head commit, and when the latest release was made.
    runs: tuple[RunEvidence, ...] = ()
    latest_release_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunEvidence:
    """One workflow run on the default branch's head commit, as the bulk read sees it (its check suite)."""

    workflow: str  # .github/workflows/main.yml
    run_number: int
    url: str
    created_at: str  # ISO 8601
    status: str  # completed, in_progress, queued, ...
    conclusion: str | None  # success, failure, ... (None while it runs)
    failed_job: str | None = None


@dataclass(frozen=True)
class ListedRepo:
    """A repository as the cheap first pass of a sharded plan sees it: its name and default branch."""

    full_name: str
    default_branch: str | None


@dataclass(frozen=True)
class TokenInfo:
    login: str
    scopes: tuple[str, ...] | None  # None for tokens that do not report scopes (fine-grained, App)
    can_push_workflows: bool  # classic `workflow` scope, or an App's `workflows: write`
    kind: str = "token"  # "token" or "app"
    # False when GitHub does not say (fine-grained tokens): can_push_workflows is then an optimistic True.
    workflow_permission_known: bool = True
    # Whether it may push and open pull requests at all: False for a read-only token, None when GitHub does not say.
    can_write: bool | None = True

    @property
    def identity(self) -> str:
        """Who acts: the login, or the App (any of its installations acts as the same App)."""
        return self.login.split(" (installation", 1)[0]


@dataclass(frozen=True)
class SecretNames:
    """Secret names visible to one repository. None where the token may not list them."""

    repo: frozenset[str] | None
    org: frozenset[str] | None

    def has(self, name: str) -> bool | None:
        """True/False when known; None when neither list could be read."""
        known = [s for s in (self.repo, self.org) if s is not None]
        if any(name.upper() in {n.upper() for n in names} for names in known):
            return True
        return None if len(known) < 2 else False


@dataclass
class Usage:
    """Requests and GraphQL points spent, reported at the end of every run."""

    rest_requests: int = 0
    graphql_requests: int = 0
    graphql_points: int = 0
    retries: int = 0

    @property
    def requests(self) -> int:
        return self.rest_requests + self.graphql_requests


class GitHubReader(Protocol):
    """The read side of the adapter, as the planner uses it."""

    usage: Usage

    def token_info(self) -> TokenInfo: ...

    def count_repositories(self, org: str) -> int: ...

    def repositories(self, org: str) -> Iterator[RepoRecord]: ...

    def repository_names(self, org: str) -> Iterator[ListedRepo]:
        """Every repository's name and default branch, without contents (the first pass of a shard)."""
        ...

    def repositories_named(self, org: str, listed: Sequence[ListedRepo]) -> Iterator[RepoRecord]:
        """These repositories, read as `repositories` reads them, in the order given."""
        ...

    def secret_names(self, full_name: str) -> SecretNames: ...

    def org_secret_names(self, org: str) -> frozenset[str] | None:
        """Secrets of the org that every repository can read; None when the token may not list them."""
        ...
