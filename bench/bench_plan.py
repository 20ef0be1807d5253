"""Planning an org against the sandbox: migrator's bulk GraphQL scan vs a naive REST planner, and `--jobs`.

    python bench/bench_plan.py [--repos 10000] [--small 2000] [--latency-ms 50] [--naive-repos 300]
                               [--page-latency-ms 1000] [--jobs 4] [--only scan|jobs]

The full run takes about ten minutes (most of it `--jobs 1` at 1 s a request: 200 s). A quick look at the same
figures: `python bench/bench_plan.py --only jobs --repos 2000 --page-latency-ms 250`.

Generates a synthetic org, serves it with `migrator sandbox --latency-ms 50`, then
measures side by side in one run:

  migrator   `migrator plan` as a child process: requests, GraphQL points, wall time, peak RSS;
             also on a smaller org of the same mix, to show memory does not grow with org size
  naive      list repos (REST, 100 a page), list .github/workflows, GET every file; run on the
             first --naive-repos repos (it is slow by construction) and reported per repository

and prints per-repository figures and the ratios.

Then (`--only jobs` alone) the same org served with `--latency-ms 1000` (every request, REST too, waits 1 s:
what a GitHub page of 50 repositories with their workflow texts takes), planned with `--jobs 1` and `--jobs 4`:
wall time next to the ideal, pages x latency / jobs, where pages are the GraphQL listing pages; the requests
outside those pages (token, Actions policy, org secrets, the count) are printed too, as they are sequential.
No page is modelled lighter than another: the listing makes no names-only requests to model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

TOKEN = "bench-token-not-a-secret"
ORG = "bench-org"


class Server:
    def __init__(self, seed: Path, latency_ms: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "migrator",
                "sandbox",
                "--seed",
                str(seed),
                "--latency-ms",
                str(latency_ms),
                "--core-limit",
                "10000000",
                "--graphql-limit",
                "10000000",
                "--concurrency",
                "64",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def get(self, path: str) -> tuple[Any, dict[str, str]]:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read() or b"null"), dict(response.headers)

    def stats(self) -> dict[str, Any]:
        return self.get("/_sandbox/stats")[0]  # type: ignore[no-any-return]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def generate(repos: int, out: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "migrator.sandbox.generate", "--repos", str(repos), "--out", str(out), "--org", ORG],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_migrator(server: Server, out: Path, jobs: int = 4) -> dict[str, float]:
    before = server.stats()
    server_cpu = server.cpu_seconds()
    env = {**os.environ, "GITHUB_TOKEN": TOKEN}
    start = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "migrator",
            "--log-json",
            "plan",
            "--org",
            ORG,
            "--api-url",
            server.url,
            "--out",
            str(out),
            "--jobs",
            str(jobs),
            "--plan-id",
            f"{ORG}-bench",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"migrator plan failed with status {status}")
    after = server.stats()
    plan = json.loads(out.read_text())
    return {
        "seconds": seconds,
        "requests": after["requests"] - before["requests"],
        "graphql_requests": (after["graphql_queries"] - before["graphql_queries"]),
        "points": after["graphql_points"] - before["graphql_points"],
        "peak_mib": usage.ru_maxrss / 1024,
        "client_cpu": usage.ru_utime + usage.ru_stime,
        "server_cpu": server.cpu_seconds() - server_cpu,
        "repos_with_changes": len(plan["repos"]),
    }


def run_naive(server: Server, limit: int) -> dict[str, float]:
    before = server.stats()["requests"]
    start = time.perf_counter()
    names: list[str] = []
    page = 1
    while len(names) < limit:
        batch, _ = server.get(f"/orgs/{ORG}/repos?per_page=100&page={page}")
        if not batch:
            break
        names += [r["full_name"] for r in batch]
        page += 1
    names = names[:limit]
    for name in names:
        try:
            listing, _ = server.get(f"/repos/{name}/contents/.github/workflows")
        except urllib.error.HTTPError:
            continue
        for entry in listing:
            server.get(f"/repos/{name}/contents/{entry['path']}")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "requests": server.stats()["requests"] - before, "repos": len(names)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=2_000, help="a smaller org for the memory comparison")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--naive-repos", type=int, default=300)
    parser.add_argument("--page-latency-ms", type=int, default=1000, help="latency per request for the --jobs runs")
    parser.add_argument("--jobs", type=int, default=4, help="compared with --jobs 1")
    parser.add_argument("--only", choices=("scan", "jobs"), help="run one half of the bench")
    args = parser.parse_args()
    if args.only != "jobs":
        scan_bench(args)
    if args.only != "scan":
        jobs_bench(args)
    return 0


def jobs_bench(args: argparse.Namespace) -> None:
    latency = args.page_latency_ms / 1000
    with tempfile.TemporaryDirectory(prefix="migrator-bench-jobs-") as tmp:
        seed = Path(tmp) / "seed"
        generate(args.repos, seed)
        server = Server(seed, args.page_latency_ms)
        try:
            runs = {jobs: run_migrator(server, Path(tmp) / f"plan-{jobs}.json", jobs) for jobs in (1, args.jobs)}
            same = _comparable(Path(tmp) / "plan-1.json") == _comparable(Path(tmp) / f"plan-{args.jobs}.json")
        finally:
            server.close()
    print(f"\n--jobs at {args.repos:,} repositories, {args.page_latency_ms} ms added latency on every request")
    print(
        f"{'':<10} {'requests':>9} {'req/repo':>9} {'GQL pages':>10} {'other':>6} {'seconds':>8} {'ideal s':>8} "
        f"{'vs ideal':>9} {'+other':>7} {'cpu plan':>9} {'sandbox':>8}"
    )
    for jobs, run in runs.items():
        pages = run["graphql_requests"] - 1  # all but the count
        other = run["requests"] - pages
        ideal = pages * latency / jobs
        print(
            f"{'--jobs ' + str(jobs):<10} {run['requests']:>9,.0f} {run['requests'] / args.repos:>9.4f} "
            f"{pages:>10,.0f} {other:>6,.0f} {run['seconds']:>8.1f} {ideal:>8.1f} {run['seconds'] / ideal:>8.2f}x "
            f"{run['seconds'] / (ideal + other * latency):>6.2f}x {run['client_cpu']:>9.1f} {run['server_cpu']:>8.1f}"
        )
    print(
        "ideal = GraphQL pages x latency / jobs. 'other' requests (token, Actions policy, org secrets, the count) "
        "come one at a time before the pages; '+other' compares with ideal + other x latency. cpu: seconds of CPU "
        f"of the plan process and of the sandbox (which answers every page in Python), on {os.cpu_count()} cores "
        f"(load average now {os.getloadavg()[0]:.1f})."
    )
    print(
        f"speed-up --jobs {args.jobs} over --jobs 1: {runs[1]['seconds'] / runs[args.jobs]['seconds']:.2f}x; "
        f"plans identical (but for created_at and its digest): {'yes' if same else 'NO'}"
    )


def _comparable(plan: Path) -> dict[str, Any]:
    """A plan without what differs between two runs by design: when it was made, and the digest over that."""
    data: dict[str, Any] = json.loads(plan.read_text())
    return {k: v for k, v in data.items() if k not in {"created_at", "digest"}}


def scan_bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="migrator-bench-plan-") as tmp:
        results: dict[int, dict[str, float]] = {}
        naive: dict[str, float] = {}
        for size in (args.small, args.repos):
            seed = Path(tmp) / f"seed-{size}"
            generate(size, seed)
            server = Server(seed, args.latency_ms)
            try:
                results[size] = run_migrator(server, Path(tmp) / f"plan-{size}.json")
                if size == args.repos:
                    naive = run_naive(server, args.naive_repos)
            finally:
                server.close()
    big, small = results[args.repos], results[args.small]
    naive_per_repo = naive["requests"] / naive["repos"]
    ours_per_repo = big["requests"] / args.repos
    print(f"org: {args.repos:,} generated repositories, {args.latency_ms} ms added latency per request")
    print(f"{'':<22} {'requests':>9} {'req/repo':>9} {'GQL pts':>8} {'seconds':>8} {'s/repo':>8} {'peak MiB':>9}")
    print(
        f"{'migrator plan':<22} {big['requests']:>9,.0f} {ours_per_repo:>9.4f} {big['points']:>8,.0f} "
        f"{big['seconds']:>8.1f} {big['seconds'] / args.repos:>8.4f} {big['peak_mib']:>9.1f}"
    )
    print(
        f"{'naive REST (sampled)':<22} {naive['requests']:>9,.0f} {naive_per_repo:>9.4f} {0:>8} "
        f"{naive['seconds']:>8.1f} {naive['seconds'] / naive['repos']:>8.4f} {'-':>9}"
    )
    print(
        f"GraphQL listing requests per repo (what a repo without findings costs): "
        f"{big['graphql_requests'] / args.repos:.4f}"
    )
    print(f"repos with changes: {big['repos_with_changes']:,.0f}")
    print(f"request ratio (naive / migrator, per repo): {naive_per_repo / ours_per_repo:.1f}x")
    print(
        f"time ratio (naive / migrator, per repo): "
        f"{(naive['seconds'] / naive['repos']) / (big['seconds'] / args.repos):.1f}x"
    )
    print(
        f"peak memory: {small['peak_mib']:.1f} MiB at {args.small:,} repos, {big['peak_mib']:.1f} MiB at "
        f"{args.repos:,} ({big['peak_mib'] / small['peak_mib']:.2f}x for {args.repos / args.small:.0f}x the repos)"
    )


if __name__ == "__main__":
    sys.exit(main())
