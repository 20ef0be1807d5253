"""`migrator report [PLAN]`: the campaign as a picture: a burndown of repositories by state, a table per state
with links, and the evidence for every broken repository; HTML (self-contained) or Markdown."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.commands.common import (
    add_connection_arguments,
    add_plan_guard_arguments,
    add_plan_or_campaign,
    connect_from,
    matches,
    open_applied,
)
from migrator.errors import EXIT_OK, UsageError
from migrator.paths import writable_file
from migrator.progress import Progress
from migrator.report import html, markdown
from migrator.report.gather import opened_at, planned_at
from migrator.report.model import Campaign, build, default_title
from migrator.verify.model import Judgement
from migrator.verify.reading import IMAGE_SOURCES, read_facts, targets, verdicts

if TYPE_CHECKING:
    from migrator.github import GitHubClient

EXAMPLES = """\
  $ migrator report --out report.html                       # the last apply, as one offline HTML page
  $ migrator report plan.json --format markdown >> "$GITHUB_STEP_SUMMARY"
  $ migrator report --tracking-issue acme/platform#42       # keep one issue's body up to date
  $ migrator report --campaign acme-release --format markdown
"""

ISSUE = re.compile(r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(?P<number>[1-9][0-9]*)$")


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_or_campaign(parser, plan_help="default: the last apply (from any directory), or --campaign NAME")
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository (repeatable)")
    parser.add_argument(
        "--format",
        choices=("html", "markdown"),
        default="html",
        dest="output_format",
        help="a self-contained HTML page (default), or Markdown for a job summary",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the report here (default: stdout)")
    parser.add_argument(
        "--tracking-issue",
        type=parse_issue,
        metavar="OWNER/REPO#N",
        help="keep this issue's body up to date with the Markdown report (written only when it changed)",
    )
    parser.add_argument(
        "--image-source",
        choices=IMAGE_SOURCES,
        default="jobs",
        help="image pushes from the runs' jobs (GitHub), or from the sandbox's registry model",
    )
    parser.add_argument(
        "--title", help="the report's title (default: the plan's campaign; for a plan older than campaigns, org and id)"
    )
    add_plan_guard_arguments(parser, shardable=False)
    add_connection_arguments(parser)


def parse_issue(text: str) -> tuple[str, int]:
    found = ISSUE.match(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"not an issue: {text!r} (like acme/platform#42)")
    return found.group("repo"), int(found.group("number"))


def run(args: argparse.Namespace) -> int:
    if args.out is not None:
        writable_file(args.out, "--out")
    loaded, journal, _ = open_applied(args, "report")
    plan = loaded.plan

    def only(name: str) -> bool:
        return not args.repo or matches(name, args.repo)

    wanted = targets(plan, journal, only)
    judgements: list[Judgement] = []
    client = None
    if wanted or args.tracking_issue:
        client = connect_from(args, api_url=plan.api_url)
    if wanted and client is not None:
        with Progress("reading releases") as progress:
            judgements = verdicts(read_facts(client, wanted, image_source=args.image_source, progress=progress))
    campaign = build(
        args.title or default_title(plan.org, plan.plan_id, plan.campaign),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        planned={name: at for name, at in planned_at(plan).items() if only(name)},
        opened=opened_at(loaded.path),
        judgements=judgements,
        applied={name: state.status or "" for name, state in journal.repos.items()},
    )
    if args.repo and not campaign.rows:
        raise UsageError(f"none of {', '.join(args.repo)} is in this plan")
    text = html.render(campaign) if args.output_format == "html" else markdown.render(campaign)
    _emit(text, args.out)
    if args.tracking_issue and client is not None:
        _track(client, args.tracking_issue, campaign)
    return EXIT_OK


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=f".{out.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, out)
    print(f"report: wrote {out}", file=sys.stderr)


def _track(client: GitHubClient, issue: tuple[str, int], campaign: Campaign) -> None:
    repo, number = issue
    changed = client.keep_issue_body(repo, number, markdown.render(campaign))
    what = "updated" if changed else "already up to date"
    print(f"report: tracking issue {repo}#{number} {what}", file=sys.stderr)
