"""Journals of sharded applies: one file per shard, replayed together in the order events happened."""

from __future__ import annotations

from pathlib import Path

from migrator.apply.journal import Journal, journal_path, plan_journals, plan_of_journal
from migrator.plan.shard import Shard


def test_each_shard_appends_to_its_own_file_and_every_journal_is_replayed(tmp_path: Path) -> None:
    plan = tmp_path / "acme.json"
    one = Journal.open(journal_path(plan, Shard(1, 2)), "p")
    two = Journal.open(journal_path(plan, Shard(2, 2)), "p")
    one.record(op="apply", repo="acme/a", step="pull", phase="done", number=1, url="u1")
    two.record(op="apply", repo="acme/b", step="pull", phase="done", number=7, url="u7")
    assert [p.name for p in plan_journals(plan)] == [
        "acme.json.shard-1-of-2.journal.jsonl",
        "acme.json.shard-2-of-2.journal.jsonl",
    ]
    # an unsharded rollback replays both and appends to the plan's own journal
    whole = Journal.open(journal_path(plan), "p", replay=plan_journals(plan))
    assert {name: state.pr_number for name, state in whole.repos.items()} == {"acme/a": 1, "acme/b": 7}
    whole.record(op="rollback", repo="acme/b", step="repo", phase="done", status="closed")
    assert journal_path(plan).exists()
    assert len(journal_path(plan, Shard(2, 2)).read_text().splitlines()) == 1  # shard files are never appended to
    again = Journal.open(journal_path(plan, Shard(2, 2)), "p", replay=plan_journals(plan))
    assert again.repos["acme/b"].rollback_status == "closed"


def test_replay_follows_event_time_across_files(tmp_path: Path) -> None:
    plan = tmp_path / "acme.json"
    journal_path(plan).write_text(
        '{"at": "2026-01-01T00:00:02.000Z", "seq": 1, "op": "apply", "repo": "acme/a", "step": "repo",'
        ' "phase": "done", "data": {"status": "stale"}}\n'
    )
    journal_path(plan, Shard(1, 2)).write_text(
        '{"at": "2026-01-01T00:00:01.000Z", "seq": 1, "op": "apply", "repo": "acme/a", "step": "repo",'
        ' "phase": "done", "data": {"status": "applied"}}\n'
    )
    replayed = Journal.open(journal_path(plan, Shard(1, 2)), "p", replay=plan_journals(plan))
    assert replayed.repos["acme/a"].status == "stale"  # the later event wins, whichever file holds it


def test_journals_of_other_plans_are_not_mine(tmp_path: Path) -> None:
    plan = tmp_path / "acme.json"
    (tmp_path / "acme.json.old.journal.jsonl").write_text("")
    (tmp_path / "acme.json2.journal.jsonl").write_text("")
    journal_path(plan).write_text("")
    assert plan_journals(plan) == [journal_path(plan)]
    assert plan_of_journal(journal_path(plan, Shard(3, 4))) == plan
    assert plan_of_journal(journal_path(plan)) == plan
