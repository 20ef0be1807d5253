"""Who a job's git pushes and API calls act as, and what GitHub answers them.

- `GITHUB_TOKEN` is an installation token of the GitHub Actions app, credited to `github-actions[bot]`; with no
  `permissions:` it may write contents (the repository default this model assumes), `contents: read` makes it
  read-only. It is never an admin, so branch protection always applies to it (GitHub docs, "Automatic token
  authentication" / "GITHUB_TOKEN"; "About protected branches").
- A secret's value names a token of the org's `tokens` (a PAT with that power and its user), or
  `app:<installation id>` (an installation token of that App, credited to `<slug>[bot]`). A secret listed by name
  only stands for a full-power PAT of the sandbox user. An unset secret expands to ''.
- git sends `http.https://github.com/.extraheader` (`AUTHORIZATION: basic …`, what actions/checkout persists) with
  every request to github.com, so that credential is used even when the remote URL embeds another one
  (actions/checkout `src/git-auth-helper.ts`, README "persist-credentials"). An `ssh-key` checkout pushes over SSH
  as that deploy key. With no credential at all git cannot authenticate.
- A push to a protected branch by anyone who does not bypass protection (admins do, and not under
  `enforce_admins`) is refused with GitHub's GH006 text; tags are not protected by branch protection. An actor
  in `bypass_pull_request_allowances` (users, teams, Apps) passes the pull request requirement, even under
  `enforce_admins`, but never required status checks; `restrictions`, when set, must list the pusher.
- Rulesets (branch and tag, org and repository) judge every push after that, as GitHub does: an active ruleset's
  rule the pusher does not bypass refuses it with GH013. GITHUB_TOKEN is the GitHub Actions app (Integration
  15368), which no bypass list in practice names; a PAT is its user with the token's role (admins are org admins
  too); an App token is its App; an `ssh-key` push is a deploy key.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from migrator.sandbox import ops, rulesets
from migrator.sandbox.rulesets import GITHUB_ACTIONS_APP_ID, Actor
from migrator.sandbox.store import LISTED_SECRET_VALUE, SANDBOX_USER, Power, Repo, Store

GITHUB_ACTIONS_BOT = "github-actions[bot]"
HOST = "github.com"


@dataclass(frozen=True)
class Credential:
    label: str  # how the workflow named it: GITHUB_TOKEN, secrets.PAT_TOKEN, ssh-key
    login: str
    power: Power | None  # None: GitHub does not accept it
    github_token: bool = False  # events it makes start no workflow
    value: str = ""  # the string a workflow sees when it expands the secret
    actor: Actor | None = None  # who rulesets see pushing

    @property
    def accepted(self) -> bool:
        return self.power is not None


def github_token(run_id: int, permissions: object) -> Credential:
    return Credential(
        "GITHUB_TOKEN",
        GITHUB_ACTIONS_BOT,
        _github_token_power(permissions),
        True,
        f"ghs_run{run_id}",
        Actor(GITHUB_ACTIONS_BOT, app_id=GITHUB_ACTIONS_APP_ID),
    )


def _github_token_power(permissions: object) -> Power:
    if permissions is None or permissions == "write-all":
        return Power.WRITE
    if isinstance(permissions, dict):
        return Power.WRITE if permissions.get("contents") == "write" else Power.READ
    return Power.READ


def secret(store: Store, repo: Repo, name: str) -> Credential | None:
    """The credential a `secrets.NAME` holds, or None when the secret is not set."""
    org = store.orgs[repo.org]
    value = repo.meta.secret_values.get(name) or org.secret_values.get(name)
    if value is None:
        listed = name in repo.meta.secrets or name in org.secrets
        value = LISTED_SECRET_VALUE if listed else None
    if value is None:
        return None
    label = f"secrets.{name}"
    if value == LISTED_SECRET_VALUE:
        user_id = store.account_id("User", SANDBOX_USER)
        admin = Actor(SANDBOX_USER, role=rulesets.ROLE_ADMIN, org_admin=True, user_id=user_id)
        return Credential(label, SANDBOX_USER, Power.ADMIN, value=f"{name.lower()}-value", actor=admin)
    if value.startswith("app:"):
        return _app_credential(store, label, value)
    power = store.power_of(value)
    actor = store.actor_of(value, power) if power is not None else None
    return Credential(label, store.login_of(value), power, value=value, actor=actor)


def _app_credential(store: Store, label: str, value: str) -> Credential:
    installation = store.installations.get(int(value[4:])) if value[4:].isdigit() else None
    if installation is None:
        return Credential(label, "unknown-app[bot]", None, value=value)
    app = store.apps[installation.app_id]
    login = f"{app.slug}[bot]"
    power = Power.for_permissions(installation.permissions)
    return Credential(label, login, power, value=value, actor=Actor(login, app_id=app.id))


def deploy_key(repo: Repo) -> Credential:
    login = f"deploy key of {repo.full_name}"
    return Credential("ssh-key", login, Power.WRITE, value="ssh-key", actor=Actor(login, deploy_key=True))


def from_url(url: str, known: dict[str, Credential]) -> Credential | None:
    """The credential a remote URL embeds (`https://x-access-token:TOKEN@github.com/…`), if any."""
    match = re.match(r"https?://([^@/]+)@", url)
    if match is None:
        return None
    user, _, password = match.group(1).partition(":")
    token = password or user
    return known.get(token) or Credential("a token in the remote URL", "unknown", None, value=token)


def extraheader(credential: Credential) -> str:
    """The header actions/checkout writes: basic auth of `x-access-token:<token>`."""
    raw = base64.b64encode(f"x-access-token:{credential.value}".encode()).decode()
    return f"AUTHORIZATION: basic {raw}"


def masked_url(url: str) -> str:
    """A URL as semantic-release logs it, credentials hidden."""
    return re.sub(r"//([^@/]+)@", lambda m: "//" + ("x-access-token:" if ":" in m[1] else "") + "[secure]@", url)


def refusal(
    repo: Repo,
    credential: Credential | None,
    ref: str,
    *,
    url: str,
    store: Store | None = None,
    sha: str | None = None,
) -> str | None:
    """GitHub's answer (as git prints it) when `credential` pushes `sha` (None: a new commit on top) to `ref`;
    None when the push is accepted. With `store`, rulesets judge it too."""
    problem = _protection_refusal(repo, credential, ref, url=url, store=store)
    if problem is not None or store is None or credential is None or credential.actor is None:
        return problem
    applicable = store.rules_for(repo, ref)
    if not applicable:
        return None
    before = repo.refs.get(ref)
    fast_forward = True
    if sha is not None and before is not None and sha in repo.git.commits:
        fast_forward = repo.git.is_ancestor(before, sha)
    push = rulesets.Push(ref, before, sha or "0" * 40, fast_forward=fast_forward)
    found = rulesets.violations(applicable, push, credential.actor, lambda s: ops.successful_contexts(repo, s))
    if not found:
        return None
    return rulesets.git_refusal(ref, found, url=re.sub(r"//[^@/]+@", "//", url), full_name=repo.full_name)


def _protection_refusal(
    repo: Repo, credential: Credential | None, ref: str, *, url: str, store: Store | None = None
) -> str | None:
    clean = re.sub(r"//[^@/]+@", "//", url)
    if credential is None:
        return "fatal: could not read Username for 'https://github.com': No such device or address"
    if credential.power is None:
        return (
            "remote: Invalid username or token. Password authentication is not supported for Git operations.\n"
            f"fatal: Authentication failed for '{clean}/'"
        )
    if not credential.power.can_write or repo.meta.archived:
        return (
            f"remote: Permission to {repo.full_name}.git denied to {credential.login}.\n"
            f"fatal: unable to access '{clean}/': The requested URL returned error: 403"
        )
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    rule = repo.protection_for(branch) if branch else None
    if branch is None or rule is None or not rule.blocks_direct_push:
        return None
    team_id = store.team_id_in(repo.org) if store is not None else None
    reason = rule.direct_push_refusal(credential.actor, admin=credential.power.is_admin, team_id=team_id)
    if reason is None:
        return None
    return (
        f"remote: error: GH006: Protected branch update failed for refs/heads/{branch}.\n"
        f"remote: error: {reason}\n"
        f"To {clean}\n"
        f" ! [remote rejected] HEAD -> {branch} (protected branch hook declined)\n"
        f"error: failed to push some refs to '{clean}'"
    )
