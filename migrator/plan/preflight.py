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

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from migrator.github.types import RELEASE_TAG_REF, BypassEntry, Protection, RepoRecord, Ruleset, RulesetRule

APP_RULE = "release-app-token"
GITHUB_ACTIONS_APP_ID = 15368
ROLE_RANK = {"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


@dataclass(frozen=True, kw_only=True)
class Identity:
    kind: str  # pat, app, github-token
    role: str | None = None  # a PAT owner's repository role, when known (admin, maintain, write)
    app_id: int | None = None
    app_slug: str | None = None

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


def _protection_obstacles(protection: Protection, branch: str, identity: Identity) -> list[Obstacle]:
    blocking = bool(protection.required_checks) or protection.required_reviews > 0
    if not blocking:
        return []
    source = f"branch protection of {branch}"
    target = f"the release commit on {branch}"
    rule = "required status checks" if protection.required_checks else "required reviews"
    if protection.enforce_admins:
        return [Obstacle(
            target=target, source=source, rule=rule, outcome=Outcome.CONDITIONAL,
            why=f"{source} requires {rule} and enforces them for admins, so no PAT gets a release commit past it",
            remedy="turn off 'Do not allow bypassing the above settings' (enforce_admins) for the release, "
                   f"or release with a GitHub App token (rule {APP_RULE}) allowed to push",
        )]
    if identity.kind == "pat" and identity.role in (None, "admin"):
        return []  # the release PAT is taken to be an admin's, as migrator's token fix assumes (not enforced)
    return [Obstacle(
        target=target, source=source, rule=rule, outcome=Outcome.BLOCKED,
        why=f"{source} requires {rule}, and {identity.describe()} is no admin",
        remedy=f"release with a PAT of an admin, or a GitHub App token (rule {APP_RULE})",
    )]


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
