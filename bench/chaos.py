"""Random faults at scale, with kill -9 in apply and in rollback.

    python bench/chaos.py [--repos 100] [--seeds 1 2 3] [--rates 0.25 0.5]

Per seed and fault rate, plan, apply (with --label and --reviewer) and rollback run against a sandbox of
--repos repositories twice: once clean, once with seeded random faults of every kind on every endpoint
(tests/chaos.py lists them) and one kill -9 at a random write of apply and one of rollback, each followed by
a resume (the same command, faults gone). Each command runs as its own process. Prints the faults injected,
the kills, the outcomes, and the end-state mismatches and duplicate PRs, labels or comments (target: 0).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrator.sandbox.testing import Sandbox
from tests.chaos import TOKEN, Kill, Report, scenario


def writes(sandbox: Sandbox) -> int:
    rest = sum(
        1
        for r in sandbox.requests()
        if not r.path.startswith("/graphql") and r.method in {"POST", "PATCH", "PUT", "DELETE"}
    )
    return rest + int(sandbox.stats()["graphql_mutations"])


def child_process(sandbox: Sandbox, argv: list[str], kill: Kill | None) -> tuple[int, str]:
    """`migrator ARGV` as a process of its own (waits not slept); a `Kill` is a kill -9 after that many writes."""
    command = [sys.executable, __file__, "--child", "--quiet", *argv]
    env = {**os.environ, "GITHUB_TOKEN": TOKEN}
    start = writes(sandbox)
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        if kill is not None:
            while child.poll() is None and writes(sandbox) - start < kill.at:
                time.sleep(0.002)
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
        code = child.wait()
        out.seek(0)
        return code, out.read().decode("utf-8", "replace")


def run_child(argv: list[str]) -> int:
    from migrator.cli import main
    from tests.chaos import no_sleeping

    with no_sleeping():  # GitHub's waits are honoured, in no time
        return main(argv)


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        return run_child(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.25, 0.5])
    args = parser.parse_args()
    total = Report()
    started = time.monotonic()
    for seed in args.seeds:
        for rate in args.rates:
            with tempfile.TemporaryDirectory() as workdir:
                report = scenario(
                    Path(workdir), seed=seed, repos=args.repos, rate=rate, kills=True, runner=child_process
                )
            print(
                f"seed {seed} rate {rate:.2f}: {report.faults} faults in {report.requests} requests, "
                f"{report.kills} kills, "
                f"{len(report.mismatches)} mismatches, {len(report.duplicates)} duplicates, "
                f"{len(report.resumes_failed)} failed resumes",
                flush=True,
            )
            for line in report.mismatches + report.duplicates + report.resumes_failed:
                print(f"  {line}", flush=True)
            total.merge(report)
    outcomes = Counter({k: v for k, v in total.outcomes.items() if "resumed" not in k})
    resumed = Counter({k: v for k, v in total.outcomes.items() if "resumed" in k})
    print(
        f"total over {len(args.seeds) * len(args.rates)} runs of {args.repos} repositories "
        f"({time.monotonic() - started:,.0f} s): {total.faults} faults injected in {total.requests} requests, "
        f"{total.kills} kill -9s, "
        f"{len(total.mismatches)} end-state mismatches, {len(total.duplicates)} duplicate PRs/labels/comments, "
        f"{len(total.resumes_failed)} resumes that did not end well"
    )
    print("outcomes under faults: " + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())))
    print("outcomes of the resumes: " + ", ".join(f"{n} {k}" for k, n in sorted(resumed.items())))
    return 0 if not (total.mismatches or total.duplicates or total.resumes_failed) else 1


if __name__ == "__main__":
    sys.exit(main())
