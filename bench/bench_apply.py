"""apply over many repositories with GitHub's secondary limits switched on, on a sped-up clock.

    python bench/bench_apply.py [--repos 1000] [--speedup 150]

The sandbox enforces GitHub's secondary limits on content creation (80 a minute, 500 an hour) on a
clock that runs --speedup times faster than the wall clock; the pacer uses the same clock, so hours
of GitHub time pass in minutes. Prints content-creating writes per repository (target <= 3), the 403
and 429 answers received (target 0), and throughput as a fraction of the pacer's configured ceiling
(target >= 90%), all measured in this run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from migrator.apply.executor import ApplyOptions, apply_plan
from migrator.apply.journal import Journal, journal_path
from migrator.apply.pacing import Pacer, PaceSettings
from migrator.cli import main as migrator
from migrator.demo.seed import repo_files
from migrator.github import connect
from migrator.plan.planfile import read_plan
from migrator.sandbox.testing import running_sandbox, write_seed

TOKEN = "bench-apply-token"
ORG = "bench-org"


class ScaledClock:
    def __init__(self, speedup: float) -> None:
        self.speedup = speedup
        self.start = time.monotonic()

    def __call__(self) -> float:
        return 1_700_000_000 + (time.monotonic() - self.start) * self.speedup

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / self.speedup)


class TimedPacer(Pacer):
    """Remembers when each write was let through, to measure steady-state throughput."""

    def acquire(self) -> None:
        super().acquire()
        self.times.append(self.clock())

    times: list[float]


def content_writes(requests: list, stats: dict) -> int:  # type: ignore[type-arg]
    rest = sum(
        1
        for r in requests
        if r.status < 400 and not r.path.startswith("/graphql") and r.method in {"POST", "PATCH", "PUT", "DELETE"}
    )
    return rest + int(stats["graphql_mutations"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--speedup", type=float, default=150.0)
    args = parser.parse_args()
    clock = ScaledClock(args.speedup)
    pace = PaceSettings()
    with tempfile.TemporaryDirectory(prefix="migrator-bench-apply-") as tmp:
        repos = {f"svc-{i:05d}": repo_files(f"svc-{i:05d}") for i in range(args.repos)}
        seed = write_seed(
            Path(tmp) / "seed", {ORG: repos}, org_meta={ORG: {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}}
        )
        with running_sandbox(seed, clock=clock, secondary_per_minute=80, secondary_per_hour=500) as sandbox:
            os.environ["GITHUB_TOKEN"] = TOKEN
            plan_path = Path(tmp) / "plan.json"
            if migrator(["--quiet", "plan", "--org", ORG, "--api-url", sandbox.url, "--out", str(plan_path)]) != 0:
                raise SystemExit("planning failed")
            loaded = read_plan(plan_path)
            sandbox.clear_requests()
            client = connect(api_url=sandbox.url, token=TOKEN)
            pacer = TimedPacer(pace, clock=clock, sleep=clock.sleep)
            pacer.times = []
            journal = Journal.open(journal_path(plan_path), loaded.plan.plan_id)
            started_sim, started_wall = clock(), time.monotonic()
            outcomes = apply_plan(
                loaded.plan, loaded.plan.repos, client, journal=journal, pacer=pacer, options=ApplyOptions()
            )
            simulated = clock() - started_sim
            wall = time.monotonic() - started_wall
            requests = sandbox.requests()
            stats = sandbox.stats()
    writes = content_writes(requests, stats)
    steady = [t for t in pacer.times if t - started_sim >= 3600]
    steady_rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    refused = sum(n for status, n in stats["by_status"].items() if int(status) in {403, 429})
    rate = writes / simulated
    ceiling = pace.ceiling_per_second()
    ok = sum(1 for o in outcomes if o.status.ok)
    print(
        f"apply over {args.repos:,} repositories; secondary limits 80/minute and 500/hour on a clock "
        f"{args.speedup:g}x faster than the wall"
    )
    print(f"repositories applied: {ok:,} of {len(outcomes):,}")
    print(f"content-creating writes: {writes:,} = {writes / args.repos:.2f} per repository (target <= 3)")
    print(f"403/429 answers: {refused} (target 0)")
    print(f"simulated time: {simulated / 3600:.2f} h ({wall:.0f} s of wall time)")
    print(
        f"throughput: {rate * 3600:.0f} writes/hour against a configured ceiling of {ceiling * 3600:.0f}/hour "
        f"(per-minute {pace.per_minute}, per-hour {pace.per_hour}, >= {pace.min_interval:g} s apart): "
        f"{rate / ceiling:.0%} overall, including the first hour's allowed burst"
    )
    times = sorted(pacer.times)
    peak, low = 0, 0
    for high, moment in enumerate(times):
        while moment - times[low] >= 3600:
            low += 1
        peak = max(peak, high - low + 1)
    print(f"most writes in any rolling hour: {peak} (pacer {pace.per_hour}, GitHub's limit 500)")
    if steady:
        print(
            f"steady state (after the first simulated hour): {steady_rate * 3600:.0f} writes/hour = "
            f"{steady_rate / ceiling:.0%} of the ceiling (target >= 90%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
