"""Pieces several commands share: finding the plan, connecting, checking flags against the plan."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrator.apply.journal import (
    JOURNAL_SUFFIX,
    Journal,
    journal_path,
    plan_journals,
    plan_of_journal,
    read_events,
)
from migrator.campaign import campaign_record
from migrator.errors import Interrupted, MigratorError, UsageError
from migrator.paths import readable_file
from migrator.plan.model import Plan, RepoPlan
from migrator.plan.planfile import LoadedPlan, read_plan
from migrator.plan.render import reviewer_edits
from migrator.plan.selection import Selection
from migrator.plan.shard import Shard
from migrator.refnames import campaign_problem
from migrator.state import last_apply

if TYPE_CHECKING:
    from migrator.apply.pacing import Pacer
    from migrator.github import GitHubClient
    from migrator.progress import Eta

PLANS_DIR = Path("plans")


def global_flags(*, suppress: bool) -> argparse.ArgumentParser:
    """-v/-q/--log-json, valid anywhere: a command's copy must not reset what was given before it."""
    default: Any = argparse.SUPPRESS if suppress else False
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("global flags")
    group.add_argument("-v", "--verbose", action="store_true", default=default, help="log debug events")
    group.add_argument("-q", "--quiet", action="store_true", default=default, help="log only warnings and errors")
    group.add_argument("--log-json", action="store_true", default=default, help="log JSON lines even on a terminal")
    return flags


def command_parser_options(help_text: str, examples: str) -> dict[str, Any]:
    """`add_parser` keywords every command and nested command (`plan merge`) shares: help, EXAMPLES, global flags."""
    return {
        "help": help_text,
        "description": help_text[:1].upper() + help_text[1:] + ".",
        "epilog": "examples:\n" + examples.rstrip("\n"),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
        "parents": [global_flags(suppress=True)],
    }


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("GitHub connection (token from GITHUB_TOKEN, GH_TOKEN or `gh auth token`)")
    group.add_argument(
        "--api-url",
        help="REST API base URL (default $GITHUB_API_URL, else github.com); a plan must name the same one",
    )
    group.add_argument("--app-id", help="authenticate as a GitHub App with this id")
    group.add_argument("--app-key", type=Path, metavar="PEM", help="the App's private key file")
    group.add_argument("--installation-id", help="the App installation to act as")


def connect_from(args: argparse.Namespace, *, api_url: str | None = None) -> GitHubClient:
    from migrator.github import connect  # PyGithub is slow to import; only commands that talk to GitHub pay

    return connect(
        api_url=api_url or args.api_url,
        app_id=args.app_id,
        app_key_path=args.app_key,
        installation_id=args.installation_id,
    )


@dataclass(frozen=True)
class PlanChoice:
    path: Path
    applied_at: str | None  # when its apply started, if it was applied
    how: str  # how it was found, for the line that names it


def add_plan_or_campaign(parser: argparse.ArgumentParser, *, plan_help: str) -> None:
    """`[PLAN | --campaign NAME]`, for every command that acts on applied plans (read back by `open_applied`)."""
    parser.add_argument("plan", type=Path, nargs="?", metavar="PLAN", help=plan_help)
    parser.add_argument(
        "--campaign",
        metavar="NAME",
        help="act on this campaign: its newest applied plan, with the journals of all of its plans",
    )


def campaign_choice(name: str) -> PlanChoice:
    """The newest applied plan of campaign `name`, as the user's state records it."""
    problem = campaign_problem(name)
    if problem is not None:
        raise UsageError(f"--campaign {name!r} {problem}")
    record = campaign_record(name)
    if record is None:
        raise UsageError(f"no applied plan of campaign {name} is recorded here; pass the PLAN to act on")
    newest = record.newest
    if not newest.plan.is_file():
        raise UsageError(f"the newest plan of campaign {name} was {newest.plan}, which no longer exists; pass a PLAN")
    return PlanChoice(newest.plan, newest.applied_at, f"the newest plan of campaign {name}")


def choose_plan(given: Path | None, campaign: str | None = None) -> PlanChoice:
    """PLAN when given; else the newest plan of `--campaign`; else the last apply recorded in the user's state;
    else the newest journal under plans/."""
    if given is not None and campaign is not None:
        raise UsageError("give a PLAN or --campaign NAME, not both")
    if campaign is not None:
        return campaign_choice(campaign)
    if given is not None:
        return PlanChoice(given, first_applied_at(given), "given")
    last = last_apply()
    if last is not None:
        if not last.plan.is_file():
            raise UsageError(f"the last apply was of {last.plan}, which no longer exists; pass the PLAN to act on")
        return PlanChoice(last.plan, last.applied_at, "the last apply")
    journals = sorted(PLANS_DIR.glob(f"*{JOURNAL_SUFFIX}"), key=lambda p: p.stat().st_mtime)
    if not journals:
        raise UsageError(
            "no apply is recorded (nor any journal under plans/): nothing has been applied yet; pass a PLAN"
        )
    plan = plan_of_journal(journals[-1])
    return PlanChoice(plan, first_applied_at(plan), f"the newest journal under {PLANS_DIR}/")


def first_applied_at(plan: Path) -> str | None:
    """When the plan's first apply began (its first journal event), to the second, as the state file says it."""
    stamps = [str(e["at"]) for journal in plan_journals(plan) for e in read_events(journal) if e.get("at")]
    return min(stamps)[:19] + "Z" if stamps else None


def name_plan(command: str, choice: PlanChoice) -> None:
    """Status and rollback always say which plan they act on, and when it was applied."""
    when = f"applied {choice.applied_at}" if choice.applied_at else "not applied yet"
    found = "" if choice.how == "given" else f"; {choice.how}"
    print(f"{command}: plan {choice.path.resolve()} ({when}{found})", file=sys.stderr)


def announce_edits(loaded: LoadedPlan) -> None:
    """Reviewer edits of `enabled` switches are allowed; say which, so nobody is surprised."""
    for edit in reviewer_edits(loaded.plan):
        print(f"reviewer edit: {edit}", file=sys.stderr)


def add_plan_guard_arguments(parser: argparse.ArgumentParser, *, shardable: bool = True) -> None:
    parser.add_argument("--org", help="refuse the plan unless it is for this org")
    if shardable:
        parser.add_argument(
            "--shard", metavar="K/N", help="only the repositories of shard K of N (as `plan --shard`); own journal"
        )


def shard_from(args: argparse.Namespace, plan: Plan) -> Shard | None:
    """`--shard K/N`, refused where the plan cannot hold that shard's repositories."""
    spec = getattr(args, "shard", None)
    if not spec:
        return None
    shard = Shard.parse(spec)
    planned_as = plan.selection.get("shard")
    if isinstance(planned_as, str) and planned_as != str(shard):
        raise UsageError(
            f"this plan is shard {planned_as} alone, so --shard {shard} finds nothing in it; "
            "drop --shard, or `migrator plan merge` the shards and use the merged plan"
        )
    held = plan.selection.get("shards")  # a partial merge lists the shards it holds
    if isinstance(held, list) and held and Shard.parse(str(held[0])).count == shard.count and str(shard) not in held:
        raise UsageError(f"shard {shard} is not in this partial plan (it holds {', '.join(map(str, held))})")
    return shard


def open_journal(loaded: LoadedPlan, shard: Shard | None, *, lock_for: str | None = None) -> Journal:
    """The journal this run appends to (its shard's own file), replaying every journal of the plan and of the
    campaign's other applied plans (the branch and PR are the campaign's); locked against other processes when
    `lock_for` names the command (this plan's journal only)."""
    replay = [*plan_journals(loaded.path), *campaign_journals(loaded)]
    return Journal.open(journal_path(loaded.path, shard), loaded.plan.plan_id, replay=replay, lock_for=lock_for)


def campaign_journals(loaded: LoadedPlan) -> list[Path]:
    """Every journal of the campaign's other applied plans, as the user's state records them (none for a plan
    older than campaigns). Only paths: the plans themselves are not read (rollback reads them, `campaign_plans`)."""
    campaign = loaded.plan.campaign
    record = campaign_record(campaign) if campaign is not None else None
    if record is None or record.org.lower() != loaded.plan.org.lower():
        return []
    here, server = loaded.path.resolve(), loaded.plan.api_url
    others = [p.plan for p in record.plans if p.plan != here and p.api_url == server]
    return [journal for plan in others for journal in plan_journals(plan)]


def campaign_plans(loaded: LoadedPlan) -> list[LoadedPlan]:
    """This plan, then the campaign's other applied plans, newest first: those the user's state records that
    still exist, read and checked, of the same campaign, org and server. A plan that can no longer be read is
    left out with a warning (its journal then cannot be replayed)."""
    campaign = loaded.plan.campaign
    record = campaign_record(campaign) if campaign is not None else None
    found = [loaded]
    here = loaded.path.resolve()
    for applied in record.plans if record else ():
        if applied.plan == here or applied.api_url != loaded.plan.api_url or not applied.plan.is_file():
            continue
        try:
            other = read_plan(applied.plan)
        except MigratorError as error:
            print(f"warning: campaign {campaign}: {error.message}; its plan is left out", file=sys.stderr)
            continue
        same = (other.plan.campaign, other.plan.org.lower(), other.plan.api_url)
        if same == (campaign, loaded.plan.org.lower(), loaded.plan.api_url):
            found.append(other)
    return found


def open_applied(
    args: argparse.Namespace, command: str, *, lock_for: str | None = None
) -> tuple[LoadedPlan, Journal, Shard | None]:
    """What status, rollback, verify and report start with: PLAN (or the last apply), read and checked, its
    journals replayed (this run's shard's own, locked when `lock_for` names the command), and a line naming it."""
    choice = choose_plan(args.plan, getattr(args, "campaign", None))
    loaded = load_for_remote(args, choice.path)
    shard = shard_from(args, loaded.plan)
    journal = open_journal(loaded, shard, lock_for=lock_for)
    name_plan(command, choice)
    return loaded, journal, shard


def campaign_repos(plans: list[LoadedPlan]) -> list[tuple[Plan, RepoPlan]]:
    """Every repository the campaign's plans (`campaign_plans`, newest first) planned, each with the newest plan
    that planned it: one PR per repository, whichever plans opened and updated it, so each is acted on once (by
    rollback; status, verify and report can list the campaign the same way)."""
    chosen: dict[str, tuple[Plan, RepoPlan]] = {}
    for loaded in plans:
        for repo in loaded.plan.repos:
            chosen.setdefault(repo.name.lower(), (loaded.plan, repo))
    return sorted(chosen.values(), key=lambda item: item[1].name)


def load_for_remote(args: argparse.Namespace, plan_path: Path | None) -> LoadedPlan:
    """Read and validate the plan (no network yet), and refuse flags that contradict it.

    The plan's API URL decides where the token is sent, so it must match what the user chose
    (--api-url, else $GITHUB_API_URL, else github.com): a plan file alone never redirects a token.
    """
    from migrator.github.urls import resolve_api_urls  # stdlib only: no PyGithub import

    loaded = read_plan(readable_file(plan_path or choose_plan(None).path, "plan"))
    plan = loaded.plan
    if getattr(args, "org", None) and args.org.lower() != plan.org.lower():
        raise UsageError(f"--org {args.org} does not match the plan's org {plan.org}")
    chosen = resolve_api_urls(args.api_url).rest
    if resolve_api_urls(plan.api_url).rest != chosen:
        given = f"--api-url is {chosen}" if args.api_url else f"without --api-url the token goes to {chosen}"
        raise UsageError(
            f"the plan is for {plan.api_url}, but {given}; "
            f"pass --api-url {plan.api_url} if that is where your token should go"
        )
    return loaded


def matches(full_name: str, names: list[str]) -> bool:
    """`--repo` takes `org/repo` or the bare name, case-insensitively (as `plan --repo` does)."""
    return Selection(repos=tuple(names)).names(full_name)


HALF_DONE = {
    "apply": "a branch without its PR",
    "rollback": "a PR commented on but still open, or closed with its branch",
    "merge": "a merge sent whose answer was lost; the re-run reads the PR before sending anything",
}


def interrupted(command: str, plan: Path, names: list[str], finished: int) -> Interrupted:
    """What Ctrl-C left behind, truthfully: the repository in hand may be half done; re-running finishes it."""
    if finished >= len(names):
        return Interrupted(f"{command} interrupted after every repository was done; nothing is left half-done")
    during = names[finished]
    return Interrupted(
        f"{command} interrupted during {during}: {finished} of {len(names)} repositories were done before it; "
        f"{during} may be half done ({HALF_DONE.get(command, 'one step of several')}). Nothing is lost: "
        f"re-run `migrator {command} {plan}` to resume from the journal"
    )


def pacing_eta(pacer: Pacer, *, writes_per_repo: int, writes: bool = True) -> Eta | None:
    """The pacing's part of the one ETA: the writes the repositories still to do may need (none in a dry run)."""
    if not writes:
        return None
    return lambda done, total: pacer.eta(writes_per_repo * max(total - done, 0)) if total else None


def remember_recent_writes(pacer: Pacer, journal: Journal) -> None:
    """Seed the pacer with the writes the plan's journals record (an intent is logged before each
    content-creating request); the pacer keeps those of the last hour."""
    now = datetime.now(UTC)
    ages = []
    for stamp in journal.intents_at:
        try:
            at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            continue
        ages.append((now - at).total_seconds())
    pacer.remember(ages)


def wait_note(seconds: float) -> str:
    """For the progress line: a wait, with the time it ends (the line is not redrawn while it sleeps)."""
    until = datetime.now(UTC).timestamp() + seconds
    return f"waiting {seconds:,.0f}s, until {datetime.fromtimestamp(until, UTC):%H:%M:%S} UTC, for GitHub's limits"
