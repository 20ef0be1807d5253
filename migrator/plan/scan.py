"""Scan an organisation into a Plan: stream repositories, run the rules, keep only what changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from migrator import __version__
from migrator.analysis.context import RuleSettings
from migrator.checker import check_snapshot
from migrator.errors import UsageError
from migrator.github.types import GitHubReader, RepoRecord, SecretNames
from migrator.log import get_logger
from migrator.model import Severity
from migrator.plan.app_preflight import AppLookup, app_fixes, facts_for, required_secrets
from migrator.plan.model import Plan, RepoPlan, Retired
from migrator.plan.planner import PlanInputs, plan_repo, retire, snapshot_of
from migrator.plan.preflight import APP_RULE
from migrator.plan.selection import Selection
from migrator.plan.shard import Shard
from migrator.refnames import default_campaign
from migrator.rules import REGISTRY, default_rule_ids

Progress = Callable[[int, int, str], None]  # (done, total, repo)


@dataclass(frozen=True, kw_only=True)
class ScanOptions:
    org: str
    api_url: str
    selection: Selection
    settings: RuleSettings
    shard: Shard | None = None  # plan only the repositories of this shard
    plan_id: str | None = None  # default `<org>-<UTC time>`; shards of one plan share one id
    campaign: str | None = None  # default `<org>-<rules>` (migrator.refnames.default_campaign)
    now: datetime | None = None  # fixed in tests for reproducible plans


def plan_id_for(org: str, now: datetime) -> str:
    return f"{org.lower()}-{now.strftime('%Y%m%dT%H%M%SZ')}"


def scan(reader: GitHubReader, options: ScanOptions, *, progress: Progress | None = None) -> Plan:
    now = (options.now or datetime.now(UTC)).replace(microsecond=0)
    plan_id = options.plan_id or plan_id_for(options.org, now)
    token = reader.token_info()
    policy = reader.actions_policy(options.org)
    ran = tuple(options.settings.rules) or default_rule_ids()
    campaign = options.campaign or default_campaign(options.org, ran)
    inputs = PlanInputs(plan_id=plan_id, settings=options.settings, token=token, actions=policy, campaign=campaign)
    total, records = _records(reader, options, inputs.branch)
    repos: list[RepoPlan] = []
    retired: list[Retired] = []
    skipped: list[tuple[str, str]] = []
    notices: list[tuple[str, str]] = []
    secrets = SecretLookup(reader, options.org)
    app = AppLookup(reader, options.org, options.settings.app_slug)
    if APP_RULE in options.settings.rules and not (options.settings.app_client_id and options.settings.app_key_secret):
        # release-app-token may find the App's secrets among the org's (the same one listing the plan reads anyway)
        known = tuple(sorted(secrets.org_wide() or ()))
        inputs = replace(inputs, settings=replace(options.settings, org_secrets=known))
    for done, record in enumerate(records, start=1):
        if progress:
            progress(done, total, record.full_name)
        reason = options.selection.skip_reason(record)
        if reason:
            skipped.append((record.full_name, reason))
            continue
        planned, notes = _plan_one(secrets, record, inputs, app)
        notices.extend(notes)
        if planned is not None:
            repos.append(planned)
        elif (gone := retire(record, inputs)) is not None:
            retired.append(gone)
    return Plan(
        org=options.org,
        api_url=options.api_url,
        created_at=now.isoformat().replace("+00:00", "Z"),
        plan_id=plan_id,
        tool_version=__version__,
        rules={
            "enabled": {rule_id: REGISTRY[rule_id].summary for rule_id in ran},
            "settings": options.settings.as_dict(),
        },
        selection={
            **options.selection.as_dict(),
            **({"shard": str(options.shard)} if options.shard else {}),
            "scanned": total,
        },
        token={
            "login": token.login,
            "kind": token.kind,
            "scopes": token.scopes,
            "can_push_workflows": token.can_push_workflows,
        },
        repos=tuple(sorted(repos, key=lambda r: r.name)),
        skipped=tuple(sorted(skipped)),
        notices=tuple(sorted(notices)),
        campaign=campaign,
        retired=tuple(sorted(retired, key=lambda r: r.name)),
        usage={
            "rest_requests": reader.usage.rest_requests,
            "graphql_requests": reader.usage.graphql_requests,
            "graphql_points": reader.usage.graphql_points,
            "retries": reader.usage.retries,
        },
    )


def _records(reader: GitHubReader, options: ScanOptions, branch: str) -> tuple[int, Iterator[RepoRecord]]:
    """How many repositories there are to read, and the reads. A shard, or `--repo`, lists names first
    (cheap), then reads only its own repositories, so N shards together cost about what one full scan
    does, and a misspelt `--repo` is refused before anything is read."""
    shard, selection = options.shard, options.selection
    if shard is None and not selection.repos:
        return reader.count_repositories(options.org), reader.repositories(options.org, campaign_branch=branch)
    listed = list(reader.repository_names(options.org))
    unknown = selection.unknown_names([item.full_name for item in listed])
    if unknown:
        raise UsageError(
            f"--repo {', '.join(unknown)}: no such repository in {options.org} that this token can see; "
            "check the spelling (`org/repo` or `repo`)"
        )
    mine = [
        item
        for item in listed
        if (shard is None or shard.contains(item.full_name))
        and (not selection.repos or selection.names(item.full_name))
    ]
    return len(mine), reader.repositories_named(options.org, mine, campaign_branch=branch)


class SecretLookup:
    """Secret names per repository, asking GitHub as little as possible.

    The org's secrets visible to every repository are listed once, when first needed. A repository
    whose required secrets are all among them costs nothing more; only the others are asked about.
    """

    def __init__(self, reader: GitHubReader, org: str) -> None:
        self._reader = reader
        self._org = org
        self._org_wide: frozenset[str] | None = None
        self._asked = False

    def org_wide(self) -> frozenset[str] | None:
        if not self._asked:
            self._asked = True
            names = self._reader.org_secret_names(self._org)
            self._org_wide = None if names is None else frozenset(n.upper() for n in names)
        return self._org_wide

    def for_repo(self, full_name: str, required: set[str]) -> SecretNames:
        self.org_wide()
        if self._org_wide is not None and {r.upper() for r in required} <= self._org_wide:
            return SecretNames(repo=None, org=self._org_wide)
        return self._reader.secret_names(full_name)


def _plan_one(
    secrets: SecretLookup, record: RepoRecord, inputs: PlanInputs, app: AppLookup
) -> tuple[RepoPlan | None, list[tuple[str, str]]]:
    log = get_logger(repo=record.full_name, step="plan")
    report = check_snapshot(snapshot_of(record, inputs.settings), inputs.settings)
    required = {fix.requires_secret for f in report.findings for fix in f.fixes if fix.requires_secret}
    required |= required_secrets(report.findings)
    names = secrets.for_repo(record.full_name, required) if required else None
    facts = facts_for(record, app, inputs.settings.app_slug) if app_fixes(report.findings) else None
    planned = plan_repo(record, report, names, inputs, facts)
    notes = [
        (record.full_name, f"{f.location}: {f.rule} [{f.severity.value}] {f.message}")
        for f in report.findings
        if not f.fixes and f.severity is not Severity.ERROR
    ]
    if planned is not None:
        log.info("planned", changes=len(planned.changes), findings=len(report.findings))
    return planned, notes
