"""A campaign's update against an in-memory GitHub: a kill at any write of it, then a re-run, ends with our one PR
on the new base, and a person's push between the plan and the update is never overwritten."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migrator.analysis.context import RuleSettings
from migrator.apply.executor import Status
from migrator.apply.journal import Journal, journal_path
from migrator.apply.pacing import Pacer, PaceSettings
from migrator.apply.retire import RepoRetire
from migrator.github.types import SecretNames
from migrator.plan.model import CampaignState, Plan
from migrator.plan.scan import ScanOptions, scan
from migrator.plan.selection import Selection
from tests.apply.fakes import Crash, FakeGitHub
from tests.apply.test_executor import apply
from tests.golden import golden_tree
from tests.plan.fakes import FakeReader, record

NAME = "acme/one"


def replan(github: FakeGitHub, campaign_branch: str = "migrator/acme-release") -> Plan:
    repo = github.repos[NAME]
    head = repo.branches["main"]
    read = replace(record(NAME, repo.trees[head]), head_oid=head, campaign=github.campaign_read(NAME, campaign_branch))
    reader = FakeReader([read], {NAME: SecretNames(frozenset({"PAT_TOKEN"}), None)})
    options = ScanOptions(
        org="acme",
        api_url="https://api.github.com",
        selection=Selection(),
        settings=RuleSettings(),
        now=datetime(2026, 11, 25, tzinfo=UTC),
        campaign="acme-release",
    )
    return scan(reader, options)


def moved_base(tmp_path: Path) -> tuple[FakeGitHub, Plan]:
    github = FakeGitHub()
    github.add_repo(NAME, golden_tree("reference"))
    first = replan(github)
    assert apply(github, first, tmp_path / "plan-1.json") == [Status.APPLIED]
    change = next(c for c in first.repos[0].changes if c.enabled and c.action == "modify")
    github.push(NAME, {change.path: (change.before + "# a person's line\n").encode()})
    second = replan(github)
    assert second.repos[0].found.state is CampaignState.UPDATE
    return github, second


def assert_updated(github: FakeGitHub, plan: Plan) -> None:
    repo = github.repos[NAME]
    head = repo.commits[repo.branches[plan.branch]]
    assert head.parents == (repo.branches["main"],)
    files = github.files(NAME, plan.branch)
    for change in (c for c in plan.repos[0].changes if c.enabled):
        if change.after is None:
            assert change.path not in files
        else:
            assert files[change.path].decode() == change.after
    assert [(p.number, p.state) for p in repo.pulls] == [(1, "open")]


@pytest.mark.parametrize("kill_after", [1, 2, 3])
def test_a_kill_during_an_update_then_a_rerun_ends_updated(tmp_path: Path, kill_after: int) -> None:
    github, second = moved_base(tmp_path)
    done = len(github.writes)
    github.crash_after_writes = done + kill_after
    with pytest.raises(Crash):
        apply(github, second, tmp_path / "plan-2.json")
    github.crash_after_writes = None
    assert apply(github, second, tmp_path / "plan-2.json") in ([Status.UPDATED], [Status.ALREADY_APPLIED])
    assert_updated(github, second)
    assert apply(github, second, tmp_path / "plan-2.json") == [Status.ALREADY_APPLIED]


def test_faults_on_each_update_write_end_updated(tmp_path: Path) -> None:
    github, second = moved_base(tmp_path)
    github.faults = [("create_tree", "before"), ("create_commit", "after"), ("force_branch", "after")]
    assert apply(github, second, tmp_path / "plan-2.json") == [Status.UPDATED]
    assert_updated(github, second)


def test_a_push_to_our_branch_after_the_plan_is_never_overwritten(tmp_path: Path) -> None:
    github, second = moved_base(tmp_path)
    theirs = github.push(NAME, {"notes.txt": b"mine\n"}, branch=second.branch)
    assert apply(github, second, tmp_path / "plan-2.json") == [Status.TOUCHED]
    assert github.repos[NAME].branches[second.branch] == theirs


def retire(github: FakeGitHub, plan: Plan, path: Path) -> list[Status]:
    journal = Journal.open(journal_path(path), plan.plan_id)
    pacer = Pacer(PaceSettings(min_interval=0), sleep=lambda s: None)
    return [RepoRetire(plan, gone, github, journal, pacer).run().status for gone in plan.retired]


@pytest.mark.parametrize("kill_after", [1, 2, 3])
def test_a_kill_while_closing_an_obsolete_pr_then_a_rerun_closes_it_once(tmp_path: Path, kill_after: int) -> None:
    github = FakeGitHub()
    github.add_repo(NAME, golden_tree("reference"))
    first = replan(github)
    apply(github, first, tmp_path / "plan-1.json")
    github.push(NAME, dict.fromkeys([p for p in golden_tree("reference") if p.startswith(".github/workflows/")]))
    second = replan(github)
    assert [r.found.state for r in second.retired] == [CampaignState.OBSOLETE] and not second.repos
    github.crash_after_writes = len(github.writes) + kill_after
    with pytest.raises(Crash):
        retire(github, second, tmp_path / "plan-2.json")
    github.crash_after_writes = None
    assert retire(github, second, tmp_path / "plan-2.json") == [Status.OBSOLETE]
    repo = github.repos[NAME]
    assert [p.state for p in repo.pulls] == ["closed"] and len(repo.comments) == 1
    assert set(repo.branches) == {"main"}
    assert retire(github, second, tmp_path / "plan-2.json") == [Status.OBSOLETE]
    assert len(repo.comments) == 1
