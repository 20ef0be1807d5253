"""`migrator plan --org ORG`: scan an organisation into a reviewable plan file.

`migrator plan --org ORG --shard K/N --plan-id ID` plans one shard; `migrator plan merge SHARD... -o PLAN`
joins the shards into the plan one run would have written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.analysis.context import DEFAULT_DOCKER_CANDIDATES, RuleSettings
from migrator.apply.journal import plan_journals
from migrator.commands.check import add_app_arguments, app_settings, valid_secret_name
from migrator.commands.common import add_connection_arguments, announce_edits, command_parser_options, connect_from
from migrator.commands.jobs import add_jobs_argument, use_jobs
from migrator.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from migrator.log import get_logger
from migrator.paths import readable_file, writable_file
from migrator.plan.merge import merge_plans
from migrator.plan.model import Plan
from migrator.plan.planfile import default_path, read_plan, write_plan
from migrator.plan.render import campaign_states, short
from migrator.plan.scan import ScanOptions, scan
from migrator.plan.selection import Selection
from migrator.plan.shard import Shard
from migrator.progress import Progress
from migrator.refnames import campaign_problem, plan_id_problem
from migrator.rules import REGISTRY

EXAMPLES = """\
  $ migrator plan --org acme                          # writes plans/acme-<UTC time>.json
  $ migrator plan --org acme -o plan.json --repo api --repo web
  $ migrator plan --org acme --include 'svc-*' --exclude '*-archive' --topic release
  $ migrator plan --org acme --campaign acme-release   # re-planning targets the same branches and PRs
  $ migrator plan --org acme --shard 1/4 --plan-id acme-2026-12 -o shard-1.json
  $ migrator plan merge shard-*.json -o plan.json
  $ migrator plan --org acme --rule release-app-token --app-slug release-bot --app-key-secret RELEASE_APP_KEY
"""
MERGE_EXAMPLES = """\
  $ migrator plan merge shard-1.json shard-2.json shard-3.json shard-4.json -o plan.json
  $ migrator plan merge shard-*.json --partial -o plan.json   # some shards failed; merge the rest
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", help="the organisation to scan (required unless merging)")
    parser.add_argument("--out", "-o", type=Path, help="plan file (default plans/<plan id>[.shard-K-of-N].json)")
    parser.add_argument("--plan-id", metavar="ID", help="the plan's id (default <org>-<UTC time>)")
    parser.add_argument(
        "--campaign",
        metavar="NAME",
        help="the campaign this plan belongs to; its branch is migrator/NAME (default <org>-<rule ids, sorted>)",
    )
    parser.add_argument(
        "--shard", metavar="K/N", help="plan only shard K of N (a stable hash of each repo name); use one --plan-id"
    )
    actions = parser.add_subparsers(dest="plan_action", metavar="[merge]", title="merging shards", required=False)
    merge = actions.add_parser("merge", **command_parser_options("merge shard plans into one plan", MERGE_EXAMPLES))
    merge.set_defaults(_parser=merge)
    merge.add_argument("shards", nargs="+", type=Path, metavar="SHARD", help="plans written with --shard K/N")
    merge.add_argument(
        "--out", "-o", dest="merge_out", type=Path, metavar="PLAN", help="the merged plan (default plans/<id>.json)"
    )
    merge.add_argument("--partial", action="store_true", help="merge even when some shards are missing")
    add_connection_arguments(parser)
    pick = parser.add_argument_group("which repositories")
    pick.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repo (repeatable)")
    pick.add_argument("--include", action="append", default=[], metavar="GLOB", help="only repos matching")
    pick.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="leave out repos matching")
    pick.add_argument("--topic", action="append", default=[], help="only repos with this topic (repeatable)")
    for flag, what in (("archived", "archived"), ("forks", "forked"), ("empty", "empty"), ("disabled", "disabled")):
        pick.add_argument(f"--include-{flag}", action="store_true", help=f"also scan {what} repositories")
    rules = parser.add_argument_group("rules")
    rules.add_argument("--pat-secret", metavar="NAME", help="the org's release PAT secret, when files name none")
    rules.add_argument("--docker-glob", action="append", metavar="GLOB", help="names of possible duplicate workflows")
    rules.add_argument(
        "--rule",
        action="append",
        choices=sorted(REGISTRY),
        help="plan only this rule (repeatable); opt-in rules such as release-app-token run only when named",
    )
    add_app_arguments(rules)
    add_jobs_argument(parser)


def run(args: argparse.Namespace) -> int:
    if args.plan_action == "merge":
        return _merge(args)
    if not args.org:
        raise UsageError("plan needs --org ORG (or `migrator plan merge SHARD...` to merge shard plans)")
    shard = Shard.parse(args.shard) if args.shard else None
    plan_id = _valid_plan_id(args.plan_id)
    if shard and not plan_id:
        raise UsageError(
            "--shard needs --plan-id ID, the same for every shard of the plan (branch names embed it), "
            "e.g. --plan-id acme-2026-12"
        )
    campaign = _valid_campaign(args.campaign)
    if args.out:
        refuse_applied(writable_file(args.out, "--out"))
    pat = valid_secret_name(args.pat_secret)
    settings = RuleSettings(
        pat_secret=pat, docker_candidates=tuple(args.docker_glob or DEFAULT_DOCKER_CANDIDATES), **app_settings(args)
    )
    selection = Selection(
        repos=tuple(args.repo),
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        topics=tuple(args.topic),
        include_archived=args.include_archived,
        include_forks=args.include_forks,
        include_empty=args.include_empty,
        include_disabled=args.include_disabled,
    )
    reader = connect_from(args)
    use_jobs(reader, args)
    log = get_logger(step="plan")
    with Progress("scanning", extra=lambda: f"{reader.usage.requests} requests") as progress:
        plan = scan(
            reader,
            ScanOptions(
                org=args.org,
                api_url=reader.api_url,
                selection=selection,
                settings=settings,
                shard=shard,
                plan_id=plan_id,
                campaign=campaign,
            ),
            progress=progress,
        )
    path = args.out or refuse_applied(
        writable_file(default_path(plan, suffix=f".{shard.slug}" if shard else ""), "plan file", create_folders=True)
    )
    path = write_plan(plan, path)
    usage = reader.usage
    log.debug(  # the same figures are on stdout
        "usage",
        requests=usage.requests,
        rest=usage.rest_requests,
        graphql=usage.graphql_requests,
        graphql_points=usage.graphql_points,
        retries=usage.retries,
    )
    print(path)
    print(f"{short(plan)}; review it with `migrator show {path}`")
    if plan.campaign is not None:
        found = campaign_states(plan)
        counts = ", ".join(f"{len(rows)} {state}" for state, rows in found.items()) or "no repository"
        print(f"campaign {plan.campaign} (branch {plan.branch}): {counts}")
    print(
        f"GitHub usage: {usage.requests} requests ({usage.graphql_requests} GraphQL, {usage.rest_requests} REST), "
        f"{usage.graphql_points} GraphQL points, {usage.retries} retries"
    )
    return _verdict(plan)


def _verdict(plan: Plan) -> int:
    """A plan in which every change is blocked can do nothing: say so, with the reasons, and exit 1."""
    blocked = plan.blocked_reasons()
    if blocked is None:
        return EXIT_OK
    print(f"every change of this plan is blocked: {'; '.join(blocked)}")
    return EXIT_FINDINGS


def _valid_plan_id(plan_id: str | None) -> str | None:
    if plan_id is None:
        return None
    if plan_id_problem(plan_id) is not None:  # the same check the plan reader makes
        raise UsageError(
            f"--plan-id {plan_id!r} cannot name a branch; use letters, digits, '.', '_' and '-' (e.g. acme-run-42)"
        )
    return plan_id


def _valid_campaign(campaign: str | None) -> str | None:
    if campaign is None:
        return None
    if campaign_problem(campaign) is not None:
        raise UsageError(
            f"--campaign {campaign!r} cannot name a branch; use letters, digits, '.', '_' and '-' (e.g. acme-release)"
        )
    return campaign


def _merge(args: argparse.Namespace) -> int:
    if args.org or args.shard or args.plan_id or args.campaign:
        raise UsageError("`plan merge` takes shard plans only; --org, --shard, --plan-id and --campaign come from them")
    given = args.merge_out or args.out
    if given:
        refuse_applied(writable_file(given, "--out"))
    loaded = [read_plan(readable_file(path, "shard plan")) for path in args.shards]
    plan = merge_plans([(str(item.path), item.plan) for item in loaded], allow_partial=args.partial)
    for item in loaded:
        announce_edits(item)
    path = write_plan(
        plan,
        given or refuse_applied(writable_file(default_path(plan), "plan file", create_folders=True)),
        lock_for="plan merge",
    )
    print(path)
    print(f"{short(plan)}; merged from {len(loaded)} shard(s); review it with `migrator show {path}`")
    return EXIT_OK


def refuse_applied(path: Path) -> Path:
    """A plan that has been applied is the record rollback and status work from: never overwrite it."""
    journals = plan_journals(path)
    if journals:
        raise UsageError(
            f"{path} has been applied (journal {journals[0].name}); write the new plan elsewhere with --out, "
            "or roll back and remove the old one first"
        )
    return path
