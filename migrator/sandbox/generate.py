"""Write a large synthetic seed: `python -m migrator.sandbox.generate --repos 10000 --out DIR`.

The mix is deterministic for a given `--seed` and looks like a real org: most
repositories have nothing to fix; some run semantic-release with GITHUB_TOKEN
while the org has a release PAT; some duplicate a docker job of main.yml in
docker.yml or docker-build.yml; a few are archived, forks, empty or protected.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ORG_SECRETS = ("RELEASE_PAT", "NPM_TOKEN", "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN")

CI = """name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci && npm test
"""

RELEASE_WITH_GITHUB_TOKEN = """name: release
on:
  push:
    branches: [{branch}]
env:
  GH_PAT: ${{{{ secrets.RELEASE_PAT }}}}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci
      - run: npx semantic-release
        env:
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
          NPM_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}
"""

RELEASE_WITH_PAT = """name: release
on:
  push:
    branches: [{branch}]
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - run: npm ci
      - run: npx semantic-release
        env:
          GITHUB_TOKEN: ${{{{ secrets.RELEASE_PAT }}}}
          NPM_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}
"""

DOCKER_JOB = """  docker:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/login-action@v3
        with:
          username: ${{ secrets.DOCKERHUB_USERNAME }}
          password: ${{ secrets.DOCKERHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: acme/{name}:latest
"""

MAIN_WITH_DOCKER = """name: main
on:
  push:
    branches: [{branch}]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
{docker}"""

DOCKER_ONLY = """name: docker
on:
  push:
    branches: [{branch}]
jobs:
{docker}"""

PACKAGE_JSON = """{{
  "name": "{name}",
  "version": "0.0.0-development",
  "scripts": {{"test": "node --test"}},
  "release": {{"branches": ["{branch}"]}}
}}
"""


@dataclass(frozen=True, kw_only=True)
class Mix:
    """Shares of each kind of repository; the rest are plain."""

    release_github_token: float = 0.12
    release_pat: float = 0.06
    docker_duplicate: float = 0.08
    archived: float = 0.04
    fork: float = 0.03
    empty: float = 0.02
    protected: float = 0.05
    master_branch: float = 0.15


def _repo_files(rng: random.Random, name: str, branch: str, kind: str) -> dict[str, str]:
    files = {"README.md": f"# {name}\n\nA synthetic repository.\n"}
    if rng.random() < 0.7:
        files[".github/workflows/ci.yml"] = CI
    if kind.startswith("release"):
        template = RELEASE_WITH_GITHUB_TOKEN if kind == "release_github_token" else RELEASE_WITH_PAT
        files[".github/workflows/release.yml"] = template.format(branch=branch)
        files["package.json"] = PACKAGE_JSON.format(name=name, branch=branch)
    elif kind == "docker_duplicate":
        docker = DOCKER_JOB.replace("{name}", name)
        files[".github/workflows/main.yml"] = MAIN_WITH_DOCKER.format(branch=branch, docker=docker)
        duplicate = rng.choice(["docker.yml", "docker-build.yml"])
        files[f".github/workflows/{duplicate}"] = DOCKER_ONLY.format(branch=branch, docker=docker)
        files["Dockerfile"] = "FROM alpine:3.20\n"
    return files


def _pick_kind(rng: random.Random, mix: Mix) -> str:
    roll = rng.random()
    for kind in ("release_github_token", "release_pat", "docker_duplicate"):
        share: float = getattr(mix, kind)
        if roll < share:
            return kind
        roll -= share
    return "plain"


def _repo_meta(rng: random.Random, mix: Mix, branch: str) -> dict[str, object]:
    meta: dict[str, object] = {}
    if branch != "main":
        meta["default_branch"] = branch
    if rng.random() < mix.archived:
        meta["archived"] = True
    if rng.random() < mix.fork:
        meta["fork"] = True
    if rng.random() < mix.protected:
        meta["protection"] = {"enforce_admins": rng.random() < 0.5, "contexts": ["test"], "required_reviews": 1}
    return meta


def generate(
    out: Path,
    *,
    repos: int,
    seed: int = 0,
    org: str = "bench-org",
    mix: Mix | None = None,
    tokens: dict[str, str] | None = None,
) -> Path:
    """Write `repos` repositories of `org` under `out`; returns `out`."""
    chosen = mix or Mix()
    rng = random.Random(seed)
    org_dir = out / org
    org_dir.mkdir(parents=True, exist_ok=True)
    org_meta: dict[str, object] = {"secrets": list(ORG_SECRETS)}
    if tokens:
        org_meta["tokens"] = tokens
    (out / f"{org}.meta.json").write_text(json.dumps(org_meta, indent=2) + "\n", encoding="utf-8")
    width = len(str(max(repos - 1, 0)))
    for index in range(repos):
        name = f"repo-{index:0{width}d}"
        branch = "master" if rng.random() < chosen.master_branch else "main"
        kind = _pick_kind(rng, chosen)
        meta = _repo_meta(rng, chosen, branch)
        if rng.random() < chosen.empty:
            meta = {"empty": True}
        else:
            _write_files(org_dir / name, _repo_files(rng, name, branch, kind))
        if kind.startswith("release"):
            meta["secrets"] = ["NPM_TOKEN"]
        if meta:
            (org_dir / f"{name}.meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return out


def _write_files(repo_dir: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = repo_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m migrator.sandbox.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, required=True, help="how many repositories")
    parser.add_argument("--out", type=Path, required=True, help="seed folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same tree")
    parser.add_argument("--org", default="bench-org", help="organisation login")
    args = parser.parse_args(argv)
    if args.repos < 0:
        parser.error("--repos must be >= 0")
    generate(args.out, repos=args.repos, seed=args.seed, org=args.org)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
