"""Sharded runs end to end against the sandbox: N plans merged into the unsharded plan, N applies with their own
journals, one status and one rollback over all of them, and repositories that change between a shard's
listing and its reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.analysis.context import RuleSettings
from migrator.apply import pacing
from migrator.cli import main
from migrator.github.auth import TokenCredentials
from migrator.github.client import ClientSettings, GitHubClient
from migrator.github.types import ListedRepo
from migrator.github.urls import resolve_api_urls
from migrator.plan.scan import ScanOptions, scan
from migrator.plan.selection import Selection
from migrator.plan.shard import Shard
from migrator.sandbox.store import HEADS
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

TOKEN = "tok-admin-shard-0123456789"
TREES = ("reference", "cross-file", "never-touched", "docker-review")
NAMES = [f"{tree}-{i}" for tree in TREES for i in range(3)]
PLAN_ID = "acme-matrix-41"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path / "seed",
        {"acme": {name: golden_tree(name.rsplit("-", 1)[0]) for name in NAMES}},
        repo_meta={"acme/cross-file-0": {"secrets": ["GH_PAT"]}, "acme/reference-2": {"archived": True}},
        org_meta={"acme": {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
    )
    with running_sandbox(seed) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)


def cli(sandbox: Sandbox, *argv: str) -> int:
    return main(["--quiet", *argv, "--api-url", sandbox.url])


def comparable(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return {k: v for k, v in data.items() if k not in {"usage", "digest", "created_at"}}


def plan_in_shards(sandbox: Sandbox, tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for k in range(1, count + 1):
        out = tmp_path / f"shard-{k}.json"
        shard = ["--shard", f"{k}/{count}", "--plan-id", PLAN_ID]
        assert cli(sandbox, "plan", "--org", "acme", *shard, "-o", str(out)) == 0
        paths.append(out)
    return paths


def test_merged_shards_equal_the_unsharded_plan(sandbox: Sandbox, tmp_path: Path) -> None:
    whole = tmp_path / "whole.json"
    assert cli(sandbox, "plan", "--org", "acme", "--plan-id", PLAN_ID, "-o", str(whole)) == 0
    shards = plan_in_shards(sandbox, tmp_path, 4)
    merged = tmp_path / "merged.json"
    assert main(["--quiet", "plan", "merge", *map(str, shards), "-o", str(merged)]) == 0
    assert comparable(merged) == comparable(whole)
    assert {r["name"] for r in json.loads(merged.read_text())["repos"]} >= {"acme/reference-0", "acme/cross-file-0"}
    # each shard planned only its own repositories
    for k, path in enumerate(shards, start=1):
        assert all(Shard(k, 4).contains(r["name"]) for r in json.loads(path.read_text())["repos"])


def test_merge_refuses_an_incomplete_set_in_one_line(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = plan_in_shards(sandbox, tmp_path, 3)
    capsys.readouterr()
    assert main(["plan", "merge", str(shards[0]), str(shards[2]), "-o", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "migrator: error: shard 2/3 is missing; add it, or pass --partial to merge what is here"
    assert not (tmp_path / "m.json").exists()


def test_sharded_apply_keeps_a_journal_per_shard_and_rollback_sees_them_all(sandbox: Sandbox, tmp_path: Path) -> None:
    whole = tmp_path / "plan.json"
    assert cli(sandbox, "plan", "--org", "acme", "--plan-id", PLAN_ID, "-o", str(whole)) == 0
    enabled = sorted(r["name"] for r in json.loads(whole.read_text())["repos"] if r["enabled"])
    for k in (1, 2):
        assert cli(sandbox, "apply", str(whole), "--shard", f"{k}/2", "--min-interval", "0") == 0
    journals = sorted(p.name for p in tmp_path.glob("*.journal.jsonl"))
    assert journals == ["plan.json.shard-1-of-2.journal.jsonl", "plan.json.shard-2-of-2.journal.jsonl"]
    for k in (1, 2):
        events = (tmp_path / f"plan.json.shard-{k}-of-2.journal.jsonl").read_text().splitlines()
        assert {json.loads(e)["repo"] for e in events} == {n for n in enabled if Shard(k, 2).contains(n)}
    opened = [pull for pull in sandbox_pulls(sandbox) if pull[1] == "open"]
    assert sorted(name for name, _ in opened) == enabled  # one PR per repository, whichever shard applied it
    # a second apply of one shard resumes from its own journal: nothing new is written
    writes = sandbox.stats().get("graphql_mutations", 0)
    assert cli(sandbox, "apply", str(whole), "--shard", "1/2", "--min-interval", "0") == 0
    assert sandbox.stats().get("graphql_mutations", 0) == writes

    assert cli(sandbox, "status", str(whole)) == 0
    assert cli(sandbox, "rollback", str(whole), "--min-interval", "0") == 0
    assert sorted(sandbox_pulls(sandbox)) == [(name, "closed") for name in enabled]


def sandbox_pulls(sandbox: Sandbox) -> list[tuple[str, str]]:
    org = sandbox.store.org("acme")
    assert org is not None
    return sorted((f"acme/{name}", pull.state) for name, repo in org.repos.items() for pull in repo.pulls.values())


def client(sandbox: Sandbox) -> GitHubClient:
    return GitHubClient(
        credentials=TokenCredentials(TOKEN, "test"),
        urls=resolve_api_urls(sandbox.url),
        settings=ClientSettings(page_size=4),
    )


def vanish(sandbox: Sandbox) -> None:
    """Meanwhile, on GitHub: one repository's default branch and another whole repository go away."""
    with sandbox.store.lock:
        repo = sandbox.store.repo("acme", "reference-0")
        org = sandbox.store.org("acme")
        assert repo is not None and org is not None
        repo.refs.pop(HEADS + "main")
        del org.repos["cross-file-1"]


def test_repositories_that_change_between_listing_and_reading_come_back_vanished(sandbox: Sandbox) -> None:
    reader = client(sandbox)
    listed = list(reader.repository_names("acme"))
    assert [item.full_name for item in listed] == sorted(f"acme/{n}" for n in NAMES)
    vanish(sandbox)
    records = {r.full_name: r for r in reader.repositories_named("acme", listed)}
    assert records["acme/reference-0"].vanished == (
        "its default branch main was deleted while the plan was read; re-run `migrator plan`"
    )
    assert records["acme/cross-file-1"].vanished == "deleted or renamed while the plan was read; re-run `migrator plan`"
    assert records["acme/reference-1"].vanished is None and records["acme/reference-1"].files


class ChangesAfterListing:
    """The real client, with GitHub changing right after the shard's listing."""

    def __init__(self, reader: GitHubClient, sandbox: Sandbox) -> None:
        self._reader, self._sandbox = reader, sandbox

    def repository_names(self, org: str) -> Iterator[ListedRepo]:
        listed = list(self._reader.repository_names(org))
        vanish(self._sandbox)
        return iter(listed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def test_the_planner_skips_what_vanished_with_the_reason_and_plans_the_rest(sandbox: Sandbox) -> None:
    options = ScanOptions(
        org="acme", api_url=sandbox.url, selection=Selection(), settings=RuleSettings(), shard=Shard(1, 1)
    )
    plan = scan(ChangesAfterListing(client(sandbox), sandbox), options)  # type: ignore[arg-type]
    skipped = dict(plan.skipped)
    assert skipped["acme/reference-0"].startswith("its default branch main was deleted while the plan was read")
    assert skipped["acme/cross-file-1"].startswith("deleted or renamed while the plan was read")
    assert {"acme/reference-1", "acme/cross-file-0"} <= {r.name for r in plan.repos}


def test_sharding_mistakes_are_one_line_refusals(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(sandbox, "plan", "--org", "acme", "--shard", "1/2", "-o", str(tmp_path / "x.json")) == 2
    assert "--shard needs --plan-id ID" in capsys.readouterr().err
    one, _ = plan_in_shards(sandbox, tmp_path, 2)
    capsys.readouterr()
    # a shard plan holds only its own repositories: applying another shard of it would find nothing
    assert cli(sandbox, "apply", str(one), "--shard", "2/2", "--min-interval", "0") == 2
    assert "this plan is shard 1/2 alone" in capsys.readouterr().err
    partial = tmp_path / "partial.json"
    assert main(["--quiet", "plan", "merge", str(one), "--partial", "-o", str(partial)]) == 0
    capsys.readouterr()
    assert cli(sandbox, "apply", str(partial), "--shard", "2/2", "--min-interval", "0") == 2
    assert "shard 2/2 is not in this partial plan (it holds 1/2)" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.journal.jsonl"))  # nothing was started


def test_an_applied_plan_is_never_overwritten(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.json"
    assert cli(sandbox, "plan", "--org", "acme", "--repo", "reference-0", "-o", str(path)) == 0
    assert cli(sandbox, "apply", str(path), "--min-interval", "0") == 0
    before = path.read_bytes()
    capsys.readouterr()
    assert cli(sandbox, "plan", "--org", "acme", "-o", str(path)) == 2
    assert "has been applied (journal plan.json.journal.jsonl)" in capsys.readouterr().err
    shards = plan_in_shards(sandbox, tmp_path, 1)
    assert main(["--quiet", "plan", "merge", *map(str, shards), "-o", str(path)]) == 2
    assert path.read_bytes() == before


def test_an_empty_shard_says_so(sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.json"
    assert cli(sandbox, "plan", "--org", "acme", "--repo", "reference-0", "-o", str(path)) == 0
    empty = next(k for k in range(1, 9) if not Shard(k, 8).contains("acme/reference-0"))
    capsys.readouterr()
    assert cli(sandbox, "apply", str(path), "--shard", f"{empty}/8", "--min-interval", "0") == 0
    assert capsys.readouterr().out.startswith(f"no enabled repository in shard {empty}/8; nothing to apply")
