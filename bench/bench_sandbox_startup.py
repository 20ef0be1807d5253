"""Benchmark: generate a 10,000-repo seed, start the sandbox, list the org (REST and GraphQL first page).

Run: .venv/bin/python bench/bench_sandbox_startup.py [--repos 10000] [--seed 0]
Prints one line per figure; exits non-zero when startup takes 30 s or more.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from migrator.sandbox.generate import generate
from migrator.sandbox.testing import start_sandbox

STARTUP_BUDGET_S = 30.0
QUERY = '{ organization(login: "bench-org") { repositories(first: 100) { totalCount nodes { name } } } }'


def _get(url: str, body: bytes | None = None) -> tuple[object, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    request.add_header("Authorization", "token bench")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read()), dict(response.headers.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        seed_dir = Path(tmp)
        started = time.perf_counter()
        generate(seed_dir, repos=args.repos, seed=args.seed)
        generated = time.perf_counter() - started

        started = time.perf_counter()
        sandbox = start_sandbox(seed_dir)
        startup = time.perf_counter() - started
        try:
            started = time.perf_counter()
            repos, headers = _get(f"{sandbox.url}/orgs/bench-org/repos?per_page=100")
            rest_first = time.perf_counter() - started
            started = time.perf_counter()
            answer, _ = _get(f"{sandbox.url}/graphql", json.dumps({"query": QUERY}).encode())
            graphql_first = time.perf_counter() - started
        finally:
            sandbox.close()
    assert isinstance(repos, list) and len(repos) == min(100, args.repos)
    assert isinstance(answer, dict)
    total = answer["data"]["organization"]["repositories"]["totalCount"]
    print(f"repos                 {args.repos}")
    print(f"generate_seed_s       {generated:.2f}")
    print(f"startup_s             {startup:.2f}   (budget {STARTUP_BUDGET_S:.0f} s)")
    print(f"rest_first_page_s     {rest_first:.3f}   (100 repos, Link: {'next' in headers.get('Link', '')})")
    print(f"graphql_first_page_s  {graphql_first:.3f}   (totalCount {total}; includes schema build)")
    return 0 if startup < STARTUP_BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
