"""Rulesets (repository and organisation level, on branches and tags) and the Actions permissions policy.

Pure: what a ruleset is, which refs it applies to, whether an actor bypasses it, what a push violates, and
GitHub's REST shapes of them. The store holds them; every ref change the sandbox accepts asks `violations`.

Seed format (in `<repo>.meta.json` as `"rulesets": [...]`, in `<org>.meta.json` likewise for org rulesets):

    {"name": "tags", "target": "tag", "enforcement": "active",
     "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []},
                    "repository_name": {"include": ["~ALL"], "exclude": []}},      # org rulesets only
     "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}, {"type": "non_fast_forward"},
               {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
               {"type": "required_status_checks",
                "parameters": {"required_status_checks": [{"context": "test"}]}}],
     "bypass_actors": [{"actor_type": "RepositoryRole", "actor_id": 5, "bypass_mode": "always"},
                       {"actor_type": "OrganizationAdmin", "actor_id": 1},
                       {"actor_type": "Integration", "actor_id": 123},          # a GitHub App's id
                       {"actor_type": "Team", "team": "release"},               # or "actor_id"
                       {"actor_type": "DeployKey"}]}

Repository roles are GitHub's built-in ids: 1 read, 3 triage, 4 write, 2 maintain, 5 admin; a role bypasses what
names it or a role below it. Sandbox tokens hold write (4) or admin (5).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ENFORCEMENTS = ("active", "evaluate", "disabled")
TARGETS = ("branch", "tag")
RULE_TYPES = ("pull_request", "required_status_checks", "non_fast_forward", "creation", "update", "deletion")
ACTOR_TYPES = ("RepositoryRole", "OrganizationAdmin", "Team", "Integration", "DeployKey", "User")
BYPASS_MODES = ("always", "pull_request", "exempt")
ROLE_WRITE, ROLE_ADMIN = 4, 5
ROLE_NAMES = {1: "read", 2: "maintain", 3: "triage", ROLE_WRITE: "write", ROLE_ADMIN: "admin"}
# Roles include the ones below them: admin > maintain > write > triage > read (a role's id is not its rank).
ROLE_RANK = {1: 1, 3: 2, ROLE_WRITE: 3, 2: 4, ROLE_ADMIN: 5}
GITHUB_ACTIONS_APP_ID = 15368  # the GitHub Actions app: GITHUB_TOKEN's installation
RULES_DOCS = "https://docs.github.com/rest/repos/rules#get-rules-for-a-branch"


@dataclass(frozen=True)
class BypassActor:
    actor_type: str
    actor_id: int | None = None
    bypass_mode: str = "always"


@dataclass(frozen=True)
class Rule:
    type: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def contexts(self) -> tuple[str, ...]:
        checks = self.parameters.get("required_status_checks") or ()
        return tuple(str(c.get("context")) for c in checks if isinstance(c, dict))


@dataclass(frozen=True)
class Ruleset:
    id: int
    name: str
    target: str
    enforcement: str
    source_type: str  # Repository or Organization
    source: str  # owner/name or the org's login
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    repo_include: tuple[str, ...] = ("~ALL",)
    repo_exclude: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    bypass_actors: tuple[BypassActor, ...] = ()
    created_at: float = 1704067200.0

    def applies_to_repo(self, name: str) -> bool:
        if self.source_type != "Organization":
            return True
        return _matches(name, self.repo_include, self.repo_exclude, default_branch=None)

    def applies_to_ref(self, ref: str, default_branch: str) -> bool:
        prefix = "refs/heads/" if self.target == "branch" else "refs/tags/"
        if not ref.startswith(prefix):
            return False
        return _matches(ref, self.include, self.exclude, default_branch=default_branch)


def _matches(value: str, include: Sequence[str], exclude: Sequence[str], *, default_branch: str | None) -> bool:
    def hit(pattern: str) -> bool:
        if pattern == "~ALL":
            return True
        if pattern == "~DEFAULT_BRANCH":
            return default_branch is not None and value == "refs/heads/" + default_branch
        return fnmatch.fnmatchcase(value, pattern)

    return any(hit(p) for p in include) and not any(hit(p) for p in exclude)


@dataclass(frozen=True)
class Actor:
    """Who pushes, as rulesets see them."""

    login: str
    role: int | None = None  # repository role id (ROLE_WRITE, ROLE_ADMIN); None for Apps and deploy keys
    org_admin: bool = False
    app_id: int | None = None  # an App installation (GITHUB_TOKEN is the GitHub Actions app's)
    deploy_key: bool = False
    teams: tuple[int, ...] = ()  # team ids
    user_id: int | None = None


def bypass_mode(ruleset: Ruleset, actor: Actor) -> str | None:
    """How `actor` bypasses `ruleset` ("always", "pull_request", "exempt"), or None."""
    for entry in ruleset.bypass_actors:
        kind = entry.actor_type
        if (
            (kind == "OrganizationAdmin" and actor.org_admin)
            or (kind == "RepositoryRole" and actor.role is not None and entry.actor_id is not None
                and ROLE_RANK.get(actor.role, 0) >= ROLE_RANK.get(entry.actor_id, 99))
            or (kind == "Integration" and actor.app_id is not None and entry.actor_id == actor.app_id)
            or (kind == "DeployKey" and actor.deploy_key)
            or (kind == "Team" and entry.actor_id in actor.teams)
            or (kind == "User" and actor.user_id is not None and entry.actor_id == actor.user_id)
        ):
            return entry.bypass_mode
    return None


def current_user_can_bypass(ruleset: Ruleset, actor: Actor) -> str:
    mode = bypass_mode(ruleset, actor)
    return {"always": "always", "pull_request": "pull_requests_only", "exempt": "exempt"}.get(mode or "", "never")


@dataclass(frozen=True)
class Push:
    ref: str
    before: str | None
    after: str | None
    fast_forward: bool = True
    via_pull: bool = False  # a pull request's merge
    checked_sha: str | None = None  # whose checks count (a merge: the pull's head)


def rule_violation(rule: Rule, push: Push, passed: Callable[[str], set[str]]) -> str | None:
    """GitHub's text for how `push` breaks `rule`, or None."""
    kind = rule.type
    if kind == "creation" and push.before is None and push.after is not None:
        return "Cannot create ref due to creations being restricted."
    if kind == "update" and push.before is not None and push.after is not None:
        return "Cannot update this protected ref."
    if kind == "deletion" and push.after is None:
        return "Cannot delete this protected ref."
    if kind == "non_fast_forward" and push.before is not None and push.after is not None and not push.fast_forward:
        return "Cannot force-push to this protected ref."
    if kind == "pull_request" and push.after is not None and not push.via_pull:
        return "Changes must be made through a pull request."
    skip_create = push.before is None and bool(rule.parameters.get("do_not_enforce_on_create"))
    if kind == "required_status_checks" and push.after is not None and not skip_create:
        done = passed(push.checked_sha or push.after)
        missing = [c for c in rule.contexts if c not in done]
        if missing:
            return f'Required status check "{missing[0]}" is expected.'
    return None


def violations(
    rulesets: Sequence[Ruleset], push: Push, actor: Actor, passed: Callable[[str], set[str]]
) -> list[tuple[Ruleset, str]]:
    """The (ruleset, message) pairs that refuse `push` by `actor`: active rulesets only, bypass honoured."""
    found: list[tuple[Ruleset, str]] = []
    for ruleset in rulesets:
        if ruleset.enforcement != "active":
            continue
        mode = bypass_mode(ruleset, actor)
        if mode in ("always", "exempt") or (mode == "pull_request" and push.via_pull):
            continue
        for rule in ruleset.rules:
            message = rule_violation(rule, push, passed)
            if message is not None:
                found.append((ruleset, message))
    return found


def refusal_text(ref: str, found: Sequence[tuple[Ruleset, str]]) -> str:
    """The REST/GraphQL message for a refused push (the git remote prints the same under GH013)."""
    lines = sorted({message for _, message in found})
    return f"Repository rule violations found for {ref}.\n\n" + "\n".join(lines) + "\n"


def git_refusal(ref: str, found: Sequence[tuple[Ruleset, str]], *, url: str, full_name: str) -> str:
    """What `git push` prints when rulesets refuse it (GH013)."""
    short = ref.split("/", 2)[2]
    quoted = ref.replace("/", "%2F")
    body = "".join(f"remote: - {m}\n" for m in sorted({m for _, m in found}))
    return (
        f"remote: error: GH013: Repository rule violations found for {ref}.\n"
        f"remote: Review all repository rules at https://github.com/{full_name}/rules?ref={quoted}\n"
        "remote: \n"
        f"{body}"
        "remote: \n"
        f"To {url}\n"
        f" ! [remote rejected] HEAD -> {short} (push declined due to repository rule violations)\n"
        f"error: failed to push some refs to '{url}'"
    )


# ---------------------------------------------------------------- seed


def parse_ruleset(
    raw: Mapping[str, Any], *, id: int, source_type: str, source: str, team_id: Callable[[str], int]
) -> Ruleset:
    name = str(raw.get("name") or f"ruleset-{id}")
    target = str(raw.get("target", "branch"))
    enforcement = str(raw.get("enforcement", "active"))
    if target not in TARGETS:
        raise ValueError(f"ruleset {name!r}: target must be one of {', '.join(TARGETS)}")
    if enforcement not in ENFORCEMENTS:
        raise ValueError(f"ruleset {name!r}: enforcement must be one of {', '.join(ENFORCEMENTS)}")
    conditions = raw.get("conditions") or {}
    ref_name = conditions.get("ref_name") or {}
    repo_name = conditions.get("repository_name") or {}
    rules = []
    for item in raw.get("rules") or ():
        kind = str(item.get("type") if isinstance(item, dict) else item)
        if kind not in RULE_TYPES:
            raise ValueError(f"ruleset {name!r}: unknown rule {kind!r}; use one of {', '.join(RULE_TYPES)}")
        parameters = dict(item.get("parameters") or {}) if isinstance(item, dict) else {}
        rules.append(Rule(kind, parameters))
    actors = []
    for item in raw.get("bypass_actors") or ():
        kind = str(item.get("actor_type"))
        if kind not in ACTOR_TYPES:
            raise ValueError(f"ruleset {name!r}: unknown actor_type {kind!r}; use one of {', '.join(ACTOR_TYPES)}")
        mode = str(item.get("bypass_mode", "always"))
        if mode not in BYPASS_MODES:
            raise ValueError(f"ruleset {name!r}: bypass_mode must be one of {', '.join(BYPASS_MODES)}")
        actor_id = item.get("actor_id")
        if kind == "Team" and item.get("team"):
            actor_id = team_id(str(item["team"]))
        if kind == "OrganizationAdmin":
            actor_id = 1
        if kind == "DeployKey":
            actor_id = None
        actors.append(BypassActor(kind, int(actor_id) if actor_id is not None else None, mode))
    return Ruleset(
        id=id,
        name=name,
        target=target,
        enforcement=enforcement,
        source_type=source_type,
        source=source,
        include=tuple(str(p) for p in ref_name.get("include") or ()),
        exclude=tuple(str(p) for p in ref_name.get("exclude") or ()),
        repo_include=tuple(str(p) for p in repo_name.get("include") or ("~ALL",)),
        repo_exclude=tuple(str(p) for p in repo_name.get("exclude") or ()),
        rules=tuple(rules),
        bypass_actors=tuple(actors),
    )


@dataclass(frozen=True)
class ActionsPolicy:
    """`GET /orgs/{org}/actions/permissions` (and the repository's) with its selected actions."""

    enabled: bool = True
    allowed_actions: str = "all"  # all, local_only, selected
    sha_pinning_required: bool = False
    github_owned_allowed: bool = True
    verified_allowed: bool = False
    patterns_allowed: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> ActionsPolicy:
        raw = raw or {}
        allowed = str(raw.get("allowed_actions", "all"))
        if allowed not in ("all", "local_only", "selected"):
            raise ValueError("actions.allowed_actions must be all, local_only or selected")
        selected = raw.get("selected_actions") or {}
        return cls(
            enabled=bool(raw.get("enabled", True)),
            allowed_actions=allowed,
            sha_pinning_required=bool(raw.get("sha_pinning_required", False)),
            github_owned_allowed=bool(selected.get("github_owned_allowed", True)),
            verified_allowed=bool(selected.get("verified_allowed", False)),
            patterns_allowed=tuple(str(p) for p in selected.get("patterns_allowed") or ()),
        )


# ---------------------------------------------------------------- REST shapes


def ruleset_shape(base: str, api: str, ruleset: Ruleset, actor: Actor | None, *, detailed: bool) -> dict[str, Any]:
    if ruleset.source_type == "Organization":
        self_url = f"{api}/orgs/{ruleset.source}/rulesets/{ruleset.id}"
        html = f"{base}/organizations/{ruleset.source}/settings/rules/{ruleset.id}"
    else:
        self_url = f"{api}/repos/{ruleset.source}/rulesets/{ruleset.id}"
        html = f"{base}/{ruleset.source}/rules/{ruleset.id}"
    from migrator.sandbox.shapes import iso  # shapes imports the store, which imports this module

    body: dict[str, Any] = {
        "id": ruleset.id,
        "name": ruleset.name,
        "target": ruleset.target,
        "source_type": ruleset.source_type,
        "source": ruleset.source,
        "enforcement": ruleset.enforcement,
        "node_id": _node_id(ruleset.id),
        "_links": {"self": {"href": self_url}, "html": {"href": html}},
        "created_at": iso(ruleset.created_at),
        "updated_at": iso(ruleset.created_at),
    }
    if actor is not None:
        body["current_user_can_bypass"] = current_user_can_bypass(ruleset, actor)
    if detailed:
        conditions: dict[str, Any] = {"ref_name": {"include": list(ruleset.include), "exclude": list(ruleset.exclude)}}
        if ruleset.source_type == "Organization":
            conditions["repository_name"] = {
                "include": list(ruleset.repo_include), "exclude": list(ruleset.repo_exclude), "protected": False
            }
        body["bypass_actors"] = [
            {"actor_id": a.actor_id, "actor_type": a.actor_type, "bypass_mode": a.bypass_mode}
            for a in ruleset.bypass_actors
        ]
        body["conditions"] = conditions
        body["rules"] = [rule_shape(rule) for rule in ruleset.rules]
    return body


def rule_shape(rule: Rule) -> dict[str, Any]:
    body: dict[str, Any] = {"type": rule.type}
    if rule.type == "pull_request":
        given = dict(rule.parameters)
        body["parameters"] = {
            "dismiss_stale_reviews_on_push": bool(given.get("dismiss_stale_reviews_on_push", False)),
            "require_code_owner_review": bool(given.get("require_code_owner_review", False)),
            "require_last_push_approval": bool(given.get("require_last_push_approval", False)),
            "required_approving_review_count": int(given.get("required_approving_review_count", 0)),
            "required_review_thread_resolution": bool(given.get("required_review_thread_resolution", False)),
        }
    elif rule.type == "required_status_checks":
        body["parameters"] = {
            "do_not_enforce_on_create": bool(rule.parameters.get("do_not_enforce_on_create", False)),
            "required_status_checks": [{"context": c} for c in rule.contexts],
            "strict_required_status_checks_policy": bool(
                rule.parameters.get("strict_required_status_checks_policy", False)
            ),
        }
    elif rule.type == "update" and "update_allows_fetch_and_merge" in rule.parameters:
        body["parameters"] = {"update_allows_fetch_and_merge": bool(rule.parameters["update_allows_fetch_and_merge"])}
    return body


def detailed_rule_shape(rule: Rule, ruleset: Ruleset) -> dict[str, Any]:
    return {
        **rule_shape(rule),
        "ruleset_source_type": ruleset.source_type,
        "ruleset_source": ruleset.source,
        "ruleset_id": ruleset.id,
    }


def _node_id(ruleset_id: int) -> str:
    import base64

    return base64.b64encode(f"RepositoryRuleset:{ruleset_id}".encode()).decode()
