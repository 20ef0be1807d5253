"""Merge the shards of one plan (`migrator plan --shard K/N --plan-id ID`) into the plan an unsharded run
would have written. Pure: plans in, a plan out.

Shards must agree on everything but their repositories: the org, the server, the plan id (branch names
and PR markers embed it), the rules and their settings, the selection. Reviewer edits of `enabled`
switches in a shard survive the merge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from migrator.errors import InputError
from migrator.plan.model import Plan
from migrator.plan.shard import Shard

SHARD_KEY = "shard"
SCANNED_KEY = "scanned"  # how many repositories each shard read: summed


def shard_of(plan: Plan) -> Shard | None:
    spec = plan.selection.get(SHARD_KEY)
    return Shard.parse(spec) if isinstance(spec, str) else None


def merge_plans(plans: Sequence[tuple[str, Plan]], *, allow_partial: bool = False) -> Plan:
    """`plans`: (where it came from, plan) pairs, for messages. The result lists every shard it holds."""
    if not plans:
        raise InputError("nothing to merge; pass the shard plans")
    shards = [_shard_or_refuse(where, plan) for where, plan in plans]
    first_where, first = plans[0]
    for where, plan in plans[1:]:
        difference = _difference(first, plan)
        if difference:
            raise InputError(
                f"{where} and {first_where} are not shards of one plan: their {difference} differ; "
                "plan every shard with the same flags and the same --plan-id"
            )
    _check_coverage(shards, allow_partial=allow_partial)
    repos = sorted((repo for _, plan in plans for repo in plan.repos), key=lambda r: r.name)
    names = [r.name.lower() for r in repos]
    if len(set(names)) != len(names):
        raise InputError("two shards plan the same repository; were they sharded with different N?")
    return replace(
        first,
        created_at=min(plan.created_at for _, plan in plans),
        selection=_merged_selection(first.selection, shards, [plan.selection for _, plan in plans]),
        token=_merged_token([plan.token for _, plan in plans]),
        repos=tuple(repos),
        skipped=tuple(sorted(item for _, plan in plans for item in plan.skipped)),
        notices=tuple(sorted(item for _, plan in plans for item in plan.notices)),
        retired=tuple(sorted((r for _, plan in plans for r in plan.retired), key=lambda r: r.name)),
        usage=_summed([plan.usage for _, plan in plans]),
    )


def _shard_or_refuse(where: str, plan: Plan) -> Shard:
    shard = shard_of(plan)
    if shard is None:
        raise InputError(f"{where} is not a shard (it was planned without --shard); it needs no merging")
    return shard


def _difference(a: Plan, b: Plan) -> str | None:
    pairs: dict[str, tuple[Any, Any]] = {
        "orgs": (a.org.lower(), b.org.lower()),
        "API URLs": (a.api_url, b.api_url),
        "plan ids": (a.plan_id, b.plan_id),
        "campaigns": (a.campaign, b.campaign),
        "format versions": (a.format_version, b.format_version),
        "migrator versions": (a.tool_version, b.tool_version),
        "rules or rule settings": (a.rules, b.rules),
        "selections": (_unsharded(a.selection), _unsharded(b.selection)),
    }
    return next((name for name, (x, y) in pairs.items() if x != y), None)


def _unsharded(selection: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in selection.items() if k not in {SHARD_KEY, SCANNED_KEY}}


def _check_coverage(shards: list[Shard], *, allow_partial: bool) -> None:
    counts = sorted({s.count for s in shards})
    if len(counts) > 1:
        raise InputError(f"the shards split the org {' and '.join(map(str, counts))} ways; merge shards of one split")
    seen: set[Shard] = set()
    for shard in shards:
        if shard in seen:
            raise InputError(f"shard {shard} is given twice")
        seen.add(shard)
    missing = [str(Shard(i, counts[0])) for i in range(1, counts[0] + 1) if Shard(i, counts[0]) not in seen]
    if missing and not allow_partial:
        raise InputError(f"shard {', '.join(missing)} is missing; add it, or pass --partial to merge what is here")


def _merged_selection(
    selection: Mapping[str, Any], shards: list[Shard], each: list[Mapping[str, Any]]
) -> dict[str, Any]:
    merged = _unsharded(selection)
    if all(isinstance(s.get(SCANNED_KEY), int) for s in each):
        merged[SCANNED_KEY] = sum(int(s[SCANNED_KEY]) for s in each)
    if len(shards) < shards[0].count:  # a partial merge says which part of the org it covers
        merged["shards"] = [str(s) for s in sorted(shards)]
    return merged


def _merged_token(tokens: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One token's facts when every shard used the same kind of token; else each shard's, in order."""
    if all(t == tokens[0] for t in tokens):
        return dict(tokens[0])
    return {"shards": [dict(t) for t in tokens]}


def _summed(usages: list[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for usage in usages:
        for key, value in usage.items():
            total[key] = total.get(key, 0) + value
    return total
