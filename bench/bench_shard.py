"""A sharded plan of one org (N processes, as N tokens would run) against an unsharded plan of the same org.

    python bench/bench_shard.py [--repos 10000] [--shards 4] [--latency-ms 50]

Generates a synthetic org, serves it with `migrator sandbox --latency-ms 50`, then measures side by side
in one run:

  unsharded  `migrator plan --plan-id ID`, one process
  sharded    `migrator plan --shard K/N --plan-id ID` for K = 1..N, all at once, then `migrator plan merge`

and prints requests (in total, and for the busiest shard, which is what one token's budget must cover),
GraphQL points, wall time, peak RSS, and whether the merged plan is the unsharded one (every field but
`created_at`, `usage` and the digest that covers them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_plan import ORG, TOKEN, Server, generate

PLAN_ID = "bench-org-shards"


def migrator(*argv: str, server: Server) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "migrator", "--log-json", *argv, "--api-url", server.url],
        env={**os.environ, "GITHUB_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_all(children: list[subprocess.Popen[bytes]]) -> list[float]:
    """Wait for every child; return each one's peak RSS in MiB."""
    peaks = []
    for child in children:
        _, status, usage = os.wait4(child.pid, 0)
        if status != 0:
            raise SystemExit(f"migrator {child.args} failed with status {status}")
        peaks.append(usage.ru_maxrss / 1024)
    return peaks


def measure(server: Server, runs: list[list[str]]) -> dict[str, Any]:
    before = server.stats()
    start = time.perf_counter()
    peaks = wait_all([migrator(*argv, server=server) for argv in runs])
    seconds = time.perf_counter() - start
    after = server.stats()
    return {
        "seconds": seconds,
        "requests": after["requests"] - before["requests"],
        "points": after["graphql_points"] - before["graphql_points"],
        "peak_mib": max(peaks),
    }


def per_shard_requests(paths: list[Path]) -> list[int]:
    out = []
    for path in paths:
        usage = json.loads(path.read_text())["usage"]
        out.append(usage["rest_requests"] + usage["graphql_requests"])
    return out


def comparable(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return {k: v for k, v in data.items() if k not in {"usage", "digest", "created_at"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="migrator-bench-shard-") as tmp:
        work = Path(tmp)
        generate(args.repos, work / "seed")
        server = Server(work / "seed", args.latency_ms)
        try:
            whole = work / "whole.json"
            unsharded = measure(server, [["plan", "--org", ORG, "--plan-id", PLAN_ID, "--out", str(whole)]])
            shard_paths = [work / f"shard-{k}.json" for k in range(1, args.shards + 1)]
            sharded = measure(
                server,
                [
                    ["plan", "--org", ORG, "--plan-id", PLAN_ID, "--shard", f"{k}/{args.shards}", "--out", str(path)]
                    for k, path in enumerate(shard_paths, start=1)
                ],
            )
        finally:
            server.close()
        merged = work / "merged.json"
        merge_start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "migrator", "plan", "merge", *map(str, shard_paths), "--out", str(merged)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        merge_seconds = time.perf_counter() - merge_start
        identical = comparable(merged) == comparable(whole)
        busiest = max(per_shard_requests(shard_paths))
        changed = len(json.loads(whole.read_text())["repos"])
    print(f"org: {args.repos:,} generated repositories, {args.latency_ms} ms added latency per request")
    print(f"{'':<26} {'requests':>9} {'busiest token':>14} {'GQL pts':>8} {'wall s':>8} {'peak MiB':>9}")
    print(
        f"{'unsharded plan':<26} {unsharded['requests']:>9,} {unsharded['requests']:>14,} "
        f"{unsharded['points']:>8,} {unsharded['seconds']:>8.1f} {unsharded['peak_mib']:>9.1f}"
    )
    print(
        f"{f'{args.shards} shards in parallel':<26} {sharded['requests']:>9,} {busiest:>14,} "
        f"{sharded['points']:>8,} {sharded['seconds']:>8.1f} {sharded['peak_mib']:>9.1f}"
    )
    print(f"plan merge of {args.shards} shards: {merge_seconds:.1f} s")
    verdict = "yes" if identical else "NO"
    print(f"merged plan identical to the unsharded plan: {verdict} ({changed:,} repos with changes)")
    print(f"requests, all shards / unsharded: {sharded['requests'] / unsharded['requests']:.2f}x")
    print(f"requests on the busiest token / unsharded: {busiest / unsharded['requests']:.2f}x")
    print(f"wall time, unsharded / sharded: {unsharded['seconds'] / sharded['seconds']:.2f}x faster sharded")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
