"""The seed's release pipeline, for the Actions model's tests: a protected `main`, a PAT declared but
GITHUB_TOKEN used by the release job, and two duplicate docker workflows that push the same tag."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from migrator.sandbox.testing import AppKey, Sandbox, write_seed
from tests.sandbox.support import call

ADMIN = "tok-admin"  # release-bot's PAT: full power
WRITER = "tok-write"  # a PAT with push but no admin
INSTALLATION = 456
APP_SLUG = "release-app"

MAIN = """name: CI/CD
on:
  push:
    branches: [ main ]
env:
  GH_PAT: ${{ secrets.PAT_TOKEN }}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm test
  release:
    runs-on: ubuntu-latest
    needs: test
    if: github.ref == 'refs/heads/main' && github.event_name == 'push'
    outputs:
      published: ${{ steps.semantic.outputs.new_release_published }}
      version: ${{ steps.semantic.outputs.new_release_version }}
    steps:
      - name: Checkout
        uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: ${{ secrets.GITHUB_TOKEN }}
      - name: Configure Git
        run: >-
          git remote set-url origin
          https://x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com/${{ github.repository }}.git
      - name: Release
        id: semantic
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
        run: npx semantic-release
  docker:
    runs-on: ubuntu-latest
    needs: release
    if: needs.release.outputs.published == 'true'
    steps:
      - uses: actions/checkout@v4
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/${{ github.repository }}:${{ needs.release.outputs.version }}
"""
FIXED_MAIN = MAIN.replace("secrets.GITHUB_TOKEN", "secrets.PAT_TOKEN")
DOCKER = """name: Docker
on:
  push:
    tags: [ 'v*' ]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/${{ github.repository }}
          tags: type=semver,pattern={{version}}
          flavor: latest=false
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ${{ steps.meta.outputs.tags }}
"""
DOCKER_BUILD = """name: Build Multi-Arch Image
on:
  release:
    types: [published]
  workflow_dispatch:
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: |
            ghcr.io/${{ github.repository }}
          tags: type=semver,pattern={{version}}
          flavor: latest=false
      - uses: docker/build-push-action@v6
        with:
          push: true
          platforms: linux/amd64,linux/arm64
          tags: ${{ steps.meta.outputs.tags }}
"""
WORKFLOWS = ".github/workflows/"


def pipeline_seed(root: Path, *, main: str = MAIN, docker: bool = True, pat: str = ADMIN,
                  enforce_admins: bool = False) -> Path:
    files = {"README.md": "# app\n", "package.json": '{"name": "app", "version": "0.0.0-development"}\n',
             WORKFLOWS + "main.yml": main}
    if docker:
        files |= {WORKFLOWS + "docker.yml": DOCKER, WORKFLOWS + "docker-build.yml": DOCKER_BUILD}
    key = AppKey.generate()
    app = key.app_entry(77, INSTALLATION, {"contents": "write", "workflows": "write", "administration": "write",
                                           "metadata": "read"}) | {"slug": APP_SLUG}
    return write_seed(
        root,
        {"acme": {"app": files}},
        repo_meta={"acme/app": {"protection": {"enforce_admins": enforce_admins, "contexts": ["test"],
                                               "required_reviews": 1}}},
        org_meta={"acme": {"secrets": {"PAT_TOKEN": pat, "NPM_TOKEN": None},
                           "tokens": {ADMIN: {"power": "full", "login": "release-bot"}, WRITER: "write"},
                           "apps": [app]}},
    )


def push(sandbox: Sandbox, message: str, files: dict[str, str | None] | None = None) -> str:
    """Someone pushes a commit to main (the control API's commit)."""
    status, _headers, body = call(sandbox, "POST", "/_sandbox/repos/acme/app/commit", token=None,
                                  body={"branch": "main", "message": message, "files": files or {"src.txt": message}})
    assert status == 201, body
    return str(body["sha"])


def runs(sandbox: Sandbox, query: str = "") -> list[dict[str, Any]]:
    status, _headers, body = call(sandbox, "GET", f"/repos/acme/app/actions/runs{query}")
    assert status == 200, body
    return list(body["workflow_runs"])


def jobs(sandbox: Sandbox, run_id: int) -> dict[str, dict[str, Any]]:
    status, _headers, body = call(sandbox, "GET", f"/repos/acme/app/actions/runs/{run_id}/jobs")
    assert status == 200, body
    return {job["name"]: job for job in body["jobs"]}


def job_log(sandbox: Sandbox, job_id: int) -> str:
    status, _headers, body = call(sandbox, "GET", f"/repos/acme/app/actions/jobs/{job_id}/logs")
    assert status == 200
    return body.decode() if isinstance(body, bytes) else str(body)


def merge_fix(sandbox: Sandbox, changes: dict[str, str | None], token: str = ADMIN) -> dict[str, Any]:
    """What `migrator apply` and a reviewer do: a branch, one commit per file, a PR, and a merge."""
    head = call(sandbox, "GET", "/repos/acme/app/git/ref/heads/main", token=token)[2]["object"]["sha"]
    assert call(sandbox, "POST", "/repos/acme/app/git/refs", token=token,
                body={"ref": "refs/heads/migrator/fix", "sha": head})[0] == 201
    for path, text in changes.items():
        current = call(sandbox, "GET", f"/repos/acme/app/contents/{path}?ref=migrator/fix", token=token)[2]
        body: dict[str, Any] = {"message": f"ci: {path}", "branch": "migrator/fix", "sha": current["sha"]}
        if text is None:
            assert call(sandbox, "DELETE", f"/repos/acme/app/contents/{path}", token=token, body=body)[0] == 200
        else:
            body["content"] = base64.b64encode(text.encode()).decode()
            assert call(sandbox, "PUT", f"/repos/acme/app/contents/{path}", token=token, body=body)[0] == 200
    pull = call(sandbox, "POST", "/repos/acme/app/pulls", token=token,
                body={"title": "ci: release with the PAT", "head": "migrator/fix", "base": "main"})[2]
    status, _headers, merged = call(sandbox, "PUT", f"/repos/acme/app/pulls/{pull['number']}/merge", token=token,
                                    body={"merge_method": "squash"})
    assert status == 200, merged
    return dict(merged)


def pushes_by_reference(sandbox: Sandbox) -> dict[str, list[int]]:
    body = call(sandbox, "GET", "/_sandbox/registry", token=None)[2]
    return {ref: sorted(ids) for ref, ids in body["by_reference"].items()}
