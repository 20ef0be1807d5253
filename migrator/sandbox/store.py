"""The sandbox's state: orgs, repositories, git objects, refs, pull requests and the rest.

One re-entrant lock guards everything; the server holds it for the whole of a
request, so every API call is atomic, as a single write on GitHub is.
Repositories are materialised from the seed folder on first use, so a large
seed starts quickly.

Who may do what: a token is either one of the seed's `tokens` (a `Power`), or an
installation token the sandbox minted for a GitHub App installation (`ghs_...`,
valid until its `expires_at` on the store's clock, with the `Power` its
installation's permissions give). With no seed tokens at all, any other token is
an admin (but an unknown `ghs_` token is not), so a bare seed needs no configuration.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from enum import StrEnum

from migrator.sandbox.actions.model import ImagePush, Release, WorkflowRun
from migrator.sandbox.git import Commit, FileEntry, ObjectDB, Signature
from migrator.sandbox.protection import PR_REFUSAL, RESTRICTED_REFUSAL, Allowances
from migrator.sandbox.rulesets import ROLE_ADMIN, ROLE_WRITE, ActionsPolicy, Actor, Ruleset

HEADS = "refs/heads/"
INSTALLATION_TOKEN_PREFIX = "ghs_"
SANDBOX_USER = "sandbox-user"
SANDBOX_USER_ID = 1
SEED_AUTHOR = Signature("migrator-sandbox", "sandbox@example.invalid", 1704067200)  # 2024-01-01
# The value a secret given only by name (the seed's list form) stands for: a full-power PAT of the sandbox user.
LISTED_SECRET_VALUE = "listed-secret"


class Power(StrEnum):
    ADMIN = "admin"  # push, workflow scope, bypasses branch protection unless enforce_admins
    WRITE = "write"  # push and workflow scope, but not an admin
    NO_WORKFLOW = "no-workflow"  # push, but no `workflow` scope
    READ = "read"  # read only

    @classmethod
    def parse(cls, text: str) -> Power:
        aliases = {"full": cls.ADMIN, "read-only": cls.READ, "readonly": cls.READ}
        return aliases.get(text) or cls(text)

    @property
    def scopes(self) -> str:
        return {
            Power.ADMIN: "admin:org, repo, workflow",
            Power.WRITE: "repo, workflow",
            Power.NO_WORKFLOW: "repo",
            Power.READ: "read:org",
        }[self]

    @property
    def can_write(self) -> bool:
        return self is not Power.READ

    @property
    def can_touch_workflows(self) -> bool:
        return self in (Power.ADMIN, Power.WRITE)

    @property
    def is_admin(self) -> bool:
        return self is Power.ADMIN

    @classmethod
    def for_permissions(cls, permissions: Mapping[str, str]) -> Power:
        """What a GitHub App token may do, in the sandbox's coarse terms: `contents: write` pushes,
        `workflows: write` may touch .github/workflows (the App's `workflow` scope), and
        `administration: write` on top makes it an admin."""
        if permissions.get("contents") != "write":
            return cls.READ
        if permissions.get("workflows") != "write":
            return cls.NO_WORKFLOW
        return cls.ADMIN if permissions.get("administration") == "write" else cls.WRITE


PERMISSION_LEVELS = {"read": 1, "write": 2, "admin": 3}


@dataclass(frozen=True)
class GitHubApp:
    id: int
    slug: str
    name: str
    public_key: str  # PEM; the App signs its JWTs with the matching private key (RS256)
    owner: str  # the org that registered it
    permissions: Mapping[str, str]  # the most any installation grants


@dataclass(frozen=True)
class Installation:
    id: int
    app_id: int
    account: str  # the org it is installed on
    permissions: Mapping[str, str]
    created_at: float = SEED_AUTHOR.timestamp
    repositories: tuple[str, ...] | None = None  # repository names when installed on selected ones; None: all

    def covers(self, repo_name: str) -> bool:
        return self.repositories is None or repo_name.lower() in {r.lower() for r in self.repositories}


@dataclass(frozen=True)
class InstallationToken:
    installation_id: int
    permissions: Mapping[str, str]
    expires_at: float  # on the store's clock
    revoked: bool = False  # DELETE /installation/token

    @property
    def power(self) -> Power:
        return Power.for_permissions(self.permissions)

    def valid_at(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass(frozen=True, kw_only=True)
class Protection:
    enforce_admins: bool = False
    contexts: tuple[str, ...] = ()
    strict: bool = False
    required_reviews: int = 0
    # required_pull_request_reviews.bypass_pull_request_allowances: they push past the pull request requirement
    # (even under enforce_admins), never past required status checks.
    bypass_pull_requests: Allowances = field(default_factory=Allowances)
    restrictions: Allowances | None = None  # who may push at all; None: anyone with write access

    @property
    def blocks_direct_push(self) -> bool:
        return bool(self.contexts) or self.required_reviews > 0 or self.restrictions is not None

    def direct_push_refusal(
        self, actor: Actor | None, *, admin: bool, team_id: Callable[[str], int] | None = None
    ) -> str | None:
        """GitHub's reason (GH006) for refusing `actor` a push that is no pull request merge; None: accepted.
        Admins pass everything unless enforce_admins; no classic list lets anyone past required checks."""
        if admin and not self.enforce_admins:
            return None
        if self.restrictions is not None and (actor is None or not self.restrictions.admits(actor, team_id)):
            return RESTRICTED_REFUSAL
        bypasses_reviews = actor is not None and self.bypass_pull_requests.admits(actor, team_id)
        if self.required_reviews and not bypasses_reviews:
            return PR_REFUSAL
        if self.contexts:
            return f'Required status check "{self.contexts[0]}" is expected.'
        return None


@dataclass(frozen=True, kw_only=True)
class RepoMeta:
    default_branch: str = "main"
    archived: bool = False
    fork: bool = False
    empty: bool = False
    visibility: str = "public"
    topics: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    protection: Protection | None = None
    description: str | None = None
    # What a secret holds, for the Actions model: a token of the org's `tokens`, or `app:<installation id>`.
    secret_values: Mapping[str, str] = field(default_factory=dict)
    actions: ActionsPolicy | None = None  # the repository's Actions permissions (None: as the org's)
    # Merging: the methods the repository allows (GitHub's allow_merge_commit, allow_squash_merge,
    # allow_rebase_merge), whether auto-merge may be enabled, and whether its default branch merges
    # through a merge queue (the sandbox's queue merges an entry as soon as its requirements are met).
    merge_methods: tuple[str, ...] = ("merge", "squash", "rebase")
    allow_auto_merge: bool = False
    merge_queue: bool = False


@dataclass(frozen=True)
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass(frozen=True)
class Comment:
    id: int
    issue_number: int
    body: str
    created_at: float
    user: str = SANDBOX_USER


@dataclass(frozen=True)
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    created_at: float


@dataclass(frozen=True)
class CheckRun:
    id: int
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    started_at: float
    completed_at: float | None
    details_url: str | None = None
    external_id: str = ""
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    suite_id: int | None = None  # the check suite (a workflow run's) it belongs to
    app_slug: str = "sandbox"  # github-actions for the jobs of workflow runs


@dataclass(frozen=True)
class Review:
    id: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED
    body: str
    commit_id: str
    submitted_at: float


@dataclass(frozen=True)
class AutoMerge:
    """An auto-merge request (or a merge queue entry): merged by `enabled_by` once the requirements are met."""

    method: str  # merge | squash | rebase
    enabled_by: str  # login
    power: Power
    actor: Actor
    enabled_at: float
    queued: bool = False  # an entry of the merge queue rather than auto-merge
    expected_head: str | None = None


@dataclass
class PullRequest:
    number: int
    id: int
    title: str
    body: str | None
    head_ref: str
    head_sha: str
    base_ref: str
    created_at: float
    updated_at: float
    draft: bool = False
    state: str = "open"
    merged: bool = False
    merged_at: float | None = None
    closed_at: float | None = None
    merge_commit_sha: str | None = None
    labels: list[str] = field(default_factory=list)
    user: str = SANDBOX_USER
    requested_reviewers: list[str] = field(default_factory=list)  # user logins, in request order
    requested_teams: list[str] = field(default_factory=list)  # team slugs of the repository's org
    reviews: list[Review] = field(default_factory=list)  # submitted reviews, oldest first
    auto_merge: AutoMerge | None = None


@dataclass(frozen=True, eq=False)
class RefChange:
    """One ref moved, made or deleted during a request: what the Actions model turns into events."""

    repo: Repo
    ref: str
    before: str | None
    after: str | None


# The ref changes of the request being served; None outside one (seed loading records nothing).
REF_LOG: ContextVar[list[RefChange] | None] = ContextVar("ref_log", default=None)
# Who pushes in the request being served (rulesets judge every ref change by it); None: nobody is checked
# (seed loading, and the Actions model, which judges its pushes itself before it makes them).
PUSH_GUARD: ContextVar[Callable[[Repo, str, str | None, str | None], None] | None] = ContextVar(
    "push_guard", default=None
)
# The pull request head whose merge is being written (its checks count for required_status_checks).
MERGING: ContextVar[str | None] = ContextVar("merging", default=None)
# The pull requests opened or reopened by the request being served: (repository, number, activity).
PULL_LOG: ContextVar[list[tuple[Repo, int, str]] | None] = ContextVar("pull_log", default=None)


def note_pull(repo: Repo, number: int, action: str) -> None:
    log = PULL_LOG.get()
    if log is not None:
        log.append((repo, number, action))


class RefTable(dict[str, str]):
    """A repository's refs (full name -> commit sha) that note every change in `REF_LOG`."""

    owner: Repo | None = None

    def __setitem__(self, key: str, value: str) -> None:
        before = self.get(key)
        self._guard(key, before, value)
        super().__setitem__(key, value)
        self._note(key, before, value)

    def __delitem__(self, key: str) -> None:
        before = self[key]
        self._guard(key, before, None)
        super().__delitem__(key)
        self._note(key, before, None)

    def seed(self, key: str, value: str) -> None:
        """Set a ref as the seed has it: no push happened."""
        super().__setitem__(key, value)

    def _guard(self, key: str, before: str | None, after: str | None) -> None:
        guard = PUSH_GUARD.get()
        if guard is not None and before != after and self.owner is not None:
            guard(self.owner, key, before, after)

    def _note(self, key: str, before: str | None, after: str | None) -> None:
        log = REF_LOG.get()
        if log is not None and before != after and self.owner is not None:
            log.append(RefChange(self.owner, key, before, after))


@dataclass
class Repo:
    org: str
    name: str
    id: int
    meta: RepoMeta
    loader: Callable[[Repo], None] | None = None
    git: ObjectDB = field(default_factory=ObjectDB)
    refs: RefTable = field(default_factory=RefTable)  # full ref name -> commit sha
    protections: dict[str, Protection] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name -> label
    statuses: list[Status] = field(default_factory=list)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    next_number: int = 1
    created_at: float = SEED_AUTHOR.timestamp
    pushed_at: float = SEED_AUTHOR.timestamp
    # The Actions model's records: workflow ids by path, runs and releases by id.
    workflow_ids: dict[str, int] = field(default_factory=dict)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)
    releases: dict[int, Release] = field(default_factory=dict)
    rulesets: list[Ruleset] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.refs, RefTable):
            self.refs = RefTable(self.refs)
        self.refs.owner = self

    @property
    def full_name(self) -> str:
        return f"{self.org}/{self.name}"

    @property
    def default_branch(self) -> str:
        return self.meta.default_branch

    def ensure_loaded(self) -> None:
        loader, self.loader = self.loader, None
        if loader is not None:
            loader(self)

    @property
    def is_empty(self) -> bool:
        self.ensure_loaded()
        return not self.refs

    def branch_sha(self, branch: str) -> str | None:
        self.ensure_loaded()
        return self.refs.get(HEADS + branch)

    def branches(self) -> list[str]:
        self.ensure_loaded()
        return sorted(ref[len(HEADS) :] for ref in self.refs if ref.startswith(HEADS))

    def commit(self, sha: str) -> Commit:
        return self.git.commits[sha]

    def files_at(self, commit_sha: str) -> dict[str, FileEntry]:
        return self.git.flatten(self.commit(commit_sha).tree)

    def protection_for(self, branch: str) -> Protection | None:
        return self.protections.get(branch)

    def resolve_commitish(self, ref: str) -> str | None:
        """A commit id for a branch name, a full or short ref, a tag, or a (short) sha."""
        self.ensure_loaded()
        for candidate in (ref, HEADS + ref, "refs/tags/" + ref, "refs/" + ref):
            if candidate in self.refs:
                return self.refs[candidate]
        sha = self.git.resolve_prefix(ref.lower()) if _is_hex(ref) else None
        return sha if sha and sha in self.git.commits else None


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdefABCDEF" for c in text)


@dataclass
class Org:
    login: str
    id: int
    secrets: tuple[str, ...] = ()
    repos: dict[str, Repo] = field(default_factory=dict)  # name -> repo, in listing order
    secret_values: Mapping[str, str] = field(default_factory=dict)  # see RepoMeta.secret_values
    rulesets: list[Ruleset] = field(default_factory=list)
    actions: ActionsPolicy = field(default_factory=ActionsPolicy)


def node_id(kind: str, key: str) -> str:
    """An opaque, stable global id like GitHub's legacy ones (base64 of "kind:key")."""
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def parse_node_id(value: str) -> tuple[str, str] | None:
    try:
        kind, _, key = base64.b64decode(value.encode(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (kind, key) if key else None


class Store:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.orgs: dict[str, Org] = {}
        self.tokens: dict[str, Power] = {}
        self.token_logins: dict[str, str] = {}  # the user a seed token belongs to (default: the sandbox user)
        self.token_teams: dict[str, tuple[str, ...]] = {}  # `org/slug` teams a seed token's user is in
        self.registry: list[ImagePush] = []  # every image push the Actions model recorded, in order
        self.apps: dict[int, GitHubApp] = {}
        self.installations: dict[int, Installation] = {}
        self.installation_tokens: dict[str, InstallationToken] = {}
        self.minted_tokens: list[str] = []  # every installation token ever minted, in order (tests scan for them)
        # pull requests with an auto-merge request or a merge queue entry, by (repository, number)
        self.auto_merging: dict[tuple[str, int], tuple[Repo, PullRequest]] = {}
        self._ids: dict[str, int] = {}
        self._accounts: dict[tuple[str, str], int] = {}

    def next_id(self, kind: str) -> int:
        value = self._ids.get(kind, 1000) + 1
        self._ids[kind] = value
        return value

    def account_id(self, kind: str, key: str) -> int:
        """A stable database id for a user login or an `org/slug` team, made up on first sight."""
        if kind == "User" and key.lower() == SANDBOX_USER:
            return SANDBOX_USER_ID
        found = self._accounts.get((kind, key.lower()))
        if found is None:
            found = self._accounts[(kind, key.lower())] = self.next_id(kind.lower())
        return found

    def team_id_in(self, org: str) -> Callable[[str], int]:
        """Team slug -> the team's id, as `Actor.teams` holds them."""
        return lambda slug: self.account_id("Team", f"{org}/{slug}")

    def power_of(self, token: str) -> Power | None:
        """What `token` may do; None when it is no credential at all (401 Bad credentials)."""
        if not token:
            return None
        minted = self.installation_tokens.get(token)
        if minted is not None:
            return minted.power if minted.valid_at(self.clock()) else None
        if token.startswith(INSTALLATION_TOKEN_PREFIX):  # only tokens the sandbox minted are installation tokens
            return None
        if not self.tokens:
            return Power.ADMIN
        return self.tokens.get(token)

    def is_installation_token(self, token: str) -> bool:
        return token in self.installation_tokens

    def login_of(self, token: str) -> str:
        """Whom GitHub credits with what `token` does: its user, or its App as `<slug>[bot]`."""
        minted = self.installation_tokens.get(token)
        if minted is not None:
            installation = self.installations.get(minted.installation_id)
            app = self.apps.get(installation.app_id) if installation else None
            return f"{app.slug}[bot]" if app else "github-app[bot]"
        return self.token_logins.get(token, SANDBOX_USER)

    def rulesets_for(self, repo: Repo) -> list[Ruleset]:
        """Every ruleset on `repo`: the org's that select it, then its own (GitHub lists them so)."""
        org = self.orgs.get(repo.org)
        inherited = [r for r in org.rulesets if r.applies_to_repo(repo.name)] if org else []
        return [*inherited, *repo.rulesets]

    def rules_for(self, repo: Repo, ref: str) -> list[Ruleset]:
        return [r for r in self.rulesets_for(repo) if r.applies_to_ref(ref, repo.default_branch)]

    def actions_policy(self, repo: Repo) -> ActionsPolicy:
        org = self.orgs.get(repo.org)
        return repo.meta.actions or (org.actions if org else ActionsPolicy())

    def actor_of(self, token: str, power: Power | None = None) -> Actor:
        """Who `token` is to a ruleset: a user with a repository role, or an App installation."""
        minted = self.installation_tokens.get(token)
        if minted is not None:
            installation = self.installations.get(minted.installation_id)
            return Actor(self.login_of(token), app_id=installation.app_id if installation else None)
        power = power or self.power_of(token) or Power.READ
        login = self.login_of(token)
        role = ROLE_ADMIN if power.is_admin else ROLE_WRITE if power.can_write else 1
        teams = tuple(self.account_id("Team", t) for t in self.token_teams.get(token, ()))
        return Actor(login, role=role, org_admin=power.is_admin, teams=teams, user_id=self.account_id("User", login))

    def install_app(self, app: GitHubApp, installation: Installation) -> None:
        """Register an App (once; every org that installs it must declare the same key) and one installation."""
        known = self.apps.get(app.id)
        if known is not None and known.public_key.strip() != app.public_key.strip():
            raise ValueError(f"app {app.id} is declared twice with different public keys")
        if installation.id in self.installations:
            raise ValueError(f"installation {installation.id} is declared twice")
        account = installation.account.lower()
        if any(i.app_id == app.id and i.account.lower() == account for i in self.installations.values()):
            raise ValueError(f"app {app.id} is installed on {installation.account} twice")
        if known is not None:
            merged = {**known.permissions}
            for name, level in app.permissions.items():
                if PERMISSION_LEVELS.get(level, 0) > PERMISSION_LEVELS.get(merged.get(name, ""), 0):
                    merged[name] = level
            app = replace(known, permissions=merged)
        self.apps[app.id] = app
        self.installations[installation.id] = installation

    def add_installation_token(self, token: str, minted: InstallationToken) -> None:
        self.installation_tokens[token] = minted
        self.minted_tokens.append(token)

    def org(self, login: str) -> Org | None:
        found = self.orgs.get(login)
        if found is None:  # GitHub logins are case-insensitive
            found = next((o for name, o in self.orgs.items() if name.lower() == login.lower()), None)
        return found

    def repo(self, owner: str, name: str) -> Repo | None:
        org = self.org(owner)
        if org is None:
            return None
        repo = org.repos.get(name) or next((r for n, r in org.repos.items() if n.lower() == name.lower()), None)
        if repo is not None:
            repo.ensure_loaded()
        return repo

    def repo_by_id(self, repo_id: int) -> Repo | None:
        for org in self.orgs.values():
            for repo in org.repos.values():
                if repo.id == repo_id:
                    repo.ensure_loaded()
                    return repo
        return None

    def all_repos(self) -> Iterator[Repo]:
        for org in self.orgs.values():
            yield from org.repos.values()

    def signature(self) -> Signature:
        return Signature(SANDBOX_USER, f"{SANDBOX_USER_ID}+{SANDBOX_USER}@users.noreply.github.com", int(self.clock()))

    def commit_changes(
        self,
        repo: Repo,
        *,
        parent: str | None,
        changes: Mapping[str, bytes | None],
        message: str,
        author: Signature | None = None,
    ) -> Commit:
        """A new commit on top of `parent` with files added, replaced (bytes) or deleted (None)."""
        files = repo.files_at(parent) if parent else {}
        for path, data in changes.items():
            if data is None:
                files.pop(path, None)
            else:
                files[path] = FileEntry(repo.git.put_blob(data), files.get(path, FileEntry("")).mode or "100644")
        tree = repo.git.build_tree(files)
        signature = author or self.signature()
        return repo.git.put_commit(
            tree=tree, parents=(parent,) if parent else (), author=signature, committer=signature, message=message
        )

    def add_pull(self, repo: Repo, *, title: str, body: str | None, head: str, base: str, draft: bool) -> PullRequest:
        now = self.clock()
        head_sha = repo.branch_sha(head) or ""
        pull = PullRequest(
            number=repo.next_number,
            id=self.next_id("pull"),
            title=title,
            body=body,
            head_ref=head,
            head_sha=head_sha,
            base_ref=base,
            created_at=now,
            updated_at=now,
            draft=draft,
        )
        repo.next_number += 1
        repo.pulls[pull.number] = pull
        note_pull(repo, pull.number, "opened")
        return pull

    def head_sha(self, repo: Repo, pull: PullRequest) -> str:
        """An open PR follows its branch; a closed one keeps the last head it saw."""
        if pull.state == "open":
            current = repo.branch_sha(pull.head_ref)
            if current:
                pull.head_sha = current
        return pull.head_sha

    def add_comment(self, repo: Repo, number: int, body: str) -> Comment:
        comment = Comment(self.next_id("comment"), number, body, self.clock())
        repo.comments.append(comment)
        return comment

    def label(self, repo: Repo, name: str) -> Label:
        key = name.lower()
        if key not in repo.labels:
            repo.labels[key] = Label(self.next_id("label"), name)
        return repo.labels[key]

    def set_protection(self, repo: Repo, branch: str, protection: Protection | None) -> None:
        if protection is None:
            repo.protections.pop(branch, None)
        else:
            repo.protections[branch] = protection

    def reset_meta(self, repo: Repo, **changes: object) -> None:
        repo.meta = replace(repo.meta, **changes)  # type: ignore[arg-type]
