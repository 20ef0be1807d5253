"""The cost of `merge`: requests per pull request, next to a naive REST merger, in one run.

    python bench/bench_merge.py [--repos 100]

Seeds an org of --repos repositories, plans and applies them (one PR each), then measures side by side:

  migrator   `migrator merge --dry-run` (every decision made, nothing written: the reads alone), then the real
             `migrator merge` (the reads and one merge request per PR)
  naive      per PR, REST: the PR, its reviews, the head's check runs and combined status, the base branch's
             protection (what a merger needs to decide), on the same PRs

and prints reads per PR for both, their ratio, and the writes per merged PR.
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
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migrator.apply import pacing
from migrator.cli import main
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

ORG = "bench-org"
TOKEN = "bench-merge-token"


def rest(sandbox: Sandbox, path: str) -> Any:
    request = urllib.request.Request(sandbox.url + path, headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError:
        return None


def naive(sandbox: Sandbox, names: list[str]) -> int:
    before = sandbox.stats()["requests"]
    for name in names:
        [pull] = rest(sandbox, f"/repos/{ORG}/{name}/pulls?state=all")
        rest(sandbox, f"/repos/{ORG}/{name}/pulls/{pull['number']}")
        rest(sandbox, f"/repos/{ORG}/{name}/pulls/{pull['number']}/reviews")
        rest(sandbox, f"/repos/{ORG}/{name}/commits/{pull['head']['sha']}/check-runs")
        rest(sandbox, f"/repos/{ORG}/{name}/commits/{pull['head']['sha']}/status")
        rest(sandbox, f"/repos/{ORG}/{name}/branches/main/protection")
    return int(sandbox.stats()["requests"] - before - len(names))  # the listing only finds the number here


def quiet(argv: list[str]) -> tuple[int, float]:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["--quiet", *argv])
    return code, time.perf_counter() - started


def run(repos: int) -> None:
    pacing._sleep = lambda seconds: None  # type: ignore[assignment]
    os.environ["GITHUB_TOKEN"] = TOKEN
    names = [f"svc-{i:04d}" for i in range(repos)]
    with tempfile.TemporaryDirectory() as work:
        seed = write_seed(
            Path(work) / "seed",
            {ORG: {name: golden_tree("reference") for name in names}},
            org_meta={ORG: {"secrets": ["PAT_TOKEN"], "tokens": {TOKEN: "full"}}},
        )
        limits = {"secondary_per_minute": 10**6, "secondary_per_hour": 10**7, "core_limit": 10**7}
        with running_sandbox(seed, **limits) as sandbox:
            plan = Path(work) / "plan.json"
            api = ["--api-url", sandbox.url]
            assert quiet(["plan", "--org", ORG, "--out", str(plan), *api])[0] == 0
            assert quiet(["apply", str(plan), "--min-interval", "0", *api])[0] == 0
            naive_reads = naive(sandbox, names)
            before = sandbox.stats()
            code, dry_seconds = quiet(["merge", str(plan), "--dry-run", "--min-interval", "0", *api])
            after = sandbox.stats()
            reads = after["requests"] - before["requests"]  # a dry run sends no token check
            unpaced = ["--min-interval", "0", "--per-minute", "100000", "--per-hour", "1000000"]
            code, merge_seconds = quiet(["merge", str(plan), *unpaced, *api])
            merged = sandbox.stats()
            writes = merged["by_method"].get("PUT", 0) - after["by_method"].get("PUT", 0)
    print(f"pull requests                {repos}")
    print(f"migrator reads per PR        {reads / repos:.3f}  ({reads} requests, dry run {dry_seconds:.2f} s)")
    print(f"naive REST reads per PR      {naive_reads / repos:.3f}  ({naive_reads} requests)")
    print(f"naive / migrator             {naive_reads / max(reads, 1):.0f}x")
    print(
        f"merge writes per merged PR   {writes / repos:.2f}  (exit {code}; {merge_seconds:.1f} s unpaced, the sandbox's"
        " Actions model running each merge's push workflows included)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=100)
    run(parser.parse_args().repos)
