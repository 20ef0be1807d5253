"""What the GitHub adapter hands the planner. Plain frozen values: no PyGithub types leak out."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from migrator.model import RepoFile

if TYPE_CHECKING:
    from migrator.github.installations import AppInstallation


@dataclass(frozen=True, kw_only=True)
class Allowances:
    """A list of actors of classic branch protection: who may bypass required pull requests, or who may push."""

    users: tuple[str, ...] = ()  # logins
    teams: tuple[str, ...] = ()  # team slugs
    apps: tuple[str, ...] = ()  # App slugs
    app_ids: tuple[int, ...] = ()
    complete: bool = True  # False when the bulk read listed only the first of them

    def lists_app(self, app_id: int | None, slug: str | None) -> bool:
        return (app_id is not None and app_id in self.app_ids) or (slug is not None and slug in self.apps)

    def describe(self) -> str:
        named = [*(f"user {u}" for u in self.users), *(f"team {t}" for t in self.teams),
                 *(f"the App {a}" for a in self.apps)]  # fmt: skip
        return ", ".join(named) + ("" if self.complete else ", and more") if named else "nobody"


@dataclass(frozen=True)
class Protection:
    """The default branch's protection, as far as the token can read it."""

    enforce_admins: bool = False
    required_checks: tuple[str, ...] = ()
    required_reviews: int = 0
    readable: bool = True  # False when the token may not read protection (then the rest is unknown)
    rulesets: tuple[str, ...] = ()  # names of rulesets targeting the default branch, where readable
    # required_pull_request_reviews.bypass_pull_request_allowances: they push past the pull request requirement,
    # even under enforce_admins, never past required status checks
    bypass_pull_requests: Allowances = Allowances()
    push_allowances: Allowances | None = None  # `restrictions`: who may push at all; None when not restricted


@dataclass(frozen=True, kw_only=True)
class BypassEntry:
    """Who may bypass a ruleset: a repository role, org admins, an App, a team or deploy keys."""

    kind: str  # RepositoryRole, OrganizationAdmin, Integration, Team, DeployKey
    mode: str = "always"  # always, pull_request
    role: str | None = None  # the repository role's name (write, maintain, admin, or a custom role)
    app_id: int | None = None
    app_slug: str | None = None
    team: str | None = None

    def describe(self) -> str:
        if self.kind == "RepositoryRole":
            return f"the {self.role or 'unknown'} role"
        if self.kind == "OrganizationAdmin":
            return "organization admins"
        if self.kind == "Integration":
            return f"the App {self.app_slug or self.app_id}"
        if self.kind == "Team":
            return f"the team {self.team}"
        return "deploy keys" if self.kind == "DeployKey" else self.kind


@dataclass(frozen=True, kw_only=True)
class RulesetRule:
    type: str  # creation, update, deletion, non_fast_forward, pull_request, required_status_checks, ...
    required_checks: tuple[str, ...] = ()
    required_reviews: int = 0
    checks_skip_creation: bool = False  # required_status_checks' do_not_enforce_on_create


@dataclass(frozen=True, kw_only=True)
class Ruleset:
    """A branch or tag ruleset on a repository (its own, or its org's), as GraphQL lists it."""

    name: str
    id: int | None
    target: str  # branch, tag
    enforcement: str  # active, evaluate, disabled
    source: str  # "org/repo" or the org's login
    source_type: str = "Repository"  # Repository, Organization, Enterprise
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rules: tuple[RulesetRule, ...] = ()
    bypass: tuple[BypassEntry, ...] = ()
    bypass_complete: bool = True  # False when more bypass actors exist than the bulk read lists

    def applies_to(self, ref: str, default_branch: str | None) -> bool:
        """Whether its ref_name condition selects `ref` (a full ref name), as GitHub matches it."""
        prefix = "refs/heads/" if self.target == "branch" else "refs/tags/" if self.target == "tag" else None
        if prefix is None or not ref.startswith(prefix):
            return False

        def hit(pattern: str) -> bool:
            if pattern == "~ALL":
                return True
            if pattern == "~DEFAULT_BRANCH":
                return default_branch is not None and ref == "refs/heads/" + default_branch
            return fnmatch.fnmatchcase(ref, pattern)

        return any(hit(p) for p in self.include) and not any(hit(p) for p in self.exclude)


# The tag semantic-release pushes, as rulesets are matched against: any `v*` tag stands for all of them.
RELEASE_TAG_REF = "refs/tags/v1.0.0"


@dataclass(frozen=True)
class CampaignCommit:
    oid: str
    parents: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class CampaignPull:
    number: int
    url: str
    state: str  # open | closed | merged
    head_oid: str
    base_ref: str
    mergeable: str | None = None  # MERGEABLE | CONFLICTING | UNKNOWN


@dataclass(frozen=True)
class CampaignRead:
    """What a repository holds of the campaign: its branch's head commit and the PRs from that branch (newest
    first, only from the repository itself, never a fork's branch of the same name)."""

    head: CampaignCommit | None = None
    pulls: tuple[CampaignPull, ...] = ()


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
    # The branch and tag rulesets that apply to the default branch or to release tags (`refs/tags/v*`), org
    # ones included; `rulesets_readable` is False when GitHub would not list them (then they are unknown).
    rulesets: tuple[Ruleset, ...] = ()
    rulesets_readable: bool = True
    # The campaign's branch (`migrator/<campaign>`) and the pull requests from it, read in the same page.
    campaign: CampaignRead = field(default_factory=CampaignRead)


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
        return identity_of(self.login)


def identity_of(login: str) -> str:
    """Who acts: the login, or the App (any of its installations acts as the same App)."""
    return login.split(" (installation", 1)[0]


@dataclass(frozen=True, kw_only=True)
class ActionsPolicy:
    """The org's Actions permissions (`GET /orgs/{org}/actions/permissions` and its selected actions)."""

    readable: bool = True  # False when the token may not read them (they need org admin): then all is unknown
    enabled: bool = True
    allowed_actions: str = "all"  # all, local_only, selected
    sha_pinning_required: bool = False
    github_owned_allowed: bool = True
    verified_allowed: bool = False
    patterns_allowed: tuple[str, ...] = ()

    def allows(self, action: str) -> bool | None:
        """Whether `owner/name@ref` may run; None when the policy is unknown."""
        if not self.readable:
            return None
        if not self.enabled or self.allowed_actions == "local_only":
            return False
        if self.allowed_actions == "all":
            return True
        owner = action.split("/", 1)[0].lower()
        if self.github_owned_allowed and owner in ("actions", "github"):
            return True
        name = action.split("@", 1)[0]
        return any(fnmatch.fnmatchcase(action, p) or fnmatch.fnmatchcase(name, p) for p in self.patterns_allowed)


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

    def repositories(self, org: str, *, campaign_branch: str | None = None) -> Iterator[RepoRecord]: ...

    def repository_names(self, org: str) -> Iterator[ListedRepo]:
        """Every repository's name and default branch, without contents (the first pass of a shard)."""
        ...

    def repositories_named(
        self, org: str, listed: Sequence[ListedRepo], *, campaign_branch: str | None = None
    ) -> Iterator[RepoRecord]:
        """These repositories, read as `repositories` reads them, in the order given."""
        ...

    def secret_names(self, full_name: str) -> SecretNames: ...

    def org_secret_names(self, org: str) -> frozenset[str] | None:
        """Secrets of the org that every repository can read; None when the token may not list them."""
        ...

    def actions_policy(self, org: str) -> ActionsPolicy:
        """The org's Actions permissions (allowed actions, SHA pinning), read once per plan."""
        ...

    def app_installation(self, org: str, slug: str) -> AppInstallation:
        """Where the release App is installed (release-app-token's preflight), read once per plan."""
        ...
