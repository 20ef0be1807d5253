"""`migrator plan --org ORG`: scan an organisation into a reviewable plan file."""

from __future__ import annotations

import argparse
from pathlib import Path

from migrator.analysis.context import DEFAULT_DOCKER_CANDIDATES, RuleSettings
from migrator.commands.check import valid_secret_name
from migrator.commands.common import add_connection_arguments, connect_from
from migrator.errors import EXIT_OK
from migrator.log import get_logger
from migrator.plan.planfile import default_path, write_plan
from migrator.plan.render import short
from migrator.plan.scan import ScanOptions, scan
from migrator.plan.selection import Selection
from migrator.progress import ProgressLine


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", required=True, help="the organisation to scan")
    parser.add_argument("--out", type=Path, help="plan file (default plans/<org>-<UTC time>.json)")
    add_connection_arguments(parser)
    pick = parser.add_argument_group("which repositories")
    pick.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repo (repeatable)")
    pick.add_argument("--include", action="append", default=[], metavar="GLOB", help="only repos matching")
    pick.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="leave out repos matching")
    pick.add_argument("--topic", action="append", default=[], help="only repos with this topic (repeatable)")
    for state in ("archived", "forks", "empty", "disabled"):
        pick.add_argument(f"--include-{state}", action="store_true", help=f"also scan {state} repositories")
    rules = parser.add_argument_group("rules")
    rules.add_argument("--pat-secret", metavar="NAME", help="the org's release PAT secret, when files name none")
    rules.add_argument("--docker-glob", action="append", metavar="GLOB", help="names of possible duplicate workflows")


def run(args: argparse.Namespace) -> int:
    pat = valid_secret_name(args.pat_secret)
    settings = RuleSettings(pat_secret=pat, docker_candidates=tuple(args.docker_glob or DEFAULT_DOCKER_CANDIDATES))
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
    log = get_logger(step="plan")
    progress = ProgressLine("scanning", extra=lambda: f"{reader.usage.requests} requests")
    try:
        plan = scan(
            reader,
            ScanOptions(org=args.org, api_url=reader.api_url, selection=selection, settings=settings),
            progress=progress,
        )
    finally:
        progress.close()
    path = write_plan(plan, args.out or default_path(plan))
    usage = reader.usage
    log.info(
        "usage",
        requests=usage.requests,
        rest=usage.rest_requests,
        graphql=usage.graphql_requests,
        graphql_points=usage.graphql_points,
        retries=usage.retries,
    )
    print(path)
    print(f"{short(plan)}; review it with `migrator show {path}`")
    print(
        f"GitHub usage: {usage.requests} requests ({usage.graphql_requests} GraphQL, {usage.rest_requests} REST), "
        f"{usage.graphql_points} GraphQL points, {usage.retries} retries"
    )
    return EXIT_OK
