"""release-app-token's preflight, wired into planning: what the plan learns of the release App, read cheaply.

The App's installations are read once per plan (`GitHubReader.app_installation`), and only when some repository
gets the rule's fix; the secrets the inserted step reads are checked with the repository's secret names the plan
reads anyway (org secrets once per plan, a repository's only when they are not all among them). The verdict
itself is pure (`preflight.app_obstacles`).
"""

from __future__ import annotations

from dataclasses import replace

from migrator.github.installations import AppInstallation
from migrator.github.types import ActionsPolicy, GitHubReader, RepoRecord, SecretNames
from migrator.model import Finding, Fix
from migrator.plan.model import Disposition
from migrator.plan.preflight import APP_RULE, AppFacts, Outcome, app_obstacles
from migrator.rules.release_app_token import inserted_actions, read_secrets


class AppLookup:
    """The release App's installation, asked of GitHub at most once per plan."""

    def __init__(self, reader: GitHubReader, org: str, slug: str | None) -> None:
        self._reader = reader
        self._org = org
        self._slug = slug
        self._found: AppInstallation | None = None

    def installation(self) -> AppInstallation | None:
        if self._slug is None:
            return None
        if self._found is None:
            self._found = self._reader.app_installation(self._org, self._slug)
        return self._found


def app_fixes(findings: tuple[Finding, ...] | list[Finding]) -> list[Fix]:
    return [fix for f in findings if f.rule == APP_RULE for fix in f.fixes]


def required_secrets(findings: tuple[Finding, ...] | list[Finding]) -> set[str]:
    return {name for fix in app_fixes(findings) for name in read_secrets(fix)}


def facts_for(record: RepoRecord, lookup: AppLookup, slug: str | None) -> AppFacts:
    found = lookup.installation()
    installed = found.covers(record.full_name) if found is not None else None
    return AppFacts(
        slug=slug,
        app_id=found.app_id if found is not None else None,
        installed=installed,
        installed_unknown_why=found.why_unknown if found is not None else "",
        secrets=(),
    )


def with_app_preflight(
    fix: Fix,
    disposition: Disposition,
    reasons: tuple[str, ...],
    *,
    record: RepoRecord,
    facts: AppFacts,
    policy: ActionsPolicy,
    secrets: SecretNames | None,
) -> tuple[Disposition, tuple[str, ...]]:
    """Blocked when the App token cannot work; review (always, for this rule) with every reason it may not."""
    client_secrets = [name for name in read_secrets(fix) if name != fix.requires_secret]
    checked = tuple((name, secrets.has(name) if secrets is not None else None) for name in client_secrets)
    obstacles = app_obstacles(record, replace(facts, secrets=checked), policy, inserted_actions(fix))
    said = tuple(f"{o.target}: {o.why}; remedy: {o.remedy}" for o in obstacles)
    blocked = disposition is Disposition.BLOCKED or any(o.outcome is Outcome.BLOCKED for o in obstacles)
    return (Disposition.BLOCKED if blocked else Disposition.REVIEW), (*reasons, *said)
