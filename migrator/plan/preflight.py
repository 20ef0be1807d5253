"""Preflight: can the release identity push the release commit to the default branch, and the release tag?

Pure. Classic branch protection (`RepoRecord.protection`) and rulesets (`RepoRecord.rulesets`) stack: every
active rule that applies must be passed or bypassed, so the most restrictive wins; rulesets in `evaluate`
mode only report and never block. The identity is what the plan can know of who releases:

- a PAT (`pat`): its owner's role is usually unknown to the plan (a secret's value is never readable), so a
  bypass that depends on the role makes the verdict conditional, and says so;
- a GitHub App installation (`app`): it bypasses what lists it (by id or slug);
- `GITHUB_TOKEN` (`github-token`): the GitHub Actions app, which no bypass list in practice names and which is
  never an admin.

A release pushes a commit on top of the default branch (a fast-forward update: no pull request, no checks yet)
and then creates a `v*` tag on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from migrator.github.types import (
    RELEASE_TAG_REF,
    ActionsPolicy,
    BypassEntry,
    Protection,
    RepoRecord,
    Ruleset,
    RulesetRule,
)

APP_RULE = "release-app-token"
GITHUB_ACTIONS_APP_ID = 15368
ROLE_RANK = {"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


@dataclass(frozen=True, kw_only=True)
class Identity:
    kind: str  # pat, app, github-token
    role: str | None = None  # a PAT owner's repository role, when known (admin, maintain, write)
    app_id: int | None = None
    app_slug: str | None = None
    login: str | None = None  # a PAT owner's login, when known

    def describe(self) -> str:
        if self.kind == "github-token":
            return "GITHUB_TOKEN"
        if self.kind == "app":
            return f"the App {self.app_slug or self.app_id}"
        return f"a PAT of a {self.role}" if self.role else "the PAT (its owner's role is unknown to the plan)"


class Outcome(StrEnum):
    OK = "ok"  # nothing in the way
    CONDITIONAL = "conditional"  # works only if something the plan cannot see holds, or once something changes
    BLOCKED = "blocked"  # cannot work as things are
    UNKNOWN = "unknown"  # protection or rulesets could not be read


@dataclass(frozen=True, kw_only=True)
class Obstacle:
    target: str  # "the release commit on main" or "the release tag"
    source: str  # "ruleset 'tags' (acme/app)" or "branch protection of main"
    rule: str  # the rule in the way
    outcome: Outcome  # BLOCKED or CONDITIONAL
    why: str
    remedy: str
    ruleset: str | None = None


@dataclass(frozen=True, kw_only=True)
class Verdict:
    identity: Identity
    outcome: Outcome
    obstacles: tuple[Obstacle, ...] = ()
    unknown: tuple[str, ...] = ()  # what could not be read

    @property
    def reason(self) -> str:
        return "; ".join(f"{o.target}: {o.why}" for o in self.obstacles) or "nothing blocks the release pushes"

    @property
    def remedy(self) -> str:
        return "; ".join(dict.fromkeys(o.remedy for o in self.obstacles))


def _blocking_rule(rule: RulesetRule, *, tag: bool) -> str | None:
    """How `rule` refuses the release push (None: it does not): a commit on the branch, or a new tag."""
    if tag:
        if rule.type == "creation":
            return "restricts creating tags"
        if rule.type == "required_status_checks" and rule.required_checks and not rule.checks_skip_creation:
            return f"requires status check {rule.required_checks[0]!r} on the tagged commit"
        return None
    if rule.type == "update":
        return "restricts updates"
    if rule.type == "pull_request":
        return "requires a pull request"
    if rule.type == "required_status_checks" and rule.required_checks:
        return f"requires status check {rule.required_checks[0]!r} before pushes"
    return None


def _bypass(entry: BypassEntry, identity: Identity) -> bool | None:
    """Whether `entry` lets `identity` push directly; None when that depends on what the plan cannot know."""
    if entry.mode == "pull_request":
        return False  # a release pushes directly
    if identity.kind == "github-token":
        return entry.kind == "Integration" and entry.app_id == GITHUB_ACTIONS_APP_ID
    if identity.kind == "app":
        if entry.kind != "Integration":
            return False
        return (identity.app_id is not None and entry.app_id == identity.app_id) or (
            identity.app_slug is not None and entry.app_slug == identity.app_slug
        )
    if entry.kind == "RepositoryRole":
        if identity.role is None:
            return None
        return ROLE_RANK.get(identity.role, 0) >= ROLE_RANK.get(entry.role or "", 99)
    if entry.kind in ("OrganizationAdmin", "Team"):
        return None  # the PAT's owner may or may not be an org owner, or in the team
    return False  # Integration, DeployKey: a PAT is neither


def _ruleset_obstacles(ruleset: Ruleset, identity: Identity, *, tag: bool, target: str) -> list[Obstacle]:
    if ruleset.enforcement != "active":
        return []
    blocking = [why for rule in ruleset.rules if (why := _blocking_rule(rule, tag=tag))]
    if not blocking:
        return []
    answers = [_bypass(entry, identity) for entry in ruleset.bypass]
    if any(a is True for a in answers):
        return []
    source = f"ruleset {ruleset.name!r} ({ruleset.source})"
    why = f"{source} {' and '.join(dict.fromkeys(blocking))}"
    maybe = [e for e, a in zip(ruleset.bypass, answers, strict=True) if a is None]
    if maybe or not ruleset.bypass_complete:
        who = ", ".join(e.describe() for e in maybe) or "bypass actors the bulk read did not list"
        return [Obstacle(
            target=target, source=source, rule=blocking[0], outcome=Outcome.CONDITIONAL, ruleset=ruleset.name,
            why=f"{why}; only {who} may bypass it, so it works only if {identity.describe()} is among them",
            remedy=f"make sure the release identity is on the bypass list of ruleset {ruleset.name!r}, "
                   f"or release with a GitHub App token (rule {APP_RULE}) with the App on that list",
        )]
    listed = ", ".join(e.describe() for e in ruleset.bypass) or "nobody"
    return [Obstacle(
        target=target, source=source, rule=blocking[0], outcome=Outcome.BLOCKED, ruleset=ruleset.name,
        why=f"{why}, and {identity.describe()} is not on its bypass list ({listed})",
        remedy=f"add a bypass entry for the release identity to ruleset {ruleset.name!r}, "
               f"or release with a GitHub App token (rule {APP_RULE}) and add that App to its bypass list",
    )]


BYPASS_SETTING = "'Allow specified actors to bypass required pull requests'"
PUSH_SETTING = "'Restrict who can push to matching branches'"


def _protection_obstacles(protection: Protection, branch: str, identity: Identity) -> list[Obstacle]:
    """Classic protection: admins pass unless enforce_admins; the bypass allowances pass the pull request
    requirement (even under enforce_admins), never required status checks; push restrictions must list the pusher."""
    blocking = bool(protection.required_checks) or protection.required_reviews > 0
    if not blocking and protection.push_allowances is None:
        return []
    source = f"branch protection of {branch}"
    target = f"the release commit on {branch}"
    if identity.kind == "app":
        return _app_protection_obstacles(protection, branch, identity)
    found = _pat_restriction(protection, branch, identity)
    if not blocking:
        return found
    rule = "required status checks" if protection.required_checks else "required reviews"
    if protection.enforce_admins and identity.kind == "pat":
        if _pat_bypasses_reviews(protection, identity):
            return found
        return [*found, Obstacle(
            target=target, source=source, rule=rule, outcome=Outcome.CONDITIONAL,
            why=f"{source} requires {rule} and enforces them for admins, so no PAT gets a release commit past it"
                + _pat_bypass_note(protection, identity),
            remedy="turn off 'Do not allow bypassing the above settings' (enforce_admins) for the release, "
                   f"or release with a GitHub App token (rule {APP_RULE}) allowed to push",
        )]  # fmt: skip
    if identity.kind == "pat" and identity.role in (None, "admin"):
        return found  # the release PAT is taken to be an admin's, as migrator's token fix assumes (not enforced)
    return [*found, Obstacle(
        target=target, source=source, rule=rule, outcome=Outcome.BLOCKED,
        why=f"{source} requires {rule}, and {identity.describe()} is no admin",
        remedy=f"release with a PAT of an admin, or a GitHub App token (rule {APP_RULE})",
    )]  # fmt: skip


def _pat_bypasses_reviews(protection: Protection, identity: Identity) -> bool:
    users = protection.bypass_pull_requests.users
    listed = identity.login is not None and identity.login.lower() in {u.lower() for u in users}
    return listed and not protection.required_checks


def _pat_bypass_note(protection: Protection, identity: Identity) -> str:
    allowed = protection.bypass_pull_requests
    if protection.required_checks or not (allowed.users or allowed.teams):
        return ""
    return (f"; unless the PAT's owner is among those allowed to bypass required pull requests "
            f"({allowed.describe()}), which the plan cannot tell from the secret")  # fmt: skip


def _pat_restriction(protection: Protection, branch: str, identity: Identity) -> list[Obstacle]:
    allowed = protection.push_allowances
    taken_as_admin = identity.kind == "pat" and identity.role in (None, "admin")
    if allowed is None or (taken_as_admin and not protection.enforce_admins):
        return []  # admins are exempt from push restrictions unless enforce_admins
    if identity.login is not None and identity.login.lower() in {u.lower() for u in allowed.users}:
        return []
    return [Obstacle(
        target=f"the release commit on {branch}", source=f"branch protection of {branch}", rule="push restrictions",
        outcome=Outcome.CONDITIONAL,
        why=f"branch protection of {branch} lets only {allowed.describe()} push, so it works only if "
            f"{identity.describe()} is among them",
        remedy=f"make sure the release identity is listed in {PUSH_SETTING} of {branch}, "
               f"or release with a GitHub App token (rule {APP_RULE}) listed there",
    )]  # fmt: skip


def _app_protection_obstacles(protection: Protection, branch: str, identity: Identity) -> list[Obstacle]:
    source = f"branch protection of {branch}"
    target = f"the release commit on {branch}"
    app = identity.describe()
    found: list[Obstacle] = []
    restricted = protection.push_allowances
    if restricted is not None and not restricted.lists_app(identity.app_id, identity.app_slug):
        found.append(Obstacle(
            target=target, source=source, rule="push restrictions",
            outcome=Outcome.BLOCKED if restricted.complete else Outcome.CONDITIONAL,
            why=f"{source} lets only {restricted.describe()} push, and {app} is not among them",
            remedy=f"add {app} to {PUSH_SETTING} in the protection of {branch}",
        ))  # fmt: skip
    if protection.required_checks:
        if protection.enforce_admins:
            found.append(Obstacle(
                target=target, source=source, rule="required status checks", outcome=Outcome.BLOCKED,
                why=f"{source} requires status checks and enforces them for admins, so no one, {app} included, "
                    "can push a release commit past it (classic protection has no bypass list for checks)",
                remedy=f"protect {branch} with a ruleset instead, with the App (actor_type Integration) on its "
                       "bypass list, and turn off the classic protection's required checks",
            ))  # fmt: skip
        else:
            found.append(Obstacle(
                target=target, source=source, rule="required status checks", outcome=Outcome.CONDITIONAL,
                why=f"{source} requires status checks, which only admins push past (classic protection has no "
                    f"bypass list for checks), so it works only if {app} may bypass them",
                remedy=f"protect {branch} with a ruleset that has the App on its bypass list instead",
            ))  # fmt: skip
        return found
    allowed = protection.bypass_pull_requests
    if protection.required_reviews and not allowed.lists_app(identity.app_id, identity.app_slug):
        found.append(Obstacle(
            target=target, source=source, rule="required reviews",
            outcome=Outcome.BLOCKED if allowed.complete else Outcome.CONDITIONAL,
            why=f"{source} requires a pull request, and {app} is not allowed to bypass it "
                f"(those allowed: {allowed.describe()})",
            remedy=f"add {app} to {BYPASS_SETTING} in the protection of {branch}",
        ))  # fmt: skip
    return found


def preflight(record: RepoRecord, identity: Identity) -> Verdict:
    branch = record.default_branch or "main"
    unknown = []
    obstacles: list[Obstacle] = []
    if record.protection.readable:
        obstacles.extend(_protection_obstacles(record.protection, branch, identity))
    else:
        unknown.append(f"branch protection of {branch}")
    if record.rulesets_readable:
        obstacles.extend(_rulesets(record.rulesets, branch, identity))
    else:
        unknown.append("rulesets")
    if any(o.outcome is Outcome.BLOCKED for o in obstacles):
        outcome = Outcome.BLOCKED
    elif obstacles:
        outcome = Outcome.CONDITIONAL
    else:
        outcome = Outcome.UNKNOWN if unknown else Outcome.OK
    return Verdict(identity=identity, outcome=outcome, obstacles=tuple(obstacles), unknown=tuple(unknown))


def _rulesets(rulesets: Sequence[Ruleset], branch: str, identity: Identity) -> list[Obstacle]:
    found: list[Obstacle] = []
    for ruleset in rulesets:
        if ruleset.applies_to("refs/heads/" + branch, branch):
            found.extend(_ruleset_obstacles(ruleset, identity, tag=False, target=f"the release commit on {branch}"))
        if ruleset.applies_to(RELEASE_TAG_REF, branch):
            found.extend(_ruleset_obstacles(ruleset, identity, tag=True, target="the release tag"))
    return found


# --- the release-app-token rule: the App itself --------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AppFacts:
    """What the plan could learn of the release App, for one repository."""

    slug: str | None  # --app-slug; None when not named
    app_id: int | None = None
    # Whether the App is installed on the repository; None when the planning token cannot see it.
    installed: bool | None = None
    installed_unknown_why: str = ""
    secrets: tuple[tuple[str, bool | None], ...] = ()  # (secret name, exists) for the secrets the step reads


def app_obstacles(
    record: RepoRecord, facts: AppFacts, policy: ActionsPolicy, inserted_uses: Sequence[str]
) -> list[Obstacle]:
    """Why the App token step cannot work (BLOCKED) or may not (CONDITIONAL): the App not installed on the
    repository, its secrets missing, the branch or tag rules not letting it push, the Actions policy refusing
    the inserted action. Each with the remedy."""
    repo = record.full_name
    found = [*_installation_obstacles(repo, facts), *_secret_obstacles(repo, facts)]
    found += _policy_obstacles(repo, policy, inserted_uses)
    if facts.slug is None and facts.app_id is None:
        found.append(Obstacle(
            target="the release", source="the release App", rule="unknown App", outcome=Outcome.CONDITIONAL,
            why="the release App is not named, so the plan cannot check its installation or the bypass lists",
            remedy="name it with --app-slug SLUG and re-plan",
        ))
        return found
    verdict = preflight(record, Identity(kind="app", app_id=facts.app_id, app_slug=facts.slug))
    who = f"Integration {facts.app_id}" if facts.app_id else f"the App {facts.slug}"
    for obstacle in verdict.obstacles:
        if obstacle.ruleset is not None and obstacle.outcome is Outcome.BLOCKED:
            remedy = f"add {who} (actor_type Integration) to the bypass list of ruleset {obstacle.ruleset!r}"
            found.append(replace(obstacle, remedy=remedy))
        else:
            found.append(obstacle)
    for what in verdict.unknown:
        found.append(Obstacle(
            target="the release", source=what, rule="unreadable", outcome=Outcome.CONDITIONAL,
            why=f"the plan could not read the {what}, so it cannot say whether the App may push past them",
            remedy="re-plan with a token that may read them",
        ))
    return found


def _installation_obstacles(repo: str, facts: AppFacts) -> list[Obstacle]:
    name = facts.slug or (f"App {facts.app_id}" if facts.app_id else "the release App")
    if facts.installed is False:
        return [Obstacle(
            target="the App token", source=f"the installations of {name}", rule="not installed",
            outcome=Outcome.BLOCKED, why=f"{name} is not installed on {repo}, so it cannot mint a token for it",
            remedy=f"install {name} on {repo} (organisation settings, GitHub Apps, repository access) and re-plan",
        )]
    if facts.installed is None and (facts.slug or facts.app_id):
        why = facts.installed_unknown_why or "the planning token cannot list the organisation's installations"
        return [Obstacle(
            target="the App token", source=f"the installations of {name}", rule="installation unknown",
            outcome=Outcome.CONDITIONAL, why=f"whether {name} is installed on {repo} is unknown: {why}",
            remedy=f"make sure {name} is installed on {repo}, or plan with an org owner's token or as the App",
        )]
    return []


def _secret_obstacles(repo: str, facts: AppFacts) -> list[Obstacle]:
    out = []
    for name, exists in facts.secrets:
        if exists is False:
            out.append(Obstacle(
                target="the App token", source=f"secret {name}", rule="missing secret", outcome=Outcome.BLOCKED,
                why=f"secret {name}, which the App token step reads, exists neither in {repo} nor in its organisation",
                remedy=f"create secret {name} (the App's private key or id) for {repo}, or name yours with "
                       "--app-key-secret / --app-client-id-secret, and re-plan",
            ))
        elif exists is None:
            out.append(Obstacle(
                target="the App token", source=f"secret {name}", rule="secret unknown", outcome=Outcome.CONDITIONAL,
                why=f"could not verify that secret {name} exists (no permission to list secrets)",
                remedy=f"make sure secret {name} exists for {repo}",
            ))
    return out


def _policy_obstacles(repo: str, policy: ActionsPolicy, inserted_uses: Sequence[str]) -> list[Obstacle]:
    out = []
    for uses in inserted_uses:
        action = uses.split("@", 1)[0]
        allowed = policy.allows(uses)
        if allowed is False:
            how = "disables Actions" if not policy.enabled else f"allows only {policy.allowed_actions} actions"
            out.append(Obstacle(
                target="the App token", source="the organisation's Actions permissions", rule="action not allowed",
                outcome=Outcome.BLOCKED,
                why=f"the organisation {how}, and {action} is not among them, so the inserted step would fail",
                remedy=f"allow {action}@* in the organisation's Actions permissions (allowed actions) and re-plan",
            ))
        elif allowed is None:
            out.append(Obstacle(
                target="the App token", source="the organisation's Actions permissions", rule="policy unknown",
                outcome=Outcome.CONDITIONAL,
                why=f"the plan could not read the organisation's allowed actions, so whether {action} may run "
                    f"in {repo} is unknown",
                remedy=f"make sure {action} is allowed (it is pinned by SHA, so SHA pinning rules are met)",
            ))
        if policy.sha_pinning_required and not re.fullmatch(r"[^@]+@[0-9a-f]{40}(?:\s+#.*)?", uses):
            out.append(Obstacle(
                target="the App token", source="the organisation's Actions permissions", rule="sha pinning",
                outcome=Outcome.BLOCKED, why=f"the organisation requires actions pinned by SHA, and {uses} is not",
                remedy="pin it to a full commit SHA",
            ))
    return out
