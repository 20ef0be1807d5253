"""Write a large synthetic seed: `python -m migrator.sandbox.generate --repos 10000 --out DIR`.

The mix is deterministic for a given `--seed` and looks like a real org: most
repositories have nothing to fix; some run semantic-release with GITHUB_TOKEN
while the org has a release PAT; some duplicate a docker job of main.yml in
docker.yml or docker-build.yml; a few are archived, forks, empty or protected.

`--hostile` adds one repository per kind of hostile content (`HOSTILE_KINDS`: alias
bombs, deep nesting, a 50 MB workflow, binary files, invalid UTF-8, symbolic links),
each next to an ordinary release workflow; tests and bench/bench_hostile.py use them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import sys
import zlib
from collections.abc import Mapping, Sequence
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


# --- hostile repositories -------------------------------------------------------------------------


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to create; the seed loader turns it into a mode-120000 tree entry."""

    target: str


HostileFile = bytes | Symlink

HUGE_BYTES = 50 * 1024 * 1024
HOSTILE_KINDS: dict[str, str] = {
    "alias-bomb": "billion laughs (9 levels of 9 aliases) and an alias inside its own anchor",
    "deep-flow": "`[` nested 100,000 deep and `{` nested 10,000 deep",
    "deep-block": "block sequences nested 100,000 deep and block mappings as deep as 1 MB allows",
    "huge": "a 50 MB workflow",
    "binary": "NUL bytes and a PNG image named .yml",
    "invalid-utf8": "Latin-1 text, and one bad byte after 10 kB of good text",
    "symlinks": "workflows linking to /etc/passwd, outside the checkout, to themselves and nowhere",
    "symlinked-folders": ".github/workflows, docs and scripts linking outside the checkout; README to /etc/passwd",
}
# The text the rules look for before parsing, so every hostile workflow is really parsed.
_RELEASE_MARKER = "# npx semantic-release with ${{ secrets.GITHUB_TOKEN }}\n"


def ordinary_files(name: str = "ordinary", branch: str = "main") -> dict[str, HostileFile]:
    """An ordinary repository: a release workflow with a token to fix, CI, package.json and a README."""
    return {
        "README.md": f"# {name}\n\nAn ordinary repository.\n".encode(),
        "package.json": PACKAGE_JSON.format(name=name, branch=branch).encode(),
        ".github/workflows/ci.yml": CI.encode(),
        ".github/workflows/release.yml": RELEASE_WITH_GITHUB_TOKEN.format(branch=branch).encode(),
    }


def hostile_files(kind: str) -> dict[str, HostileFile]:
    """The files of a repository holding one kind of hostile content next to ordinary ones."""
    files = ordinary_files(f"hostile-{kind}")
    workflows = ".github/workflows/"
    if kind == "alias-bomb":
        files[workflows + "bomb.yml"] = _alias_bomb(levels=9, fan_out=9).encode()
        files[workflows + "cycle.yml"] = (_RELEASE_MARKER + "on: push\njobs: &jobs\n  loop: *jobs\n").encode()
    elif kind == "deep-flow":
        files[workflows + "deep-seq.yml"] = (_RELEASE_MARKER + "jobs: " + "[" * 100_000 + "]" * 100_000).encode()
        files[workflows + "deep-map.yml"] = (_RELEASE_MARKER + "jobs: " + "{a: " * 10_000 + "x" + "}" * 10_000).encode()
    elif kind == "deep-block":
        files[workflows + "deep-seq.yml"] = (_RELEASE_MARKER + "jobs:\n" + "- " * 100_000 + "x\n").encode()
        files[workflows + "deep-map.yml"] = _deep_block_mapping(990_000).encode()
    elif kind == "huge":
        files[workflows + "huge.yml"] = _huge_workflow(HUGE_BYTES)
    elif kind == "binary":
        files[workflows + "nul.yml"] = _RELEASE_MARKER.encode() + bytes(range(256)) * 64
        files[workflows + "image.yml"] = png_image()
    elif kind == "invalid-utf8":
        files[workflows + "latin1.yml"] = (_RELEASE_MARKER + "name: café\n").encode("latin-1", errors="replace")
        good = _RELEASE_MARKER + "".join(f"# line {i:05d} of good text\n" for i in range(400))
        files[workflows + "late-invalid.yml"] = good.encode() + b"name: caf\xe9\n"
    elif kind == "symlinks":
        files[workflows + "passwd.yml"] = Symlink("/etc/passwd")
        files[workflows + "outside.yml"] = Symlink("../../../outside.yml")
        files[workflows + "self.yml"] = Symlink("self.yml")
        files[workflows + "dangling.yaml"] = Symlink("does-not-exist.yml")
    elif kind == "symlinked-folders":
        for path in [p for p in files if p.startswith(workflows)]:
            files["ci/" + path.removeprefix(workflows)] = files.pop(path)
        files[".github/workflows"] = Symlink("/etc")
        files["docs"] = Symlink("/")
        files["scripts"] = Symlink("/")
        files["README.md"] = Symlink("/etc/passwd")
    else:
        raise ValueError(f"unknown hostile kind {kind!r}; choose from {', '.join(HOSTILE_KINDS)}")
    return files


def write_repo(repo_dir: Path, files: Mapping[str, str | bytes | Symlink]) -> Path:
    """Write files (and symbolic links) below repo_dir; returns repo_dir."""
    for path, content in files.items():
        target = repo_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Symlink):
            os.symlink(content.target, target)
        else:
            target.write_bytes(content.encode() if isinstance(content, str) else content)
    return repo_dir


def _alias_bomb(*, levels: int, fan_out: int) -> str:
    lines = [_RELEASE_MARKER.rstrip("\n"), "on: push", "x-lol:", '  l0: &l0 "lol"']
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * fan_out)}]" for i in range(1, levels + 1)]
    lines += ["jobs:", "  release:", "    runs-on: ubuntu-latest", f"    env: {{ LOL: *l{levels} }}", "    steps:"]
    lines += ["      - run: npx semantic-release", f"        with: {{ lol: *l{levels} }}"]
    return "\n".join(lines) + "\n"


def _deep_block_mapping(max_bytes: int) -> str:
    """Block mappings nested as deep as fits in max_bytes (one more space of indentation per level)."""
    parts, size, depth = [_RELEASE_MARKER, "jobs:\n"], 0, 1
    while size + depth + 4 < max_bytes:
        line = " " * depth + "k:\n"
        parts.append(line)
        size, depth = size + len(line), depth + 1
    parts.append(" " * depth + "x\n")
    return "".join(parts)


def _huge_workflow(size: int) -> bytes:
    head = RELEASE_WITH_GITHUB_TOKEN.format(branch="main").encode()
    line = b"# padding to make this workflow file far larger than anything GitHub accepts\n"
    return head + line * ((size - len(head)) // len(line) + 1)


def png_image() -> bytes:
    """A valid 16x16 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\0" + bytes([128] * 16) for _ in range(16)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def generate_hostile(
    out: Path,
    *,
    org: str = "hostile-org",
    kinds: Sequence[str] = tuple(HOSTILE_KINDS),
    tokens: dict[str, str] | None = None,
) -> Path:
    """One repository per hostile kind (`hostile-<kind>`) plus an ordinary one, under out/org."""
    org_dir = out / org
    org_dir.mkdir(parents=True, exist_ok=True)
    org_meta: dict[str, object] = {"secrets": list(ORG_SECRETS)}
    if tokens:
        org_meta["tokens"] = tokens
    (out / f"{org}.meta.json").write_text(json.dumps(org_meta) + "\n", encoding="utf-8")
    write_repo(org_dir / "ordinary", ordinary_files())
    for kind in kinds:
        write_repo(org_dir / f"hostile-{kind}", hostile_files(kind))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m migrator.sandbox.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, required=True, help="how many repositories")
    parser.add_argument("--out", type=Path, required=True, help="seed folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same tree")
    parser.add_argument("--org", default="bench-org", help="organisation login")
    parser.add_argument(
        "--hostile", action="store_true", help="also write one repository per kind of hostile content (to test limits)"
    )
    args = parser.parse_args(argv)
    if args.repos < 0:
        parser.error("--repos must be >= 0")
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        parser.error(f"--out {args.out} exists and is not an empty folder; name a new one (a seed is never merged)")
    generate(args.out, repos=args.repos, seed=args.seed, org=args.org)
    if args.hostile:
        generate_hostile(args.out, org=args.org)
    print(args.out)
    print(
        f"wrote org {args.org} with {args.repos} repositories to {args.out} (any non-empty token is accepted); "
        f"serve it with `migrator sandbox --seed {args.out}`, then "
        f"`GITHUB_TOKEN=x migrator plan --org {args.org} --api-url URL`",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
