"""apply of one plan by one token against the same plan split between N tokens (`apply --shard K/N`), with GitHub's
secondary limits per token, on a sped-up clock.

    python bench/bench_apply_shards.py [--repos 600] [--shards 4] [--speedup 150]

Each token gets its own secondary-limit budget (80 a minute, 500 an hour) in the sandbox, as on GitHub; each
shard runs in its own thread with its own client, pacer and journal file, as N matrix jobs would. Prints, side by
side in one run: simulated hours to apply every repository, writes per repository, 403/429 answers, and the
speed-up of N tokens over one.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from bench_apply import ScaledClock, content_writes

from migrator.apply.executor import ApplyOptions, Outcome, apply_plan
from migrator.apply.journal import Journal, journal_path
from migrator.apply.pacing import Pacer, PaceSettings
from migrator.cli import main as migrator
from migrator.demo.seed import repo_files
from migrator.github import connect
from migrator.plan.planfile import read_plan
from migrator.plan.shard import Shard
from migrator.sandbox.testing import running_sandbox, write_seed

ORG = "bench-org"


def run(repos: int, tokens: int, speedup: float, work: Path) -> dict[str, Any]:
    clock = ScaledClock(speedup)
    names = [f"bench-apply-token-{k}" for k in range(1, tokens + 1)]
    seed = write_seed(
        work / "seed",
        {ORG: {f"svc-{i:05d}": repo_files(f"svc-{i:05d}") for i in range(repos)}},
        org_meta={ORG: {"secrets": ["PAT_TOKEN"], "tokens": dict.fromkeys(names, "full")}},
    )
    with running_sandbox(seed, clock=clock, secondary_per_minute=80, secondary_per_hour=500) as sandbox:
        os.environ["GITHUB_TOKEN"] = names[0]
        plan_path = work / "plan.json"
        with contextlib.redirect_stdout(io.StringIO()):
            planned = migrator(["--quiet", "plan", "--org", ORG, "--api-url", sandbox.url, "--out", str(plan_path)])
        if planned != 0:
            raise SystemExit("planning failed")
        plan = read_plan(plan_path).plan
        sandbox.clear_requests()
        outcomes: list[Outcome] = []
        started = clock()

        def apply_shard(k: int) -> None:
            shard = Shard(k, tokens)
            mine = [r for r in plan.repos if r.enabled and shard.contains(r.name)]
            client = connect(api_url=sandbox.url, token=names[k - 1])
            journal = Journal.open(journal_path(plan_path, shard if tokens > 1 else None), plan.plan_id)
            pacer = Pacer(PaceSettings(), clock=clock, sleep=clock.sleep)
            outcomes.extend(apply_plan(plan, mine, client, journal=journal, pacer=pacer, options=ApplyOptions()))

        threads = [threading.Thread(target=apply_shard, args=(k,)) for k in range(1, tokens + 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        hours = (clock() - started) / 3600
        stats = sandbox.stats()
        writes = content_writes(sandbox.requests(), stats)
    refused = sum(n for status, n in stats["by_status"].items() if int(status) in {403, 429})
    return {
        "hours": hours,
        "applied": sum(1 for o in outcomes if o.status.ok),
        "outcomes": len(outcomes),
        "writes_per_repo": writes / max(len(outcomes), 1),
        "refused": refused,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=600)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--speedup", type=float, default=150.0)
    args = parser.parse_args()
    results = {}
    for tokens in (1, args.shards):
        with tempfile.TemporaryDirectory(prefix="migrator-bench-apply-shards-") as tmp:
            results[tokens] = run(args.repos, tokens, args.speedup, Path(tmp))
    print(
        f"apply of {args.repos:,} repositories; secondary limits 80/minute and 500/hour per token, "
        f"on a clock {args.speedup:g}x faster than the wall"
    )
    print(f"{'':<24} {'applied':>9} {'sim hours':>10} {'writes/repo':>12} {'403/429':>8}")
    for tokens, r in results.items():
        label = "1 token" if tokens == 1 else f"{tokens} tokens, --shard K/{tokens}"
        print(
            f"{label:<24} {r['applied']:>4,}/{r['outcomes']:<4,} {r['hours']:>10.2f} "
            f"{r['writes_per_repo']:>12.2f} {r['refused']:>8}"
        )
    one, many = results[1], results[args.shards]
    print(f"speed-up of {args.shards} tokens over one: {one['hours'] / many['hours']:.2f}x (ideal {args.shards}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
