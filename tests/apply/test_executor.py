"""apply and rollback against an in-memory GitHub: idempotence, resume, faults, drift, conflicts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migrator.analysis.context import RuleSettings
from migrator.apply.executor import ApplyOptions, Status, apply_plan
from migrator.apply.journal import Journal, journal_path
from migrator.apply.pacing import Pacer, PaceSettings
from migrator.apply.rollback import RepoRollback, RollbackStatus
from migrator.github.types import SecretNames
from migrator.plan.model import Plan
from migrator.plan.scan import ScanOptions, scan
from migrator.plan.selection import Selection
from tests.apply.fakes import Crash, FakeGitHub
from tests.golden import golden_tree
from tests.plan.fakes import FakeReader, record

NAMES = ("acme/one", "acme/two", "acme/three")


def setup(tmp_path: Path, names: tuple[str, ...] = NAMES) -> tuple[FakeGitHub, Plan, Path]:
    github = FakeGitHub()
    records = []
    for name in names:
        head = github.add_repo(name, golden_tree("reference"))
        records.append(replace(record(name, golden_tree("reference")), head_oid=head))
    reader = FakeReader(records, {n: SecretNames(frozenset({"PAT_TOKEN"}), None) for n in names})
    options = ScanOptions(
        org="acme",
        api_url="https://api.github.com",
        selection=Selection(),
        settings=RuleSettings(),
        now=datetime(2026, 11, 25, tzinfo=UTC),
    )
    return github, scan(reader, options), tmp_path / "plan.json"


def apply(github: FakeGitHub, plan: Plan, plan_path: Path, **options: object) -> list[Status]:
    journal = Journal.open(journal_path(plan_path), plan.plan_id)
    pacer = Pacer(PaceSettings(min_interval=0), sleep=lambda s: None)
    outcomes = apply_plan(plan, plan.repos, github, journal=journal, pacer=pacer, options=ApplyOptions(**options))  # type: ignore[arg-type]
    return [o.status for o in outcomes]


def expected_files(plan: Plan, name: str) -> dict[str, bytes]:
    repo = next(r for r in plan.repos if r.name == name)
    files = golden_tree("reference")
    for change in repo.changes:
        if change.after is None:
            files.pop(change.path)
        else:
            files[change.path] = change.after.encode()
    return files


def assert_clean_result(github: FakeGitHub, plan: Plan) -> None:
    for name in NAMES:
        repo = github.repos[name]
        assert repo.branches[repo.default_branch] == next(r.base_oid for r in plan.repos if r.name == name)
        assert github.files(name, plan.branch) == expected_files(plan, name)
        assert [p.head_ref for p in repo.pulls] == [plan.branch]
        assert set(repo.branches) == {"main", plan.branch}


def test_apply_opens_one_pr_per_repo_with_exactly_the_planned_files(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    assert apply(github, plan, path) == [Status.APPLIED] * 3
    assert_clean_result(github, plan)
    assert github.writes.count("create_branch") == 3 and len(github.writes) == 9  # 3 writes per repo


def test_rerun_is_a_no_op(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    apply(github, plan, path)
    writes = list(github.writes)
    assert apply(github, plan, path) == [Status.ALREADY_APPLIED] * 3
    assert github.writes == writes


@pytest.mark.parametrize("method", ["create_branch", "commit_files", "create_pull"])
@pytest.mark.parametrize("mode", ["before", "after", "throttle"])
def test_faults_on_every_write_step_end_in_the_same_state(tmp_path: Path, method: str, mode: str) -> None:
    github, plan, path = setup(tmp_path)
    github.faults = [(method, mode), (method, mode)]
    assert apply(github, plan, path) == [Status.APPLIED] * 3
    assert_clean_result(github, plan)


@pytest.mark.parametrize("crash_at", range(1, 10))
def test_a_crash_after_any_write_then_a_rerun_leaves_no_duplicates(tmp_path: Path, crash_at: int) -> None:
    github, plan, path = setup(tmp_path)
    github.crash_after_writes = crash_at
    with pytest.raises(Crash):
        apply(github, plan, path)
    assert set(apply(github, plan, path)) <= {Status.APPLIED, Status.ALREADY_APPLIED}
    assert_clean_result(github, plan)


def test_a_repo_changed_since_the_plan_is_stale_and_untouched(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    github.push("acme/two", {".github/workflows/main.yml": b"name: changed\n"})
    assert apply(github, plan, path) == [Status.APPLIED, Status.APPLIED, Status.STALE]  # sorted: one, three, two
    assert set(github.repos["acme/two"].branches) == {"main"}
    assert github.repos["acme/two"].pulls == []


def test_someone_elses_branch_with_our_name_is_a_conflict(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    other = github.push("acme/one", {"x.txt": b"theirs"})
    github.repos["acme/one"].branches[plan.branch] = other
    github.repos["acme/one"].branches["main"] = next(r.base_oid for r in plan.repos if r.name == "acme/one")
    statuses = apply(github, plan, path)
    assert statuses[0] is Status.CONFLICT
    assert github.repos["acme/one"].branches[plan.branch] == other
    assert github.repos["acme/one"].pulls == []


def test_permission_refusal_is_reported(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    github.faults = [("create_branch", "forbidden")]
    assert apply(github, plan, path)[0] is Status.SKIPPED_BY_PERMISSION


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    assert apply(github, plan, path, dry_run=True) == [Status.DRY_RUN] * 3
    assert github.writes == []


def rollback(github: FakeGitHub, plan: Plan, path: Path) -> list[str]:
    journal = Journal.open(journal_path(path), plan.plan_id)
    pacer = Pacer(PaceSettings(min_interval=0), sleep=lambda s: None)
    return [RepoRollback(plan, repo, github, journal, pacer).run().status for repo in plan.repos]


def test_rollback_closes_open_prs_and_reverts_merged_ones(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    apply(github, plan, path)
    github.merge("acme/one", 1)
    statuses = rollback(github, plan, path)
    assert statuses == [RollbackStatus.REVERT_OPENED, RollbackStatus.CLOSED, RollbackStatus.CLOSED]
    for name in ("acme/three", "acme/two"):
        assert [p.state for p in github.repos[name].pulls] == ["closed"]
        assert set(github.repos[name].branches) == {"main"}
    revert = github.repos["acme/one"].pulls[-1]
    github.merge("acme/one", revert.number)
    assert github.files("acme/one") == golden_tree("reference")  # back to the planned base content
    assert rollback(github, plan, path)[1:] == [RollbackStatus.NOTHING, RollbackStatus.NOTHING]  # idempotent


def test_rollback_after_a_partial_apply_and_never_touches_what_it_did_not_create(tmp_path: Path) -> None:
    github, plan, path = setup(tmp_path)
    github.faults = [("commit_files", "crash-after")]
    with pytest.raises(Crash):
        apply(github, plan, path)
    github.repos["acme/two"].branches[plan.branch] = github.push("acme/two", {"x": b"y"})  # not ours
    statuses = rollback(github, plan, path)
    assert statuses[0] == RollbackStatus.CLOSED  # acme/one: our branch, no PR yet
    assert set(github.repos["acme/one"].branches) == {"main"}
    assert plan.branch in github.repos["acme/two"].branches  # the journal never saw us create it
