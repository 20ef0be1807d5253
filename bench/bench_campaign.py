"""Re-planning and re-applying a campaign in which some bases moved, against the sandbox.

    python bench/bench_campaign.py [--repos 1000] [--moved 0.05]

Plans and applies a campaign over --repos repositories, then pushes, as a person, a change to a planned file
on the default branch of --moved of them (5%), plans the campaign again and applies it again. Prints, side by
side in one run: the writes the re-apply made against the repositories that needed them (target: 3 writes,
tree + commit + ref, for each moved repository and none elsewhere), the reads per repository of the re-plan
and the re-apply, and the wall time of each run next to the first apply. Pacing is off (the writes are
counted, not timed): bench_apply.py measures the pacer.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from migrator.cli import main as migrator
from migrator.demo.seed import repo_files
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed

TOKEN = "bench-campaign-token"
ORG = "bench-org"
CAMPAIGN = "bench-release"
NO_PACING = ["--min-interval", "0", "--per-minute", "1000000", "--per-hour", "100000000"]


class Counter:
    """Content-creating writes (REST writes plus GraphQL mutations) and reads (every other request) between two
    marks."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.mark()

    def mark(self) -> None:
        self.sandbox.clear_requests()
        self.mutations = int(self.sandbox.stats()["graphql_mutations"])

    def since(self) -> tuple[int, int]:
        requests = [r for r in self.sandbox.requests() if not r.path.startswith("/_sandbox")]
        mutations = int(self.sandbox.stats()["graphql_mutations"]) - self.mutations
        rest_writes = sum(1 for r in requests if not r.path.startswith("/graphql") and r.method != "GET")
        return rest_writes + mutations, len(requests) - rest_writes - mutations


def run(argv: list[str]) -> tuple[float, str]:
    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out):
        code = migrator(["--quiet", *argv])
    if code not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({code}): {out.getvalue()[-500:]}")
    return time.monotonic() - started, out.getvalue()


def plan(sandbox: Sandbox, path: Path, plan_id: str) -> float:
    argv = ["plan", "--org", ORG, "--api-url", sandbox.url, "--out", str(path)]
    return run([*argv, "--campaign", CAMPAIGN, "--plan-id", plan_id])[0]


def apply(sandbox: Sandbox, path: Path) -> tuple[float, dict[str, int]]:
    wall, out = run(["apply", str(path), "--api-url", sandbox.url, "--format", "json", *NO_PACING])
    statuses: dict[str, int] = {}
    for row in json.loads(out)["repos"]:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return wall, statuses


def move_bases(sandbox: Sandbox, plan_path: Path, share: float) -> list[str]:
    """A person pushes a line to a planned file of every 1/share-th repository."""
    data: dict[str, Any] = json.loads(plan_path.read_text())
    step = max(round(1 / share), 1)
    moved = []
    for index, repo in enumerate(data["repos"]):
        if index % step:
            continue
        change = next(c for c in repo["changes"] if c["enabled"] and c["action"] == "modify")
        with sandbox.store.lock:
            owner, name = repo["name"].split("/")
            stored = sandbox.store.repo(owner, name)
            assert stored is not None
            files = {change["path"]: (change["before"] + "# a person's line\n").encode()}
            commit = sandbox.store.commit_changes(
                stored, parent=stored.branch_sha("main"), changes=files, message="a person's change"
            )
            stored.refs["refs/heads/main"] = commit.sha
        moved.append(repo["name"])
    return moved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--moved", type=float, default=0.05, help="the share of repositories whose base moves")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="migrator-bench-campaign-") as tmp:
        os.environ["MIGRATOR_STATE_DIR"] = str(Path(tmp) / "state")
        os.environ["GITHUB_TOKEN"] = TOKEN
        repos = {f"svc-{i:05d}": repo_files(f"svc-{i:05d}") for i in range(args.repos)}
        seed = write_seed(
            Path(tmp) / "seed", {ORG: repos}, org_meta={ORG: {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}}
        )
        with running_sandbox(
            seed, secondary_per_minute=10**9, secondary_per_hour=10**9, core_limit=10**9, graphql_limit=10**9
        ) as sandbox:
            first, second = Path(tmp) / "plan-1.json", Path(tmp) / "plan-2.json"
            counter = Counter(sandbox)
            plan_wall = plan(sandbox, first, "bench-1")
            _, plan_reads = counter.since()
            counter.mark()
            apply_wall, first_statuses = apply(sandbox, first)
            first_writes, first_reads = counter.since()
            moved = move_bases(sandbox, first, args.moved)
            counter.mark()
            replan_wall = plan(sandbox, second, "bench-2")
            _, replan_reads = counter.since()
            found: dict[str, int] = {}
            for repo in json.loads(second.read_text())["repos"]:
                state = repo.get("found", {"state": "new"})["state"]
                found[state] = found.get(state, 0) + 1
            counter.mark()
            reapply_wall, statuses = apply(sandbox, second)
            writes, reads = counter.since()
    planned = sum(first_statuses.values())
    print(f"campaign of {planned:,} planned repositories; {len(moved)} bases moved under a planned file")
    print(f"re-plan found: {', '.join(f'{n} {s}' for s, n in sorted(found.items()))}")
    print(f"re-apply: {', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}")
    print(
        f"writes: first apply {first_writes:,} ({first_writes / planned:.2f}/repo); re-apply {writes:,} for "
        f"{len(moved)} repositories that needed them = {writes / max(len(moved), 1):.2f} per updated repository, "
        f"{writes - 3 * len(moved)} beyond 3 each (target 0)"
    )
    print(
        f"reads per repository: plan {plan_reads / args.repos:.3f}, re-plan {replan_reads / args.repos:.3f}; "
        f"first apply {first_reads / planned:.2f}, re-apply {reads / planned:.2f}"
    )
    print(
        f"wall time: plan {plan_wall:.1f} s, first apply {apply_wall:.1f} s; re-plan {replan_wall:.1f} s, "
        f"re-apply {reapply_wall:.1f} s = {reapply_wall / apply_wall:.2f}x the first apply"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
