"""What hostile repository content costs, per repository, next to an ordinary repository.

    python bench/bench_hostile.py [--kinds alias-bomb,huge,...] [--no-plan] [--repeat 3]

Writes one repository per kind of hostile content (migrator.sandbox.generate.HOSTILE_KINDS: alias
bombs, deep nesting, a 50 MB workflow, binary files, invalid UTF-8, symbolic links; each next to an
ordinary release workflow) and an ordinary repository, then measures, each in a fresh child process:

  check   load the checkout and run every rule (`migrator check`, without printing)
  plan    `migrator plan --org ... --repo NAME` against an in-process sandbox serving only that repository

For each: the best wall time of --repeat runs (after one warm-up run, so one-off costs such as building
the GraphQL schema are not counted), the tracemalloc peak of one more run (what that one repository
cost), and the child's peak RSS (the interpreter and imports included; for plan the in-process sandbox
holds its own copy of every file, the 50 MB one too). Ratios are hostile / ordinary, measured side by
side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ORG = "bench-org"
TOKEN = "tok-bench-0123456789"
ORDINARY = "ordinary"


def write_seeds(root: Path, kinds: list[str]) -> dict[str, Path]:
    """One seed folder per kind (root/<kind>/<ORG>/<repo>); the repository folder doubles as the checkout."""
    from migrator.sandbox.generate import ORG_SECRETS, hostile_files, ordinary_files, write_repo

    seeds: dict[str, Path] = {}
    for kind in [ORDINARY, *kinds]:
        seed = root / kind
        name = ORDINARY if kind == ORDINARY else f"hostile-{kind}"
        files = ordinary_files() if kind == ORDINARY else hostile_files(kind)
        write_repo(seed / ORG / name, files)
        meta = {"secrets": list(ORG_SECRETS), "tokens": {TOKEN: "full"}}
        (seed / f"{ORG}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
        seeds[kind] = seed
    return seeds


def _check(seed: Path, repo: str) -> Callable[[], None]:
    from migrator.checker import check_snapshot
    from migrator.local import load_checkout

    def run() -> None:
        check_snapshot(load_checkout(seed / ORG / repo))

    return run


def _plan(seed: Path, repo: str, out: Path) -> tuple[Callable[[], None], Callable[[], None]]:
    from migrator.cli import main
    from migrator.sandbox.testing import start_sandbox

    sandbox = start_sandbox(seed)
    os.environ["GITHUB_TOKEN"] = TOKEN
    argv = ["-q", "plan", "--org", ORG, "--repo", repo, "--api-url", sandbox.url, "--out", str(out)]

    def run() -> None:
        if main(argv) != 0:
            raise SystemExit(f"plan of {repo} failed")

    return run, sandbox.close


def peak_rss_kib() -> int:
    """This process's peak RSS. VmHWM where Linux has it: ru_maxrss survives exec, so it would include
    the parent's peak (which held the 50 MB file while writing it)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(mode: str, seed: Path, repo: str, repeat: int) -> None:
    stop: Callable[[], None] = lambda: None  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="migrator-bench-plan-") as tmp:
        if mode == "check":
            run = _check(seed, repo)
        else:
            run, stop = _plan(seed, repo, Path(tmp) / "plan.json")
        devnull = open(os.devnull, "w")  # noqa: SIM115  # the CLI's own summary lines are not figures
        real_stdout, sys.stdout = sys.stdout, devnull
        try:
            run()  # warm-up
            seconds = []
            for _ in range(repeat):
                start = time.perf_counter()
                run()
                seconds.append(time.perf_counter() - start)
            tracemalloc.start()
            run()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rss = peak_rss_kib()
        finally:
            sys.stdout = real_stdout
            devnull.close()
            stop()
    figures = {"seconds": min(seconds), "peak_mib": peak / 2**20, "rss_mib": rss / 1024}
    print(json.dumps(figures))


def measure(mode: str, seed: Path, repo: str, repeat: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(seed), repo, "--repeat", str(repeat)],
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} of {repo} failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _row(name: str, figures: dict[str, float], base: dict[str, float]) -> str:
    return (
        f"{name:<20} {figures['seconds'] * 1000:>9.1f} {figures['seconds'] / base['seconds']:>7.1f}x"
        f" {figures['peak_mib']:>10.2f} {figures['peak_mib'] / base['peak_mib']:>7.1f}x"
        f" {figures['rss_mib']:>9.1f} {figures['rss_mib'] / base['rss_mib']:>7.1f}x"
    )


def main() -> int:
    from migrator.sandbox.generate import HOSTILE_KINDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(HOSTILE_KINDS), help="comma-separated hostile kinds")
    parser.add_argument("--no-plan", action="store_true", help="measure check only")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (the best counts)")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "SEED", "REPO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2], args.repeat)
        return 0
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(HOSTILE_KINDS))
    if unknown:
        parser.error(f"unknown kinds {', '.join(unknown)}; choose from {', '.join(HOSTILE_KINDS)}")
    modes = ["check"] if args.no_plan else ["check", "plan"]
    with tempfile.TemporaryDirectory(prefix="migrator-bench-hostile-") as tmp:
        seeds = write_seeds(Path(tmp), kinds)
        for mode in modes:
            results = {
                kind: measure(mode, seed, ORDINARY if kind == ORDINARY else f"hostile-{kind}", args.repeat)
                for kind, seed in seeds.items()
            }
            base = results[ORDINARY]
            print(f"\n{mode}: one repository per run (best of {args.repeat}); ratios are hostile / ordinary")
            print(f"{'repository':<20} {'ms':>9} {'time':>8} {'peak MiB':>10} {'memory':>8} {'RSS MiB':>9} {'RSS':>8}")
            for kind, figures in results.items():
                print(_row(kind, figures, base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
