"""The demo organisation: a handful of repositories, one for each case migrator handles."""

from __future__ import annotations

from pathlib import Path

from migrator.sandbox.testing import write_seed

ORG = "demo-org"
TOKEN = "demo-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # the platform team's, which runs migrator
RELEASE_PAT = "release-pat-9a8b7c6d5e4f30211203f4e5d6c7b8a9"  # what secrets.PAT_TOKEN holds: release-bot's PAT

MAIN = """name: CI/CD
on:
  push:
    branches: [main]
env:
  GH_PAT: ${{{{ secrets.{pat} }}}}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci && npm test
  release:
    needs: test
    runs-on: ubuntu-latest
    outputs:
      published: ${{{{ steps.semantic.outputs.new_release_published }}}}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: ${{{{ secrets.GITHUB_TOKEN }}}}  # cannot push past branch protection
      - run: >-
          git remote set-url origin
          https://x-access-token:${{{{ secrets.GITHUB_TOKEN }}}}@github.com/${{{{ github.repository }}}}.git
      - id: semantic
        run: npx semantic-release
        env:
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
  docker:
    needs: release
    if: needs.release.outputs.published == 'true'
    runs-on: ubuntu-latest
    steps:
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{{{ github.actor }}}}
          password: ${{{{ secrets.GITHUB_TOKEN }}}}  # right for GHCR: never changed
      - uses: docker/build-push-action@v6
        with:
          push: true
          platforms: linux/amd64,linux/arm64
          tags: ghcr.io/${{{{ github.repository }}}}:latest
"""

DOCKER = """name: Docker
on:
  release:
    types: [published]{extra}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: true
          platforms: {platforms}
          tags: ghcr.io/${{{{ github.repository }}}}:${{{{ github.ref_name }}}}
"""

CI = """name: test
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
"""

README = """# {name}

[![CI](https://github.com/demo-org/{name}/actions/workflows/main.yml/badge.svg)](https://github.com/demo-org/{name}/actions/workflows/main.yml)
[![Docker](https://github.com/demo-org/{name}/actions/workflows/docker.yml/badge.svg)](https://github.com/demo-org/{name}/actions/workflows/docker.yml)
"""


def repo_files(
    name: str, *, pat: str = "PAT_TOKEN", docker_extra: str = "", platforms: str = "linux/amd64,linux/arm64"
) -> dict[str, str]:
    return {
        "README.md": README.format(name=name),
        ".github/workflows/main.yml": MAIN.format(pat=pat),
        ".github/workflows/docker.yml": DOCKER.format(extra=docker_extra, platforms=platforms),
        ".github/workflows/docker-build.yml": DOCKER.format(extra="\n  workflow_dispatch:", platforms=platforms),
        ".github/workflows/ci.yml": CI,  # runs on every push, the PR branches' too: status shows real checks
    }


def write_demo_seed(directory: Path) -> Path:
    repos = {
        "api": repo_files("api"),  # the reference case: every fix is safe
        "web": repo_files("web", platforms="linux/amd64"),  # platforms differ from main.yml: docker fixes need review
        "worker": repo_files("worker", pat="WORKER_PAT"),  # its PAT secret does not exist: the token fix is blocked
        "guarded": repo_files("guarded"),  # enforce_admins: a PAT alone will not do, the token fix is review
        "docs": {".github/workflows/ci.yml": CI, "README.md": "# docs\n"},  # nothing wrong
        "old-service": repo_files("old-service"),  # archived: skipped
    }
    return write_seed(
        directory,
        {ORG: repos},
        repo_meta={
            f"{ORG}/api": {"protection": {"contexts": ["test"]}},  # GITHUB_TOKEN cannot push the release here
            f"{ORG}/guarded": {"protection": {"enforce_admins": True, "contexts": ["test"]}},
            f"{ORG}/old-service": {"archived": True},
        },
        org_meta={
            ORG: {
                "secrets": {"PAT_TOKEN": RELEASE_PAT, "NPM_TOKEN": None},
                "tokens": {
                    TOKEN: {"power": "full", "login": "platform-bot"},
                    RELEASE_PAT: {"power": "full", "login": "release-bot"},
                },
            }
        },
    )
