"""How fast `check` goes through an org's worth of workflow files, against parsing them all.

    python bench/bench_check.py [--files 20000] [--relevant 0.03]

Generates a tree of repositories (most workflow files irrelevant, as in real
orgs: tests, lint, deploys; a few with semantic-release or docker*.yml), then
runs, each in a fresh child process so time and peak memory are its own:

  migrator   load each checkout and run every rule (text pre-filter, then parse only what matters)
  baseline   ruamel.yaml round-trip load of every workflow file, nothing else

and prints files per second, peak RSS and the ratio, measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATES = {
    "test": """name: test
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ${{{{ matrix.os }}}}
    strategy:
      matrix:
        os: [ubuntu-latest, macos-latest]
        node: [18, 20, 22]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: ${{{{ matrix.node }}}}
          cache: npm
      - run: npm ci
      - run: npm test -- --coverage
      - uses: codecov/codecov-action@v4
        with:
          token: ${{{{ secrets.CODECOV_TOKEN }}}}
{extra}""",
    "lint": """name: lint
on: [push, pull_request]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install ruff mypy
      - run: ruff check . && mypy src
{extra}""",
    "deploy": """name: deploy
on:
  workflow_dispatch:
  push:
    branches: [main]
env:
  AWS_REGION: eu-west-1
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{{{ secrets.AWS_ROLE }}}}
          aws-region: ${{{{ env.AWS_REGION }}}}
      - run: ./scripts/deploy.sh
{extra}""",
}
RELEASE = """name: main
on:
  push:
    branches: [main]
env:
  GH_PAT: ${{ secrets.PAT_TOKEN }}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          token: ${{ secrets.GITHUB_TOKEN }}
      - run: npx semantic-release
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
  docker:
    needs: release
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/${{ github.repository }}:latest
"""
DOCKER = """name: docker
on:
  release:
    types: [published]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/${{ github.repository }}:${{ github.ref_name }}
"""
FILES_PER_REPO = 5


def generate(root: Path, files: int, relevant: float, seed: int = 7) -> int:
    rng = random.Random(seed)
    repos = files // FILES_PER_REPO
    for index in range(repos):
        workflows = root / f"repo-{index:05d}" / ".github" / "workflows"
        workflows.mkdir(parents=True)
        (workflows.parent.parent / "README.md").write_text(f"# repo {index}\n")
        names = []
        if rng.random() < relevant * FILES_PER_REPO / 2:
            (workflows / "main.yml").write_text(RELEASE)
            (workflows / "docker.yml").write_text(DOCKER)
            names = ["main", "docker"]
        for n in range(FILES_PER_REPO - len(names)):
            kind = rng.choice(sorted(TEMPLATES))
            extra = "\n".join(f"      - run: echo step {i}  # filler" for i in range(rng.randint(0, 40)))
            (workflows / f"{kind}-{n}.yml").write_text(TEMPLATES[kind].format(extra=extra))
    return repos * FILES_PER_REPO


def run_migrator(root: Path) -> dict[str, float]:
    from migrator.checker import check_snapshot
    from migrator.local import load_checkout

    findings = 0
    for repo in sorted(root.iterdir()):
        findings += len(check_snapshot(load_checkout(repo)).problems())
    return {"findings": findings}


def run_baseline(root: Path) -> dict[str, float]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    loaded = 0
    for path in sorted(root.glob("*/.github/workflows/*.yml")):
        yaml.load(path.read_text())
        loaded += 1
    return {"loaded": loaded}


def child(mode: str, root: Path) -> None:
    start = time.perf_counter()
    extra = run_migrator(root) if mode == "migrator" else run_baseline(root)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024, **extra}))


def measure(mode: str, root: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(root)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--relevant", type=float, default=0.03, help="share of files that matter")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory(prefix="migrator-bench-") as tmp:
        root = Path(tmp)
        files = generate(root, args.files, args.relevant)
        ours = measure("migrator", root)
        base = measure("baseline", root)
    print(f"tree: {files:,} workflow files in {files // FILES_PER_REPO:,} repositories")
    print(f"{'':<10} {'seconds':>8} {'files/s':>9} {'peak MiB':>9}")
    for name, result in (("migrator", ours), ("baseline", base)):
        print(f"{name:<10} {result['seconds']:>8.2f} {files / result['seconds']:>9,.0f} {result['peak_mib']:>9.1f}")
    print(f"findings reported by migrator: {int(ours['findings'])}")
    print(f"speed ratio (migrator / ruamel round-trip of every file): {base['seconds'] / ours['seconds']:.1f}x")
    print(f"peak memory ratio (migrator / baseline): {ours['peak_mib'] / base['peak_mib']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
