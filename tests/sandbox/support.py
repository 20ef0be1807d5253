"""Shared by the sandbox tests: the seed, tokens, and small clients."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from github import Auth, Github

from migrator.sandbox.testing import Sandbox, write_seed

ADMIN = "tok-admin"
WRITER = "tok-write"
READER = "tok-read"
NO_WORKFLOW = "tok-noworkflow"

CI_YML = """name: ci
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
"""
RELEASE_YML = """name: release
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: npx semantic-release
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def build_seed(root: Path) -> Path:
    return write_seed(
        root,
        {
            "acme": {
                "app": {
                    "README.md": "# app\n",
                    ".github/workflows/ci.yml": CI_YML,
                    ".github/workflows/release.yml": RELEASE_YML,
                    "src/main.py": "print('hi')\n",
                    "logo.png": PNG,
                    "big.txt": "x" * 600_000,
                },
                "lib": {"README.md": "# lib\n", "package.json": '{"name": "lib"}\n'},
                "old": {"README.md": "# old\n"},
                "fork-x": {"README.md": "# fork\n"},
                "trunk": {"README.md": "# trunk\n"},
            },
            "other": {"solo": {"README.md": "# solo\n"}},
        },
        repo_meta={
            "acme/app": {
                "secrets": ["DEPLOY_KEY"],
                "topics": ["release", "demo"],
                "protection": {"enforce_admins": False, "contexts": ["ci/build"], "required_reviews": 1},
            },
            "acme/old": {"archived": True},
            "acme/fork-x": {"fork": True, "visibility": "private"},
            "acme/empty": {"empty": True},
            "acme/trunk": {"default_branch": "trunk",
                           "protection": {"enforce_admins": True, "contexts": ["ci"]}},
        },
        org_meta={
            "acme": {
                "secrets": ["RELEASE_PAT", "NPM_TOKEN"],
                "tokens": {ADMIN: "full", WRITER: "write", READER: "read", NO_WORKFLOW: "no-workflow"},
            }
        },
    )


def client(sandbox: Sandbox, token: str = ADMIN, per_page: int = 30) -> Github:
    """PyGithub on the sandbox, without its client-side write throttling (tests must not sleep)."""
    return Github(auth=Auth.Token(token), base_url=sandbox.url, retry=None, per_page=per_page,
                  seconds_between_requests=None, seconds_between_writes=None)


def call(
    sandbox: Sandbox, method: str, path: str, *, token: str | None = ADMIN, body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One raw HTTP request; returns status, headers (lower-cased) and the decoded JSON body (or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(sandbox.url + path, data=data, method=method)
    if token is not None:
        request.add_header("Authorization", f"token {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, got = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, got = error.code, error.read(), error.headers
    lowered = {k.lower(): v for k, v in got.items()}
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw
    return status, lowered, decoded


def graphql(sandbox: Sandbox, query: str, variables: dict[str, Any] | None = None, *, token: str = ADMIN,
            operation: str | None = None) -> Any:
    payload: dict[str, Any] = {"query": query, "variables": variables or {}}
    if operation:
        payload["operationName"] = operation
    status, _headers, body = call(sandbox, "POST", "/graphql", token=token, body=payload)
    assert status == 200, body
    return body
