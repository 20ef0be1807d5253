"""A campaign: the plans of one org and rule set over time, with one branch and one PR per repository.

- identity: a name (`plan --campaign`, by default `<org>-<rules>`); the branch is `migrator/<campaign>`, every
  commit on it carries `Migrator-Campaign: NAME` (and the plan id and two digests), and the PR body a marker;
- classification (pure): what the campaign already did in a repository, from the plan's bulk read, as one of
  `CampaignState`; `plan` stores it per repository and `apply` acts on it;
- the record of applied plans per campaign, newest first, in the user's state folder: a newer plan supersedes
  the older ones, and rollback, status and apply with `--campaign` act across all of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrator.github.types import CampaignPull, CampaignRead
from migrator.plan.model import CampaignState, Change, Disposition, Found
from migrator.state import read_state_file, state_dir, write_state_file

CAMPAIGN_TRAILER = "Migrator-Campaign"
PLAN_TRAILER = "Migrator-Plan"
FIX_TRAILER = "Migrator-Fix"  # digest of the planned paths and their content after
BASE_TRAILER = "Migrator-Base"  # digest of the planned paths' blobs before (on the base the commit was made on)
RULES_TRAILER = "Migrator-Rules"  # the rules the plan ran: a plan of other rules cannot judge this commit
CAMPAIGNS_DIR = "campaigns"
_MAX_BYTES = 1024 * 1024


# --- what a commit of ours says -----------------------------------------------------------------------


def selected(changes: Iterable[Change], *, include_review: bool) -> list[Change]:
    """What apply writes: enabled changes, review ones only when asked; blocked never."""
    return [
        c
        for c in changes
        if c.disposition is not Disposition.BLOCKED
        and (c.enabled or (include_review and c.disposition is Disposition.REVIEW))
    ]


def written(change: Change, *, include_review: bool) -> str | None:
    if include_review and change.after_with_review is not None:
        return change.after_with_review
    return change.after


@dataclass(frozen=True)
class Digests:
    fix: str  # the paths and what they hold after
    base: str  # the paths and their blobs before

    @classmethod
    def of(cls, changes: Iterable[Change], *, include_review: bool = False) -> Digests:
        chosen = sorted(changes, key=lambda c: c.path)
        after = [[c.path, written(c, include_review=include_review)] for c in chosen]
        before = [[c.path, c.blob_before] for c in chosen]
        return cls(fix=_digest(after), base=_digest(before))


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def trailers(campaign: str, plan_id: str, digests: Digests, rules: Iterable[str] = ()) -> str:
    ran = ",".join(sorted(rules))
    return (
        f"{CAMPAIGN_TRAILER}: {campaign}\n{PLAN_TRAILER}: {plan_id}\n"
        f"{FIX_TRAILER}: {digests.fix}\n{BASE_TRAILER}: {digests.base}\n" + (f"{RULES_TRAILER}: {ran}\n" if ran else "")
    )


def trailer(message: str, key: str) -> str | None:
    """The value of the last `key: value` line of a commit message."""
    found = None
    for line in message.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip() == key:
            found = value.strip()
    return found


def is_campaign_commit(message: str, parents: Sequence[str], campaign: str) -> bool:
    """A commit migrator made for this campaign: our trailer, and a single parent (we only ever commit once, onto
    a commit of the default branch, so a branch holding only our work is exactly one such commit ahead)."""
    return trailer(message, CAMPAIGN_TRAILER) == campaign and len(parents) == 1


# --- classification -----------------------------------------------------------------------------------


def campaign_pull(pulls: Sequence[CampaignPull]) -> CampaignPull | None:
    """The PR that stands for the campaign here: an open one, else a merged one, else the newest closed one."""
    for state in ("open", "merged", "closed"):
        for pull in pulls:  # newest first
            if pull.state == state:
                return pull
    return None


def classify(
    read: CampaignRead,
    *,
    campaign: str,
    base_oid: str,
    planned: Sequence[Change] | None,
    rules: Iterable[str] | None = None,
) -> Found | None:
    """The campaign's state in one repository. `planned`: the changes apply would write (None or empty: no change
    is needed any more); `rules`: the rules this plan ran. None when the campaign has nothing here and nothing is
    planned."""
    pull = campaign_pull(read.pulls)
    head = read.head
    seen = Found(
        pr_number=pull.number if pull else None,
        pr_url=pull.url if pull else None,
        branch_head=head.oid if head else None,
    )
    if pull is not None and pull.state == "merged":
        return replace(seen, state=CampaignState.MERGED, why=f"PR #{pull.number} is merged")
    if pull is not None and pull.state == "closed":
        why = f"PR #{pull.number} was closed; never reopened unless `apply --reopen`"
        return replace(seen, state=CampaignState.CLOSED, why=why)
    if head is not None and not is_campaign_commit(head.message, head.parents, campaign):
        why = f"someone else pushed {head.oid[:10]} to migrator/{campaign}: left alone"
        return replace(seen, state=CampaignState.TOUCHED, why=why)
    made = trailer(head.message, RULES_TRAILER) if head is not None else None
    if made is not None and rules is not None and set(made.split(",")) != set(rules):
        # A plan of other rules would call the fix obsolete, or rewrite it without the other rules' part.
        why = (
            f"our branch holds the fix of rules {made}; this plan runs {','.join(sorted(rules))}: left alone "
            "(plan with the same rules, or name another --campaign)"
        )
        return replace(seen, state=CampaignState.TOUCHED, why=why)
    if not planned:
        if head is None and pull is None:
            return None
        why = "no change is needed any more (fixed by hand, or the rules no longer apply)"
        return replace(seen, state=CampaignState.OBSOLETE, why=why)
    if head is None:
        return replace(seen, state=CampaignState.NEW, why="no branch or PR yet")
    want = Digests.of(planned)
    moved = head.parents[0] != base_oid
    if trailer(head.message, BASE_TRAILER) != want.base:
        return replace(seen, state=CampaignState.UPDATE, why="the base moved under a planned file", base_moved=True)
    if trailer(head.message, FIX_TRAILER) != want.fix:
        return replace(seen, state=CampaignState.UPDATE, why="the fix changed", base_moved=moved)
    if pull is not None and pull.mergeable == "CONFLICTING":
        why = f"PR #{pull.number} conflicts with its base"
        return replace(seen, state=CampaignState.UPDATE, why=why, base_moved=moved)
    why = "the PR carries exactly the planned bytes" + (" (the base moved elsewhere)" if moved else "")
    return replace(seen, state=CampaignState.UP_TO_DATE, why=why, base_moved=moved)


# --- the applied plans of each campaign ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AppliedPlan:
    plan: Path  # absolute
    plan_id: str
    applied_at: str
    api_url: str = ""  # the server it was applied to: a campaign of the same name elsewhere is another campaign


@dataclass(frozen=True, kw_only=True)
class CampaignRecord:
    campaign: str
    org: str
    plans: tuple[AppliedPlan, ...]  # newest first

    @property
    def newest(self) -> AppliedPlan:
        return self.plans[0]


def _record_path(campaign: str) -> Path:
    return state_dir() / CAMPAIGNS_DIR / f"{campaign}.json"


def record_plan(
    campaign: str, *, org: str, plan: Path, plan_id: str, api_url: str = "", now: datetime | None = None
) -> CampaignRecord:
    """Put this plan first among the campaign's applied plans (a resumed apply keeps its first time). A state
    folder that cannot be written costs only the convenience, as for the last apply."""
    stamp = (now or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    earlier = campaign_record(campaign)
    plans = list(earlier.plans) if earlier else []
    resolved = plan.resolve()
    again = [p for p in plans if p.plan == resolved and p.plan_id == plan_id]
    first = again[0].applied_at if again else stamp
    entry = AppliedPlan(plan=resolved, plan_id=plan_id, applied_at=first, api_url=api_url)
    plans = [entry, *(p for p in plans if p not in again)]
    record = CampaignRecord(campaign=campaign, org=org, plans=tuple(plans))
    _write(record)
    return record


def _write(record: CampaignRecord) -> None:
    body = {
        "campaign": record.campaign,
        "org": record.org,
        "plans": [
            {"plan": str(p.plan), "plan_id": p.plan_id, "applied_at": p.applied_at, "api_url": p.api_url}
            for p in record.plans
        ],
    }
    write_state_file(_record_path(record.campaign), json.dumps(body, indent=2, sort_keys=True))


def campaign_record(campaign: str) -> CampaignRecord | None:
    """The campaign's applied plans, newest first; None when none is recorded (or the file is not ours)."""
    data = read_state_file(_record_path(campaign), max_bytes=_MAX_BYTES)
    try:
        return _record_from(data) if data is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def _record_from(data: Mapping[str, Any]) -> CampaignRecord | None:
    plans = tuple(
        AppliedPlan(
            plan=Path(str(p["plan"])),
            plan_id=str(p["plan_id"]),
            applied_at=str(p["applied_at"]),
            api_url=str(p.get("api_url") or ""),
        )
        for p in data["plans"]
    )
    if not plans:
        return None
    return CampaignRecord(campaign=str(data["campaign"]), org=str(data["org"]), plans=plans)
