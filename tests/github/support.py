"""Shared by the adapter tests and the cassette recorder: seeds, tokens and clients."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.github.auth import TokenCredentials
from migrator.github.client import ClientSettings, GitHubClient
from migrator.github.retry import RetryPolicy
from migrator.github.urls import resolve_api_urls
from migrator.sandbox.testing import Sandbox, write_seed

# Token-shaped on purpose: the cassette and log scans look for these literals and for the shape.
ADMIN = "ghp_" + "SandboxAdmin0000000000000000000000001"
NO_WORKFLOW = "ghp_" + "SandboxNoWorkflow00000000000000000002"
READER = "ghp_" + "SandboxReader000000000000000000000003"
UNKNOWN = "ghp_" + "SandboxUnknown00000000000000000000004"
TOKENS = (ADMIN, NO_WORKFLOW, READER, UNKNOWN)

ORG = "acme"
CI_CRLF = "name: ci\r\non: push\r\njobs:\r\n  build:\r\n    runs-on: ubuntu-latest\r\n    steps: []\r\n"
RELEASE = "# Veröffentlichung — release ✓\non: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps: []\n"
BINARY = b"\x00\x01\x02 not yaml \xff\xfe"
BIG = "# big\n" + "x: 1\n" * 120_000  # 600,006 bytes: GitHub cuts GraphQL text at 512,000
HUGE = "# huge\n" + "y: 2\n" * 220_000  # over the 1 MB cap: skipped without being fetched
LIBS = tuple(f"lib-{i:02d}" for i in range(7))


def build_seed(root: Path) -> Path:
    """The org the sandbox tests read: every case the adapter distinguishes."""
    repos: dict[str, dict[str, str | bytes]] = {
        "app": {
            ".github/workflows/ci.yml": CI_CRLF,
            ".github/workflows/release.yaml": RELEASE,
            ".github/workflows/big.yml": BIG,
            ".github/workflows/bin.yml": BINARY,
            ".github/workflows/notes.txt": "not a workflow\n",
            ".github/workflows/nested/inner.yml": "on: push\n",
            ".github/README.md": "# hidden readme\n",
            "README.md": "# app ✓\n",
            "package.json": '{"name": "app"}\n',
        },
        "huge": {".github/workflows/huge.yml": HUGE},
        "old": {"README.md": "# old\n"},
        "forked": {"README.md": "# forked\n"},
        **{name: {".github/workflows/ci.yml": f"on: push  # {name}\n"} for name in LIBS},
    }
    return write_seed(
        root,
        {ORG: repos},
        repo_meta={
            f"{ORG}/app": {
                "topics": ["release", "npm"],
                "secrets": ["DEPLOY_KEY"],
                "protection": {"enforce_admins": True, "contexts": ["ci/build", "ci/test"], "required_reviews": 2},
            },
            f"{ORG}/old": {"archived": True},
            f"{ORG}/forked": {"fork": True, "visibility": "private"},
            f"{ORG}/void": {"empty": True},
        },
        org_meta={ORG: {"secrets": ["RELEASE_PAT", "NPM_TOKEN"],
                        "tokens": {ADMIN: "full", NO_WORKFLOW: "no-workflow", READER: "read"}}},
    )


@dataclass
class Waits:
    """A retry policy that records its waits instead of sleeping, on a clock the test controls."""

    now: float = 1_750_000_000.0
    seconds: list[float] = field(default_factory=list)
    on_sleep: Callable[[float], None] | None = None

    def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)

    def policy(self, **overrides: Any) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, clock=lambda: self.now, **overrides)


def make_client(
    url: str, token: str = ADMIN, *, waits: Waits | None = None, page_size: int = 4, **settings: Any
) -> GitHubClient:
    policy = (waits or Waits()).policy()
    return GitHubClient(
        credentials=TokenCredentials(token, "GITHUB_TOKEN"),
        urls=resolve_api_urls(url),
        settings=ClientSettings(page_size=page_size, retry=policy, timeout=10, **settings),
    )


def api(sandbox: Sandbox, method: str, path: str, body: Any = None, token: str = ADMIN) -> Any:
    """One raw request to the sandbox, for test set-up that the adapter itself never does (writes)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(sandbox.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def add_symlink(sandbox: Sandbox, repo: str, path: str, target: str) -> None:
    """Commit a symbolic link to `repo`'s main branch (the seed format cannot hold one)."""
    head = api(sandbox, "GET", f"/repos/{repo}/git/ref/heads/main")["object"]["sha"]
    base_tree = api(sandbox, "GET", f"/repos/{repo}/git/commits/{head}")["tree"]["sha"]
    tree = api(sandbox, "POST", f"/repos/{repo}/git/trees",
               {"base_tree": base_tree, "tree": [{"path": path, "mode": "120000", "type": "blob", "content": target}]})
    commit = api(sandbox, "POST", f"/repos/{repo}/git/commits",
                 {"message": "link", "tree": tree["sha"], "parents": [head]})
    api(sandbox, "PATCH", f"/repos/{repo}/git/refs/heads/main", {"sha": commit["sha"]})
