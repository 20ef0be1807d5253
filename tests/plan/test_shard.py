"""Shards: a stable partition of an org by repo name, and merging shard plans back into one plan."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from migrator.analysis.context import RuleSettings
from migrator.errors import InputError, UsageError
from migrator.plan.merge import merge_plans
from migrator.plan.model import Plan, to_dict
from migrator.plan.scan import ScanOptions, scan
from migrator.plan.selection import Selection
from migrator.plan.shard import Shard, shard_index
from tests.golden import golden_tree
from tests.plan.fakes import FakeReader, record

NOW = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)
TREES = ("reference", "cross-file", "never-touched", "docker-review", "no-pat")


def test_the_hash_is_stable_across_runs_and_machines() -> None:
    # sha256-based, so these never change; Python's own hash() would differ per process
    assert [shard_index(f"acme/repo-{i}", 4) for i in range(8)] == [
        shard_index(f"ACME/Repo-{i}", 4) for i in range(8)
    ]
    assert shard_index("acme/service", 4) == 4
    assert shard_index("acme/tool", 4) == 1


def test_every_repo_lands_in_exactly_one_shard_and_shards_are_even() -> None:
    names = [f"acme/repo-{i:05d}" for i in range(10_000)]
    shards = [Shard(k, 4) for k in range(1, 5)]
    owners = [[s for s in shards if s.contains(n)] for n in names]
    assert all(len(o) == 1 for o in owners)
    sizes = Counter(o[0].index for o in owners)
    assert min(sizes.values()) > 2_300 and max(sizes.values()) < 2_700


@pytest.mark.parametrize("spec", ["0/4", "5/4", "1/0", "a/b", "1-4", "3", "1/999"])
def test_bad_shard_specs_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError, match="shard"):
        Shard.parse(spec)


def reader() -> FakeReader:
    records = [record(f"acme/{tree}-{i}", golden_tree(tree)) for tree in TREES for i in range(4)]
    return FakeReader(records, org_wide=frozenset({"PAT_TOKEN"}))


def plan_of(fake: FakeReader, shard: Shard | None) -> Plan:
    options = ScanOptions(
        org="acme",
        api_url="https://api.github.com",
        selection=Selection(),
        settings=RuleSettings(),
        shard=shard,
        plan_id="acme-run-7",
        now=NOW,
    )
    return scan(fake, options)


def shards_of(count: int) -> list[tuple[str, Plan]]:
    return [(f"shard{k}.json", plan_of(reader(), Shard(k, count))) for k in range(1, count + 1)]


def comparable(plan: Plan) -> dict[str, object]:
    body = to_dict(plan)
    return {k: v for k, v in body.items() if k not in {"usage", "digest", "created_at"}}


def test_a_shard_reads_only_its_own_repositories_by_name() -> None:
    fake = reader()
    plan = plan_of(fake, Shard(2, 4))
    assert fake.read_by_name and all(Shard(2, 4).contains(n) for n in fake.read_by_name)
    assert {r.name for r in plan.repos} <= set(fake.read_by_name)
    assert plan.selection["shard"] == "2/4"


@pytest.mark.parametrize("count", [1, 2, 4, 7])
def test_merged_shards_are_the_unsharded_plan(count: int) -> None:
    merged = merge_plans(shards_of(count))
    assert comparable(merged) == comparable(plan_of(reader(), None))


def test_a_missing_shard_is_refused_unless_partial() -> None:
    shards = shards_of(4)
    del shards[2]
    with pytest.raises(InputError, match="shard 3/4 is missing"):
        merge_plans(shards)
    partial = merge_plans(shards, allow_partial=True)
    assert partial.selection["shards"] == ["1/4", "2/4", "4/4"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: replace(p, plan_id="acme-run-8"), "plan ids differ"),
        (lambda p: replace(p, org="other"), "orgs differ"),
        (lambda p: replace(p, api_url="https://ghe.example.com/api/v3"), "API URLs differ"),
        (lambda p: replace(p, rules={"enabled": {}}), "rules or rule settings differ"),
        (lambda p: replace(p, selection={**p.selection, "include": ["x*"]}), "selections differ"),
    ],
)
def test_shards_of_different_plans_are_refused(change: object, message: str) -> None:
    shards = shards_of(2)
    shards[1] = (shards[1][0], change(shards[1][1]))  # type: ignore[operator]
    with pytest.raises(InputError, match=message):
        merge_plans(shards)


def test_unsharded_duplicate_and_mixed_splits_are_refused() -> None:
    whole = plan_of(reader(), None)
    with pytest.raises(InputError, match="not a shard"):
        merge_plans([("whole.json", whole)])
    two = shards_of(2)
    with pytest.raises(InputError, match="given twice"):
        merge_plans([two[0], two[0], two[1]])
    with pytest.raises(InputError, match="2 and 4 ways"):
        merge_plans([two[0], shards_of(4)[1]])


def test_reviewer_edits_in_a_shard_survive_the_merge() -> None:
    shards = shards_of(2)
    where, plan = shards[0]
    first = plan.repos[0]
    shards[0] = (where, replace(plan, repos=(replace(first, enabled=not first.default_enabled), *plan.repos[1:])))
    merged = merge_plans(shards)
    assert next(r for r in merged.repos if r.name == first.name).edited()


def test_usage_adds_up_and_differing_tokens_are_kept_per_shard() -> None:
    shards = shards_of(2)
    shards[1] = (shards[1][0], replace(shards[1][1], token={**shards[1][1].token, "login": "other-bot"}))
    merged = merge_plans(shards)
    assert merged.usage["graphql_requests"] == sum(p.usage["graphql_requests"] for _, p in shards)
    assert [t["login"] for t in merged.token["shards"]] == ["bot", "other-bot"]
